/**
 * The agent's browser phone, on SIP.js: registers the agent's WebRTC endpoint with Asterisk over
 * WebSocket and carries one call at a time. Loaded lazily (its own chunk): only people who take
 * calls pay for SIP.js.
 *
 *   Idle ──start()──► Connecting ──registered──► Registered ◄──┐
 *                        │    ▲                     │         │ transport back
 *                        ▼    └──── Reconnecting ◄──┘ (transport lost)
 *                      Failed (reason: mic | network | credentials)
 */
import {
  Invitation,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Session,
} from 'sip.js';
import type { SessionDescriptionHandler } from 'sip.js/lib/platform/web';
import { summarizeStats, type MediaFigures } from './stats.ts';

export const PhoneState = {
  Idle: 'idle',
  Connecting: 'connecting',
  Registered: 'registered',
  Reconnecting: 'reconnecting',
  Failed: 'failed',
} as const;
export type PhoneState = (typeof PhoneState)[keyof typeof PhoneState];

export type FailureReason = 'mic' | 'network' | 'credentials';

export interface Credentials {
  username: string;
  password: string;
  uri: string;
  wsUrl: string;
}

export interface IncomingCall {
  id: string;
  callId: string | null;
  from: string;
  fromName: string;
  queue: string | null;
  did: string | null;
  startedAt: string | null;
}

export interface PhoneDelegate {
  onState?(state: PhoneState, reason?: FailureReason, detail?: string): void;
  onIncoming?(call: IncomingCall): void;
  onCallEstablished?(call: IncomingCall): void;
  onCallEnded?(call: IncomingCall): void;
}

export class Softphone {
  private ua: UserAgent | undefined;
  private registerer: Registerer | undefined;
  private session: Session | undefined;
  private current: IncomingCall | undefined;
  private readonly audio: HTMLAudioElement;
  state: PhoneState = PhoneState.Idle;

  constructor(
    private readonly creds: Credentials,
    private readonly delegate: PhoneDelegate,
  ) {
    this.audio = document.createElement('audio');
    this.audio.autoplay = true;
    document.body.appendChild(this.audio);
  }

  private set(state: PhoneState, reason?: FailureReason, detail?: string): void {
    this.state = state;
    this.delegate.onState?.(state, reason, detail);
  }

  async start(): Promise<void> {
    this.set(PhoneState.Connecting);
    // The microphone first: without it, registering would only invite calls we cannot carry.
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      stream.getTracks().forEach((t) => t.stop());
    } catch (err) {
      this.set(PhoneState.Failed, 'mic', (err as Error).message);
      return;
    }
    const uri = UserAgent.makeURI(this.creds.uri);
    if (!uri) throw new Error(`bad SIP URI ${this.creds.uri}`);
    this.ua = new UserAgent({
      uri,
      authorizationUsername: this.creds.username,
      authorizationPassword: this.creds.password,
      transportOptions: { server: this.creds.wsUrl, connectionTimeout: 5 },
      logLevel: 'error',
      // No public STUN server: it stalls ICE gathering for seconds where there is no internet.
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: { iceServers: [] },
        iceGatheringTimeout: 500,
      },
      delegate: {
        onInvite: (invitation) => this.incoming(invitation),
        onDisconnect: (error) => {
          if (error) void this.reconnect();
        },
      },
    });
    try {
      await this.ua.start();
    } catch (err) {
      this.set(
        PhoneState.Failed,
        'network',
        `Cannot reach ${this.creds.wsUrl}: ${(err as Error).message}`,
      );
      return;
    }
    await this.register();
  }

  private async register(): Promise<void> {
    if (!this.ua) return;
    if (!this.registerer) {
      this.registerer = new Registerer(this.ua, { expires: 120 });
      this.registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) this.set(PhoneState.Registered);
      });
    }
    await this.registerer.register({
      requestDelegate: {
        // After a reconnect the registerer may still think it is registered (no state change):
        // the accepted REGISTER is what says the phone is reachable again.
        onAccept: () => this.set(PhoneState.Registered),
        onReject: (response) => {
          const code = response.message.statusCode ?? 0;
          this.set(
            PhoneState.Failed,
            code === 401 || code === 403 ? 'credentials' : 'network',
            `Registration refused: ${code} ${response.message.reasonPhrase}`,
          );
        },
      },
    });
  }

  private async reconnect(): Promise<void> {
    if (!this.ua) return;
    this.set(PhoneState.Reconnecting);
    for (let attempt = 0; attempt < 30 && this.ua; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
      try {
        await this.ua.reconnect();
        await this.register();
        return;
      } catch {
        /* keep trying */
      }
    }
    this.set(PhoneState.Failed, 'network', 'The connection to the phone server is lost');
  }

  private incoming(invitation: Invitation): void {
    if (this.session) {
      void invitation.reject({ statusCode: 486 });
      return;
    }
    const req = invitation.request;
    // The control plane's offer: `call=…`, from the dialplan, or `call=…&queue=…&did=…&started=…`
    // (the engine's offerHeader). What it leaves out the console learns from `call.offered`.
    const offer = new URLSearchParams(req.getHeader('X-Calldock-Offer') ?? '');
    const call: IncomingCall = {
      id: req.callId,
      callId: offer.get('call'),
      from: invitation.remoteIdentity.uri.user ?? '',
      fromName: invitation.remoteIdentity.displayName ?? '',
      queue: offer.get('queue'),
      did: offer.get('did'),
      startedAt: offer.get('started'),
    };
    this.session = invitation;
    this.current = call;
    invitation.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        this.attachAudio();
        this.delegate.onCallEstablished?.(call);
      } else if (s === SessionState.Terminated) {
        this.session = undefined;
        this.current = undefined;
        this.audio.srcObject = null;
        this.delegate.onCallEnded?.(call);
      }
    });
    this.delegate.onIncoming?.(call);
  }

  async answer(): Promise<void> {
    if (this.session instanceof Invitation) await this.session.accept();
  }

  async decline(): Promise<void> {
    if (this.session instanceof Invitation && this.session.state === SessionState.Initial) {
      await this.session.reject({ statusCode: 603 });
    }
  }

  async hangup(): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (s.state === SessionState.Established) await s.bye();
    else if (s instanceof Invitation) await s.reject();
  }

  get activeCall(): IncomingCall | undefined {
    return this.current;
  }

  private get peerConnection(): RTCPeerConnection | undefined {
    const sdh = this.session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
    return sdh?.peerConnection;
  }

  private attachAudio(): void {
    const pc = this.peerConnection;
    if (!pc) return;
    const stream = new MediaStream();
    for (const r of pc.getReceivers()) if (r.track) stream.addTrack(r.track);
    this.audio.srcObject = stream;
    void this.audio.play().catch(() => undefined);
  }

  /** The call's media figures now, or undefined outside a call. */
  async stats(): Promise<MediaFigures | undefined> {
    const pc = this.peerConnection;
    if (!pc) return undefined;
    const report = await pc.getStats();
    return summarizeStats(report.values() as Iterable<Record<string, unknown> & { type: string }>);
  }

  async stop(): Promise<void> {
    const ua = this.ua;
    this.ua = undefined;
    try {
      await this.hangup();
      await this.registerer?.unregister().catch(() => undefined);
      await ua?.stop();
    } finally {
      this.audio.remove();
      this.set(PhoneState.Idle);
    }
  }
}
