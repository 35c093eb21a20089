/**
 * ARI push configuration of PJSIP objects (`/ari/asterisk/config/dynamic/res_pjsip/{type}/{id}`,
 * sorcery `memory` wizard; see asterisk/config/common/sorcery.conf). `identify` and
 * `registration` are configured in other sorcery sections but share res_pjsip's sorcery
 * instance, so they are pushed under `res_pjsip` too.
 *
 * What Asterisk 22 does with a PUT on an object that already exists, measured:
 * - it copies the object and applies the new fields on top (a merge, not a replacement);
 * - list-valued fields (`match`, `contact`, `set_var`) are appended to, not replaced;
 * - for an `endpoint` the copy itself fails ("Allocation failed"): endpoints can only be
 *   replaced by DELETE + PUT.
 * So only `auth` and `aor`-without-`contact` are updated in place; every other change is a
 * delete and a fresh create.
 */
import type { AriConnection } from './connection.ts';
import { AriHttpError } from './connection.ts';
import { ipMatchKey, parseIpMatch } from '../lib/ip-match.ts';

export type PjsipObjectType = 'auth' | 'aor' | 'endpoint' | 'identify' | 'registration';

/** Creation order: what others refer to first. Deletion runs the other way. */
export const PJSIP_OBJECT_TYPES: readonly PjsipObjectType[] = [
  'auth',
  'aor',
  'endpoint',
  'identify',
  'registration',
];

/** One object to push. Fields keep their order and may repeat (`set_var`). */
export interface PjsipObject {
  type: PjsipObjectType;
  id: string;
  fields: ReadonlyArray<readonly [attribute: string, value: string]>;
}

interface AriField {
  attribute: string;
  value: string;
}

/** `GET /ari/endpoints/PJSIP/{id}`. */
export interface AriEndpoint {
  technology: string;
  resource: string;
  /** online | offline | unknown */
  state: string;
  channel_ids: string[];
}

const objectPath = (type: PjsipObjectType, id: string) =>
  `/asterisk/config/dynamic/res_pjsip/${type}/${encodeURIComponent(id)}`;

/** Fields whose repeated pushes append rather than replace. */
const LIST_FIELDS = new Set(['contact', 'match', 'set_var']);

function canUpdateInPlace(before: PjsipObject, after: PjsipObject): boolean {
  if (before.type !== 'auth' && before.type !== 'aor') return false;
  if ([...before.fields, ...after.fields].some(([k]) => LIST_FIELDS.has(k))) return false;
  // The merge keeps fields the new version leaves out; only safe when both set the same ones.
  const keys = (o: PjsipObject) => [...new Set(o.fields.map(([k]) => k))].sort().join(',');
  return keys(before) === keys(after);
}

function sameFields(a: PjsipObject, b: PjsipObject): boolean {
  return JSON.stringify(a.fields) === JSON.stringify(b.fields);
}

/** Normalises a value the way Asterisk prints it back, for comparing. */
function normalise(attribute: string, values: string[]): string[] {
  if (attribute === 'match') {
    return values
      .flatMap((v) => v.split(','))
      .filter((v) => v.trim() !== '')
      .map((v) => {
        const m = parseIpMatch(v);
        return m ? ipMatchKey(m) : v.trim();
      })
      .sort();
  }
  if (attribute === 'callerid') {
    // Asterisk prints `"Ann" <100>`, or `Ann` without a number, and strips -().space from numbers.
    return values.map((v) => {
      const m = v.trim().match(/^"?([^"<]*?)"?\s*(?:<([^>]*)>)?$/);
      return m ? `${(m[1] ?? '').trim()}|${(m[2] ?? '').replace(/[-().\s]/g, '')}` : v.trim();
    });
  }
  if (attribute === 'allow') {
    return values.flatMap((v) => v.replace(/[()]/g, '').split(/[|,]/)).filter(Boolean);
  }
  return values.map((v) => {
    const lower = v.trim().toLowerCase();
    if (['yes', 'true', 'on'].includes(lower)) return 'true';
    if (['no', 'false', 'off'].includes(lower)) return 'false';
    return v.trim();
  });
}

/**
 * True when what Asterisk holds already says what `desired` says. Attributes Asterisk does not
 * print back (`set_var`, `disallow`) cannot be compared and are taken as equal: Calldock derives
 * them from the object's id, which never changes.
 */
export function holdsSameConfig(current: AriField[], desired: PjsipObject): boolean {
  const wanted = new Map<string, string[]>();
  for (const [k, v] of desired.fields) wanted.set(k, [...(wanted.get(k) ?? []), v]);
  for (const [attribute, values] of wanted) {
    const held = current.filter((f) => f.attribute === attribute).map((f) => f.value);
    if (held.length === 0) continue;
    if (
      JSON.stringify(normalise(attribute, held)) !== JSON.stringify(normalise(attribute, values))
    ) {
      return false;
    }
  }
  return true;
}

/** A change that was applied and can be taken back (when the database commit fails after it). */
export interface AppliedChange {
  undo(): Promise<void>;
}

type Step = { run: () => Promise<void>; undo: () => Promise<void> };

export type EnsureResult = 'created' | 'updated' | 'unchanged';

export class PushConfig {
  constructor(
    private readonly ari: AriConnection,
    private readonly onUndoFailure: (err: unknown, what: string) => void = () => {},
  ) {}

  async putObject(object: PjsipObject): Promise<void> {
    await this.ari.request('PUT', objectPath(object.type, object.id), {
      body: { fields: object.fields.map(([attribute, value]) => ({ attribute, value })) },
    });
  }

  /** False when there was nothing to delete. */
  async deleteObject(type: PjsipObjectType, id: string): Promise<boolean> {
    try {
      await this.ari.request('DELETE', objectPath(type, id));
      return true;
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return false;
      throw err;
    }
  }

  async getObject(type: PjsipObjectType, id: string): Promise<AriField[] | undefined> {
    try {
      return await this.ari.request<AriField[]>('GET', objectPath(type, id));
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Every PJSIP endpoint Asterisk has, static or pushed, with its state. */
  async listEndpoints(): Promise<AriEndpoint[]> {
    try {
      return await this.ari.request<AriEndpoint[]>('GET', '/endpoints/PJSIP');
    } catch (err) {
      // Asterisk answers "invalid tech PJSIP" (404) while it holds no PJSIP endpoint at all.
      if (err instanceof AriHttpError && err.status === 404) return [];
      throw err;
    }
  }

  async getEndpoint(id: string): Promise<AriEndpoint | undefined> {
    try {
      return await this.ari.request<AriEndpoint>(
        'GET',
        `/endpoints/PJSIP/${encodeURIComponent(id)}`,
      );
    } catch (err) {
      if (err instanceof AriHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Takes Asterisk from `before` to `after` (each the whole set of objects behind one Calldock
   * endpoint; an empty list = none). All or nothing: when a step fails, the steps already done
   * are undone and the error is thrown.
   */
  async apply(
    before: readonly PjsipObject[],
    after: readonly PjsipObject[],
  ): Promise<AppliedChange> {
    const steps = this.plan(before, after);
    const done: Step[] = [];
    try {
      for (const step of steps) {
        await step.run();
        done.push(step);
      }
    } catch (err) {
      await this.undoAll(done);
      throw err;
    }
    return { undo: () => this.undoAll(done) };
  }

  /**
   * Makes sure Asterisk holds `desired`, whatever it holds now (after a reconnect it may hold
   * these objects already, stale ones, or nothing). Leaves matching objects alone, so a
   * reconnect does not drop registrations or calls.
   */
  async ensure(desired: readonly PjsipObject[]): Promise<EnsureResult> {
    let result: EnsureResult = 'unchanged';
    for (const object of desired) {
      const current = await this.getObject(object.type, object.id);
      if (!current) {
        await this.putObject(object);
        if (result === 'unchanged') result = 'created';
        continue;
      }
      if (holdsSameConfig(current, object)) continue;
      result = 'updated';
      const inPlace =
        (object.type === 'auth' || object.type === 'aor') &&
        !object.fields.some(([k]) => LIST_FIELDS.has(k));
      if (!inPlace) await this.deleteObject(object.type, object.id);
      await this.putObject(object);
    }
    return result;
  }

  /** Deletes every object type under `id` (registration first: it would keep registering). */
  async removeAll(id: string): Promise<number> {
    let removed = 0;
    for (const type of [...PJSIP_OBJECT_TYPES].reverse()) {
      if (await this.deleteObject(type, id)) removed++;
    }
    return removed;
  }

  private plan(before: readonly PjsipObject[], after: readonly PjsipObject[]): Step[] {
    const find = (list: readonly PjsipObject[], type: PjsipObjectType) =>
      list.find((o) => o.type === type);
    const put = (o: PjsipObject) => () => this.putObject(o);
    const del = (o: PjsipObject) => async () => {
      await this.deleteObject(o.type, o.id);
    };
    const replace = (o: PjsipObject) => async () => {
      await this.deleteObject(o.type, o.id);
      await this.putObject(o);
    };
    const steps: Step[] = [];
    for (const type of [...PJSIP_OBJECT_TYPES].reverse()) {
      const old = find(before, type);
      if (old && !find(after, type)) steps.push({ run: del(old), undo: put(old) });
    }
    for (const type of PJSIP_OBJECT_TYPES) {
      const old = find(before, type);
      const next = find(after, type);
      if (!next) continue;
      if (!old) steps.push({ run: put(next), undo: del(next) });
      else if (sameFields(old, next)) continue;
      else if (canUpdateInPlace(old, next)) steps.push({ run: put(next), undo: put(old) });
      else steps.push({ run: replace(next), undo: replace(old) });
    }
    return steps;
  }

  private async undoAll(done: Step[]): Promise<void> {
    for (const step of [...done].reverse()) {
      try {
        await step.undo();
      } catch (err) {
        // Asterisk is likely gone; the re-push on reconnect puts the database's state back.
        this.onUndoFailure(err, 'undo of a partial push');
      }
    }
  }
}
