/** The shell: login, then role-aware navigation to each feature's page (each its own chunk). */
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { api, type Session, type SessionUser } from './lib/api.ts';
import { realtime } from './lib/realtime.ts';
import { navigate, usePath } from './lib/router.ts';
import { LoginPage } from './features/auth/components/login-page.tsx';

const AgentPage = lazy(() => import('./features/agent/components/agent-page.tsx'));
const WallboardPage = lazy(() => import('./features/wallboard/components/wallboard-page.tsx'));
const ReportsPage = lazy(() => import('./features/reports/components/reports-page.tsx'));
const AdminPage = lazy(() => import('./features/admin/components/admin-page.tsx'));
const CdrPage = lazy(() => import('./features/cdr/components/cdr-page.tsx'));
const HelpdeskPage = lazy(() => import('./features/helpdesk/components/helpdesk-page.tsx'));
const TicketReportsPage = lazy(
  () => import('./features/helpdesk/components/ticket-reports-page.tsx'),
);
const ChatPage = lazy(() => import('./features/chat/components/chat-page.tsx'));
const WidgetsPage = lazy(() => import('./features/widgets/components/widgets-page.tsx'));

type Role = SessionUser['role'];
/** Roles that take calls: their softphone registers as soon as they log in. */
const PHONE_ROLES: Role[] = ['agent', 'supervisor', 'helpdesk'];
interface NavItem {
  path: string;
  label: string;
  roles: Role[];
  page: () => ReactNode;
}

const NAV: NavItem[] = [
  // The softphone stays mounted on every page (see below): its entry renders nothing itself.
  { path: '/phone', label: 'Phone', roles: PHONE_ROLES, page: () => null },
  {
    path: '/helpdesk',
    label: 'Helpdesk',
    roles: ['helpdesk', 'supervisor', 'tenant_admin'],
    page: () => <HelpdeskPage />,
  },
  {
    path: '/ticket-reports',
    label: 'Ticket reports',
    roles: ['helpdesk', 'supervisor', 'tenant_admin'],
    page: () => <TicketReportsPage />,
  },
  {
    path: '/wallboard',
    label: 'Wallboard',
    roles: ['supervisor', 'tenant_admin'],
    page: () => <WallboardPage />,
  },
  {
    path: '/reports',
    label: 'Reports',
    roles: ['supervisor', 'tenant_admin'],
    page: () => <ReportsPage />,
  },
  {
    path: '/calls',
    label: 'Calls',
    roles: ['supervisor', 'tenant_admin', 'agent', 'helpdesk'],
    page: () => <CdrPage />,
  },
  {
    path: '/chats',
    label: 'Chats',
    roles: ['agent', 'helpdesk', 'supervisor', 'tenant_admin'],
    page: () => <ChatPage />,
  },
  { path: '/widgets', label: 'Widgets', roles: ['tenant_admin'], page: () => <WidgetsPage /> },
  { path: '/admin', label: 'Admin', roles: ['tenant_admin'], page: () => <AdminPage /> },
];

export function navFor(role: Role): NavItem[] {
  return NAV.filter((n) => n.roles.includes(role));
}

export function App() {
  const [session, setSession] = useState<Session | null>(api.current);
  const [restoring, setRestoring] = useState(
    !api.current && Boolean(localStorage.getItem('calldock.refreshToken')),
  );
  const path = usePath();

  useEffect(() => api.onSession(setSession), []);
  useEffect(() => {
    if (restoring) void api.refresh().finally(() => setRestoring(false));
  }, [restoring]);
  useEffect(() => {
    if (!session) return;
    realtime.start();
    // Refresh (and rotate) a minute before the access token expires.
    const timer = setTimeout(() => void api.refresh(), Math.max(10, session.expiresIn - 60) * 1000);
    return () => clearTimeout(timer);
  }, [session]);
  useEffect(() => () => realtime.stop(), []);

  if (restoring) return <div className="center muted">Loading…</div>;
  if (!session) return <LoginPage />;
  const items = navFor(session.user.role);
  const active = items.find((i) => path.startsWith(i.path)) ?? items[0];
  if (!active) {
    return (
      <div className="center">
        <p>This console has nothing for a {session.user.role.replace('_', ' ')} yet.</p>
        <button onClick={() => void api.logout()}>Log out</button>
      </div>
    );
  }
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">Calldock</strong>
        <nav aria-label="Main">
          {items.map((i) => (
            <a
              key={i.path}
              href={i.path}
              aria-current={i === active ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(i.path);
              }}
            >
              {i.label}
            </a>
          ))}
        </nav>
        <span className="who">
          {session.user.displayName} · {session.user.role.replace('_', ' ')}
        </span>
        <button className="link" onClick={() => void api.logout()}>
          Log out
        </button>
      </header>
      <main>
        <Suspense fallback={<div className="muted">Loading…</div>}>
          {/* Registered for the whole session, whichever page is shown: leaving the phone screen
              must not unregister it. */}
          {PHONE_ROLES.includes(session.user.role) && (
            <div hidden={active.path !== '/phone'}>
              <AgentPage />
            </div>
          )}
          {active.page()}
        </Suspense>
      </main>
    </div>
  );
}
