/**
 * Agents' SIP endpoints and tenants' trunks, kept identical in MySQL and in Asterisk.
 *
 * Every change is one unit: the rows are written in a transaction, the PJSIP objects are pushed
 * inside it, and only then is it committed. A failed push undoes its own partial steps and rolls
 * the transaction back (503/502); a failed commit after a good push undoes the push. Asterisk
 * forgets pushed objects when it restarts, so on every ARI (re)connect `resync()` pushes the
 * whole enabled set again and deletes what Asterisk holds that MySQL does not.
 *
 * Pushes (of requests and of the re-push) run one at a time through a mutex, so a re-push that
 * read the database a moment ago cannot delete an endpoint a request has just created. That
 * covers one control-plane replica; with several, a reconnect of one can race a change made on
 * another until the next reconnect.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Transaction, Updateable } from 'kysely';
import { AriUnavailableError, type AriConnection } from '../../ari/connection.ts';
import { AriState } from '../../ari/events.ts';
import {
  PushConfig,
  type AppliedChange,
  type EnsureResult,
  type PjsipObject,
} from '../../ari/push-config.ts';
import type { Db } from '../../db/database.ts';
import type { Database, SipEndpointTable } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { AppError } from '../../lib/errors.ts';
import { formatIpMatch, ipMatchesOverlap, parseIpMatch, type IpMatch } from '../../lib/ip-match.ts';
import { Mutex } from '../../lib/mutex.ts';
import type { Page } from '../../lib/pagination.ts';
import {
  OWNED_ASTERISK_ID,
  agentAsteriskId,
  isLive,
  pjsipObjects,
  trunkAsteriskId,
} from './asterisk-objects.ts';
import { conflict, endpointNotFound, invalid, pushFailed, userNotFound } from './errors.ts';
import * as repo from './repository.ts';
import type { EndpointRow } from './repository.ts';
import type {
  CreateAgentBody,
  CreateTrunkBody,
  Endpoint,
  ListEndpointsQuery,
  Registration,
  UpdateBody,
} from './schemas.ts';

type Trx = Transaction<Database>;

/** Roles that take calls and so may have an agent endpoint. */
const CALL_TAKING_ROLES = new Set(['agent', 'supervisor', 'helpdesk']);
const DEFAULT_CODECS = { webrtc: 'opus,ulaw', udp: 'ulaw,alaw', trunk: 'ulaw,alaw' } as const;
/** Re-push this many endpoints at once: quick for thousands, gentle on Asterisk. */
const RESYNC_CONCURRENCY = 8;

export interface ResyncReport {
  endpoints: number;
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: number;
  ms: number;
}

const newSecret = () => randomBytes(24).toString('base64url');

function matchList(row: EndpointRow): string[] {
  return row.matchIps ? row.matchIps.split(',') : [];
}

function toApi(row: EndpointRow, registration: Registration): Endpoint {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    asteriskId: row.asteriskId,
    enabled: Boolean(row.enabled),
    codecs: row.codecs.split(','),
    userId: row.userId,
    transport: row.transport,
    contact: row.contact,
    sipUsername: row.sipUsername,
    hasSecret: Boolean(row.sipSecret),
    auth: row.trunkAuth,
    host: row.host,
    port: row.port,
    match: matchList(row),
    callerIdPolicy: row.callerIdPolicy,
    callerIdNumber: row.callerIdNumber,
    registration,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What the audit log keeps of a row (the secret is redacted by audit() anyway). */
function auditView(row: EndpointRow) {
  const { sipSecret: _secret, userDisplayName: _n, userExtension: _e, ...rest } = row;
  return rest;
}

/** Parses `match` entries; 400 naming each bad one. */
function parseMatches(entries: string[]): IpMatch[] {
  const parsed = entries.map((e) => parseIpMatch(e));
  const bad = parsed.flatMap((m, i) =>
    m
      ? []
      : [
          {
            field: `match.${i}`,
            message: 'must be an IP address, a CIDR network or one IPv4 host:port',
          },
        ],
  );
  if (bad.length) throw invalid(bad);
  return parsed as IpMatch[];
}

export class EndpointService {
  private readonly lock = new Mutex();
  private readonly push: PushConfig;

  private readonly userPhoneListeners: Array<(userId: number) => Promise<void>> = [];

  constructor(
    private readonly db: Db,
    private readonly ari: AriConnection,
    private readonly log: FastifyBaseLogger,
  ) {
    this.push = new PushConfig(ari, (err, what) => log.error({ err }, `${what} failed`));
  }

  async list(tenantId: number, query: ListEndpointsQuery): Promise<Page<Endpoint>> {
    const page = await repo.listEndpoints(this.db, tenantId, query);
    const registration = await this.registrations(page.items);
    return { items: page.items.map((r) => toApi(r, registration(r))), nextCursor: page.nextCursor };
  }

  async get(tenantId: number, id: number): Promise<Endpoint> {
    const row = await this.mustFind(this.db, tenantId, id);
    return toApi(row, await this.registration(row));
  }

  async status(
    tenantId: number,
    id: number,
  ): Promise<Registration & { id: number; asteriskId: string }> {
    const row = await this.mustFind(this.db, tenantId, id);
    return { id: row.id, asteriskId: row.asteriskId, ...(await this.registration(row)) };
  }

  /** A user's own endpoint, if they have one (the softphone asks for its credentials). */
  async ofUser(
    tenantId: number,
    userId: number,
  ): Promise<{ id: number; transport: string | null; enabled: boolean } | undefined> {
    const row = await repo.findEndpointOfUser(this.db, tenantId, userId);
    return row && { id: row.id, transport: row.transport, enabled: Boolean(row.enabled) };
  }

  async createAgent(
    request: FastifyRequest,
    tenantId: number,
    body: CreateAgentBody,
  ): Promise<{ endpoint: Endpoint; secret: string }> {
    const transport = body.transport ?? 'webrtc';
    if (body.contact !== undefined && transport !== 'udp') {
      throw invalid([
        { field: 'contact', message: 'only a UDP agent endpoint has a fixed contact' },
      ]);
    }
    const secret = newSecret();
    const row = await this.change(async (trx) => {
      const user = await repo.findTenantUser(trx, tenantId, body.userId);
      if (!user) throw userNotFound(body.userId);
      if (!CALL_TAKING_ROLES.has(user.role)) {
        throw invalid([
          {
            field: 'userId',
            message: `a ${user.role} does not take calls; only agents, supervisors and helpdesk users have endpoints`,
          },
        ]);
      }
      if (user.status !== 'active') {
        throw invalid([{ field: 'userId', message: 'the user is disabled' }]);
      }
      const maxAgents = (await repo.lockTenantLimit(trx, tenantId)) ?? 0;
      if ((await repo.countAgentEndpoints(trx, tenantId)) >= maxAgents) {
        const message = `This tenant may have at most ${maxAgents} agent endpoints`;
        throw new AppError('LIMIT_REACHED', message, 409, { limit: 'maxAgents', max: maxAgents });
      }
      if (await repo.endpointOfUser(trx, user.id)) {
        throw conflict('ENDPOINT_EXISTS', 'userId', 'this user already has an endpoint');
      }
      const asteriskId = agentAsteriskId(tenantId, user.id);
      const id = await translateDbErrors(
        () =>
          repo.insertEndpoint(trx, {
            tenantId,
            kind: 'agent',
            transport,
            asteriskId,
            name: user.displayName,
            userId: user.id,
            sipUsername: asteriskId,
            sipSecret: secret,
            contact: body.contact ?? null,
            codecs: body.codecs?.join(',') ?? DEFAULT_CODECS[transport],
            enabled: body.enabled === false ? 0 : 1,
          }),
        { field: 'userId', message: 'this user already has an endpoint', code: 'ENDPOINT_EXISTS' },
      );
      const created = await this.mustFind(trx, tenantId, id);
      await audit(trx, request, {
        action: 'endpoint.create',
        entityType: 'sip_endpoint',
        entityId: id,
        after: auditView(created),
      });
      return { row: created, before: [], after: pjsipObjects(created) };
    });
    return { endpoint: toApi(row, await this.registration(row)), secret };
  }

  async createTrunk(
    request: FastifyRequest,
    tenantId: number,
    body: CreateTrunkBody,
  ): Promise<Endpoint> {
    const fields = {
      name: body.name,
      trunkAuth: body.auth,
      host: body.host,
      port: body.port ?? 5060,
      matchIps: body.match ? body.match.join(',') : null,
      sipUsername: body.username ?? null,
      sipSecret: body.password ?? null,
      callerIdPolicy: body.callerIdPolicy ?? 'tenant_default',
      callerIdNumber: body.callerIdNumber ?? null,
      codecs: body.codecs?.join(',') ?? DEFAULT_CODECS.trunk,
      enabled: body.enabled === false ? 0 : 1,
    };
    const row = await this.change(async (trx) => {
      const checked = await this.checkTrunk(trx, undefined, fields);
      const id = await repo.insertEndpoint(trx, {
        ...checked,
        tenantId,
        kind: 'trunk',
        // Unique and short-lived: replaced once the row id is known.
        asteriskId: `pending-${randomUUID()}`,
      });
      await repo.setAsteriskId(trx, id, trunkAsteriskId(tenantId, id));
      const created = await this.mustFind(trx, tenantId, id);
      await audit(trx, request, {
        action: 'endpoint.create',
        entityType: 'sip_endpoint',
        entityId: id,
        after: auditView(created),
      });
      return { row: created, before: [], after: pjsipObjects(created) };
    });
    return toApi(row, await this.registration(row));
  }

  async update(
    request: FastifyRequest,
    tenantId: number,
    id: number,
    expectedVersion: number,
    body: UpdateBody,
  ): Promise<Endpoint> {
    const row = await this.change(async (trx) => {
      const before = await this.mustFind(trx, tenantId, id);
      if (before.version !== expectedVersion) throw versionConflict(before.version);
      let changes: Updateable<SipEndpointTable>;
      if (before.kind === 'agent') {
        changes = this.agentChanges(before, body);
      } else {
        const merged = {
          name: body.name ?? before.name,
          trunkAuth: before.trunkAuth,
          host: body.host ?? before.host,
          port: body.port ?? before.port,
          matchIps:
            body.match === undefined
              ? before.matchIps
              : body.match === null
                ? null
                : body.match.join(','),
          sipUsername: body.username ?? before.sipUsername,
          sipSecret: body.password ?? before.sipSecret,
          callerIdPolicy: body.callerIdPolicy ?? before.callerIdPolicy,
          callerIdNumber:
            body.callerIdNumber === undefined ? before.callerIdNumber : body.callerIdNumber,
          codecs: body.codecs ? body.codecs.join(',') : before.codecs,
          enabled: body.enabled === undefined ? before.enabled : body.enabled ? 1 : 0,
        };
        if (body.contact !== undefined) {
          throw invalid([{ field: 'contact', message: 'a trunk is reached at host and port' }]);
        }
        changes = await this.checkTrunk(
          trx,
          before.id,
          merged,
          before.matchIps !== merged.matchIps,
        );
      }
      if (!(await repo.updateEndpoint(trx, tenantId, id, expectedVersion, changes))) {
        throw versionConflict((await this.mustFind(trx, tenantId, id)).version);
      }
      const after = await this.mustFind(trx, tenantId, id);
      await audit(trx, request, {
        action: 'endpoint.update',
        entityType: 'sip_endpoint',
        entityId: id,
        before: auditView(before),
        after: auditView(after),
      });
      return { row: after, before: pjsipObjects(before), after: pjsipObjects(after) };
    });
    return toApi(row, await this.registration(row));
  }

  async rotateSecret(
    request: FastifyRequest,
    tenantId: number,
    id: number,
  ): Promise<{ endpoint: Endpoint; secret: string }> {
    const secret = newSecret();
    const row = await this.change(async (trx) => {
      const before = await this.mustFind(trx, tenantId, id);
      if (before.kind !== 'agent') {
        throw new AppError(
          'NOT_AN_AGENT_ENDPOINT',
          "A trunk's password is the carrier's: change it with PATCH",
          400,
        );
      }
      if (!(await repo.updateEndpoint(trx, tenantId, id, before.version, { sipSecret: secret }))) {
        throw versionConflict((await this.mustFind(trx, tenantId, id)).version);
      }
      const after = await this.mustFind(trx, tenantId, id);
      await audit(trx, request, {
        action: 'endpoint.rotate_secret',
        entityType: 'sip_endpoint',
        entityId: id,
      });
      return { row: after, before: pjsipObjects(before), after: pjsipObjects(after) };
    });
    return { endpoint: toApi(row, await this.registration(row)), secret };
  }

  async remove(
    request: FastifyRequest,
    tenantId: number,
    id: number,
    expectedVersion: number,
  ): Promise<void> {
    await this.change(async (trx) => {
      const before = await this.mustFind(trx, tenantId, id);
      if (before.version !== expectedVersion) throw versionConflict(before.version);
      if (!(await repo.deleteEndpoint(trx, tenantId, id, expectedVersion))) {
        throw versionConflict((await this.mustFind(trx, tenantId, id)).version);
      }
      await audit(trx, request, {
        action: 'endpoint.delete',
        entityType: 'sip_endpoint',
        entityId: id,
        before: auditView(before),
      });
      return { row: before, before: pjsipObjects(before), after: [] };
    });
  }

  /**
   * Pushes every enabled endpoint again and removes the Calldock-owned endpoints Asterisk holds
   * that MySQL does not (only ids like `t42-agent-7`: static objects and other modules' ids,
   * such as widget visitors', are left alone).
   */
  async resync(): Promise<ResyncReport> {
    return this.lock.run(async () => {
      const started = Date.now();
      const report: ResyncReport = {
        endpoints: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        removed: 0,
        failed: 0,
        ms: 0,
      };
      // Asterisk's list first: an endpoint committed after the database read below is then
      // not in it, so it cannot be taken for a stray.
      const present = await this.push.listEndpoints();
      const rows = await repo.listEnabledEndpoints(this.db);
      const wanted = new Set(rows.map((r) => r.asteriskId));
      report.endpoints = rows.length;
      const queue = [...rows];
      const worker = async () => {
        for (let row = queue.shift(); row; row = queue.shift()) {
          try {
            const result: EnsureResult = await this.push.ensure(pjsipObjects(row));
            report[result]++;
          } catch (err) {
            report.failed++;
            this.log.error({ err, asteriskId: row.asteriskId }, 'endpoint re-push failed');
          }
        }
      };
      await Promise.all(Array.from({ length: RESYNC_CONCURRENCY }, worker));
      for (const { resource } of present) {
        if (!OWNED_ASTERISK_ID.test(resource) || wanted.has(resource)) continue;
        try {
          await this.push.removeAll(resource);
          report.removed++;
        } catch (err) {
          report.failed++;
          this.log.error({ err, asteriskId: resource }, 'stray endpoint removal failed');
        }
      }
      report.ms = Date.now() - started;
      this.log[report.failed ? 'error' : 'info'](
        { resync: report },
        'endpoints re-pushed to Asterisk',
      );
      return report;
    });
  }

  /**
   * Runs a change to a user (`work`, in a transaction opened here) and takes the user's agent
   * endpoint in Asterisk along with it: a disabled user's endpoint leaves Asterisk, a re-enabled
   * one's comes back, and a new name or extension changes its caller ID. Pushed before the commit
   * like every endpoint change, with one difference: while the ARI connection is down the user
   * change commits anyway (disabling someone must not wait for Asterisk), and the re-push that
   * runs on reconnect, queued behind this change, brings Asterisk in line.
   */
  async changeUser<T>(
    tenantId: number,
    userId: number,
    work: (trx: Trx) => Promise<T>,
  ): Promise<T> {
    return this.unit(async (trx) => {
      // The tenant row first, as every user change locks it: the reads after it, here and in
      // `work`, see what was committed before the lock.
      await repo.lockTenantLimit(trx, tenantId);
      const before = await repo.findEndpointOfUser(trx, tenantId, userId);
      const result = await work(trx);
      const after = before && (await repo.findEndpointOfUser(trx, tenantId, userId));
      return {
        result,
        asteriskId: before?.asteriskId,
        before: before ? pjsipObjects(before) : [],
        after: after ? pjsipObjects(after) : [],
        deferWhileDisconnected: true,
      };
    });
  }

  /**
   * The write-and-push unit: `work` writes in the transaction and says what Asterisk held
   * before and must hold after; the push runs before the commit.
   */
  private async change(
    work: (trx: Trx) => Promise<{ row: EndpointRow; before: PjsipObject[]; after: PjsipObject[] }>,
  ): Promise<EndpointRow> {
    const row = await this.unit(async (trx) => {
      const { row, before, after } = await work(trx);
      return { result: row, asteriskId: row.asteriskId, before, after };
    });
    // A user's phone changed (new, disabled, removed): whoever caches it must read it again.
    if (row.kind === 'agent' && row.userId !== null) {
      for (const listener of this.userPhoneListeners) {
        await listener(row.userId).catch((err: unknown) => this.log.warn({ err, userId: row.userId }, 'phone change listener failed'));
      }
    }
    return row;
  }

  /** Tells `listener` the user whose agent endpoint was created, changed or removed. */
  onUserPhoneChanged(listener: (userId: number) => Promise<void>): void {
    this.userPhoneListeners.push(listener);
  }

  private async unit<T>(
    work: (trx: Trx) => Promise<{
      result: T;
      asteriskId: string | undefined;
      before: PjsipObject[];
      after: PjsipObject[];
      deferWhileDisconnected?: boolean;
    }>,
  ): Promise<T> {
    return this.lock.run(async () => {
      let applied = undefined as AppliedChange | undefined;
      try {
        return await this.db.transaction().execute(async (trx) => {
          const { result, asteriskId, before, after, deferWhileDisconnected } = await work(trx);
          try {
            applied = await this.push.apply(before, after);
          } catch (err) {
            if (
              deferWhileDisconnected &&
              err instanceof AriUnavailableError &&
              this.ari.state !== AriState.Connected
            ) {
              this.log.warn(
                { err, asteriskId },
                'Asterisk away; the re-push on reconnect applies this',
              );
              return result;
            }
            this.log.warn({ err, asteriskId }, 'push failed; rolling back');
            throw pushFailed(err);
          }
          return result;
        });
      } catch (err) {
        // The commit failed after a good push: take the push back so the two do not diverge.
        if (applied) await applied.undo();
        throw err;
      }
    });
  }

  private agentChanges(before: EndpointRow, body: UpdateBody): Updateable<SipEndpointTable> {
    const notForAgents: Array<{ field: string; message: string }> = (
      [
        'name',
        'host',
        'port',
        'match',
        'username',
        'password',
        'callerIdPolicy',
        'callerIdNumber',
      ] as const
    )
      .filter((k) => body[k] !== undefined)
      .map((field) => ({ field, message: 'does not apply to an agent endpoint' }));
    if (body.contact !== undefined && before.transport !== 'udp') {
      notForAgents.push({
        field: 'contact',
        message: 'only a UDP agent endpoint has a fixed contact',
      });
    }
    if (notForAgents.length) throw invalid(notForAgents);
    const changes: Updateable<SipEndpointTable> = {};
    if (body.enabled !== undefined) changes.enabled = body.enabled ? 1 : 0;
    if (body.codecs) changes.codecs = body.codecs.join(',');
    if (body.contact !== undefined) changes.contact = body.contact;
    return changes;
  }

  /**
   * Checks a trunk's settings as a whole and returns them with `match` normalised.
   *
   * A source address must identify one trunk only: Asterisk takes the first identify that
   * matches, in no defined order, so two trunks claiming the same address (of two tenants, or
   * of one) would get each other's calls, and a call could be attributed to the wrong tenant.
   * Overlaps are refused (409 naming `match`) rather than guessed at. A carrier shared by many
   * tenants is then one tenant's IP trunk, or reaches the others with `auth: register`, whose
   * inbound calls are identified by the registration's line parameter, not by address.
   */
  private async checkTrunk<
    T extends {
      trunkAuth: 'ip' | 'register' | null;
      matchIps: string | null;
      sipUsername: string | null;
      sipSecret: string | null;
      callerIdPolicy: string | null;
      callerIdNumber: string | null;
    },
  >(trx: Trx, id: number | undefined, fields: T, matchChanged = true): Promise<T> {
    const problems: Array<{ field: string; message: string }> = [];
    if (fields.trunkAuth === 'ip') {
      if (!fields.matchIps)
        problems.push({
          field: 'match',
          message: 'an IP trunk needs the addresses its carrier calls from',
        });
      if (fields.sipUsername || fields.sipSecret) {
        problems.push({
          field: fields.sipUsername ? 'username' : 'password',
          message: 'only a register trunk has credentials',
        });
      }
    } else {
      if (!fields.sipUsername)
        problems.push({
          field: 'username',
          message: 'a register trunk needs the account user name',
        });
      if (!fields.sipSecret)
        problems.push({
          field: 'password',
          message: 'a register trunk needs the account password',
        });
    }
    if (fields.callerIdPolicy === 'fixed' && !fields.callerIdNumber) {
      problems.push({
        field: 'callerIdNumber',
        message: 'a fixed caller-ID policy needs the number',
      });
    }
    if (problems.length) throw invalid(problems);
    if (!fields.matchIps || !matchChanged) return fields;

    const mine = parseMatches(fields.matchIps.split(','));
    const others = await repo.listTrunkMatches(trx, id);
    for (const other of others) {
      const theirs = other.matchIps.split(',').map((e) => parseIpMatch(e));
      const clash = mine.find((m) => theirs.some((t) => t && ipMatchesOverlap(m, t)));
      if (clash) {
        throw conflict(
          'MATCH_CONFLICT',
          'match',
          `${formatIpMatch(clash)} overlaps the addresses of another trunk; a source address can identify one trunk only`,
        );
      }
    }
    return { ...fields, matchIps: mine.map(formatIpMatch).join(',') };
  }

  private async mustFind(db: Db | Trx, tenantId: number, id: number): Promise<EndpointRow> {
    const row = await repo.findEndpoint(db, tenantId, id);
    if (!row) throw endpointNotFound(id);
    return row;
  }

  private async registration(row: EndpointRow): Promise<Registration> {
    if (!isLive(row)) return { state: 'disabled', channels: 0 };
    try {
      const endpoint = await this.push.getEndpoint(row.asteriskId);
      return endpoint ? registrationOf(endpoint) : { state: 'missing', channels: 0 };
    } catch (err) {
      this.log.debug({ err }, 'endpoint state not available');
      return { state: 'unknown', channels: 0 };
    }
  }

  /** One ARI call for a whole page. */
  private async registrations(rows: EndpointRow[]): Promise<(row: EndpointRow) => Registration> {
    let byId: Map<string, Registration> | undefined;
    if (rows.some(isLive)) {
      try {
        const all = await this.push.listEndpoints();
        byId = new Map(all.map((e) => [e.resource, registrationOf(e)]));
      } catch (err) {
        this.log.debug({ err }, 'endpoint states not available');
      }
    }
    return (row) => {
      if (!isLive(row)) return { state: 'disabled', channels: 0 };
      if (!byId) return { state: 'unknown', channels: 0 };
      return byId.get(row.asteriskId) ?? { state: 'missing', channels: 0 };
    };
  }
}

function registrationOf(endpoint: { state: string; channel_ids: string[] }): Registration {
  const state =
    endpoint.state === 'online' || endpoint.state === 'offline' ? endpoint.state : 'unknown';
  return { state, channels: endpoint.channel_ids.length };
}
