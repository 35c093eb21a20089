import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fromJson } from '../../db/json.ts';
import { AppError } from '../../lib/errors.ts';
import { RateLimiter } from '../../lib/rate-limiter.ts';
import { JwksSchema, ROLES, requireAuth } from '../../plugins/auth.ts';
import * as tenants from '../tenants/repository.ts';
import * as users from '../users/repository.ts';
import { AnyRole } from '../users/schemas.ts';
import * as service from './service.ts';

/** Per address: every attempt counts, right or wrong (the limit is LOGIN_RATE_LIMIT_PER_MINUTE). */
const LOGIN_PER_IP_WINDOW_MS = 60_000;
/** Per account: failed attempts only. */
export const LOGIN_FAILURES_PER_ACCOUNT = { max: 5, windowMs: 15 * 60_000 };

const tags = ['auth'];

const SessionUser = Type.Object({
  id: Type.Integer(),
  tenantId: Type.Union([Type.Integer(), Type.Null()]),
  role: AnyRole,
  displayName: Type.String(),
  email: Type.String(),
});

const Session = Type.Object({
  accessToken: Type.String({ description: 'ES256 JWT for `Authorization: Bearer`' }),
  expiresIn: Type.Integer({ description: 'Seconds the access token is valid' }),
  refreshToken: Type.String({
    description: 'Opaque; valid 30 days, single use: each refresh returns the next one',
  }),
  user: SessionUser,
});

const Me = Type.Composite([
  SessionUser,
  Type.Object({
    tenant: Type.Union([
      Type.Object({
        id: Type.Integer(),
        name: Type.String(),
        slug: Type.String(),
        timezone: Type.String(),
        featureFlags: Type.Record(Type.String(), Type.Boolean()),
      }),
      Type.Null(),
    ]),
  }),
]);


export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.tokens.setSessionCheck((sessionId) => service.isSessionRevoked(app, sessionId));

  // Both limiters count in MySQL: a restart (or another replica) keeps the counts of the window.
  const perAddress = new RateLimiter(app.db, LOGIN_PER_IP_WINDOW_MS / 1000, 'login-ip');
  const perAccount = new RateLimiter(app.db, LOGIN_FAILURES_PER_ACCOUNT.windowMs / 1000, 'login-account');
  const sweeper = setInterval(() => {
    for (const limiter of [perAddress, perAccount]) {
      limiter.sweep().catch((err: unknown) => app.log.warn({ err }, 'login limiter sweep failed'));
    }
  }, LOGIN_PER_IP_WINDOW_MS);
  sweeper.unref();
  app.addHook('onClose', async () => clearInterval(sweeper));

  app.post(
    '/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Log in with email and password',
        description:
          'A wrong email and a wrong password get the same 401. At most ' +
          `${app.config.loginRateLimitPerMinute} attempts a minute per address and ` +
          `${LOGIN_FAILURES_PER_ACCOUNT.max} failed attempts per 15 minutes per account; beyond ` +
          'that 429 with Retry-After.',
        body: Type.Object(
          {
            email: Type.String({ minLength: 1, maxLength: 254 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Session },
      },
    },
    async (request) => {
      const account = request.body.email.trim().toLowerCase();
      await perAddress.hit(
        [{ bucket: request.ip, max: app.config.loginRateLimitPerMinute }],
        'Too many login attempts from this address',
      );
      // Counted before the password is checked, given back when it was right: a burst of
      // parallel guesses cannot all slip past while argon2 runs.
      const accountKey = createHash('sha256').update(account).digest('hex');
      await perAccount.reserve({ bucket: accountKey, max: LOGIN_FAILURES_PER_ACCOUNT.max }, 'Too many failed logins for this account');
      let failedGuess = false;
      try {
        const outcome = await service.login(app, account, request.body.password, {
          ip: request.ip,
          userAgent: request.headers['user-agent'],
        });
        if (outcome.ok) return outcome.session;
        failedGuess = !outcome.passwordMatched;
        throw outcome.error;
      } finally {
        if (!failedGuess) await perAccount.release(accountKey);
      }
    },
  );

  app.post(
    '/auth/refresh',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Trade a refresh token for a new access token and the next refresh token',
        description:
          'Each refresh token works once. Presenting one that was already used (or whose session ' +
          'was ended) ends the whole session: every token of it, access tokens included, is refused.',
        body: Type.Object(
          { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
          { additionalProperties: false },
        ),
        response: { 200: Session },
      },
    },
    async (request) =>
      service.refresh(app, request.body.refreshToken, {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
      }),
  );

  app.post(
    '/auth/logout',
    {
      config: { auth: ROLES },
      schema: {
        tags,
        summary: 'End this session: its refresh token and access tokens stop working now',
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.logout(app, requireAuth(request).sessionId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      config: { auth: ROLES },
      schema: { tags, summary: 'Who the access token belongs to', response: { 200: Me } },
    },
    async (request) => {
      const auth = requireAuth(request);
      const user = await users.findSelf(app.db, auth.tenantId, auth.userId);
      if (!user) throw new AppError('UNAUTHENTICATED', 'The account no longer exists', 401);
      const tenant =
        user.tenantId === null ? undefined : await tenants.findById(app.db, user.tenantId);
      return {
        ...service.sessionUser(user),
        tenant: tenant
          ? {
              id: tenant.id,
              name: tenant.name,
              slug: tenant.slug,
              timezone: tenant.timezone,
              featureFlags: fromJson<Record<string, boolean>>(tenant.featureFlags, {}),
            }
          : null,
      };
    },
  );

  app.get(
    '/auth/jwks',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Public keys that verify access tokens (also at /.well-known/jwks.json)',
        response: { 200: JwksSchema },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=300');
      return app.tokens.jwks();
    },
  );
};
