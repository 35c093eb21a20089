/**
 * A tenant's call center set up straight in the database, with each agent's desk phone living on
 * the carrier instance: what the call-engine tests stand on.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Db } from '../../control/src/db/database.ts';
import { toJson } from '../../control/src/db/json.ts';
import type { QueueStrategy, Role, TargetType } from '../../control/src/db/schema.ts';
import type { AriPeer } from './ari-peer.ts';
import { pushDeskPhone, pushTrunkToCarrier } from './carrier.ts';
import { parseWav, type Wav } from './wav.ts';
import { createUser, type TestUser } from './fixtures.ts';

export interface TestAgent extends TestUser {
  phone: string;
}

/** An agent user (or another role) with a desk phone on the carrier (`PJSIP/<phone>` on the PBX). */
export async function createAgent(
  db: Db,
  main: AriPeer,
  carrierSipPort: number,
  tenantId: number,
  values: { role?: Role; extension?: string; displayName?: string } = {},
): Promise<TestAgent> {
  const { role = 'agent', ...userValues } = values;
  const user = await createUser(db, tenantId, role, userValues);
  const phone = `t${tenantId}-agent-${user.id}`;
  await db
    .insertInto('sipEndpoints')
    .values({ tenantId, kind: 'agent', asteriskId: phone, name: phone, userId: user.id, sipUsername: phone })
    .execute();
  await pushDeskPhone(main, phone, carrierSipPort);
  return { ...user, phone };
}

export async function createQueue(
  db: Db,
  tenantId: number,
  values: {
    strategy?: QueueStrategy;
    ringTimeoutSeconds?: number;
    maxWaitSeconds?: number;
    wrapupSeconds?: number;
    announcePositionSeconds?: number;
    overflow?: { type: TargetType; id?: number; value?: string };
    members?: Array<{ userId: number; penalty?: number; skills?: Record<string, number> }>;
    recordingEnabled?: boolean;
    requiredSkills?: Record<string, number>;
    penaltyRelaxSeconds?: number;
  } = {},
): Promise<number> {
  const result = await db
    .insertInto('queues')
    .values({
      tenantId,
      name: `q-${randomBytes(3).toString('hex')}`,
      strategy: values.strategy ?? 'longest_idle',
      ringTimeoutSeconds: values.ringTimeoutSeconds ?? 10,
      maxWaitSeconds: values.maxWaitSeconds ?? 60,
      wrapupSeconds: values.wrapupSeconds ?? 0,
      announcePositionSeconds: values.announcePositionSeconds ?? 0,
      requiredSkills: toJson(values.requiredSkills ?? {}),
      penaltyRelaxSeconds: values.penaltyRelaxSeconds ?? 60,
      recordingEnabled: values.recordingEnabled ? 1 : 0,
      overflowTargetType: values.overflow?.type ?? null,
      overflowTargetId: values.overflow?.id ?? null,
      overflowTargetValue: values.overflow?.value ?? null,
    })
    .executeTakeFirstOrThrow();
  const queueId = Number(result.insertId);
  for (const m of values.members ?? []) {
    await db
      .insertInto('queueMembers')
      .values({ tenantId, queueId, userId: m.userId, penalty: m.penalty ?? 0, skills: toJson(m.skills ?? {}) })
      .execute();
  }
  return queueId;
}

/** A tenant SIP trunk whose far end is the carrier (calls out land in its `carrier` app). */
export async function createTrunk(
  db: Db,
  main: AriPeer,
  carrierSipPort: number,
  tenantId: number,
  values: { callerIdPolicy?: 'tenant_default' | 'did' | 'agent' | 'fixed'; callerIdNumber?: string } = {},
): Promise<{ id: number; asteriskId: string }> {
  const result = await db
    .insertInto('sipEndpoints')
    .values({
      tenantId,
      kind: 'trunk',
      asteriskId: `pending-${randomBytes(4).toString('hex')}`,
      name: 'carrier',
      trunkAuth: 'ip',
      host: '127.0.0.1',
      port: carrierSipPort,
      callerIdPolicy: values.callerIdPolicy ?? 'tenant_default',
      callerIdNumber: values.callerIdNumber ?? null,
      codecs: 'ulaw,alaw',
    })
    .executeTakeFirstOrThrow();
  const id = Number(result.insertId);
  const asteriskId = `t${tenantId}-trunk-${id}`;
  await db.updateTable('sipEndpoints').set({ asteriskId }).where('id', '=', id).execute();
  await pushTrunkToCarrier(main, asteriskId, carrierSipPort);
  return { id, asteriskId };
}

/**
 * A DID unique in the run's database, routed to a target. Test files run in parallel processes
 * on one database: the number is random, drawn again on the rare clash.
 */
export async function createDid(
  db: Db,
  tenantId: number,
  target: { type: TargetType; id?: number; value?: string },
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const number = `+1555${String(randomInt(10_000_000)).padStart(7, '0')}`;
    try {
      await db
        .insertInto('dids')
        .values({ tenantId, number, targetType: target.type, targetId: target.id ?? null, targetValue: target.value ?? null })
        .execute();
      return number;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_DUP_ENTRY' || attempt >= 5) throw err;
    }
  }
}

/** The agents' desk phones, as the carrier sees them ringing. */
export class Phones {
  constructor(private readonly carrier: AriPeer) {}

  private readonly seen = new Set<string>();

  /** Resolves with the carrier-side channel id when `phone` rings (each ring is returned once). */
  async ringing(phone: string, timeoutMs = 10_000): Promise<string> {
    const event = await this.carrier.waitFor(
      (e) =>
        e.type === 'StasisStart' &&
        (e.args as string[])[0] === phone &&
        !this.seen.has((e.channel as { id: string }).id),
      timeoutMs,
      `${phone} to ring`,
    );
    const id = (event.channel as { id: string }).id;
    this.seen.add(id);
    return id;
  }

  async answer(channelId: string): Promise<void> {
    await this.carrier.request('POST', `/channels/${channelId}/answer`);
  }

  async hangup(channelId: string, reason = 'normal'): Promise<void> {
    await this.carrier.request('DELETE', `/channels/${channelId}`, { reason }).catch((err: Error) => {
      // Already gone is fine: the other side may have hung up first.
      if (!/404/.test(err.message)) throw err;
    });
  }

  /**
   * Resolves when the channel is gone, with the Q.850 cause. A channel that was in the carrier's
   * Stasis app ends with StasisEnd (no ChannelDestroyed reaches the app then); the cause comes
   * from its hang-up request.
   */
  async ended(channelId: string, timeoutMs = 10_000): Promise<{ cause: number | undefined }> {
    await this.carrier.waitFor(
      (e) =>
        (e.type === 'ChannelDestroyed' || e.type === 'StasisEnd') &&
        (e.channel as { id: string }).id === channelId,
      timeoutMs,
      `channel ${channelId} to end`,
    );
    const withCause = this.carrier
      .eventsFor(channelId)
      .find((e) => (e.type === 'ChannelHangupRequest' || e.type === 'ChannelDestroyed') && e.cause !== undefined);
    return { cause: withCause ? Number(withCause.cause) : undefined };
  }

  /**
   * The party on `channelId` says `media` (e.g. `tone:440`, continuous) until `stop()`: played into
   * a carrier bridge holding the channel, so the channel itself stays free to be listened to (a
   * snoop on a channel busy with its own playback hears nothing).
   */
  async talk(channelId: string, media: string): Promise<{ stop: () => Promise<void> }> {
    const bridge = await this.carrier.request<{ id: string }>('POST', '/bridges', { type: 'mixing' });
    await this.carrier.request('POST', `/bridges/${bridge.id}/addChannel`, { channel: channelId });
    const playback = await this.carrier.request<{ id: string }>('POST', `/bridges/${bridge.id}/play`, { media });
    return {
      stop: async () => {
        await this.carrier.request('DELETE', `/playbacks/${playback.id}`).catch(() => undefined);
        await this.carrier.request('DELETE', `/bridges/${bridge.id}`).catch(() => undefined);
      },
    };
  }

  /**
   * What the party on `channelId` hears for `seconds`: a snoop on the audio the channel receives,
   * recorded on the carrier and read back as WAV. The first half second is left out: media takes
   * a moment to settle after whatever the test just did (a hold, a bridge, a tone starting).
   */
  async hear(channelId: string, seconds = 2): Promise<Wav> {
    const snoop = { id: `snoop-${randomBytes(6).toString('hex')}` };
    // Recording may start only once the snoop is in Stasis, which can be after the POST returns.
    const inStasis = this.carrier.waitFor(
      (e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === snoop.id,
      5_000,
      `snoop on ${channelId}`,
    );
    await this.carrier.request('POST', `/channels/${channelId}/snoop/${snoop.id}`, {
      spy: 'in',
      app: 'carrier',
      appArgs: 'snoop',
    });
    await inStasis;
    const name = `heard-${randomBytes(6).toString('hex')}`;
    try {
      const finished = this.carrier.waitFor(
        (e) =>
          (e.type === 'RecordingFinished' || e.type === 'RecordingFailed') && (e.recording as { name: string }).name === name,
        (seconds + 10) * 1000,
        `recording ${name}`,
      );
      await this.carrier.request('POST', `/channels/${snoop.id}/record`, {
        name,
        format: 'wav',
        maxDurationSeconds: String(seconds),
        ifExists: 'overwrite',
        beep: 'false',
        terminateOn: 'none',
      });
      const event = await finished;
      if (event.type === 'RecordingFailed') throw new Error(`recording ${name} failed`);
      const wav = parseWav(await this.carrier.download(`/recordings/stored/${name}/file`));
      await this.carrier.request('DELETE', `/recordings/stored/${name}`).catch(() => undefined);
      const settle = Math.floor(wav.sampleRate / 2);
      return { ...wav, samples: wav.samples.subarray(settle), durationMs: Math.max(0, wav.durationMs - 500) };
    } finally {
      await this.hangup(snoop.id);
    }
  }

  async answeredByPbx(channelId: string, timeoutMs = 10_000): Promise<void> {
    await this.carrier.waitFor(
      (e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === channelId,
      timeoutMs,
      `the PBX to answer ${channelId}`,
    );
  }
}
