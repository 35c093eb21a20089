/**
 * Voicemail at run time: the handler of the call engine's `voicemail` targets.
 *
 *   { type: 'voicemail', id: userId }      the user's own box
 *   { type: 'voicemail', value: 'sales' }  a shared box, by name
 *
 *   greeting ──► beep ──► recording ──(#, silence, max length, caller hangs up)──► stored
 *                                                                                    │
 *              a `voicemails` row, the CDR's disposition `voicemail` ◄──────────────┘
 *              (then goodbye, if the caller is still there)
 *
 * Audio stays in Asterisk's recording folder and is served through the API over ARI. A
 * caller hanging up mid-message is the common case, not an error: Asterisk keeps what it has,
 * and the message is stored after the call itself has ended.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Telephony } from '../../ari/telephony.ts';
import { parseWavHeader, wavDurationMs } from '../../lib/wav.ts';
import type { ActiveCall } from '../calls/call.ts';
import type { CallEngine } from '../calls/engine.ts';
import type { Target } from '../calls/queues.ts';
import { boxUserExists, cdrRowId, insertVoicemail } from './repository.ts';

export interface VoicemailBox {
  userId: number | null;
  name: string | null;
}

export interface VoicemailOptions {
  greeting: string;
  maxSeconds: number;
  /** Silence that ends a message (Asterisk trims it off). */
  maxSilenceSeconds: number;
  /** Shorter messages (a hang-up right after the beep) are dropped. */
  minMessageMs: number;
}

export const DEFAULT_VOICEMAIL_OPTIONS: VoicemailOptions = {
  greeting: 'sound:vm-intro',
  maxSeconds: 120,
  maxSilenceSeconds: 5,
  minMessageMs: 500,
};

const NO_SERVICE = 'sound:ss-noservice';
const GOODBYE = 'sound:vm-goodbye';
/** Enough of a WAV file to hold its header. */
const HEADER_BYTES = 4096;

/** The stored recording of a voicemail; the `calldock-` prefix marks Calldock's own files. */
export const voicemailRecordingName = (tenantId: number) =>
  `calldock-vm-${tenantId}-${randomUUID()}`;

export class VoicemailRuntime {
  /** Messages being stored after their call ended (tests and shutdown wait for them). */
  private readonly saving = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Db,
    private readonly telephony: Telephony,
    private readonly engine: CallEngine,
    private readonly log: FastifyBaseLogger,
    private readonly options: VoicemailOptions = DEFAULT_VOICEMAIL_OPTIONS,
  ) {}

  /** Takes the engine's `voicemail` targets. */
  register(): void {
    this.engine.registerTarget('voicemail', (call, target) => this.run(call, target));
  }

  async run(call: ActiveCall, target: Target): Promise<void> {
    const box = await this.box(call.tenantId, target);
    if (call.ended) return;
    if (!box) return this.engine.endWithAnnouncement(call, NO_SERVICE, 'voicemail box not found');

    await this.telephony.answer(call.id);
    if (call.ended) return;
    void call.cdr.transition('voicemail_started', {}, { box });
    await this.telephony.playAndWait(call.id, this.options.greeting, 60_000);
    if (call.ended) return;

    const name = voicemailRecordingName(call.tenantId);
    const outcome = await this.telephony.recordChannelAndWait(call.id, name, {
      maxDurationSeconds: this.options.maxSeconds,
      maxSilenceSeconds: this.options.maxSilenceSeconds,
      beep: true,
      terminateOn: '#',
    });
    if (outcome.state === 'not_started') return;
    if (outcome.state === 'failed') {
      this.log.error({ callId: call.id, name, cause: outcome.cause }, 'voicemail recording failed');
      void call.cdr.transition('voicemail_failed', {}, { cause: outcome.cause });
      if (!call.ended)
        await this.engine.endWithAnnouncement(call, NO_SERVICE, 'voicemail recording failed');
      return;
    }
    const stored = this.store(call, box, name);
    this.saving.add(stored);
    void stored.finally(() => this.saving.delete(stored));
    await stored;
    if (!call.ended) await this.engine.endWithAnnouncement(call, GOODBYE, 'voicemail recorded');
  }

  private async box(tenantId: number, target: Target): Promise<VoicemailBox | undefined> {
    if (target.id !== null) {
      return (await boxUserExists(this.db, tenantId, target.id))
        ? { userId: target.id, name: null }
        : undefined;
    }
    const name = target.value?.trim();
    return name ? { userId: null, name: name.slice(0, 120) } : undefined;
  }

  /** Measures the message, keeps it (a row and the CDR) or drops it when it is too short. */
  private async store(call: ActiveCall, box: VoicemailBox, name: string): Promise<void> {
    try {
      const durationMs = await this.measure(name);
      if (durationMs === undefined || durationMs < this.options.minMessageMs) {
        await this.telephony.deleteStoredRecording(name);
        void call.cdr.transition('voicemail_discarded', {}, { durationMs: durationMs ?? null });
        return;
      }
      // Link the CDR row once its first writes are done (null if they wait in the CDR outbox).
      await call.cdr.flush();
      const id = await insertVoicemail(this.db, {
        tenantId: call.tenantId,
        callId: (await cdrRowId(this.db, call.id)) ?? null,
        callLinkedid: call.id,
        boxUserId: box.userId,
        boxName: box.name,
        fromNumber: call.from || null,
        durationMs,
        recordingName: name,
      });
      await call.cdr.transition(
        'voicemail',
        { disposition: 'voicemail' },
        { voicemailId: id, durationMs, box },
      );
    } catch (err) {
      this.log.error({ err, callId: call.id, name }, 'voicemail not stored');
    }
  }

  /** Milliseconds of audio in a stored recording, from its WAV header and size. */
  private async measure(name: string): Promise<number | undefined> {
    const audio = await this.telephony.storedRecording(name);
    if (!audio) return undefined;
    const reader = audio.body.getReader();
    let head = Buffer.alloc(0);
    try {
      while (head.length < HEADER_BYTES) {
        const { value, done } = await reader.read();
        if (done) break;
        head = Buffer.concat([head, value]);
        const info = parseWavHeader(head);
        if (info) return wavDurationMs(info, audio.size);
      }
      return undefined;
    } finally {
      await reader.cancel();
    }
  }

  /** Resolves when every message being stored is in the database. */
  async flush(): Promise<void> {
    await Promise.all(this.saving);
  }
}
