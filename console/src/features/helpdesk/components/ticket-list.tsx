/** The ticket list: filters, saved views (pick one or save the current filters), SLA badges. */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { dateTime } from '../../../lib/format.ts';
import { navigate } from '../../../lib/router.ts';
import {
  PRIORITIES,
  SLA_STATES,
  STATUSES,
  assigneesQuery,
  saveView,
  slaBadge,
  useTicketMutation,
  useTickets,
  viewToFilters,
  viewsQuery,
  type SlaState,
  type TicketFilters,
} from '../api/tickets.ts';

export function SlaBadge({ state }: { state: SlaState }) {
  const badge = slaBadge(state);
  return badge ? (
    <span className={`badge sla-${badge.tone}`} data-testid="sla-badge">
      {badge.text}
    </span>
  ) : null;
}

export function TicketList() {
  const [filters, setFilters] = useState<TicketFilters>({ status: '' });
  const [draft, setDraft] = useState<TicketFilters>(filters);
  const [viewName, setViewName] = useState('');
  const tickets = useTickets(filters);
  const views = useQuery(viewsQuery);
  const people = useQuery(assigneesQuery);
  const save = useTicketMutation((name: string) => saveView(name, filters));
  const names = new Map((people.data?.items ?? []).map((p) => [p.userId, p.displayName]));
  const set = (k: keyof TicketFilters) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));
  const select = (k: keyof TicketFilters, label: string, options: readonly string[]) => (
    <label>
      {label}{' '}
      <select value={draft[k] ?? ''} onChange={set(k)}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o.replace('_', ' ')}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section className="card wide" aria-label="Tickets">
      <h2>Tickets</h2>
      <form
        className="row filters"
        aria-label="Ticket filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <label>
          Search <input value={draft.q ?? ''} onChange={set('q')} placeholder="subject or text" />
        </label>
        {select('status', 'Status', STATUSES)}
        {select('priority', 'Priority', PRIORITIES)}
        <label>
          Assignee{' '}
          <select value={draft.assigneeUserId ?? ''} onChange={set('assigneeUserId')}>
            <option value="">any</option>
            <option value="0">unassigned</option>
            {(people.data?.items ?? []).map((p) => (
              <option key={p.userId} value={p.userId}>
                {p.displayName}
              </option>
            ))}
          </select>
        </label>
        {select('slaState', 'SLA', SLA_STATES)}
        <button type="submit">Apply</button>
      </form>
      <div className="row">
        <label>
          Saved view{' '}
          <select
            aria-label="Saved view"
            defaultValue=""
            onChange={(e) => {
              const view = views.data?.items.find((v) => v.id === Number(e.target.value));
              const f = view ? viewToFilters(view) : {};
              setDraft(f);
              setFilters(f);
            }}
          >
            <option value="">—</option>
            {(views.data?.items ?? []).map((v) => (
              <option key={v.id} value={v.id}>
                {v.name}
              </option>
            ))}
          </select>
        </label>
        <form
          className="row"
          aria-label="Save view"
          onSubmit={(e) => {
            e.preventDefault();
            if (viewName.trim()) save.mutate(viewName.trim(), { onSuccess: () => setViewName('') });
          }}
        >
          <input
            aria-label="View name"
            placeholder="name these filters"
            value={viewName}
            onChange={(e) => setViewName(e.target.value)}
          />
          <button type="submit" className="secondary">
            Save view
          </button>
        </form>
        {save.error && <span className="error">{save.error.message}</span>}
      </div>
      {tickets.error && <p className="error">{tickets.error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Subject</th>
            <th>Status</th>
            <th>Priority</th>
            <th>Assignee</th>
            <th>SLA</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {(tickets.data?.items ?? []).map((t) => (
            <tr key={t.id} data-testid="ticket-row">
              <td>{t.id}</td>
              <td>
                <a
                  href={`/helpdesk/tickets/${t.id}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/helpdesk/tickets/${t.id}`);
                  }}
                >
                  {t.subject}
                </a>
              </td>
              <td>{t.status}</td>
              <td>{t.priority}</td>
              <td>
                {t.assigneeUserId === null
                  ? '—'
                  : (names.get(t.assigneeUserId) ?? `#${t.assigneeUserId}`)}
              </td>
              <td>
                <SlaBadge state={t.slaState} />
              </td>
              <td>{dateTime(t.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {tickets.data && tickets.data.items.length === 0 && <p className="muted">No tickets.</p>}
    </section>
  );
}
