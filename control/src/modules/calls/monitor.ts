/**
 * Supervisors on a live call: the supervisor's phone is called, and on answer
 *
 *   listen   a snoop on the agent's leg (spy both ways: the agent and what the agent hears) is
 *            bridged with the supervisor's phone; nothing the supervisor says reaches anyone
 *   whisper  the same snoop also whispers out: the agent hears the supervisor, the customer does not
 *   barge    the supervisor's phone joins the call's own bridge: everyone hears everyone
 *
 * Asking again with another mode switches an answered session in place. A session ends when the
 * supervisor hangs up, on DELETE, when the call ends, or when the agent's leg it spies on goes
 * (a transfer): the supervisor then starts again on the new agent.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Telephony } from '../../ari/telephony.ts';
import { AppError } from '../../lib/errors.ts';
import { invalidField } from '../../lib/field-errors.ts';
import type { AgentRegistry } from '../agents/registry.ts';
import { CallStatus, type ActiveCall } from './call.ts';
import type { CallEngine, CallEvent } from './engine.ts';
import { ControlLeg } from './legs.ts';

export type MonitorMode = 'listen' | 'whisper' | 'barge';

const RING_SECONDS = 30;

interface Session {
  id: string;
  call: ActiveCall;
  supervisorUserId: number;
  mode: MonitorMode;
  phone: string;
  answered: boolean;
  /** listen/whisper: the supervisor's bridge with the snoop. */
  bridgeId?: string;
  snoop?: string;
  /** The agent leg spied on. */
  agentChannel: string;
}

export interface MonitorView {
  id: string;
  supervisorUserId: number;
  mode: MonitorMode;
  answered: boolean;
}

export class CallMonitor {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly telephony: Telephony,
    private readonly engine: CallEngine,
    private readonly agents: AgentRegistry,
    private readonly log: FastifyBaseLogger,
  ) {
    engine.registerLeg(ControlLeg.Monitor, (event, args) =>
      this.answered(event.channel.id, args[1] ?? ''),
    );
    engine.registerLeg(ControlLeg.Snoop, (event, args) =>
      this.snoopStarted(event.channel.id, args[1] ?? ''),
    );
    engine.on('call', (event: CallEvent) => {
      if (event.type === 'call.ended')
        for (const s of this.of(event.callId)) engine.background(this.stop(s, 'call_ended'));
    });
  }

  private of(callId: string): Session[] {
    return [...this.sessions.values()].filter((s) => s.call.id === callId);
  }

  list(callId: string): MonitorView[] {
    return this.of(callId).map((s) => ({
      id: s.id,
      supervisorUserId: s.supervisorUserId,
      mode: s.mode,
      answered: s.answered,
    }));
  }

  /** Calls the supervisor's phone (or switches their answered session to `mode`). */
  async start(
    call: ActiveCall,
    supervisorUserId: number,
    mode: MonitorMode,
    byUserId: number,
  ): Promise<MonitorView> {
    if (call.status !== CallStatus.Connected || !call.agent || !call.bridgeId) {
      throw new AppError('CALL_NOT_CONNECTED', 'The call is not connected to an agent', 409);
    }
    const existing = this.of(call.id).find((s) => s.supervisorUserId === supervisorUserId);
    if (existing) {
      if (!existing.answered)
        throw new AppError('MONITOR_RINGING', "The supervisor's phone is still ringing", 409);
      if (existing.mode !== mode) await this.switchMode(existing, mode);
      return this.view(existing);
    }
    const supervisor = await this.agents.get(supervisorUserId);
    if (!supervisor || supervisor.tenantId !== call.tenantId)
      throw invalidField('supervisorUserId', 'no such user');
    if (!supervisor.endpoint)
      throw new AppError('NO_PHONE', 'The supervisor has no phone to listen on', 409);
    if (supervisorUserId === call.agent.userId)
      throw invalidField('supervisorUserId', 'is the agent on the call');

    const id = randomUUID();
    const session: Session = {
      id,
      call,
      supervisorUserId,
      mode,
      phone: `${call.id}-m${supervisorUserId}-${Date.now().toString(36)}`,
      answered: false,
      agentChannel: call.agent.channelId,
    };
    this.sessions.set(id, session);
    this.engine.watchChannel(session.phone, () => this.stop(session, 'supervisor_hung_up'));
    try {
      await this.telephony.originate({
        channelId: session.phone,
        endpoint: `PJSIP/${supervisor.endpoint}`,
        appArgs: [ControlLeg.Monitor, call.id, id],
        callerId: `"${mode}" <${call.from}>`,
        timeoutSeconds: RING_SECONDS,
      });
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, supervisorUserId },
        'supervisor phone unreachable',
      );
      this.sessions.delete(id);
      this.engine.unwatchChannel(session.phone);
      throw new AppError('PHONE_UNREACHABLE', "The supervisor's phone cannot be reached", 409);
    }
    void call.cdr.transition('monitor_requested', {}, { supervisorUserId, mode, byUserId });
    return this.view(session);
  }

  private view(s: Session): MonitorView {
    return { id: s.id, supervisorUserId: s.supervisorUserId, mode: s.mode, answered: s.answered };
  }

  private async answered(channelId: string, sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    const call = session?.call;
    if (
      !session ||
      !call ||
      session.phone !== channelId ||
      call.ended ||
      call.agent?.channelId !== session.agentChannel
    ) {
      if (session) await this.stop(session, 'call_changed');
      else await this.telephony.hangup(channelId, 'normal');
      return;
    }
    session.answered = true;
    await this.connect(session);
    void call.cdr.transition(
      'monitor_started',
      {},
      { supervisorUserId: session.supervisorUserId, mode: session.mode },
    );
    this.engine.notify(call, 'call.monitor_started', session.supervisorUserId);
  }

  private async connect(session: Session): Promise<void> {
    if (session.mode === 'barge') {
      if (session.call.bridgeId)
        await this.telephony.addToBridge(session.call.bridgeId, [session.phone]);
      return;
    }
    session.bridgeId ??= await this.telephony.createBridge('mixing', `monitor-${session.id}`);
    await this.telephony.addToBridge(session.bridgeId, [session.phone]);
    // The snoop joins the bridge when it enters Stasis (snoopStarted), maybe before snoop() returns.
    const snoop = `${session.call.id}-s${session.supervisorUserId}-${Date.now().toString(36)}`;
    session.snoop = snoop;
    // The agent's leg went (the snoop dies with it); a mode switch unwatches it first.
    this.engine.watchChannel(snoop, () => this.stop(session, 'agent_gone'));
    const whisper = session.mode === 'whisper' ? 'out' : 'none';
    if (
      !(await this.telephony.snoop(
        session.agentChannel,
        'both',
        whisper,
        [ControlLeg.Snoop, session.call.id, session.id],
        snoop,
      ))
    ) {
      this.engine.unwatchChannel(snoop);
      await this.stop(session, 'agent_gone');
    }
  }

  private async snoopStarted(channelId: string, sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session?.bridgeId || session.snoop !== channelId) {
      await this.telephony.hangup(channelId, 'normal');
      return;
    }
    await this.telephony.addToBridge(session.bridgeId, [channelId]);
  }

  private async switchMode(session: Session, mode: MonitorMode): Promise<void> {
    const from = session.mode;
    session.mode = mode;
    if (from === 'barge' && session.call.bridgeId) {
      await this.telephony.removeFromBridge(session.call.bridgeId, session.phone);
    } else if (session.snoop) {
      const snoop = session.snoop;
      session.snoop = undefined;
      this.engine.unwatchChannel(snoop);
      await this.telephony.hangup(snoop, 'normal');
      if (mode === 'barge' && session.bridgeId)
        await this.telephony.removeFromBridge(session.bridgeId, session.phone);
    }
    await this.connect(session);
    void session.call.cdr.transition(
      'monitor_mode',
      {},
      { supervisorUserId: session.supervisorUserId, from, to: mode },
    );
  }

  /** Stops one session, or every session on the call (DELETE). */
  async stopAll(call: ActiveCall, supervisorUserId?: number): Promise<number> {
    const sessions = this.of(call.id).filter(
      (s) => supervisorUserId === undefined || s.supervisorUserId === supervisorUserId,
    );
    await Promise.all(sessions.map((s) => this.stop(s, 'stopped')));
    return sessions.length;
  }

  private async stop(session: Session, why: string): Promise<void> {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.engine.unwatchChannel(session.phone);
    if (session.snoop) this.engine.unwatchChannel(session.snoop);
    await Promise.all([
      this.telephony.hangup(session.phone, 'normal'),
      session.snoop ? this.telephony.hangup(session.snoop, 'normal') : undefined,
    ]);
    if (session.bridgeId) await this.telephony.destroyBridge(session.bridgeId);
    // A call that ended has written its last CDR event already.
    if (session.answered && !session.call.ended) {
      void session.call.cdr.transition(
        'monitor_stopped',
        {},
        { supervisorUserId: session.supervisorUserId, mode: session.mode, why },
      );
    }
  }
}
