/**
 * The agent's working screen: softphone status, availability, the ringing call, the call in
 * progress with its controls, wrap-up notes and disposition, the dialer and own call history.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../../../lib/api.ts';
import { useRealtime } from '../../../lib/realtime.ts';
import { dateTime, duration } from '../../../lib/format.ts';
import { Outbox } from '../../../lib/outbox.ts';
import { onDialRequest, onExpectCall } from '../../../lib/dial.ts';
import { navigate } from '../../../lib/router.ts';
import type {
  FailureReason,
  IncomingCall,
  PhoneState,
  Softphone,
} from '../../../softphone/softphone.ts';
import type { MediaFigures } from '../../../softphone/stats.ts';
import {
  callAction,
  dial,
  getAgents,
  myCallsQuery,
  saveWrapUp,
  sendManualLog,
  setMyState,
  softphoneSession,
  type Agent,
  type LiveCall,
  type ManualLog,
} from '../api/agent.ts';
import { PreflightPanel, usePreflight } from './preflight.tsx';
import { ScreenPop } from './screen-pop.tsx';

const DISPOSITIONS = [
  'resolved',
  'sale',
  'follow_up',
  'no_answer_needed',
  'escalated',
  'wrong_number',
];
const AWAY_REASONS = ['break', 'lunch', 'meeting', 'training', 'admin'];

declare global {
  interface Window {
    /** For end-to-end tests and support: the live softphone. */
    __calldockPhone?: Softphone;
  }
}

const outbox = new Outbox(localStorage, (e) => saveWrapUp(e.callId, e.notes, e.disposition));
const manualLogs = new Outbox<ManualLog>(localStorage, (e) => sendManualLog(e).then(() => undefined), 'calldock.manual-logs');

/** The queue, line and start of a call as the control plane offered it. */
interface OfferDetails {
  queue: string;
  did: string;
  startedAt: string;
}

/** The call as the softphone saw it, with what the INVITE did not say filled in from the offer. */
function withOffer(call: IncomingCall, offer: OfferDetails | undefined): IncomingCall {
  if (!offer) return call;
  return { ...call, queue: call.queue ?? offer.queue, did: call.did ?? offer.did, startedAt: call.startedAt ?? offer.startedAt };
}

function useNow(active: boolean, ms = 500): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

const REASON_TEXT: Record<FailureReason, string> = {
  mic: 'Microphone permission denied or no microphone',
  network: 'Network: the phone server cannot be reached',
  credentials: 'Credentials refused by the phone server',
};

export default function AgentPage() {
  const me = api.current!.user;
  const queryClient = useQueryClient();
  const [phone, setPhone] = useState<Softphone>();
  const [phoneState, setPhoneState] = useState<PhoneState>('idle');
  const [failure, setFailure] = useState<{ reason?: FailureReason; detail?: string }>({});
  const [wsUrl, setWsUrl] = useState<string>();
  const [setupError, setSetupError] = useState<string>();
  const [ringing, setRinging] = useState<IncomingCall | null>(null);
  const [active, setActive] = useState<{
    call: IncomingCall;
    since: number;
    callId: string | null;
  } | null>(null);
  const [live, setLive] = useState<LiveCall | null>(null);
  const [wrap, setWrap] = useState<{ callId: string | null; from: string } | null>(null);
  const [media, setMedia] = useState<MediaFigures>();
  const [actionError, setActionError] = useState<string>();
  const autoAnswerUntil = useRef(0);
  const preflight = usePreflight(wsUrl);

  const agentQuery = useQuery({
    queryKey: ['agents'],
    queryFn: getAgents,
    select: (d) => d.items.find((a) => a.userId === me.id),
  });
  const agent: Agent | undefined = agentQuery.data;
  useRealtime('agent.state', (e) => {
    if ((e.data as { userId?: number }).userId === me.id)
      void queryClient.invalidateQueries({ queryKey: ['agents'] });
  });
  // What a ringing call is (queue, line, since when) comes in the control plane's `call.offered`
  // event; the INVITE itself names only the call. Either may arrive first.
  const offers = useRef(new Map<string, OfferDetails>());
  useRealtime('call.offered', (e) => {
    const d = e.data as { callId?: string; agentUserId?: number; offer?: OfferDetails };
    if (d.agentUserId !== me.id || !d.callId || !d.offer) return;
    const offer = d.offer;
    offers.current.set(d.callId, offer);
    if (offers.current.size > 20) offers.current.delete(offers.current.keys().next().value!);
    setRinging((r) => (r && r.callId === d.callId ? withOffer(r, offer) : r));
    setActive((a) => (a && a.call.callId === d.callId ? { ...a, call: withOffer(a.call, offer) } : a));
  });
  const offerFor = (call: IncomingCall) => withOffer(call, call.callId ? offers.current.get(call.callId) : undefined);
  useRealtime(
    'call.ended',
    () => void queryClient.invalidateQueries({ queryKey: ['calls', 'mine'] }),
  );

  // The softphone: credentials for this session, then SIP.js (its own chunk).
  useEffect(() => {
    let stopped = false;
    let instance: Softphone | undefined;
    void (async () => {
      try {
        const creds = await softphoneSession();
        setWsUrl(creds.wsUrl);
        const { Softphone } = await import('../../../softphone/softphone.ts');
        if (stopped) return;
        instance = new Softphone(creds, {
          onState: (s, reason, detail) => {
            setPhoneState(s);
            setFailure({ reason, detail });
          },
          onIncoming: (call) => {
            if (!call.callId && Date.now() < autoAnswerUntil.current) {
              // Our own click-to-call: the PBX rings us first, then dials the number.
              autoAnswerUntil.current = 0;
              void instance?.answer();
            } else {
              setRinging(offerFor(call));
              // A call rings: bring the agent to the phone, whatever page they were on.
              navigate('/phone');
            }
          },
          onCallEstablished: (call) => {
            setRinging(null);
            setWrap(null);
            setActive({ call: offerFor(call), since: Date.now(), callId: call.callId });
          },
          onCallEnded: (call) => {
            setRinging((r) => (r?.id === call.id ? null : r));
            setActive((a) => {
              if (a?.call.id === call.id) setWrap({ callId: a.callId, from: call.from });
              return a?.call.id === call.id ? null : a;
            });
            setLive(null);
            setMedia(undefined);
          },
        });
        window.__calldockPhone = instance;
        setPhone(instance);
        await instance.start();
      } catch (err) {
        setSetupError(err instanceof ApiError ? err.message : (err as Error).message);
      }
    })();
    return () => {
      stopped = true;
      if (window.__calldockPhone === instance) delete window.__calldockPhone;
      void instance?.stop();
    };
  }, []);

  // A call without our header (click-to-call): learn its id from the live calls.
  useEffect(() => {
    if (!active || active.callId) return;
    let cancelled = false;
    void (async () => {
      for (let i = 0; i < 20 && !cancelled; i++) {
        const { items } = await api.request<{ items: LiveCall[] }>('GET', '/live-calls');
        const mine = items.find((c) => c.agentUserId === me.id);
        if (mine) {
          setActive((a) => (a && !a.callId ? { ...a, callId: mine.callId } : a));
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [active, me.id]);

  // Media quality while in a call: shown here, and reported for the supervisor's live view.
  useEffect(() => {
    if (!active || !phone) return;
    const tick = async () => {
      const figures = await phone.stats();
      if (!figures) return;
      setMedia(figures);
      if (active.callId) await callAction(active.callId, 'quality', figures).catch(() => undefined);
    };
    void tick();
    const t = setInterval(() => void tick(), 2_000);
    return () => clearInterval(t);
  }, [active, phone]);

  const [dialMessage, setDialMessage] = useState<string>();
  const placeCall = useCallback(async (number: string) => {
    autoAnswerUntil.current = Date.now() + 30_000;
    await dial(number);
  }, []);
  useEffect(
    () =>
      onDialRequest((number) => {
        navigate('/phone');
        setDialMessage(`Calling ${number}…`);
        placeCall(number).catch((err: Error) => setDialMessage(err.message));
      }),
    [placeCall],
  );

  useEffect(
    () =>
      onExpectCall(() => {
        autoAnswerUntil.current = Date.now() + 30_000;
      }),
    [],
  );

  useEffect(() => {
    const online = () => {
      void outbox.flush();
      void manualLogs.flush();
    };
    window.addEventListener('online', online);
    void outbox.flush();
    void manualLogs.flush();
    return () => window.removeEventListener('online', online);
  }, []);

  const run = useCallback(
    async (action: string, body?: unknown) => {
      if (!active?.callId) return;
      setActionError(undefined);
      try {
        const result = await callAction(active.callId, action, body);
        if (result && 'onHold' in result) setLive(result);
      } catch (err) {
        setActionError((err as Error).message);
      }
    },
    [active],
  );

  const changeState = async (status: 'available' | 'away', reason?: string) => {
    setActionError(undefined);
    try {
      await setMyState(status, reason);
      await queryClient.invalidateQueries({ queryKey: ['agents'] });
    } catch (err) {
      setActionError((err as Error).message);
    }
  };

  const now = useNow(Boolean(active || ringing || agent?.wrapUpUntil));
  const registered = phoneState === 'registered';

  return (
    <div className="agent grid">
      <section className="card" aria-label="Softphone">
        <h2>Softphone</h2>
        <p>
          <span className={`status status-${phoneState}`} data-testid="phone-state">
            {phoneState === 'registered'
              ? 'Registered'
              : phoneState === 'reconnecting'
                ? 'Reconnecting…'
                : phoneState === 'failed'
                  ? 'Failed'
                  : phoneState === 'connecting'
                    ? 'Connecting…'
                    : 'Off'}
          </span>
          {phoneState === 'failed' && failure.reason && (
            <span className="error" role="alert">
              {' '}
              {REASON_TEXT[failure.reason]}
              {failure.detail ? ` (${failure.detail})` : ''}
            </span>
          )}
        </p>
        {setupError && (
          <p className="error" role="alert">
            {setupError}
          </p>
        )}
        <div className="row">
          <label>
            My state{' '}
            <strong data-testid="agent-state">
              {agent ? agent.status.replace('_', ' ') : '…'}
              {agent?.reason ? ` (${agent.reason})` : ''}
            </strong>
          </label>
        </div>
        <div className="row">
          <button
            onClick={() => void changeState('available')}
            disabled={
              !registered ||
              !preflight.passed ||
              !['away', 'offline'].includes(agent?.status ?? 'offline')
            }
            title={!preflight.passed ? 'Pass the preflight checks first' : undefined}
          >
            Go available
          </button>
          {AWAY_REASONS.map((r) => (
            <button key={r} className="secondary" onClick={() => void changeState('away', r)}>
              Away: {r}
            </button>
          ))}
        </div>
        {agent?.wrapUpUntil && (
          <p data-testid="wrapup-countdown">
            Wrap-up: {Math.max(0, Math.ceil((Date.parse(agent.wrapUpUntil) - now) / 1000))} s left
          </p>
        )}
        {actionError && (
          <p className="error" role="alert">
            {actionError}
          </p>
        )}
      </section>

      <PreflightPanel result={preflight.result} onRerun={() => void preflight.rerun()} />

      {ringing && (
        <section className="card ringing" aria-label="Incoming call" role="alertdialog">
          <h2>Incoming call</h2>
          <p className="big" data-testid="caller">
            {ringing.fromName && ringing.fromName !== ringing.from ? `${ringing.fromName} · ` : ''}
            {ringing.from}
          </p>
          <p>
            {ringing.queue ? `Queue ${ringing.queue}` : 'Direct'}
            {ringing.did ? ` · via ${ringing.did}` : ''}
            {ringing.startedAt ? ` · waiting ${duration(now - Date.parse(ringing.startedAt))}` : ''}
          </p>
          <ScreenPop from={ringing.from} />
          <div className="row">
            <button className="answer" onClick={() => void phone?.answer()} accessKey="a">
              Answer
            </button>
            <button className="danger" onClick={() => void phone?.decline()}>
              Decline
            </button>
          </div>
        </section>
      )}

      {active && (
        <InCall
          key={active.call.id}
          call={active.call}
          callId={active.callId}
          since={active.since}
          now={now}
          live={live}
          media={media}
          run={run}
          hangup={async () => {
            if (active.callId) await run('hangup');
            await phone?.hangup();
          }}
        />
      )}

      {wrap && (
        <WrapUp
          key={wrap.callId ?? 'none'}
          callId={wrap.callId}
          from={wrap.from}
          onDone={() => {
            setWrap(null);
            void queryClient.invalidateQueries({ queryKey: ['calls', 'mine'] });
          }}
        />
      )}

      <Dialer disabled={!registered || Boolean(active)} onDial={placeCall} message={dialMessage} />
      <ManualCallLog onSaved={() => void queryClient.invalidateQueries({ queryKey: ['calls', 'mine'] })} />
      <History />
    </div>
  );
}

function InCall(props: {
  call: IncomingCall;
  callId: string | null;
  since: number;
  now: number;
  live: LiveCall | null;
  media: MediaFigures | undefined;
  run: (action: string, body?: unknown) => Promise<void>;
  hangup: () => Promise<void>;
}) {
  const { call, live, media, run } = props;
  const me = api.current?.user.id;
  const agents = useQuery({ queryKey: ['agents'], queryFn: getAgents });
  const colleagues = (agents.data?.items ?? []).filter((a) => a.userId !== me && a.hasPhone);
  const [transfer, setTransfer] = useState({ kind: 'userId', value: '', consulting: false });
  const onHold = live?.onHold ?? false;
  const muted = live?.agentMuted ?? false;
  const target = () => {
    const v = transfer.value.trim();
    return transfer.kind === 'number' ? { number: v } : { [transfer.kind]: Number(v) };
  };
  return (
    <section className="card incall" aria-label="Call in progress">
      <h2>
        In call with <span data-testid="incall-caller">{call.from}</span>
      </h2>
      <p>
        <span className="timer" data-testid="call-timer">
          {duration(props.now - props.since)}
        </span>
        {onHold && (
          <span className="badge" data-testid="on-hold">
            {' '}
            On hold
          </span>
        )}
        {muted && <span className="badge"> Muted</span>}
        {call.queue && ` · ${call.queue}`}
      </p>
      <div className="row">
        <button onClick={() => void run(onHold ? 'unhold' : 'hold')} disabled={!props.callId}>
          {onHold ? 'Resume' : 'Hold'}
        </button>
        <button onClick={() => void run(muted ? 'unmute' : 'mute')} disabled={!props.callId}>
          {muted ? 'Unmute' : 'Mute'}
        </button>
        <button className="danger" onClick={() => void props.hangup()}>
          Hang up
        </button>
      </div>
      <div className="keypad" role="group" aria-label="Keypad">
        {['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((d) => (
          <button key={d} className="secondary" onClick={() => void run('dtmf', { digits: d })}>
            {d}
          </button>
        ))}
      </div>
      <fieldset>
        <legend>Transfer</legend>
        <select
          value={transfer.kind}
          onChange={(e) => setTransfer({ ...transfer, kind: e.target.value, value: '' })}
          aria-label="Transfer to"
        >
          <option value="userId">Agent</option>
          <option value="queueId">Queue (id)</option>
          <option value="number">Number</option>
        </select>
        {transfer.kind === 'userId' ? (
          <select
            value={transfer.value}
            onChange={(e) => setTransfer({ ...transfer, value: e.target.value })}
            aria-label="Transfer target"
          >
            <option value="">Pick an agent…</option>
            {colleagues.map((a) => (
              <option key={a.userId} value={a.userId} disabled={a.status !== 'available'}>
                {a.displayName} ({a.status.replace('_', ' ')})
              </option>
            ))}
          </select>
        ) : (
          <input
            value={transfer.value}
            onChange={(e) => setTransfer({ ...transfer, value: e.target.value })}
            aria-label="Transfer target"
          />
        )}
        {!transfer.consulting ? (
          <>
            <button className="secondary" onClick={() => void run('transfer', target())}>
              Blind transfer
            </button>
            <button
              className="secondary"
              disabled={transfer.kind === 'queueId'}
              onClick={() =>
                void run('consult', target()).then(() =>
                  setTransfer({ ...transfer, consulting: true }),
                )
              }
            >
              Consult first
            </button>
          </>
        ) : (
          <>
            <button
              onClick={() =>
                void run('consult/complete').then(() =>
                  setTransfer({ ...transfer, consulting: false }),
                )
              }
            >
              Complete transfer
            </button>
            <button
              className="secondary"
              onClick={() =>
                void run('consult/cancel').then(() =>
                  setTransfer({ ...transfer, consulting: false }),
                )
              }
            >
              Back to caller
            </button>
          </>
        )}
      </fieldset>
      {media && (
        <dl className="media" data-testid="media">
          <dt>Received</dt>
          <dd data-testid="bytes-in">{media.inboundBytes}</dd>
          <dt>Sent</dt>
          <dd>{media.outboundBytes}</dd>
          <dt>Jitter</dt>
          <dd>{media.jitterMs ?? '—'} ms</dd>
          <dt>Loss</dt>
          <dd>{media.packetLossPct ?? '—'} %</dd>
          <dt>RTT</dt>
          <dd>{media.rttMs ?? '—'} ms</dd>
        </dl>
      )}
    </section>
  );
}

function WrapUp({
  callId,
  from,
  onDone,
}: {
  callId: string | null;
  from: string;
  onDone: () => void;
}) {
  const [notes, setNotes] = useState('');
  const [disposition, setDisposition] = useState('resolved');
  const [status, setStatus] = useState<string>();
  const [kept, setKept] = useState(false);
  // Kept for later: done once the outbox has sent it (back online, the next flush).
  useEffect(() => {
    if (!kept || !callId) return;
    const t = setInterval(() => {
      if (outbox.entries().every((e) => e.callId !== callId)) {
        clearInterval(t);
        onDone();
      } else if (navigator.onLine) void outbox.flush();
    }, 1_000);
    return () => clearInterval(t);
  }, [kept, callId, onDone]);
  const save = async () => {
    if (!callId) return onDone();
    outbox.add({ callId, notes, disposition });
    setStatus('Saving…');
    // Give the control plane a moment to write the record after the hang-up.
    for (let i = 0; i < 10; i++) {
      if (outbox.entries().length === 0 || (await outbox.flush()) > 0) {
        if (outbox.entries().every((e) => e.callId !== callId)) {
          setStatus('Saved');
          return onDone();
        }
      }
      if (!navigator.onLine) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    setStatus(
      `Kept on this device; it is sent once the server is reachable.${outbox.lastError ? ` (${outbox.lastError})` : ''}`,
    );
    setKept(true);
  };
  return (
    <section className="card" aria-label="Wrap-up">
      <h2>Wrap-up: {from}</h2>
      <label>
        Disposition
        <select
          value={disposition}
          onChange={(e) => setDisposition(e.target.value)}
          aria-label="Disposition"
        >
          {DISPOSITIONS.map((d) => (
            <option key={d} value={d}>
              {d.replace(/_/g, ' ')}
            </option>
          ))}
        </select>
      </label>
      <label>
        Notes
        <textarea
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
          rows={3}
          aria-label="Notes"
        />
      </label>
      <button onClick={() => void save()}>Save wrap-up</button>
      {status && <p role="status">{status}</p>}
    </section>
  );
}

function Dialer({
  disabled,
  onDial,
  message,
}: {
  disabled: boolean;
  onDial: (n: string) => Promise<void>;
  message?: string;
}) {
  const [number, setNumber] = useState('');
  const [error, setError] = useState<string>();
  return (
    <section className="card" aria-label="Dialer">
      <h2>Call out</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setError(undefined);
          onDial(number).catch((err: Error) => setError(err.message));
        }}
      >
        <input
          value={number}
          onChange={(e) => setNumber(e.target.value)}
          placeholder="+44… or extension"
          aria-label="Number to call"
          pattern="^\+?[0-9*#]{1,20}$"
        />
        <button disabled={disabled || !number}>Call</button>
      </form>
      {error && <p className="error">{error}</p>}
      {message && !error && <p role="status">{message}</p>}
    </section>
  );
}

/**
 * A call made or taken outside Calldock (a mobile, a phone elsewhere) logged by hand. Kept on the
 * device under its own id until the server has it, so a log typed offline is sent once online,
 * once.
 */
function ManualCallLog({ onSaved }: { onSaved: () => void }) {
  const [direction, setDirection] = useState<'inbound' | 'outbound'>('outbound');
  const [number, setNumber] = useState('');
  const [minutes, setMinutes] = useState('1');
  const [notes, setNotes] = useState('');
  const [status, setStatus] = useState<string>();
  const [waiting, setWaiting] = useState(() => manualLogs.entries().length);
  useEffect(() => {
    if (waiting === 0) return;
    // Whoever sends them (this, or the page's own flush when the browser is back online), the
    // logs that left the device are the ones that went.
    const t = setInterval(() => {
      const flushed = navigator.onLine ? manualLogs.flush() : Promise.resolve(0);
      void flushed.then(() => {
        const left = manualLogs.entries().length;
        if (left < waiting) {
          setStatus('Logged');
          onSaved();
        }
        setWaiting(left);
      });
    }, 1_000);
    return () => clearInterval(t);
  }, [waiting, onSaved]);
  const save = async () => {
    const durationSeconds = Math.round(Number(minutes) * 60);
    manualLogs.add({
      callId: crypto.randomUUID(),
      direction,
      number: number.replace(/[\s().-]/g, ''),
      startedAt: new Date(Date.now() - durationSeconds * 1000).toISOString(),
      durationSeconds,
      notes,
      disposition: 'logged_manually',
    });
    setNumber('');
    setNotes('');
    const sent = navigator.onLine ? await manualLogs.flush() : 0;
    setWaiting(manualLogs.entries().length);
    if (manualLogs.entries().length === 0 && sent > 0) {
      setStatus('Logged');
      onSaved();
    } else {
      setStatus(
        `Kept on this device; it is sent once the server is reachable.${manualLogs.lastError ? ` (${manualLogs.lastError})` : ''}`,
      );
    }
  };
  return (
    <section className="card" aria-label="Log a call">
      <h2>Log a call</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          Direction
          <select value={direction} onChange={(e) => setDirection(e.target.value as 'inbound' | 'outbound')} aria-label="Direction">
            <option value="outbound">I called them</option>
            <option value="inbound">They called me</option>
          </select>
        </label>
        <label>
          Number
          <input value={number} onChange={(e) => setNumber(e.target.value)} aria-label="Logged number" pattern="^\+?[0-9 ().-]{3,25}$" required />
        </label>
        <label>
          Minutes
          <input value={minutes} onChange={(e) => setMinutes(e.target.value)} aria-label="Minutes" type="number" min="0" max="1440" step="1" required />
        </label>
        <label>
          Notes
          <textarea value={notes} onChange={(e) => setNotes(e.target.value)} rows={2} aria-label="Log notes" />
        </label>
        <button>Log call</button>
      </form>
      {waiting > 0 && <p>{waiting} waiting to be sent</p>}
      {status && <p role="status">{status}</p>}
    </section>
  );
}

function History() {
  const { data } = useQuery(myCallsQuery());
  const rows = useMemo(() => data?.items ?? [], [data]);
  return (
    <section className="card wide" aria-label="My calls">
      <h2>My recent calls</h2>
      <table>
        <thead>
          <tr>
            <th>Started</th>
            <th>From</th>
            <th>To</th>
            <th>Talk</th>
            <th>Disposition</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>{dateTime(r.startedAt)}</td>
              <td>{r.fromNumber}</td>
              <td>{r.toNumber}</td>
              <td>{duration(r.talkMs)}</td>
              <td>{r.disposition ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
