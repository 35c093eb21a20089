/**
 * The CDR explorer: filters, server-side pagination (cursor), recording playback in the page and
 * CSV export of the filtered set (the server streams it).
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';
import { dateTime, duration, saveBlob } from '../../../lib/format.ts';
import { requestDial } from '../../../lib/dial.ts';
import type { CdrRow } from '../../../lib/types.ts';

interface Filters {
  from: string;
  to: string;
  direction: string;
  didId: string;
  queueId: string;
  agentUserId: string;
  disposition: string;
  q: string;
}

const EMPTY: Filters = {
  from: '',
  to: '',
  direction: '',
  didId: '',
  queueId: '',
  agentUserId: '',
  disposition: '',
  q: '',
};

export function filterParams(f: Filters): Record<string, string | undefined> {
  return {
    from: f.from ? new Date(f.from).toISOString() : undefined,
    to: f.to ? new Date(f.to).toISOString() : undefined,
    direction: f.direction || undefined,
    didId: f.didId || undefined,
    queueId: f.queueId || undefined,
    agentUserId: f.agentUserId || undefined,
    disposition: f.disposition || undefined,
    q: f.q || undefined,
  };
}

export default function CdrPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [audio, setAudio] = useState<{ id: number; url: string }>();
  const [error, setError] = useState<string>();
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useQuery({
    queryKey: ['calls', 'cdr', filters, cursor],
    queryFn: () =>
      api.request<Page<CdrRow>>(
        'GET',
        `/calls${qs({ ...filterParams(filters), limit: 25, cursor })}`,
      ),
  });
  const set = (k: keyof Filters) => (e: { target: { value: string } }) =>
    setDraft({ ...draft, [k]: e.target.value });

  const play = async (id: number) => {
    setError(undefined);
    try {
      const blob = await api.download(`/calls/${id}/recording`);
      setAudio({ id, url: URL.createObjectURL(blob) });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  // Click-to-call: the PBX rings my softphone (which answers it) and then dials the number.
  const canDial = ['agent', 'supervisor', 'helpdesk'].includes(api.current?.user.role ?? '');
  const callBack = (number: string) => requestDial(number);
  const exportCsv = async () => {
    setError(undefined);
    try {
      saveBlob(
        await api.download(`/calls${qs({ ...filterParams(filters), format: 'csv' })}`),
        'calls.csv',
      );
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div className="grid">
      <form
        className="card wide filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setCursors([null]);
        }}
      >
        <label>
          From <input type="datetime-local" value={draft.from} onChange={set('from')} />
        </label>
        <label>
          To <input type="datetime-local" value={draft.to} onChange={set('to')} />
        </label>
        <label>
          Direction
          <select value={draft.direction} onChange={set('direction')}>
            <option value="">any</option>
            <option value="inbound">inbound</option>
            <option value="outbound">outbound</option>
            <option value="internal">internal</option>
          </select>
        </label>
        <label>
          DID id <input value={draft.didId} onChange={set('didId')} inputMode="numeric" />
        </label>
        <label>
          Queue id <input value={draft.queueId} onChange={set('queueId')} inputMode="numeric" />
        </label>
        <label>
          Agent id{' '}
          <input value={draft.agentUserId} onChange={set('agentUserId')} inputMode="numeric" />
        </label>
        <label>
          Disposition <input value={draft.disposition} onChange={set('disposition')} />
        </label>
        <label>
          Text <input value={draft.q} onChange={set('q')} placeholder="number or notes" />
        </label>
        <button type="submit">Search</button>
        <button type="button" className="secondary" onClick={() => void exportCsv()}>
          Export CSV
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {page.error && (
        <p className="error" role="alert">
          {(page.error as Error).message}
        </p>
      )}
      <section className="card wide" aria-label="Call records">
        <table>
          <thead>
            <tr>
              <th>Started</th>
              <th>Dir.</th>
              <th>From</th>
              <th>To</th>
              <th>Queue</th>
              <th>Agent</th>
              <th>Wait</th>
              <th>Talk</th>
              <th>Hold</th>
              <th>Ended by</th>
              <th>Disposition</th>
              <th>Notes</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((r) => (
              <tr key={r.id} data-testid="cdr-row">
                <td>{dateTime(r.startedAt)}</td>
                <td>{r.direction}</td>
                <td>{r.fromNumber}</td>
                <td>{r.toNumber}</td>
                <td>{r.queueId ?? ''}</td>
                <td>{r.agentUserId ?? ''}</td>
                <td>{duration(r.waitMs)}</td>
                <td>{duration(r.talkMs)}</td>
                <td>{duration(r.holdMs)}</td>
                <td>{r.hangupSide ?? ''}</td>
                <td data-testid="cdr-disposition">{r.disposition ?? ''}</td>
                <td>{r.notes ?? ''}</td>
                <td className="row">
                  {r.recordingPath && (
                    <button className="secondary" onClick={() => void play(r.id)}>
                      Play
                    </button>
                  )}
                  {canDial && (r.direction === 'inbound' ? r.fromNumber : r.toNumber) && (
                    <button
                      className="secondary"
                      onClick={() =>
                        callBack((r.direction === 'inbound' ? r.fromNumber : r.toNumber)!)
                      }
                    >
                      Call
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {audio && (
          <audio controls autoPlay src={audio.url} aria-label={`Recording of call ${audio.id}`} />
        )}
        <div className="row">
          <button
            className="secondary"
            disabled={cursors.length < 2}
            onClick={() => setCursors(cursors.slice(0, -1))}
          >
            Previous
          </button>
          <button
            className="secondary"
            disabled={!page.data?.nextCursor}
            onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}
          >
            Next
          </button>
        </div>
      </section>
    </div>
  );
}
