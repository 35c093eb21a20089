/** Tenant administration: users and invites, endpoints and trunks, DIDs, hours, queues, IVR. */
import { useState } from 'react';
import * as Tabs from '@radix-ui/react-tabs';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api.ts';
import {
  didsQuery,
  endpointsQuery,
  hoursQuery,
  invitesQuery,
  ivrQuery,
  membersQuery,
  queuesQuery,
  usersQuery,
  type Queue,
  type QueueMember,
} from '../api/admin.ts';
import { ApiForm, RowActions, optNum, type Field } from './form.tsx';

const TABS = [
  ['users', 'Users & invites'],
  ['endpoints', 'Endpoints & trunks'],
  ['dids', 'Numbers (DIDs)'],
  ['hours', 'Business hours'],
  ['queues', 'Queues'],
  ['ivr', 'IVR menus'],
] as const;

export default function AdminPage() {
  return (
    <Tabs.Root defaultValue="queues" className="admin">
      <Tabs.List aria-label="Administration" className="tabs">
        {TABS.map(([value, label]) => (
          <Tabs.Trigger key={value} value={value}>
            {label}
          </Tabs.Trigger>
        ))}
      </Tabs.List>
      <Tabs.Content value="users">
        <UsersTab />
      </Tabs.Content>
      <Tabs.Content value="endpoints">
        <EndpointsTab />
      </Tabs.Content>
      <Tabs.Content value="dids">
        <DidsTab />
      </Tabs.Content>
      <Tabs.Content value="hours">
        <HoursTab />
      </Tabs.Content>
      <Tabs.Content value="queues">
        <QueuesTab />
      </Tabs.Content>
      <Tabs.Content value="ivr">
        <IvrTab />
      </Tabs.Content>
    </Tabs.Root>
  );
}

function useInvalidate() {
  const qc = useQueryClient();
  return (...keys: string[]) =>
    Promise.all(keys.map((k) => qc.invalidateQueries({ queryKey: [k] })));
}

const TARGET_TYPES = ['queue', 'ivr', 'user', 'voicemail', 'external', 'hangup'].map((t) => ({
  value: t,
  label: t,
}));

function target(type: string, ref: string) {
  if (!type) return undefined;
  if (type === 'external' || type === 'hangup') return ref ? { type, value: ref } : { type };
  return ref ? { type, id: Number(ref) } : { type };
}

function UsersTab() {
  const users = useQuery(usersQuery());
  const invites = useQuery(invitesQuery());
  const invalidate = useInvalidate();
  const [link, setLink] = useState<string>();
  return (
    <div className="grid">
      <section className="card wide">
        <h3>Users</h3>
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Ext.</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((u) => (
              <tr key={u.id}>
                <td>{u.id}</td>
                <td>{u.displayName}</td>
                <td>{u.email}</td>
                <td>{u.role}</td>
                <td>{u.status}</td>
                <td>{u.extension ?? ''}</td>
                <td>
                  <RowActions
                    name={u.displayName}
                    path={`/users/${u.id}`}
                    version={u.version}
                    onChanged={() => invalidate('users')}
                    edit={{
                      fields: [
                        { name: 'displayName', label: 'Name', required: true, initial: u.displayName },
                        { name: 'status', label: 'Status', type: 'select', initial: u.status, options: ['active', 'disabled'].map((v) => ({ value: v, label: v })) },
                      ],
                      toBody: (v) => ({ displayName: v.displayName, status: v.status }),
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>Pending invites</h3>
        <ul>
          {invites.data?.items.map((i) => (
            <li key={i.id}>
              {i.email} · {i.role} · {i.status}
            </li>
          ))}
        </ul>
      </section>
      <ApiForm
        title="Invite a user"
        submitLabel="Send invite"
        fields={[
          { name: 'email', label: 'Email', type: 'email', required: true },
          { name: 'displayName', label: 'Name', required: true },
          {
            name: 'role',
            label: 'Role',
            type: 'select',
            options: ['agent', 'supervisor', 'helpdesk', 'tenant_admin'].map((r) => ({
              value: r,
              label: r,
            })),
          },
        ]}
        onSubmit={async (v) => {
          const created = await api.request<{ inviteUrl: string }>('POST', '/invites', v);
          setLink(created.inviteUrl);
          await invalidate('invites');
        }}
      >
        {link && (
          <p className="ok">
            Invite link (shown once): <code>{link}</code>
          </p>
        )}
      </ApiForm>
    </div>
  );
}

function EndpointsTab() {
  const endpoints = useQuery({ ...endpointsQuery(), refetchInterval: 5_000 });
  const users = useQuery(usersQuery());
  const invalidate = useInvalidate();
  const [secret, setSecret] = useState<string>();
  const takers = (users.data?.items ?? []).filter((u) =>
    ['agent', 'supervisor', 'helpdesk'].includes(u.role),
  );
  return (
    <div className="grid">
      <section className="card wide">
        <h3>Endpoints and trunks</h3>
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Asterisk id</th>
              <th>Transport</th>
              <th>Registration</th>
              <th>Enabled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {endpoints.data?.items.map((e) => (
              <tr key={e.id}>
                <td>{e.name}</td>
                <td>{e.kind}</td>
                <td>{e.asteriskId}</td>
                <td>{e.transport ?? e.host ?? ''}</td>
                <td data-testid={`registration-${e.asteriskId}`}>
                  {String(e.registration.state ?? '')}
                </td>
                <td>{e.enabled ? 'yes' : 'no'}</td>
                <td>
                  <RowActions
                    name={e.name}
                    path={`/endpoints/${e.id}`}
                    version={e.version}
                    onChanged={() => invalidate('endpoints')}
                    edit={{
                      fields: [{ name: 'enabled', label: 'Enabled', type: 'select', initial: e.enabled ? 'yes' : 'no', options: ['yes', 'no'].map((v) => ({ value: v, label: v })) }],
                      toBody: (v) => ({ enabled: v.enabled === 'yes' }),
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <ApiForm
        title="Give a user a phone"
        submitLabel="Create endpoint"
        fields={[
          {
            name: 'userId',
            label: 'User',
            type: 'select',
            options: takers.map((u) => ({
              value: String(u.id),
              label: `${u.displayName} (${u.role})`,
            })),
          },
          {
            name: 'transport',
            label: 'Phone',
            type: 'select',
            options: [
              { value: 'webrtc', label: 'Browser (WebRTC)' },
              { value: 'udp', label: 'Desk phone (UDP)' },
            ],
          },
        ]}
        onSubmit={async (v) => {
          const created = await api.request<{ secret: string }>('POST', '/endpoints/agents', {
            userId: Number(v.userId),
            transport: v.transport,
          });
          setSecret(created.secret);
          await invalidate('endpoints');
        }}
      >
        {secret && (
          <p className="ok">
            SIP secret (shown once): <code>{secret}</code>
          </p>
        )}
      </ApiForm>
      <ApiForm
        title="Add a SIP trunk"
        submitLabel="Create trunk"
        fields={[
          { name: 'name', label: 'Name', required: true },
          {
            name: 'auth',
            label: 'Carrier recognised by',
            type: 'select',
            options: [
              { value: 'ip', label: 'IP address' },
              { value: 'register', label: 'Registration' },
            ],
          },
          { name: 'host', label: 'Host', required: true },
          { name: 'port', label: 'Port', type: 'number' },
          {
            name: 'match',
            label: 'Source addresses (comma separated)',
            errorPaths: ['match.0', 'match.1'],
          },
          { name: 'username', label: 'Username' },
          { name: 'password', label: 'Password', type: 'password' },
        ]}
        onSubmit={async (v) => {
          await api.request('POST', '/endpoints/trunks', {
            name: v.name,
            auth: v.auth,
            host: v.host,
            ...(v.port ? { port: Number(v.port) } : {}),
            ...(v.match ? { match: v.match.split(',').map((s) => s.trim()) } : {}),
            ...(v.username ? { username: v.username } : {}),
            ...(v.password ? { password: v.password } : {}),
          });
          await invalidate('endpoints');
        }}
      />
    </div>
  );
}

function DidsTab() {
  const dids = useQuery(didsQuery());
  const queues = useQuery(queuesQuery());
  const invalidate = useInvalidate();
  return (
    <div className="grid">
      <section className="card wide">
        <h3>Numbers</h3>
        <table>
          <thead>
            <tr>
              <th>Number</th>
              <th>Description</th>
              <th>Goes to</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {dids.data?.items.map((d) => (
              <tr key={d.id}>
                <td>{d.number}</td>
                <td>{d.description ?? ''}</td>
                <td>
                  {d.target ? `${d.target.type} ${d.target.id ?? d.target.value ?? ''}` : '—'}
                </td>
                <td>
                  <RowActions
                    name={d.number}
                    path={`/dids/${d.id}`}
                    version={d.version}
                    onChanged={() => invalidate('dids')}
                    edit={{
                      fields: [
                        { name: 'description', label: 'Description', initial: d.description ?? '' },
                        { name: 'targetType', label: 'Goes to', type: 'select', options: TARGET_TYPES, initial: d.target?.type ?? 'queue', errorPaths: ['target', 'target.type'] },
                        { name: 'targetRef', label: 'Target id or value', initial: String(d.target?.id ?? d.target?.value ?? ''), errorPaths: ['target.id', 'target.value'] },
                      ],
                      toBody: (v) => ({ description: v.description || null, target: target(v.targetType ?? '', v.targetRef ?? '') ?? null }),
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <ApiForm
        title="Add a number"
        submitLabel="Create DID"
        fields={[
          { name: 'number', label: 'Number (E.164)', required: true },
          { name: 'description', label: 'Description' },
          {
            name: 'targetType',
            label: 'Route to',
            type: 'select',
            options: TARGET_TYPES,
            errorPaths: ['target', 'target.type'],
          },
          {
            name: 'targetRef',
            label: 'Target (queue, menu or user id; number)',
            type: 'select',
            options: [
              { value: '', label: '—' },
              ...(queues.data?.items ?? []).map((q) => ({
                value: String(q.id),
                label: `Queue: ${q.name}`,
              })),
            ],
            errorPaths: ['target.id', 'target.value'],
          },
        ]}
        onSubmit={async (v) => {
          await api.request('POST', '/dids', {
            number: v.number,
            ...(v.description ? { description: v.description } : {}),
            target: target(v.targetType ?? 'queue', v.targetRef ?? ''),
          });
          await invalidate('dids');
        }}
      />
    </div>
  );
}

function HoursTab() {
  const hours = useQuery(hoursQuery());
  const invalidate = useInvalidate();
  return (
    <div className="grid">
      <section className="card wide">
        <h3>Business hours</h3>
        <ul>
          {hours.data?.items.map((h) => (
            <li key={h.id}>
              {h.name} · {h.timezone}
              <RowActions name={h.name} path={`/hours/${h.id}`} version={h.version} onChanged={() => invalidate('hours')} />
            </li>
          ))}
        </ul>
      </section>
      <ApiForm
        title="Add business hours (Mon–Fri)"
        submitLabel="Create hours"
        fields={[
          { name: 'name', label: 'Name', required: true },
          {
            name: 'timezone',
            label: 'Time zone',
            initial: Intl.DateTimeFormat().resolvedOptions().timeZone,
          },
          { name: 'open', label: 'Opens', initial: '09:00', errorPaths: ['schedule.0.open'] },
          { name: 'close', label: 'Closes', initial: '17:00', errorPaths: ['schedule.0.close'] },
          {
            name: 'holiday',
            label: 'Holiday (YYYY-MM-DD, optional)',
            errorPaths: ['holidays.0.date'],
          },
        ]}
        onSubmit={async (v) => {
          await api.request('POST', '/hours', {
            name: v.name,
            ...(v.timezone ? { timezone: v.timezone } : {}),
            schedule: [1, 2, 3, 4, 5].map((day) => ({ day, open: v.open, close: v.close })),
            ...(v.holiday ? { holidays: [{ date: v.holiday, name: 'Holiday' }] } : {}),
          });
          await invalidate('hours');
        }}
      />
    </div>
  );
}

const QUEUE_NUMBERS = ['ringTimeoutSeconds', 'wrapupSeconds', 'maxWaitSeconds', 'serviceLevelSeconds'] as const;

/** The queue form's fields, empty (create) or filled with a queue's values (edit). */
function queueFields(q?: Queue): Field[] {
  const value = (k: (typeof QUEUE_NUMBERS)[number]) => (q ? String(q[k]) : undefined);
  return [
    { name: 'name', label: 'Name', required: true, ...(q ? { initial: q.name } : {}) },
    {
      name: 'strategy',
      label: 'Strategy',
      type: 'select',
      options: ['ring_all', 'longest_idle', 'round_robin', 'fewest_calls', 'skills'].map((s) => ({
        value: s,
        label: s.replace('_', ' '),
      })),
      ...(q ? { initial: q.strategy } : {}),
    },
    { name: 'ringTimeoutSeconds', label: 'Ring each agent (s)', type: 'number', initial: value('ringTimeoutSeconds') },
    { name: 'wrapupSeconds', label: 'Wrap-up (s)', type: 'number', initial: value('wrapupSeconds') },
    { name: 'maxWaitSeconds', label: 'Max wait (s)', type: 'number', initial: value('maxWaitSeconds') },
    { name: 'serviceLevelSeconds', label: 'Service level (s)', type: 'number', initial: value('serviceLevelSeconds') },
  ];
}

function queueBody(v: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = { name: v.name, strategy: v.strategy };
  for (const k of QUEUE_NUMBERS) {
    const n = optNum(v[k]);
    if (n !== undefined) body[k] = n;
  }
  return body;
}

function QueuesTab() {
  const queues = useQuery(queuesQuery());
  const invalidate = useInvalidate();
  const [selected, setSelected] = useState<number>();
  return (
    <div className="grid">
      <section className="card wide">
        <h3>Queues</h3>
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Name</th>
              <th>Strategy</th>
              <th>Ring</th>
              <th>Wrap-up</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {queues.data?.items.map((q) => (
              <tr key={q.id}>
                <td>{q.id}</td>
                <td>{q.name}</td>
                <td>{q.strategy}</td>
                <td>{q.ringTimeoutSeconds} s</td>
                <td>{q.wrapupSeconds} s</td>
                <td>
                  <button className="secondary" onClick={() => setSelected(q.id)}>
                    Members of {q.name}
                  </button>
                  <RowActions
                    name={q.name}
                    path={`/queues/${q.id}`}
                    version={q.version}
                    onChanged={() => invalidate('queues')}
                    edit={{
                      fields: queueFields(q),
                      toBody: queueBody,
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <ApiForm
        title="Create a queue"
        submitLabel="Create queue"
        fields={queueFields()}
        onSubmit={async (v) => {
          const body = queueBody(v);
          await api.request('POST', '/queues', body);
          await invalidate('queues');
        }}
      />
      {selected && <Members queueId={selected} />}
    </div>
  );
}

function Members({ queueId }: { queueId: number }) {
  const members = useQuery(membersQuery(queueId));
  const users = useQuery(usersQuery());
  const qc = useQueryClient();
  const list: QueueMember[] = Array.isArray(members.data)
    ? members.data
    : (members.data?.items ?? []);
  const takers = (users.data?.items ?? []).filter((u) =>
    ['agent', 'supervisor', 'helpdesk'].includes(u.role),
  );
  return (
    <section className="card" aria-label="Queue members">
      <h3>Members of queue {queueId}</h3>
      <ul data-testid="members">
        {list.map((m) => (
          <li key={m.userId}>
            {m.displayName ?? m.userId} · penalty {m.penalty}
          </li>
        ))}
      </ul>
      <ApiForm
        title="Add a member"
        submitLabel="Add member"
        fields={[
          {
            name: 'userId',
            label: 'Agent',
            type: 'select',
            options: takers.map((u) => ({ value: String(u.id), label: u.displayName })),
          },
          { name: 'penalty', label: 'Penalty', type: 'number' },
        ]}
        onSubmit={async (v) => {
          const penalty = optNum(v.penalty);
          await api.request('POST', `/queues/${queueId}/members`, {
            userId: Number(v.userId),
            ...(penalty !== undefined ? { penalty } : {}),
          });
          // Members are part of the queue: its version moved too (and the list shows it).
          await qc.invalidateQueries({ queryKey: ['queues'] });
        }}
      />
    </section>
  );
}

function IvrTab() {
  const menus = useQuery(ivrQuery());
  const invalidate = useInvalidate();
  return (
    <div className="grid">
      <section className="card wide">
        <h3>IVR menus</h3>
        <ul>
          {menus.data?.items.map((m) => (
            <li key={m.id}>
              {m.id} · {m.name} · {m.prompt}
              <RowActions name={m.name} path={`/ivr-menus/${m.id}`} version={m.version} onChanged={() => invalidate('ivr-menus', 'ivr')} />
            </li>
          ))}
        </ul>
      </section>
      <ApiForm
        title="Create a menu (one option)"
        submitLabel="Create menu"
        fields={[
          { name: 'name', label: 'Name', required: true },
          { name: 'prompt', label: 'Prompt (sound:…)', initial: 'sound:hello-world' },
          { name: 'digit', label: 'Digit', initial: '1', errorPaths: ['options.0.digit'] },
          {
            name: 'targetType',
            label: 'Option goes to',
            type: 'select',
            options: TARGET_TYPES,
            errorPaths: ['options.0.target.type'],
          },
          {
            name: 'targetRef',
            label: 'Target id or number',
            errorPaths: ['options.0.target.id', 'options.0.target.value'],
          },
        ]}
        onSubmit={async (v) => {
          await api.request('POST', '/ivr-menus', {
            name: v.name,
            prompt: v.prompt,
            options: [
              { digit: v.digit, target: target(v.targetType ?? 'queue', v.targetRef ?? '') },
            ],
          });
          await invalidate('ivr-menus');
        }}
      />
    </div>
  );
}
