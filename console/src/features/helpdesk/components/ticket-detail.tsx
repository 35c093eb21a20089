/**
 * One ticket: its fields (status, priority, assignee changed in place), the thread of public
 * replies and internal notes with a reply box, attachments (upload, download) and history.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api.ts';
import { dateTime, saveBlob } from '../../../lib/format.ts';
import { navigate } from '../../../lib/router.ts';
import {
  PRIORITIES,
  STATUSES,
  addMessage,
  assigneesQuery,
  attachmentsQuery,
  downloadAttachment,
  historyQuery,
  messagesQuery,
  patchTicket,
  ticketQuery,
  uploadAttachment,
  useTicketMutation,
  type Attachment,
  type Ticket,
} from '../api/tickets.ts';
import { SlaBadge } from './ticket-list.tsx';

/** A history entry as a line of text. */
function describe(h: {
  action: string;
  field: string | null;
  oldValue: unknown;
  newValue: unknown;
}) {
  const v = (x: unknown) =>
    x === null || x === undefined ? '—' : typeof x === 'string' ? x : JSON.stringify(x);
  return h.field ? `${h.field}: ${v(h.oldValue)} → ${v(h.newValue)}` : h.action.replace('_', ' ');
}

export function TicketDetailPanel({ id }: { id: number }) {
  const ticket = useQuery(ticketQuery(id));
  const messages = useQuery(messagesQuery(id));
  const history = useQuery(historyQuery(id));
  const files = useQuery(attachmentsQuery(id));
  const people = useQuery(assigneesQuery);
  const names = new Map((people.data?.items ?? []).map((p) => [p.userId, p.displayName]));
  const me = api.current?.user;
  if (me) names.set(me.id, me.displayName);

  const change = useTicketMutation(
    (c: Partial<Pick<Ticket, 'status' | 'priority' | 'assigneeUserId'>>) =>
      patchTicket(id, ticket.data!.version, c),
  );
  const [body, setBody] = useState('');
  const [kind, setKind] = useState<'public' | 'internal'>('public');
  const reply = useTicketMutation(() => addMessage(id, kind, body));
  const upload = useTicketMutation((file: File) => uploadAttachment(id, file));
  const [downloadError, setDownloadError] = useState<string>();
  const t = ticket.data;

  const download = async (a: Attachment) => {
    setDownloadError(undefined);
    try {
      saveBlob(await downloadAttachment(id, a.id), a.fileName);
    } catch (err) {
      setDownloadError((err as Error).message);
    }
  };

  if (ticket.error) return <p className="error">{ticket.error.message}</p>;
  if (!t) return <p className="muted">Loading…</p>;
  return (
    <>
      <section className="card wide" aria-label="Ticket">
        <p>
          <a
            href="/helpdesk"
            onClick={(e) => {
              e.preventDefault();
              navigate('/helpdesk');
            }}
          >
            ← All tickets
          </a>
        </p>
        <h2 data-testid="ticket-subject">
          #{t.id} {t.subject} <SlaBadge state={t.slaState} />
        </h2>
        <div className="row">
          <label>
            Status{' '}
            <select
              value={t.status}
              disabled={change.isPending}
              onChange={(e) => change.mutate({ status: e.target.value })}
            >
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            Priority{' '}
            <select
              value={t.priority}
              disabled={change.isPending}
              onChange={(e) => change.mutate({ priority: e.target.value })}
            >
              {PRIORITIES.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            Assignee{' '}
            <select
              value={t.assigneeUserId ?? ''}
              disabled={change.isPending}
              onChange={(e) =>
                change.mutate({ assigneeUserId: e.target.value ? Number(e.target.value) : null })
              }
            >
              <option value="">unassigned</option>
              {[...names].map(([uid, name]) => (
                <option key={uid} value={uid}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </div>
        {change.error && (
          <p className="error" role="alert">
            {change.error.message}
          </p>
        )}
        <p className="muted">
          Created {dateTime(t.createdAt)} · first response due {dateTime(t.firstResponseDueAt)} ·
          resolution due {dateTime(t.resolutionDueAt)}
          {t.links.length > 0 &&
            ` · linked: ${t.links.map((l) => `${l.kind} ${l.sourceId}`).join(', ')}`}
        </p>
      </section>

      <section className="card wide" aria-label="Thread">
        <h2>Thread</h2>
        <ul className="thread">
          {(messages.data?.items ?? []).map((m) => (
            <li key={m.id} className={m.kind} data-testid="message">
              <small className="muted">
                {m.kind === 'internal' ? 'Internal note' : 'Reply'} ·{' '}
                {m.authorUserId ? (names.get(m.authorUserId) ?? `#${m.authorUserId}`) : m.channel} ·{' '}
                {dateTime(m.createdAt)}
              </small>
              <div>{m.body}</div>
            </li>
          ))}
        </ul>
        <form
          aria-label="Reply"
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (body.trim()) reply.mutate(undefined, { onSuccess: () => setBody('') });
          }}
        >
          <label>
            Message
            <textarea rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
          </label>
          <div className="row">
            <label>
              <input type="radio" checked={kind === 'public'} onChange={() => setKind('public')} />{' '}
              Public reply
            </label>
            <label>
              <input
                type="radio"
                checked={kind === 'internal'}
                onChange={() => setKind('internal')}
              />{' '}
              Internal note
            </label>
            <button type="submit" disabled={reply.isPending || !body.trim()}>
              {kind === 'public' ? 'Send reply' : 'Add note'}
            </button>
          </div>
          {reply.error && <p className="error">{reply.error.message}</p>}
        </form>
      </section>

      <section className="card" aria-label="Attachments">
        <h2>Attachments</h2>
        <ul>
          {(files.data?.items ?? []).map((a) => (
            <li key={a.id} data-testid="attachment">
              <a
                href={`/api/v1/tickets/${id}/attachments/${a.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  void download(a);
                }}
              >
                {a.fileName}
              </a>{' '}
              <span className="muted">({Math.ceil(a.sizeBytes / 1024)} KB)</span>
            </li>
          ))}
        </ul>
        <label>
          Attach a file{' '}
          <input
            type="file"
            disabled={upload.isPending}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) upload.mutate(file, { onSettled: () => (e.target.value = '') });
            }}
          />
        </label>
        {upload.isPending && <p className="muted">Uploading…</p>}
        {upload.error && (
          <p className="error" role="alert">
            {upload.error.message}
          </p>
        )}
        {downloadError && <p className="error">{downloadError}</p>}
      </section>

      <section className="card" aria-label="History">
        <h2>History</h2>
        <ul>
          {(history.data?.items ?? []).map((h) => (
            <li key={h.id}>
              <small className="muted">
                {dateTime(h.createdAt)} ·{' '}
                {h.actorUserId ? (names.get(h.actorUserId) ?? `#${h.actorUserId}`) : 'system'}
              </small>{' '}
              {describe(h)}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
