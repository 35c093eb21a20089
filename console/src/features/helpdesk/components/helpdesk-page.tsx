/**
 * The helpdesk: tickets (list with filters and saved views, one ticket with its thread),
 * contacts (CSV import and export) and voicemails to turn into tickets. The path picks the
 * screen: /helpdesk, /helpdesk/tickets/:id, /helpdesk/contacts, /helpdesk/voicemail. Live:
 * every `ticket.*` event refreshes whatever ticket data is on screen.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useRealtime } from '../../../lib/realtime.ts';
import { navigate, usePath } from '../../../lib/router.ts';
import { ContactsPanel } from './contacts-panel.tsx';
import { TicketDetailPanel } from './ticket-detail.tsx';
import { TicketList } from './ticket-list.tsx';
import { VoicemailPanel } from './voicemail-panel.tsx';

const TABS = [
  { path: '/helpdesk', label: 'Tickets' },
  { path: '/helpdesk/contacts', label: 'Contacts' },
  { path: '/helpdesk/voicemail', label: 'Voicemail' },
];

export default function HelpdeskPage() {
  const path = usePath();
  const qc = useQueryClient();
  useRealtime('ticket.*', () => void qc.invalidateQueries({ queryKey: ['tickets'] }));
  useRealtime('realtime.open', () => void qc.invalidateQueries({ queryKey: ['tickets'] }));

  const ticketId = /^\/helpdesk\/tickets\/(\d+)/.exec(path)?.[1];
  const tab = TABS.slice(1).find((t) => path.startsWith(t.path)) ?? TABS[0]!;
  return (
    <div className="grid">
      <nav className="tabs wide" role="tablist" aria-label="Helpdesk">
        {TABS.map((t) => (
          <button
            key={t.path}
            role="tab"
            aria-selected={t === tab}
            data-state={t === tab ? 'active' : 'inactive'}
            onClick={() => navigate(t.path)}
          >
            {t.label}
          </button>
        ))}
      </nav>
      {ticketId ? (
        <TicketDetailPanel key={ticketId} id={Number(ticketId)} />
      ) : tab.label === 'Contacts' ? (
        <ContactsPanel />
      ) : tab.label === 'Voicemail' ? (
        <VoicemailPanel />
      ) : (
        <TicketList />
      )}
    </div>
  );
}
