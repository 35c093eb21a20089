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
import type { AriConnection, AriRequestOptions } from './connection.ts';
import { isNotFound } from './stasis-app.ts';
import { AriEvent, type AnyAriEvent } from './events.ts';

function isNotInApp(err: unknown): boolean {
  return err instanceof Error && /not in Stasis application/i.test(err.message);
}

const channelPath = (channelId: string) => `/channels/${encodeURIComponent(channelId)}`;
const bridgePath = (bridgeId: string) => `/bridges/${encodeURIComponent(bridgeId)}`;

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

  /**
   * A REST call over the event WebSocket (REST over WebSocket: no HTTP request, header parsing
   * or socket per call on either side) on a target that may be gone already: false if it was.
   * Everything a call does on its way through the engine goes this way.
   */
  private async rest(what: string, method: string, path: string, options?: AriRequestOptions): Promise<boolean> {
    return (await this.tolerant(what, () => this.ari.wsRequest(method, path, options).then(() => true))) === true;
  }

  async answer(channelId: string): Promise<boolean> {
    return this.rest('answer', 'POST', `${channelPath(channelId)}/answer`);
  }

  async hangup(channelId: string, reason: HangupReason = 'normal'): Promise<void> {
    await this.rest('hangup', 'DELETE', channelPath(channelId), { query: { reason } });
  }

  async ring(channelId: string): Promise<void> {
    await this.rest('ring', 'POST', `${channelPath(channelId)}/ring`);
  }

  async startMoh(channelId: string, mohClass = 'default'): Promise<void> {
    await this.rest('moh', 'POST', `${channelPath(channelId)}/moh`, { query: { mohClass } });
  }

  async stopMoh(channelId: string): Promise<void> {
    await this.rest('stop moh', 'DELETE', `${channelPath(channelId)}/moh`);
  }

  async mute(channelId: string, direction: 'in' | 'out' | 'both'): Promise<boolean> {
    return this.rest('mute', 'POST', `${channelPath(channelId)}/mute`, { query: { direction } });
  }

  async unmute(channelId: string, direction: 'in' | 'out' | 'both'): Promise<boolean> {
    return this.rest('unmute', 'DELETE', `${channelPath(channelId)}/mute`, { query: { direction } });
  }

  async hold(channelId: string): Promise<boolean> {
    return this.rest('hold', 'POST', `${channelPath(channelId)}/hold`);
  }

  async unhold(channelId: string): Promise<boolean> {
    return this.rest('unhold', 'DELETE', `${channelPath(channelId)}/hold`);
  }

  async sendDtmf(channelId: string, dtmf: string): Promise<boolean> {
    return this.rest('dtmf', 'POST', `${channelPath(channelId)}/dtmf`, { query: { dtmf } });
  }

  async setVar(channelId: string, variable: string, value: string): Promise<void> {
    await this.rest('set var', 'POST', `${channelPath(channelId)}/variable`, { query: { variable, value } });
  }

  async getVar(channelId: string, variable: string): Promise<string | undefined> {
    const result = await this.tolerant('get var', () =>
      this.ari.client.channels.getChannelVar({ channelId, variable }),
    );
    return result?.value;
  }

  /** Starts a playback; resolves with its id (PlaybackFinished carries the same id). */
  async play(channelId: string, media: string | string[], playbackId = randomUUID()): Promise<string | undefined> {
    // Several media: one comma-separated value, which Asterisk splits.
    const list = Array.isArray(media) ? media.join(',') : media;
    const path = `${channelPath(channelId)}/play/${encodeURIComponent(playbackId)}`;
    return (await this.rest('play', 'POST', path, { query: { media: list } })) ? playbackId : undefined;
  }

  async stopPlayback(playbackId: string): Promise<void> {
    await this.rest('stop playback', 'DELETE', `/playbacks/${encodeURIComponent(playbackId)}`);
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
    await this.ari.wsRequest('POST', bridgePath(bridgeId), { query: { type, ...(name ? { name } : {}) } });
    return bridgeId;
  }

  async addToBridge(bridgeId: string, channelIds: string[], role?: string): Promise<boolean> {
    const query = { channel: channelIds.join(','), ...(role ? { role } : {}) };
    return this.rest('bridge add', 'POST', `${bridgePath(bridgeId)}/addChannel`, { query });
  }

  /** Takes a channel out of a bridge; one that is not (or no longer) in it is fine. */
  async removeFromBridge(bridgeId: string, channelId: string): Promise<void> {
    try {
      await this.rest('bridge remove', 'POST', `${bridgePath(bridgeId)}/removeChannel`, { query: { channel: channelId } });
    } catch (err) {
      if (!/not in this bridge/i.test((err as Error).message)) throw err;
    }
  }

  async destroyBridge(bridgeId: string): Promise<void> {
    await this.rest('bridge destroy', 'DELETE', bridgePath(bridgeId));
  }

  async bridgeMoh(bridgeId: string, mohClass = 'default'): Promise<void> {
    await this.rest('bridge moh', 'POST', `${bridgePath(bridgeId)}/moh`, { query: { mohClass } });
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
    await this.ari.wsRequest('POST', channelPath(channelId), {
      query,
      ...(request.variables ? { body: { variables: request.variables } } : {}),
    });
    return channelId;
  }

  async channelExists(channelId: string): Promise<boolean> {
    return this.rest('get channel', 'GET', channelPath(channelId));
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
