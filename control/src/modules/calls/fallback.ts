/**
 * When no control plane is connected, Stasis() fails and the dialplan falls back to
 * `calldock-fallback`, which dials the global variable FALLBACK_<DID> (asterisk/config/main/
 * extensions.conf). This module keeps those variables up to date ahead of time — a ring group of
 * the agents who would have taken the call — and, when the control plane is back, writes the
 * CDR of calls that went that way from Asterisk's own CDR (cdr_csv's Master.csv).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Telephony } from '../../ari/telephony.ts';
import type { CdrStore } from './cdr-store.ts';

const FALLBACK_CONTEXT = 'calldock-fallback';

/** The dial string for each DID: its queue's (or user's) phones, else all the tenant's agents. */
export async function fallbackRoutes(db: Db): Promise<Map<string, string>> {
  const dids = await db.selectFrom('dids').select(['number', 'tenantId', 'targetType', 'targetId']).execute();
  const phones = await db
    .selectFrom('sipEndpoints')
    .innerJoin('users', 'users.id', 'sipEndpoints.userId')
    .select(['sipEndpoints.asteriskId', 'sipEndpoints.userId', 'sipEndpoints.tenantId'])
    .where('sipEndpoints.kind', '=', 'agent')
    .where('sipEndpoints.enabled', '=', 1)
    .where('users.status', '=', 'active')
    .execute();
  const members = await db.selectFrom('queueMembers').select(['queueId', 'userId']).execute();
  const phoneOf = new Map(phones.map((p) => [p.userId, p.asteriskId]));
  const routes = new Map<string, string>();
  for (const did of dids) {
    let ids: Array<string | undefined>;
    if (did.targetType === 'queue') ids = members.filter((m) => m.queueId === did.targetId).map((m) => phoneOf.get(m.userId));
    else if (did.targetType === 'user' && did.targetId !== null) ids = [phoneOf.get(did.targetId)];
    else ids = [];
    if (ids.filter(Boolean).length === 0) ids = phones.filter((p) => p.tenantId === did.tenantId).map((p) => p.asteriskId);
    const dial = [...new Set(ids.filter((id): id is string => Boolean(id)))].map((id) => `PJSIP/${id}`).join('&');
    routes.set(did.number, dial);
  }
  return routes;
}

/** Pushes every DID's fallback route into Asterisk's globals; returns how many were set. */
export async function syncFallbackRoutes(db: Db, telephony: Telephony): Promise<number> {
  const routes = await fallbackRoutes(db);
  for (const [number, dial] of routes) await telephony.setGlobalVar(`FALLBACK_${number}`, dial);
  return routes.size;
}

/** Splits one CSV line (cdr_csv quotes every field, doubling inner quotes). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i += 1;
          break;
        } else {
          value += line[i++];
        }
      }
      fields.push(value);
      if (line[i] === ',') i += 1;
    } else {
      const end = line.indexOf(',', i);
      fields.push(end === -1 ? line.slice(i) : line.slice(i, end));
      i = end === -1 ? line.length : end + 1;
    }
  }
  return fields;
}

export interface FallbackCdr {
  from: string;
  did: string;
  start: Date;
  answer: Date | null;
  end: Date;
  billsec: number;
  disposition: string;
  uniqueid: string;
  /** The endpoint (phone) that answered, from the answered leg's channel name. */
  answeredBy: string | null;
}

/**
 * The calls Master.csv shows as taken by the fallback context (times are UTC: usegmtime). A
 * ring group writes one line per phone it rang, all with the caller's uniqueid: they are one
 * call, answered when any of its legs was, by that leg's phone.
 */
export function fallbackCdrs(csv: string): FallbackCdr[] {
  const utc = (s: string) => (s ? new Date(`${s.replace(' ', 'T')}Z`) : null);
  const calls = new Map<string, FallbackCdr>();
  for (const f of csv.split('\n').filter(Boolean).map(parseCsvLine)) {
    if (f[3] !== FALLBACK_CONTEXT) continue;
    const uniqueid = f[16] ?? '';
    const start = utc(f[9] ?? '');
    const end = utc(f[11] ?? '');
    if (!uniqueid || !start || !end) continue;
    const answered = f[14] === 'ANSWERED' && Number(f[13]) > 0;
    const leg: FallbackCdr = {
      from: f[1] ?? '',
      did: f[2] ?? '',
      start,
      answer: answered ? utc(f[10] ?? '') : null,
      end,
      billsec: Number(f[13] ?? 0),
      disposition: f[14] ?? '',
      uniqueid,
      answeredBy: answered ? phoneOfChannel(f[6] ?? '') : null,
    };
    const seen = calls.get(uniqueid);
    if (!seen) {
      calls.set(uniqueid, leg);
      continue;
    }
    if (leg.start < seen.start) seen.start = leg.start;
    if (leg.end > seen.end) seen.end = leg.end;
    if (leg.answer && !seen.answer) Object.assign(seen, { answer: leg.answer, billsec: leg.billsec, disposition: leg.disposition, answeredBy: leg.answeredBy });
  }
  return [...calls.values()];
}

/** `PJSIP/t1-agent-2-0000002a` → `t1-agent-2` (the channel's endpoint). */
function phoneOfChannel(channel: string): string | null {
  const match = /^PJSIP\/(.+)-[0-9a-f]+$/.exec(channel);
  return match ? match[1]! : null;
}

/**
 * Writes the CDR of fallback calls not yet in MySQL (keyed on the caller's uniqueid: running it
 * again adds nothing). Returns how many were new.
 */
export async function reconcileFallbackCdrs(db: Db, store: CdrStore, csvPath: string, log: FastifyBaseLogger): Promise<number> {
  if (!existsSync(csvPath)) return 0;
  const calls = fallbackCdrs(readFileSync(csvPath, 'utf8'));
  if (calls.length === 0) return 0;
  const known = new Set(
    (await db.selectFrom('calls').select('linkedid').where('linkedid', 'in', calls.map((c) => c.uniqueid)).execute()).map((r) => r.linkedid),
  );
  let added = 0;
  for (const call of calls) {
    if (known.has(call.uniqueid)) continue;
    const did = await db.selectFrom('dids').select(['id', 'tenantId']).where('number', '=', call.did).executeTakeFirst();
    if (!did) continue;
    const agent = call.answeredBy
      ? await db
          .selectFrom('sipEndpoints')
          .select('userId')
          .where('tenantId', '=', did.tenantId)
          .where('asteriskId', '=', call.answeredBy)
          .executeTakeFirst()
      : undefined;
    await store.write({
      op: 'insert',
      row: {
        tenantId: did.tenantId,
        linkedid: call.uniqueid,
        direction: 'inbound',
        channelKind: 'pstn',
        state: 'ended',
        fromNumber: call.from || null,
        toNumber: call.did,
        didId: did.id,
        startedAt: call.start,
        answeredAt: call.answer,
        endedAt: call.end,
        talkMs: call.billsec * 1000,
        agentUserId: agent?.userId ?? null,
        waitMs: call.answer ? call.answer.getTime() - call.start.getTime() : call.end.getTime() - call.start.getTime(),
        hangupSide: null,
        disposition: call.answer ? 'fallback_answered' : 'fallback_unanswered',
      },
    });
    await store.write({
      op: 'event',
      linkedid: call.uniqueid,
      tenantId: did.tenantId,
      seq: 1,
      type: 'fallback_reconciled',
      occurredAt: call.end,
      data: { source: 'asterisk cdr', disposition: call.disposition, billsec: call.billsec, answeredBy: call.answeredBy },
    });
    added += 1;
  }
  if (added > 0) log.info({ added }, 'CDRs of calls taken while the control plane was away written from Asterisk');
  return added;
}
