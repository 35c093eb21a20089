/**
 * Click-to-call from a website: call tickets and the short-lived endpoints behind them.
 *
 *   POST /widgets/:id/calls ──► ticket: a PJSIP endpoint pushed to Asterisk for this one call
 *        (random name and password, expires in minutes), the WS URL, the URI to INVITE
 *   browser INVITEs ──► Stasis(calldock, webrtc, <ticket>) ──► claimed here by its endpoint
 *        ──► a 'web' call admitted by the engine into the widget's queue (same ACD, same CDR)
 *   call ends, or the ticket expires unused ──► endpoint removed (sweeper for the expired)
 *
 * Tickets live in MySQL, so the sweeper finds them after a restart, and an Asterisk restart
 * gets the live ones pushed again.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { StasisStartEvent } from '../../ari/events.ts';
import { PushConfig, type PjsipObject } from '../../ari/push-config.ts';
import type { AriConnection } from '../../ari/connection.ts';
import type { Telephony } from '../../ari/telephony.ts';
import type { WidgetConfig } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { AppError } from '../../lib/errors.ts';
import { ActiveCall } from '../calls/call.ts';
import { CallRecord } from '../calls/cdr.ts';
import type { CdrStore } from '../calls/cdr-store.ts';
import type { CallEngine, CallEvent } from '../calls/engine.ts';
import { iceServers } from './ice.ts';
import * as repo from './repository.ts';
import type { CallTicket, TicketRequest } from './schemas.ts';

/** Widget endpoints: `t<tenant>-web-<random>` (the endpoints module's re-push leaves them be). */
export const WIDGET_ENDPOINT = /^t(\d+)-web-[a-z0-9]+$/;
/** `PJSIP/<endpoint>-<8 hex>`: the endpoint a channel belongs to. */
const CHANNEL_NAME = /^PJSIP\/(.+)-[0-9a-f]{8}$/;
const SWEEP_MS = 15_000;

export type TicketState = 'pending' | 'routing' | 'queued' | 'connected' | 'ended' | 'expired';

export class WidgetCalls {
  private readonly push: PushConfig;
  private sweeper: NodeJS.Timeout | undefined;
  /** Calls admitted from a ticket, until they end. */
  private readonly webCalls = new Set<string>();

  constructor(
    private readonly db: Db,
    ari: AriConnection,
    private readonly engine: CallEngine,
    private readonly telephony: Telephony,
    private readonly cdrStore: CdrStore,
    private readonly config: WidgetConfig,
    private readonly ariUrl: string,
    private readonly log: FastifyBaseLogger,
  ) {
    this.push = new PushConfig(ari, (err, what) => log.warn({ err, what }, 'undo failed'));
    engine.claimWebRtc((event, dialled) => this.claim(event, dialled));
    engine.on('call', (event: CallEvent) => {
      // Only web calls taken here have a ticket: no read for every other call that ends. (One
      // taken before a restart has its endpoint removed by the sweep once its ticket expires.)
      if (event.type === 'call.ended' && this.webCalls.delete(event.callId))
        void this.callEnded(event.callId).catch((err: unknown) =>
          log.warn({ err }, 'widget endpoint removal failed'),
        );
    });
  }

  /** The SIP WebSocket as the browser reaches it. */
  wsUrl(): string {
    if (this.config.sipWsUrl) return this.config.sipWsUrl;
    const ari = new URL(this.ariUrl);
    return `${ari.protocol === 'https:' ? 'wss' : 'ws'}://${ari.host}/ws`;
  }

  private objects(endpointId: string, password: string, displayName: string): PjsipObject[] {
    return [
      {
        type: 'auth',
        id: endpointId,
        fields: [
          ['auth_type', 'userpass'],
          ['username', endpointId],
          ['password', password],
        ],
      },
      {
        type: 'aor',
        id: endpointId,
        fields: [
          ['max_contacts', '1'],
          ['remove_existing', 'yes'],
        ],
      },
      {
        type: 'endpoint',
        id: endpointId,
        fields: [
          ['transport', 'transport-ws'],
          ['context', 'from-webrtc'],
          ['disallow', 'all'],
          ['allow', 'opus,ulaw'],
          // DTLS with an auto-generated certificate, ICE, AVPF and rtcp-mux.
          ['webrtc', 'yes'],
          ['direct_media', 'no'],
          ['aors', endpointId],
          ['auth', endpointId],
          ['callerid', `"${displayName.replace(/["\\<>]/g, '')}" <web>`],
        ],
      },
    ];
  }

  /** Issues a ticket for one call: pushes its endpoint, stores it, answers what the page needs. */
  async issue(widget: repo.WidgetRow, request: TicketRequest, ip: string): Promise<CallTicket> {
    if (widget.callQueueId === null)
      throw new AppError('WIDGET_NO_QUEUE', 'This widget has no queue for calls', 409);
    const ticket = randomBytes(16).toString('hex');
    const endpointId = `t${widget.tenantId}-web-${randomBytes(8).toString('hex')}`;
    const password = randomBytes(18).toString('base64url');
    const expiresAt = new Date(Date.now() + this.config.ticketTtlSeconds * 1000);
    const name = request.name?.trim() || 'Website visitor';
    const objects = this.objects(endpointId, password, name);
    // The row first: an endpoint is never in Asterisk without a row the sweeper can find.
    await repo.insertTicket(this.db, {
      tenantId: widget.tenantId,
      widgetId: widget.id,
      ticket,
      endpointId,
      extension: ticket,
      pageUrl: request.pageUrl?.slice(0, 1000) ?? null,
      visitorName: request.name?.trim() || null,
      visitorEmail: request.email?.trim() || null,
      visitorIp: ip,
      expiresAt,
    });
    await this.push.apply([], objects);
    const ws = new URL(this.wsUrl());
    return {
      ticket,
      expiresAt: expiresAt.toISOString(),
      sip: {
        wsUrl: ws.toString().replace(/\/$/, ''),
        uri: `sip:${endpointId}@${ws.hostname}`,
        username: endpointId,
        password,
        target: `sip:${ticket}@${ws.hostname}`,
      },
      iceServers: iceServers(this.config, endpointId),
    };
  }

  /** A 'webrtc' channel entering Stasis: ours if it comes from a widget endpoint. */
  private async claim(event: StasisStartEvent, dialled: string): Promise<boolean> {
    const endpointId = CHANNEL_NAME.exec(event.channel.name)?.[1];
    if (!endpointId || !WIDGET_ENDPOINT.test(endpointId)) return false;
    const channel = event.channel;
    const ticket = await repo.findTicketByEndpoint(this.db, endpointId);
    const now = new Date();
    const widget =
      ticket &&
      (await this.db
        .selectFrom('widgets')
        .selectAll()
        .where('id', '=', ticket.widgetId)
        .executeTakeFirst());
    if (
      !ticket ||
      !widget ||
      ticket.extension !== dialled ||
      widget.callQueueId === null ||
      !(await repo.useTicket(this.db, ticket.id, channel.id, now))
    ) {
      this.log.warn({ endpointId, dialled }, 'widget call without a valid ticket refused');
      await this.telephony.hangup(channel.id, 'rejected');
      return true;
    }
    this.webCalls.add(channel.id);
    const cdr = new CallRecord(this.cdrStore, this.log, ticket.tenantId, channel.id, {
      start: {
        tenantId: ticket.tenantId,
        linkedid: channel.id,
        direction: 'inbound',
        channelKind: 'web',
        fromNumber: ticket.visitorName ?? 'web',
        toNumber: widget.name.slice(0, 64),
        didId: null,
        startedAt: now,
        widgetId: widget.id,
        pageUrl: ticket.pageUrl,
        visitorName: ticket.visitorName,
        visitorEmail: ticket.visitorEmail,
      },
    });
    const call = new ActiveCall(
      channel.id,
      ticket.tenantId,
      now.getTime(),
      ticket.visitorName ?? 'web',
      widget.name,
      cdr,
    );
    void cdr.transition(
      'web_visitor',
      {},
      { widgetId: widget.id, pageUrl: ticket.pageUrl, ticket: ticket.ticket },
    );
    await this.engine.admit(call, { type: 'queue', id: widget.callQueueId, value: null });
    return true;
  }

  private async callEnded(callId: string): Promise<void> {
    const ticket = await repo.findTicketByCall(this.db, callId);
    if (ticket && ticket.removedAt === null) await this.remove(ticket);
  }

  private async remove(ticket: repo.TicketRow): Promise<void> {
    await this.push.removeAll(ticket.endpointId);
    await repo.markRemoved(this.db, ticket.id, new Date());
    this.log.debug({ endpointId: ticket.endpointId }, 'widget endpoint removed');
  }

  /** Removes the endpoints of expired tickets whose call (if any) is over. */
  async sweep(): Promise<number> {
    const live = new Set(this.engine.activeCalls().map((c) => c.id));
    let removed = 0;
    for (const ticket of await repo.expiredTickets(this.db, new Date())) {
      if (ticket.callLinkedid && live.has(ticket.callLinkedid)) continue;
      await this.remove(ticket);
      removed += 1;
    }
    return removed;
  }

  /**
   * On every ARI (re)connect: a ticket whose endpoint Asterisk no longer has (it restarted) is
   * void. Passwords are never stored, so it cannot be pushed again; the visitor asks anew.
   */
  async reconcile(): Promise<void> {
    for (const ticket of await repo.liveTickets(this.db, new Date())) {
      if (ticket.usedAt) continue;
      if (!(await this.push.getEndpoint(ticket.endpointId)))
        await repo.markRemoved(this.db, ticket.id, new Date());
    }
  }

  startSweeper(): void {
    this.sweeper = setInterval(() => {
      this.sweep().catch((err: unknown) => this.log.warn({ err }, 'widget ticket sweep failed'));
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Where the visitor's call stands, for the widget's queued screen. */
  async status(
    ticket: repo.TicketRow,
  ): Promise<{ state: TicketState; position: number | null; callbackNumber: string | null }> {
    const callbackNumber = ticket.callbackNumber;
    if (!ticket.callLinkedid) {
      return {
        state: ticket.expiresAt.getTime() <= Date.now() || ticket.removedAt ? 'expired' : 'pending',
        position: null,
        callbackNumber,
      };
    }
    const call = this.engine.getCall(ticket.tenantId, ticket.callLinkedid);
    if (!call) return { state: 'ended', position: null, callbackNumber };
    const position = this.engine.queuePosition(ticket.tenantId, call.id) ?? null;
    const state: TicketState =
      position !== null ? 'queued' : call.status === 'connected' ? 'connected' : 'routing';
    return { state, position, callbackNumber };
  }

  /**
   * The visitor, while queued, asks to be called back instead and keeps their place: the engine
   * turns the call into a callback task in the same place (calls/callbacks.ts) and ends the web
   * call. Refused (accepted false) when the call is no longer waiting or the number cannot be
   * called.
   */
  async requestCallback(
    ticket: repo.TicketRow,
    number: string,
  ): Promise<{ accepted: boolean; keepsPlace: boolean }> {
    const clean = number.replace(/[\s().-]/g, '');
    await repo.setCallback(this.db, ticket.id, clean);
    const call = ticket.callLinkedid ? this.engine.getCall(ticket.tenantId, ticket.callLinkedid) : undefined;
    if (!call) return { accepted: false, keepsPlace: false };
    const kept = await this.engine.requestCallback(call, clean, 'web');
    return { accepted: kept, keepsPlace: kept };
  }
}
