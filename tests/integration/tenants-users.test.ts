/**
 * Tenants (platform admins) and users (tenant admins; supervisors read), with roles, optimistic
 * concurrency, idempotent creation, seat limits and the audit trail, against the real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJson } from '../../control/src/db/json.ts';
import { buildTestApp } from '../support/app.ts';
import {
  TEST_PASSWORD,
  bearer,
  createTenant,
  createUser,
  login,
  randomIp,
  tokenFor,
  type TestTenant,
  type TestUser,
} from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

const unique = () => Math.random().toString(36).slice(2, 10);

describe('tenants', () => {
  let app: App;
  let platform: string;
  let tenantAdmin: string;

  beforeAll(async () => {
    app = await buildTestApp();
    platform = await tokenFor(app, await createUser(app.db, null, 'platform_admin'));
    const t = await createTenant(app.db);
    tenantAdmin = await tokenFor(app, await createUser(app.db, t.id, 'tenant_admin'));
  });

  afterAll(async () => {
    await app.close();
  });

  const post = (payload: object, token = platform, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/tenants',
      payload,
      headers: { ...bearer(token), ...headers },
    });

  it('creates a tenant with limits, flags and its first admin’s invite in one go', async () => {
    const slug = `acme-${unique()}`;
    const email = `boss-${unique()}@acme.test`;
    const res = await post({
      name: 'Acme',
      slug,
      timezone: 'europe/paris',
      limits: { maxAgents: 3, maxCallSeconds: 3600 },
      featureFlags: { chat: true, callback: false },
      admin: { email, displayName: 'Boss' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(res.headers.etag).toBe('"v1"');
    expect(body).toMatchObject({
      name: 'Acme',
      slug,
      timezone: 'Europe/Paris',
      status: 'active',
      limits: { maxAgents: 3, maxConcurrentCalls: 50, maxCallsPerSecond: 10, maxCallSeconds: 3600 },
      featureFlags: { chat: true, callback: false },
      version: 1,
      adminInvite: { email, role: 'tenant_admin', status: 'pending' },
    });

    // The invite link makes the first admin, who can then log in and run the tenant.
    const token = body.adminInvite.inviteUrl.split('/invite/')[1];
    const accepted = await app.inject({
      method: 'POST',
      url: '/api/v1/invites/accept',
      payload: { token, password: 'a long enough password' },
    });
    expect(accepted.statusCode).toBe(201);
    const session = await login(app, email, 'a long enough password');
    expect(session.user).toMatchObject({ tenantId: body.id, role: 'tenant_admin' });
    const users = await app.inject({ url: '/api/v1/users', headers: bearer(session.accessToken) });
    expect(users.json().items.map((u: { email: string }) => u.email)).toEqual([email]);
  });

  it('creates nothing when the first admin’s email is taken', async () => {
    const existing = await createUser(app.db, null, 'platform_admin');
    const slug = `taken-${unique()}`;
    const res = await post({ name: 'X', slug, admin: { email: existing.email, displayName: 'X' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('EMAIL_TAKEN');
    expect(
      await app.db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst(),
    ).toBeUndefined();
  });

  it('answers 409 for a slug in use, and 400 naming bad fields', async () => {
    const slug = `dup-${unique()}`;
    expect((await post({ name: 'One', slug })).statusCode).toBe(201);
    const dup = await post({ name: 'Two', slug });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: 'SLUG_TAKEN', details: [{ field: 'slug' }] });

    const bad = await post({
      name: '',
      slug: 'Not A Slug',
      limits: { maxAgents: -1 },
      colour: 'red',
    });
    expect(bad.statusCode).toBe(400);
    const fields = bad.json().error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'slug', 'limits.maxAgents', 'colour']));

    const flags = await post({ name: 'F', slug: `f-${unique()}`, featureFlags: { chat: 'yes' } });
    expect(flags.statusCode).toBe(400);
  });

  it('accepts IANA time zones only', async () => {
    for (const timezone of ['Mars/Olympus', '+01:00', 'GMT+5']) {
      const res = await post({ name: 'TZ', slug: `tz-${unique()}`, timezone });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details).toEqual([
        { field: 'timezone', message: expect.stringContaining('IANA') },
      ]);
    }
    const ok = await post({ name: 'TZ', slug: `tz-${unique()}`, timezone: 'America/New_York' });
    expect(ok.statusCode).toBe(201);
  });

  it('lists tenants page by page, filtered', async () => {
    const tag = unique();
    for (const n of [1, 2, 3])
      expect((await post({ name: `List ${tag} ${n}`, slug: `l${n}-${tag}` })).statusCode).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/tenants?q=${tag}&limit=2&sort=-name${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ url, headers: bearer(platform) });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...page.items.map((t: { name: string }) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([`List ${tag} 3`, `List ${tag} 2`, `List ${tag} 1`]);
  });

  it('changes a tenant only with the version it was read at (If-Match)', async () => {
    const created = (
      await post({ name: 'Etag', slug: `etag-${unique()}`, featureFlags: { a: true } })
    ).json();
    const url = `/api/v1/tenants/${created.id}`;
    const read = await app.inject({ url, headers: bearer(platform) });
    expect(read.headers.etag).toBe('"v1"');

    const patch = (
      headers: Record<string, string>,
      payload: object = { limits: { maxAgents: 7 } },
    ) =>
      app.inject({ method: 'PATCH', url, payload, headers: { ...bearer(platform), ...headers } });
    expect((await patch({})).statusCode).toBe(428);
    const ok = await patch(
      { 'if-match': '"v1"' },
      { limits: { maxAgents: 7 }, featureFlags: { b: true } },
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"v2"');
    // Limits not named stay; flags are replaced as a whole.
    expect(ok.json()).toMatchObject({
      limits: { maxAgents: 7, maxConcurrentCalls: 50 },
      featureFlags: { b: true },
    });
    expect(ok.json().featureFlags).not.toHaveProperty('a');
    const stale = await patch({ 'if-match': '"v1"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error.code).toBe('VERSION_CONFLICT');
  });

  it('ends every session of a tenant it suspends', async () => {
    const t = await createTenant(app.db);
    const agent = await createUser(app.db, t.id, 'agent');
    const session = await login(app, agent.email);
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${t.id}`,
      payload: { status: 'suspended', version: 1 },
      headers: bearer(platform),
    });
    expect(res.statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/api/v1/auth/me', headers: bearer(session.accessToken) }))
        .statusCode,
    ).toBe(401);
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: agent.email, password: TEST_PASSWORD },
      remoteAddress: randomIp(),
    });
    expect(again.json().error.code).toBe('TENANT_SUSPENDED');
  });

  it('answers 404 for a tenant that does not exist', async () => {
    const res = await app.inject({ url: '/api/v1/tenants/99999999', headers: bearer(platform) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('TENANT_NOT_FOUND');
  });

  it('refuses tenant admins on every platform route', async () => {
    const requests = [
      { method: 'GET' as const, url: '/api/v1/tenants' },
      { method: 'GET' as const, url: '/api/v1/tenants/1' },
      {
        method: 'POST' as const,
        url: '/api/v1/tenants',
        payload: { name: 'N', slug: `n-${unique()}` },
      },
      { method: 'PATCH' as const, url: '/api/v1/tenants/1', payload: { name: 'N' } },
    ];
    for (const request of requests) {
      const res = await app.inject({ ...request, headers: bearer(tenantAdmin) });
      expect(res.statusCode, `${request.method} ${request.url}`).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
  });

  it('creates a tenant once per Idempotency-Key, replaying the first answer', async () => {
    const key = `key-${unique()}`;
    const payload = { name: 'Once', slug: `once-${unique()}` };
    const first = await post(payload, platform, { 'idempotency-key': key });
    const retry = await post(payload, platform, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    const rows = await app.db
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', payload.slug)
      .execute();
    expect(rows).toHaveLength(1);

    const other = await post({ ...payload, name: 'Other' }, platform, { 'idempotency-key': key });
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('users', () => {
  let app: App;
  let tenant: TestTenant;
  let admin: TestUser;
  let adminToken: string;

  beforeAll(async () => {
    app = await buildTestApp();
    tenant = await createTenant(app.db, { maxAgents: 100 });
    admin = await createUser(app.db, tenant.id, 'tenant_admin', { displayName: 'Zed Admin' });
    adminToken = await tokenFor(app, admin);
  });

  afterAll(async () => {
    await app.close();
  });

  const getUser = (id: number, token = adminToken) =>
    app.inject({ url: `/api/v1/users/${id}`, headers: bearer(token) });
  const patchUser = (id: number, payload: object, version?: number | string, token = adminToken) =>
    app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${id}`,
      payload,
      headers: {
        ...bearer(token),
        ...(version === undefined
          ? {}
          : { 'if-match': typeof version === 'number' ? `"v${version}"` : version }),
      },
    });

  describe('roles', () => {
    it('does not let an agent list users', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent');
      const res = await app.inject({
        url: '/api/v1/users',
        headers: bearer(await tokenFor(app, agent)),
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    });

    it('lets a supervisor read users but not change them', async () => {
      const supervisor = await createUser(app.db, tenant.id, 'supervisor');
      const token = await tokenFor(app, supervisor);
      expect((await app.inject({ url: '/api/v1/users', headers: bearer(token) })).statusCode).toBe(
        200,
      );
      expect((await getUser(admin.id, token)).statusCode).toBe(200);
      expect((await patchUser(supervisor.id, { displayName: 'Me' }, 1, token)).statusCode).toBe(
        403,
      );
    });

    it('keeps platform admins out of tenant user routes', async () => {
      const platform = await tokenFor(app, await createUser(app.db, null, 'platform_admin'));
      expect(
        (await app.inject({ url: '/api/v1/users', headers: bearer(platform) })).statusCode,
      ).toBe(403);
    });
  });

  describe('reading', () => {
    it('lists with filters, search and cursor pages', async () => {
      const t = await createTenant(app.db);
      const a = await createUser(app.db, t.id, 'tenant_admin', { displayName: 'Amy Admin' });
      const token = await tokenFor(app, a);
      await createUser(app.db, t.id, 'agent', { displayName: 'Bob Agent' });
      await createUser(app.db, t.id, 'agent', {
        displayName: 'Cid Agent',
        email: `cid-${unique()}@special.test`,
      });
      const disabled = await createUser(app.db, t.id, 'agent', { displayName: 'Dan Agent' });
      await app.db
        .updateTable('users')
        .set({ status: 'disabled' })
        .where('id', '=', disabled.id)
        .execute();

      const names = async (query: string) => {
        const res = await app.inject({ url: `/api/v1/users?${query}`, headers: bearer(token) });
        expect(res.statusCode).toBe(200);
        return res.json().items.map((u: { displayName: string }) => u.displayName);
      };
      expect(await names('sort=displayName')).toEqual([
        'Amy Admin',
        'Bob Agent',
        'Cid Agent',
        'Dan Agent',
      ]);
      expect(await names('role=agent&status=active&sort=-displayName')).toEqual([
        'Cid Agent',
        'Bob Agent',
      ]);
      expect(await names('q=special.test')).toEqual(['Cid Agent']);
      expect(await names('q=%25')).toEqual([]);

      const first = (
        await app.inject({ url: '/api/v1/users?limit=3&sort=displayName', headers: bearer(token) })
      ).json();
      expect(first.items).toHaveLength(3);
      const second = (
        await app.inject({
          url: `/api/v1/users?limit=3&sort=displayName&cursor=${first.nextCursor}`,
          headers: bearer(token),
        })
      ).json();
      expect(second).toMatchObject({ items: [{ displayName: 'Dan Agent' }], nextCursor: null });

      const bad = await app.inject({
        url: '/api/v1/users?role=platform_admin&sort=password',
        headers: bearer(token),
      });
      expect(bad.statusCode).toBe(400);
    });

    it('does not return or change a user of another tenant', async () => {
      const other = await createTenant(app.db);
      const stranger = await createUser(app.db, other.id, 'agent');
      const read = await getUser(stranger.id);
      expect(read.statusCode).toBe(404);
      expect(read.json().error.code).toBe('USER_NOT_FOUND');
      expect((await getUser(99999999)).json()).toEqual({
        error: { code: 'USER_NOT_FOUND', message: 'User 99999999 not found' },
      });
      expect((await patchUser(stranger.id, { displayName: 'Mine' }, 1)).statusCode).toBe(404);
      const list = await app.inject({
        url: '/api/v1/users?limit=200',
        headers: bearer(adminToken),
      });
      expect(list.json().items.map((u: { id: number }) => u.id)).not.toContain(stranger.id);
    });
  });

  describe('changing', () => {
    it('needs If-Match: 428 without it, 412 when stale, 200 with a new ETag when right', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent');
      const read = await getUser(agent.id);
      expect(read.headers.etag).toBe('"v1"');

      const missing = await patchUser(agent.id, { displayName: 'New Name' });
      expect(missing.statusCode).toBe(428);
      expect(missing.json().error.code).toBe('PRECONDITION_REQUIRED');

      const ok = await patchUser(
        agent.id,
        { displayName: 'New Name', outboundAllowed: false },
        read.headers.etag as string,
      );
      expect(ok.statusCode).toBe(200);
      expect(ok.headers.etag).toBe('"v2"');
      expect(ok.json()).toMatchObject({
        displayName: 'New Name',
        outboundAllowed: false,
        version: 2,
      });

      const stale = await patchUser(agent.id, { displayName: 'Lost Update' }, 1);
      expect(stale.statusCode).toBe(412);
      expect(stale.json().error).toMatchObject({
        code: 'VERSION_CONFLICT',
        details: { currentVersion: 2 },
      });
      expect((await getUser(agent.id)).json().displayName).toBe('New Name');
    });

    it('keeps extensions unique within a tenant only', async () => {
      const ext = String(1000 + Math.floor(Math.random() * 8000));
      await createUser(app.db, tenant.id, 'agent', { extension: ext });
      const agent = await createUser(app.db, tenant.id, 'agent');
      const dup = await patchUser(agent.id, { extension: ext }, 1);
      expect(dup.statusCode).toBe(409);
      expect(dup.json().error).toMatchObject({
        code: 'EXTENSION_TAKEN',
        details: [{ field: 'extension' }],
      });

      const elsewhere = await createTenant(app.db);
      const otherAdmin = await createUser(app.db, elsewhere.id, 'tenant_admin');
      const otherAgent = await createUser(app.db, elsewhere.id, 'agent');
      const ok = await patchUser(
        otherAgent.id,
        { extension: ext },
        1,
        await tokenFor(app, otherAdmin),
      );
      expect(ok.statusCode).toBe(200);
      const cleared = await patchUser(agent.id, { extension: null }, 1);
      expect(cleared.json().extension).toBeNull();
    });

    it('makes nobody platform admin', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent');
      const res = await patchUser(agent.id, { role: 'platform_admin' }, 1);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details[0].field).toBe('role');
    });

    it('does not demote or disable the last active tenant admin', async () => {
      const t = await createTenant(app.db);
      const only = await createUser(app.db, t.id, 'tenant_admin');
      const token = await tokenFor(app, only);
      for (const change of [{ role: 'supervisor' }, { status: 'disabled' }]) {
        const res = await patchUser(only.id, change, 1, token);
        expect(res.statusCode).toBe(409);
        expect(res.json().error.code).toBe('LAST_ADMIN');
      }
      const del = await app.inject({
        method: 'DELETE',
        url: `/api/v1/users/${only.id}`,
        headers: { ...bearer(token), 'if-match': '"v1"' },
      });
      expect(del.statusCode).toBe(409);

      // With a second admin, the first may step down.
      await createUser(app.db, t.id, 'tenant_admin');
      const ok = await patchUser(only.id, { role: 'supervisor' }, 1, token);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().role).toBe('supervisor');
    });

    it('ends the sessions of a user it disables, or whose role it changes', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent');
      const session = await login(app, agent.email);
      const res = await patchUser(agent.id, { status: 'disabled' }, 1);
      expect(res.statusCode).toBe(200);
      expect(
        (await app.inject({ url: '/api/v1/auth/me', headers: bearer(session.accessToken) }))
          .statusCode,
      ).toBe(401);
      const refresh = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refreshToken: session.refreshToken },
      });
      expect(refresh.statusCode).toBe(401);

      const supervisor = await createUser(app.db, tenant.id, 'supervisor');
      const other = await login(app, supervisor.email);
      expect((await patchUser(supervisor.id, { role: 'helpdesk' }, 1)).statusCode).toBe(200);
      expect(
        (await app.inject({ url: '/api/v1/auth/me', headers: bearer(other.accessToken) }))
          .statusCode,
      ).toBe(401);
      expect((await login(app, supervisor.email)).user.role).toBe('helpdesk');
    });

    it('disables on DELETE: the user stays, the login stops working', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent');
      const noMatch = await app.inject({
        method: 'DELETE',
        url: `/api/v1/users/${agent.id}`,
        headers: bearer(adminToken),
      });
      expect(noMatch.statusCode).toBe(428);
      const res = await app.inject({
        method: 'DELETE',
        url: `/api/v1/users/${agent.id}`,
        headers: { ...bearer(adminToken), 'if-match': '"v1"' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: agent.id, status: 'disabled', version: 2 });
      expect((await getUser(agent.id)).json().status).toBe('disabled');
      const again = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: agent.email, password: TEST_PASSWORD },
        remoteAddress: randomIp(),
      });
      expect(again.statusCode).toBe(403);
    });

    it('keeps active agents within the tenant’s maxAgents', async () => {
      const t = await createTenant(app.db, { maxAgents: 1 });
      const a = await createUser(app.db, t.id, 'tenant_admin');
      const token = await tokenFor(app, a);
      const agent = await createUser(app.db, t.id, 'agent');
      const supervisor = await createUser(app.db, t.id, 'supervisor');

      const promote = await patchUser(supervisor.id, { role: 'agent' }, 1, token);
      expect(promote.statusCode).toBe(409);
      expect(promote.json().error).toMatchObject({
        code: 'LIMIT_REACHED',
        details: { limit: 'maxAgents', max: 1 },
      });

      // A disabled agent frees the seat; enabling them again needs one.
      expect((await patchUser(agent.id, { status: 'disabled' }, 1, token)).statusCode).toBe(200);
      expect((await patchUser(supervisor.id, { role: 'agent' }, 1, token)).statusCode).toBe(200);
      const reenable = await patchUser(agent.id, { status: 'active' }, 2, token);
      expect(reenable.statusCode).toBe(409);
      expect(reenable.json().error.code).toBe('LIMIT_REACHED');
      // Editing an agent who already has a seat is fine.
      expect(
        (await patchUser(supervisor.id, { displayName: 'Still Agent' }, 2, token)).statusCode,
      ).toBe(200);
    });
  });

  describe('audit', () => {
    it('writes who changed what, before and after, with the request id', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent', { displayName: 'Before Name' });
      const requestId = `req-${unique()}`;
      const res = await app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${agent.id}`,
        payload: { displayName: 'After Name' },
        headers: { ...bearer(adminToken), 'if-match': '"v1"', 'x-request-id': requestId },
      });
      expect(res.statusCode).toBe(200);

      const row = await app.db
        .selectFrom('auditLog')
        .selectAll()
        .where('requestId', '=', requestId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        tenantId: tenant.id,
        actorUserId: admin.id,
        action: 'user.update',
        entityType: 'user',
        entityId: String(agent.id),
      });
      expect(fromJson(row.beforeData, {})).toMatchObject({
        displayName: 'Before Name',
        version: 1,
      });
      expect(fromJson(row.afterData, {})).toMatchObject({ displayName: 'After Name', version: 2 });

      const list = await app.inject({
        url: `/api/v1/audit-log?entityType=user&entityId=${agent.id}`,
        headers: bearer(adminToken),
      });
      expect(list.statusCode).toBe(200);
      expect(list.json().items[0]).toMatchObject({
        action: 'user.update',
        requestId,
        before: { displayName: 'Before Name' },
        after: { displayName: 'After Name' },
      });
    });

    it('shows a tenant admin their own tenant’s entries only; platform admins any, by tenant', async () => {
      const other = await createTenant(app.db);
      const otherAdmin = await createUser(app.db, other.id, 'tenant_admin');
      const otherToken = await tokenFor(app, otherAdmin);
      const otherAgent = await createUser(app.db, other.id, 'agent');
      expect(
        (await patchUser(otherAgent.id, { displayName: 'Theirs' }, 1, otherToken)).statusCode,
      ).toBe(200);

      const mine = await app.inject({
        url: '/api/v1/audit-log?limit=200',
        headers: bearer(adminToken),
      });
      expect(mine.json().items.every((e: { tenantId: number }) => e.tenantId === tenant.id)).toBe(
        true,
      );
      const peek = await app.inject({
        url: `/api/v1/audit-log?tenantId=${other.id}`,
        headers: bearer(adminToken),
      });
      expect(peek.json()).toEqual({ items: [], nextCursor: null });

      const platform = await tokenFor(app, await createUser(app.db, null, 'platform_admin'));
      const theirs = await app.inject({
        url: `/api/v1/audit-log?tenantId=${other.id}`,
        headers: bearer(platform),
      });
      expect(theirs.json().items.map((e: { entityId: string }) => e.entityId)).toContain(
        String(otherAgent.id),
      );
      expect(theirs.json().items.every((e: { tenantId: number }) => e.tenantId === other.id)).toBe(
        true,
      );

      const agent = await tokenFor(app, await createUser(app.db, tenant.id, 'agent'));
      expect(
        (await app.inject({ url: '/api/v1/audit-log', headers: bearer(agent) })).statusCode,
      ).toBe(403);
    });

    it('pages newest first', async () => {
      const agent = await createUser(app.db, tenant.id, 'agent');
      for (const [i, name] of ['One', 'Two', 'Three'].entries()) {
        expect((await patchUser(agent.id, { displayName: name }, i + 1)).statusCode).toBe(200);
      }
      const url = `/api/v1/audit-log?entityType=user&entityId=${agent.id}&limit=2`;
      const first = (await app.inject({ url, headers: bearer(adminToken) })).json();
      const second = (
        await app.inject({ url: `${url}&cursor=${first.nextCursor}`, headers: bearer(adminToken) })
      ).json();
      const names = [...first.items, ...second.items].map(
        (e: { after: { displayName: string } }) => e.after.displayName,
      );
      expect(names).toEqual(['Three', 'Two', 'One']);
      expect(second.nextCursor).toBeNull();
    });
  });
});
