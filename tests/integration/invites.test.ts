/**
 * Invites: an admin gets a one-time link, the invitee sets a password through it and can log in;
 * the link cannot be used twice, late or after it was withdrawn.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import {
  bearer,
  createTenant,
  createUser,
  login,
  tokenFor,
  type TestTenant,
  type TestUser,
} from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

const unique = () => Math.random().toString(36).slice(2, 10);
const PASSWORD = 'invited and in';

describe('invites', () => {
  let app: App;
  let tenant: TestTenant;
  let admin: TestUser;
  let adminToken: string;

  beforeAll(async () => {
    app = await buildTestApp();
    tenant = await createTenant(app.db);
    admin = await createUser(app.db, tenant.id, 'tenant_admin');
    adminToken = await tokenFor(app, admin);
  });

  afterAll(async () => {
    await app.close();
  });

  const invite = (payload: object, token = adminToken, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/invites',
      payload,
      headers: { ...bearer(token), ...headers },
    });
  const accept = (token: string, password = PASSWORD) =>
    app.inject({ method: 'POST', url: '/api/v1/invites/accept', payload: { token, password } });
  const tokenOf = (inviteUrl: string) => inviteUrl.split('/invite/')[1]!;
  const newEmail = () => `invitee-${unique()}@example.test`;

  it('creates a link the invitee uses to set a password, then logs in', async () => {
    const email = newEmail();
    const res = await invite({ email, displayName: 'Ivy Invitee', role: 'agent' }, adminToken, {
      host: 'cc.example.test',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.any(Number),
      email,
      role: 'agent',
      status: 'pending',
      invitedBy: admin.id,
      inviteUrl: expect.stringMatching(/^http:\/\/cc\.example\.test\/invite\/[A-Za-z0-9_-]{43}$/),
    });
    const expiresIn = new Date(body.expiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(6.9 * 24 * 3600 * 1000);
    expect(expiresIn).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);

    // Only the token's hash is kept.
    const token = tokenOf(body.inviteUrl);
    const row = await app.db
      .selectFrom('invites')
      .selectAll()
      .where('id', '=', body.id)
      .executeTakeFirstOrThrow();
    expect(row.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));

    const accepted = await accept(token);
    expect(accepted.statusCode).toBe(201);
    expect(accepted.json().user).toMatchObject({
      tenantId: tenant.id,
      role: 'agent',
      displayName: 'Ivy Invitee',
      email,
    });
    const session = await login(app, email, PASSWORD);
    expect(session.user.id).toBe(accepted.json().user.id);

    const listed = await app.inject({
      url: '/api/v1/invites?status=accepted',
      headers: bearer(adminToken),
    });
    expect(listed.json().items.map((i: { id: number }) => i.id)).toContain(body.id);
    const audit = await app.db
      .selectFrom('auditLog')
      .select(['action', 'actorUserId'])
      .where('tenantId', '=', tenant.id)
      .where('action', 'in', ['invite.create', 'invite.accept'])
      .where((eb) =>
        eb.or([eb('entityId', '=', String(body.id)), eb('entityId', '=', String(session.user.id))]),
      )
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'invite.create', actorUserId: admin.id },
      { action: 'invite.accept', actorUserId: null },
    ]);
  });

  it('uses PUBLIC_URL for the link when it is configured', async () => {
    const other = await buildTestApp({ publicUrl: 'https://cc.example.com' });
    try {
      const res = await other.inject({
        method: 'POST',
        url: '/api/v1/invites',
        payload: { email: newEmail(), displayName: 'P', role: 'helpdesk' },
        headers: { ...bearer(await tokenFor(other, admin)), host: 'evil.example.test' },
      });
      expect(res.json().inviteUrl).toMatch(/^https:\/\/cc\.example\.com\/invite\//);
    } finally {
      await other.close();
    }
  });

  it('refuses a link the second time', async () => {
    const res = await invite({ email: newEmail(), displayName: 'Twice', role: 'supervisor' });
    const token = tokenOf(res.json().inviteUrl);
    expect((await accept(token)).statusCode).toBe(201);
    const again = await accept(token, 'another password');
    expect(again.statusCode).toBe(410);
    expect(again.json().error.code).toBe('INVITE_USED');
  });

  it('lets only one of two concurrent accepts of the same link through', async () => {
    const res = await invite({ email: newEmail(), displayName: 'Race', role: 'helpdesk' });
    const token = tokenOf(res.json().inviteUrl);
    const results = await Promise.all([accept(token), accept(token)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 410]);
  });

  it('refuses an expired link', async () => {
    const res = await invite({ email: newEmail(), displayName: 'Late', role: 'agent' });
    await app.db
      .updateTable('invites')
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where('id', '=', res.json().id)
      .execute();
    const late = await accept(tokenOf(res.json().inviteUrl));
    expect(late.statusCode).toBe(410);
    expect(late.json().error.code).toBe('INVITE_EXPIRED');
    const listed = await app.inject({
      url: '/api/v1/invites?status=expired',
      headers: bearer(adminToken),
    });
    expect(listed.json().items.map((i: { id: number }) => i.id)).toContain(res.json().id);
  });

  it('refuses a withdrawn link, and an unknown one', async () => {
    const res = await invite({ email: newEmail(), displayName: 'Withdrawn', role: 'agent' });
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/invites/${res.json().id}`,
      headers: bearer(adminToken),
    });
    expect(del.statusCode).toBe(204);
    const withdrawn = await accept(tokenOf(res.json().inviteUrl));
    expect(withdrawn.statusCode).toBe(410);
    expect(withdrawn.json().error.code).toBe('INVITE_REVOKED');

    const unknown = await accept('x'.repeat(43));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('INVITE_NOT_FOUND');
  });

  it('replaces a pending invite for the same email (a lost link is re-sent this way)', async () => {
    const email = newEmail();
    const first = await invite({ email, displayName: 'Lost', role: 'agent' });
    const second = await invite({ email, displayName: 'Found', role: 'agent' });
    expect(second.statusCode).toBe(201);
    expect((await accept(tokenOf(first.json().inviteUrl))).json().error.code).toBe(
      'INVITE_REVOKED',
    );
    expect((await accept(tokenOf(second.json().inviteUrl))).statusCode).toBe(201);
  });

  it('needs a password of at least 10 characters', async () => {
    const res = await invite({ email: newEmail(), displayName: 'Short', role: 'agent' });
    const short = await accept(tokenOf(res.json().inviteUrl), 'too short');
    expect(short.statusCode).toBe(400);
    expect(short.json().error.details).toEqual([
      { field: 'password', message: expect.any(String) },
    ]);
  });

  it('answers 409 for an email that already has a user, when inviting and when accepting', async () => {
    const existing = await createUser(app.db, tenant.id, 'agent');
    const taken = await invite({
      email: existing.email.toUpperCase(),
      displayName: 'Dup',
      role: 'agent',
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('EMAIL_TAKEN');

    // Invited here, but meanwhile the person joined another tenant.
    const email = newEmail();
    const res = await invite({ email, displayName: 'Both', role: 'agent' });
    const elsewhere = await createTenant(app.db);
    await createUser(app.db, elsewhere.id, 'agent', { email });
    const late = await accept(tokenOf(res.json().inviteUrl));
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('EMAIL_TAKEN');
  });

  it('keeps agents within the tenant’s maxAgents, when inviting and when accepting', async () => {
    const small = await createTenant(app.db, { maxAgents: 1 });
    const smallAdmin = await tokenFor(app, await createUser(app.db, small.id, 'tenant_admin'));
    const first = await invite({ email: newEmail(), displayName: 'A1', role: 'agent' }, smallAdmin);
    const second = await invite(
      { email: newEmail(), displayName: 'A2', role: 'agent' },
      smallAdmin,
    );
    expect((await accept(tokenOf(first.json().inviteUrl))).statusCode).toBe(201);
    const full = await accept(tokenOf(second.json().inviteUrl));
    expect(full.statusCode).toBe(409);
    expect(full.json().error.code).toBe('LIMIT_REACHED');
    const third = await invite({ email: newEmail(), displayName: 'A3', role: 'agent' }, smallAdmin);
    expect(third.statusCode).toBe(409);
    expect(third.json().error.code).toBe('LIMIT_REACHED');
    // Other roles do not take agent seats.
    expect(
      (await invite({ email: newEmail(), displayName: 'S', role: 'supervisor' }, smallAdmin))
        .statusCode,
    ).toBe(201);
  });

  it('refuses bad input and the platform_admin role', async () => {
    const res = await invite({
      email: 'not an email',
      displayName: '',
      role: 'platform_admin',
      extra: true,
    });
    expect(res.statusCode).toBe(400);
    const fields = res.json().error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'displayName', 'role', 'extra']));
  });

  it('is for tenant admins only', async () => {
    for (const role of ['supervisor', 'agent', 'helpdesk'] as const) {
      const token = await tokenFor(app, await createUser(app.db, tenant.id, role));
      expect(
        (await invite({ email: newEmail(), displayName: 'X', role: 'agent' }, token)).statusCode,
      ).toBe(403);
      expect(
        (await app.inject({ url: '/api/v1/invites', headers: bearer(token) })).statusCode,
      ).toBe(403);
    }
  });

  it('does not show or withdraw another tenant’s invites', async () => {
    const other = await createTenant(app.db);
    const otherAdmin = await tokenFor(app, await createUser(app.db, other.id, 'tenant_admin'));
    const theirs = await invite(
      { email: newEmail(), displayName: 'Theirs', role: 'agent' },
      otherAdmin,
    );
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/invites/${theirs.json().id}`,
      headers: bearer(adminToken),
    });
    expect(del.statusCode).toBe(404);
    const mine = await app.inject({
      url: '/api/v1/invites?limit=200',
      headers: bearer(adminToken),
    });
    expect(mine.json().items.map((i: { id: number }) => i.id)).not.toContain(theirs.json().id);
    expect((await accept(tokenOf(theirs.json().inviteUrl))).statusCode).toBe(201);
  });

  it('does not withdraw an accepted invite', async () => {
    const res = await invite({ email: newEmail(), displayName: 'Done', role: 'helpdesk' });
    await accept(tokenOf(res.json().inviteUrl));
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/invites/${res.json().id}`,
      headers: bearer(adminToken),
    });
    expect(del.statusCode).toBe(409);
    expect(del.json().error.code).toBe('INVITE_ALREADY_ACCEPTED');
  });

  it('creates one invite per Idempotency-Key, replaying the first answer', async () => {
    const key = `key-${unique()}`;
    const payload = { email: newEmail(), displayName: 'Once', role: 'agent' };
    const first = await invite(payload, adminToken, { 'idempotency-key': key });
    const retry = await invite(payload, adminToken, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    const rows = await app.db
      .selectFrom('invites')
      .select('id')
      .where('email', '=', payload.email)
      .execute();
    expect(rows).toHaveLength(1);
    // The replayed link is the live one.
    expect((await accept(tokenOf(retry.json().inviteUrl))).statusCode).toBe(201);

    const other = await invite({ ...payload, displayName: 'Twice' }, adminToken, {
      'idempotency-key': key,
    });
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
