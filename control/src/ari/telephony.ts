/**
 * The call engine's view of Asterisk: channels, bridges, playbacks and recordings, as plain
 * async functions over the ARI connection. Nothing outside `ari/` calls ari-client directly.
 *
 * Every operation on a channel can race with that channel hanging up. Such "not found" answers
 * are expected, logged at debug and reported as `false`/`undefined`, never thrown: a caller
 * hanging up at the wrong moment must not become an error.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AriConnection } from './connection.ts';
import { isNotFound } from './stasis-app.ts';
import { AriEvent, type AnyAriEvent } from './events.ts';

function isNotInApp(err: unknown): boolean {
  return err instanceof Error && /not in Stasis application/i.test(err.message);
}

export type HangupReason = 'normal' | 'busy' | 'congestion' | 'no_answer' | 'rejected' | 'unallocated' | 'answered_elsewhere';
export type BridgeType = 'mixing' | 'holding';

/** What a caller did while a prompt played and the line waited for a keypad digit. */
export type DigitResult = { kind: 'digit'; digit: string } | { kind: 'timeout' } | { kind: 'gone' };

/** How a channel recording ended. `not_started`: the channel was gone before it could begin. */
export type RecordingOutcome =
  | { state: 'finished' }
  | { state: 'failed'; cause: string }
  | { state: 'not_started' };

/** A stored recording's audio as Asterisk serves it. */
export interface StoredAudio {
  contentType: string;
  /** Bytes in the file (from Content-Length), when Asterisk said. */
  size: number | undefined;
  body: ReadableStream<Uint8Array>;
}

/** Bounds a prompt whose end Asterisk never reported, so a caller is never held forever. */
const PROMPT_GUARD_MS = 10 * 60_000;
/** How long after the channel went away a recording may take to be reported finished. */
const RECORDING_SETTLE_MS = 5_000;

export interface OriginateRequest {
  endpoint: string;
  /** Stasis arguments: the answered channel enters the app with them. */
  appArgs: string[];
  callerId?: string;
  timeoutSeconds: number;
  /** The channel this call is for: keeps the codec and the linkedid (one CDR per call). */
  originator?: string;
  variables?: Record<string, string>;
  channelId?: string;
}

export class Telephony {
  constructor(
    private readonly ari: AriConnection,
    private readonly log: FastifyBaseLogger,
  ) {}

  get app(): string {
    return this.ari.appName;
  }

  /** Runs an ARI call whose target may be gone already; `undefined` means it was. */
  private async tolerant<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (isNotFound(err)) {
        this.log.debug({ what }, 'target already gone');
        return undefined;
      }
      if (isNotInApp(err)) {
        // Left our application (hung up, or taken over by another ARI client) in between.
        this.log.warn({ what, err: (err as Error).message }, 'target no longer in the Stasis app');
        return undefined;
      }
      throw err;
    }
  }

  // Answer, hang-up and bridge moves are on every call's path: REST over the event WebSocket.

  async answer(channelId: string): Promise<boolean> {
    const path = `/channels/${encodeURIComponent(channelId)}/answer`;
    return (await this.tolerant('answer', () => this.ari.wsRequest('POST', path).then(() => true))) === true;
  }

  async hangup(channelId: string, reason: HangupReason = 'normal'): Promise<void> {
    const path = `/channels/${encodeURIComponent(channelId)}`;
    await this.tolerant('hangup', () => this.ari.wsRequest('DELETE', path, { query: { reason } }));
  }

  async ring(channelId: string): Promise<void> {
    await this.tolerant('ring', () => this.ari.client.channels.ring({ channelId }));
  }

  async startMoh(channelId: string, mohClass = 'default'): Promise<void> {
    await this.tolerant('moh', () => this.ari.client.channels.startMoh({ channelId, mohClass }));
  }

  async stopMoh(channelId: string): Promise<void> {
    await this.tolerant('stop moh', () => this.ari.client.channels.stopMoh({ channelId }));
  }

  async mute(channelId: string, direction: 'in' | 'out' | 'both'): Promise<boolean> {
    return (await this.tolerant('mute', () => this.ari.client.channels.mute({ channelId, direction }))) !== undefined;
  }

  async unmute(channelId: string, direction: 'in' | 'out' | 'both'): Promise<boolean> {
    return (await this.tolerant('unmute', () => this.ari.client.channels.unmute({ channelId, direction }))) !== undefined;
  }

  async hold(channelId: string): Promise<boolean> {
    return (await this.tolerant('hold', () => this.ari.client.channels.hold({ channelId }))) !== undefined;
  }

  async unhold(channelId: string): Promise<boolean> {
    return (await this.tolerant('unhold', () => this.ari.client.channels.unhold({ channelId }))) !== undefined;
  }

  async sendDtmf(channelId: string, dtmf: string): Promise<boolean> {
    return (await this.tolerant('dtmf', () => this.ari.client.channels.sendDTMF({ channelId, dtmf }))) !== undefined;
  }

  async setVar(channelId: string, variable: string, value: string): Promise<void> {
    await this.tolerant('set var', () => this.ari.client.channels.setChannelVar({ channelId, variable, value }));
  }

  async getVar(channelId: string, variable: string): Promise<string | undefined> {
    const result = await this.tolerant('get var', () =>
      this.ari.client.channels.getChannelVar({ channelId, variable }),
    );
    return result?.value;
  }

  /** Starts a playback; resolves with its id (PlaybackFinished carries the same id). */
  async play(channelId: string, media: string | string[], playbackId = randomUUID()): Promise<string | undefined> {
    const list = Array.isArray(media) ? media : [media];
    const ok = await this.tolerant('play', () =>
      this.ari.client.channels.playWithId({ channelId, playbackId, media: list as unknown as string }),
    );
    return ok === undefined ? undefined : playbackId;
  }

  async stopPlayback(playbackId: string): Promise<void> {
    await this.tolerant('stop playback', () => this.ari.client.playbacks.stop({ playbackId }));
  }

  /** Plays and waits for the end; false when the channel went away first. */
  async playAndWait(channelId: string, media: string | string[], timeoutMs = 60_000): Promise<boolean> {
    const playbackId = randomUUID();
    // Listen before asking: a short prompt can finish before the HTTP answer arrives.
    const finished = this.waitForEvent(
      (e) =>
        (e.type === AriEvent.PlaybackFinished && (e.playback as { id: string }).id === playbackId) ||
        ((e.type === AriEvent.StasisEnd || e.type === AriEvent.ChannelDestroyed) &&
          (e.channel as { id: string } | undefined)?.id === channelId),
      timeoutMs,
    );
    if (!(await this.play(channelId, media, playbackId))) return false;
    const event = await finished;
    return event?.type === AriEvent.PlaybackFinished;
  }

  /**
   * Plays `media` and collects one keypad digit. A digit pressed during the prompt stops it and
   * counts; once the prompt is over the caller has `timeoutMs` to press one.
   */
  collectDigit(channelId: string, media: string[], timeoutMs: number): Promise<DigitResult> {
    const playbackId = randomUUID();
    return new Promise<DigitResult>((resolve, reject) => {
      let afterPrompt: NodeJS.Timeout | undefined;
      let settled = false;
      let stopPrompt = false;
      const settle = (result: DigitResult | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(afterPrompt);
        clearTimeout(guard);
        this.ari.off('event', onEvent);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      // Listen before playing: a digit or a short prompt's end can beat the HTTP answer.
      const onEvent = (event: AnyAriEvent) => {
        const channel = (event.channel as { id?: string } | undefined)?.id;
        if (event.type === AriEvent.ChannelDtmfReceived && channel === channelId) {
          stopPrompt = true;
          void this.stopPlayback(playbackId);
          settle({ kind: 'digit', digit: String(event.digit) });
        } else if ((event.type === AriEvent.StasisEnd || event.type === AriEvent.ChannelDestroyed) && channel === channelId) {
          settle({ kind: 'gone' });
        } else if (event.type === AriEvent.PlaybackFinished && (event.playback as { id: string }).id === playbackId) {
          afterPrompt = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
        }
      };
      const guard = setTimeout(() => settle({ kind: 'timeout' }), PROMPT_GUARD_MS + timeoutMs);
      this.ari.on('event', onEvent);
      this.play(channelId, media, playbackId).then(
        (started) => {
          if (!started) settle({ kind: 'gone' });
          // The digit came before Asterisk confirmed the prompt: stop it now that it exists.
          else if (stopPrompt) void this.stopPlayback(playbackId);
        },
        (err: unknown) => settle(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  /**
   * Creates a bridge. With an `id` of the caller's choosing the call is idempotent: Asterisk
   * answers an existing bridge of that id instead of making a second one.
   */
  async createBridge(type: BridgeType, name?: string, id?: string): Promise<string> {
    const bridgeId = id ?? randomUUID();
    await this.ari.client.bridges.createWithId({ bridgeId, type, ...(name ? { name } : {}) });
    return bridgeId;
  }

  async addToBridge(bridgeId: string, channelIds: string[], role?: string): Promise<boolean> {
    const channel = channelIds.join(',');
    const path = `/bridges/${encodeURIComponent(bridgeId)}/addChannel`;
    const query = { channel, ...(role ? { role } : {}) };
    return (await this.tolerant('bridge add', () => this.ari.wsRequest('POST', path, { query }).then(() => true))) === true;
  }

  /** Takes a channel out of a bridge; one that is not (or no longer) in it is fine. */
  async removeFromBridge(bridgeId: string, channelId: string): Promise<void> {
    try {
      await this.tolerant('bridge remove', () =>
        this.ari.client.bridges.removeChannel({ bridgeId, channel: channelId }),
      );
    } catch (err) {
      if (!/not in this bridge/i.test((err as Error).message)) throw err;
    }
  }

  async destroyBridge(bridgeId: string): Promise<void> {
    await this.tolerant('bridge destroy', () => this.ari.client.bridges.destroy({ bridgeId }));
  }

  async bridgeMoh(bridgeId: string, mohClass = 'default'): Promise<void> {
    await this.tolerant('bridge moh', () => this.ari.client.bridges.startMoh({ bridgeId, mohClass }));
  }

  /**
   * Creates an outbound channel; it enters Stasis with `appArgs` once answered. Sent over the
   * event WebSocket (REST over WebSocket): it is on every call's path to an agent.
   */
  async originate(request: OriginateRequest): Promise<string> {
    const channelId = request.channelId ?? randomUUID();
    const query: Record<string, string> = {
      endpoint: request.endpoint,
      app: this.app,
      appArgs: request.appArgs.join(','),
      timeout: String(request.timeoutSeconds),
    };
    if (request.callerId) query.callerId = request.callerId;
    if (request.originator) query.originator = request.originator;
    await this.ari.wsRequest('POST', `/channels/${encodeURIComponent(channelId)}`, {
      query,
      ...(request.variables ? { body: { variables: request.variables } } : {}),
    });
    return channelId;
  }

  async channelExists(channelId: string): Promise<boolean> {
    return (await this.tolerant('get channel', () => this.ari.client.channels.get({ channelId }))) !== undefined;
  }

  async listChannels(): Promise<Array<{ id: string; name: string; state: string }>> {
    return (await this.ari.client.channels.list()) as unknown as Array<{ id: string; name: string; state: string }>;
  }

  async listBridges(): Promise<Array<{ id: string; channels: string[]; bridge_type: string; name: string }>> {
    return (await this.ari.client.bridges.list()) as unknown as Array<{
      id: string;
      channels: string[];
      bridge_type: string;
      name: string;
    }>;
  }

  /** Records what a bridge hears (both parties) into Asterisk's recording folder. */
  async recordBridge(bridgeId: string, name: string): Promise<boolean> {
    return (
      (await this.tolerant('record bridge', () =>
        this.ari.client.bridges.record({ bridgeId, name, format: 'wav', ifExists: 'overwrite', beep: false }),
      )) !== undefined
    );
  }

  async recordChannel(
    channelId: string,
    name: string,
    options: { maxDurationSeconds: number; maxSilenceSeconds?: number; beep?: boolean; terminateOn?: string },
  ): Promise<boolean> {
    return (
      (await this.tolerant('record channel', () =>
        this.ari.client.channels.record({
          channelId,
          name,
          format: 'wav',
          ifExists: 'overwrite',
          maxDurationSeconds: options.maxDurationSeconds,
          maxSilenceSeconds: options.maxSilenceSeconds ?? 0,
          beep: options.beep ?? true,
          terminateOn: options.terminateOn ?? '#',
        }),
      )) !== undefined
    );
  }

  /**
   * Records a channel (see recordChannel) and resolves when the recording is over: ended by
   * `terminateOn`, by silence, by the maximum length, or by the caller hanging up, in which case
   * Asterisk keeps what it has.
   */
  recordChannelAndWait(
    channelId: string,
    name: string,
    options: { maxDurationSeconds: number; maxSilenceSeconds?: number; beep?: boolean; terminateOn?: string },
  ): Promise<RecordingOutcome> {
    return new Promise<RecordingOutcome>((resolve) => {
      let settleTimer: NodeJS.Timeout | undefined;
      const settle = (outcome: RecordingOutcome) => {
        clearTimeout(settleTimer);
        clearTimeout(guard);
        this.ari.off('event', onEvent);
        resolve(outcome);
      };
      const onEvent = (event: AnyAriEvent) => {
        const recording = event.recording as { name?: string; cause?: string } | undefined;
        if (recording?.name === name) {
          if (event.type === AriEvent.RecordingFinished) settle({ state: 'finished' });
          else if (event.type === AriEvent.RecordingFailed) settle({ state: 'failed', cause: recording.cause ?? 'unknown' });
          return;
        }
        const channel = (event.channel as { id?: string } | undefined)?.id;
        if ((event.type === AriEvent.StasisEnd || event.type === AriEvent.ChannelDestroyed) && channel === channelId) {
          // The file is closed as the channel goes; its event may trail the channel's end.
          settleTimer ??= setTimeout(() => settle({ state: 'finished' }), RECORDING_SETTLE_MS);
        }
      };
      const guard = setTimeout(
        () => settle({ state: 'failed', cause: 'no end reported' }),
        (options.maxDurationSeconds + 30) * 1000,
      );
      this.ari.on('event', onEvent);
      this.recordChannel(channelId, name, options).then(
        (started) => {
          if (!started) settle({ state: 'not_started' });
        },
        (err: unknown) => settle({ state: 'failed', cause: (err as Error).message }),
      );
    });
  }

  /** A stored recording's audio, streamed from Asterisk; undefined when there is no such file. */
  async storedRecording(name: string): Promise<StoredAudio | undefined> {
    const res = await this.ari.fetchRaw(`/recordings/stored/${encodeURIComponent(name)}/file`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`Asterisk answered ${res.status} for the recording ${name}`);
    }
    const length = res.headers.get('content-length');
    return {
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      size: length !== null && /^\d+$/.test(length) ? Number(length) : undefined,
      body: res.body,
    };
  }

  async deleteStoredRecording(name: string): Promise<void> {
    await this.tolerant('delete recording', () => this.ari.client.recordings.deleteStored({ recordingName: name }));
  }

  async stopRecording(name: string): Promise<void> {
    await this.tolerant('stop recording', () => this.ari.client.recordings.stop({ recordingName: name }));
  }

  /**
   * A snoop channel on `channelId` that enters Stasis with `appArgs`. Its StasisStart can arrive
   * before this resolves: pass `snoopId` to know the channel beforehand.
   */
  async snoop(
    channelId: string,
    spy: 'none' | 'in' | 'out' | 'both',
    whisper: 'none' | 'in' | 'out' | 'both',
    appArgs: string[],
    snoopId: string = randomUUID(),
  ): Promise<string | undefined> {
    const ok = await this.tolerant('snoop', () =>
      this.ari.client.channels.snoopChannelWithId({
        channelId,
        snoopId,
        app: this.app,
        appArgs: appArgs.join(','),
        spy,
        whisper,
      }),
    );
    return ok === undefined ? undefined : snoopId;
  }

  async setGlobalVar(variable: string, value: string): Promise<void> {
    await this.ari.client.asterisk.setGlobalVar({ variable, value });
  }

  /** The next event matching `match`, or undefined after `timeoutMs`. */
  waitForEvent(match: (event: AnyAriEvent) => boolean, timeoutMs: number): Promise<AnyAriEvent | undefined> {
    return new Promise((resolve) => {
      const onEvent = (event: AnyAriEvent) => {
        if (!match(event)) return;
        cleanup();
        resolve(event);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(undefined);
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.ari.off('event', onEvent);
      };
      this.ari.on('event', onEvent);
    });
  }
}
