/** The contact behind a ringing call, with their recent tickets and calls. */
import { useQuery } from '@tanstack/react-query';
import { dateTime, duration } from '../../../lib/format.ts';
import { callerE164, screenPopQuery } from '../api/screen-pop.ts';

export function ScreenPop({ from }: { from: string }) {
  const phone = callerE164(from);
  const pop = useQuery({ ...screenPopQuery(phone ?? ''), enabled: Boolean(phone) });
  if (!phone) return null;
  if (pop.isPending) return <p className="muted">Looking up the caller…</p>;
  if (pop.error) return <p className="muted">Caller lookup failed: {pop.error.message}</p>;
  const matches = pop.data.items;
  if (matches.length === 0)
    return (
      <p className="muted" data-testid="screen-pop">
        Unknown caller
      </p>
    );
  return (
    <div data-testid="screen-pop" aria-label="Caller">
      {matches.map(({ contact: c, recentTickets, recentCalls }) => (
        <div key={c.id}>
          <p>
            <strong data-testid="screen-pop-name">
              {[c.firstName, c.lastName].filter(Boolean).join(' ') || c.company}
            </strong>
            {c.company && (c.firstName || c.lastName) ? ` · ${c.company}` : ''}
            {c.emails[0] ? ` · ${c.emails[0]}` : ''}
          </p>
          {recentTickets.length > 0 && (
            <ul aria-label="Recent tickets">
              {recentTickets.map((t) => (
                <li key={t.id}>
                  #{t.id} {t.subject} <span className="badge">{t.status}</span>
                </li>
              ))}
            </ul>
          )}
          {recentCalls.length > 0 && (
            <ul aria-label="Recent calls" className="muted">
              {recentCalls.map((k) => (
                <li key={k.id}>
                  {dateTime(k.startedAt)} · {k.direction} · {duration(k.talkMs)}
                </li>
              ))}
            </ul>
          )}
        </div>
      ))}
    </div>
  );
}
