/**
 * Authentication and role checks for every route.
 *
 * Every route under /api declares who may call it in its config, and start-up fails if one
 * forgets:
 *
 *   app.get('/api/v1/queues', { config: { auth: ['tenant_admin', 'supervisor'] } }, handler)
 *   app.post('/api/v1/auth/login', { config: { auth: 'public' } }, handler)
 *
 * Access tokens are ES256 JWTs signed with a key from `signing_keys` (its `kid` in the header);
 * the public keys are served as a JWKS (/.well-known/jwks.json). Tokens carry the session
 * (refresh-token family) id, and a revoked session's access tokens stop working at once, not when
 * they expire: modules/auth tells `setSessionCheck` how to ask the database.
 */
import fp from 'fastify-plugin';
import { Type, type Static } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  SignJWT,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type CryptoKey,
} from 'jose';
import { fromJson, toJson } from '../db/json.ts';
import type { Role } from '../db/schema.ts';
import { AppError } from '../lib/errors.ts';

export const ROLES: readonly Role[] = [
  'platform_admin',
  'tenant_admin',
  'supervisor',
  'agent',
  'helpdesk',
];
/** Every role of a tenant (not the platform admin). */
export const TENANT_ROLES: readonly Role[] = ['tenant_admin', 'supervisor', 'agent', 'helpdesk'];

/** A JWKS as served: EC public keys, each with its `kid`. */
export const JwksSchema = Type.Object({
  keys: Type.Array(
    Type.Object(
      {
        kty: Type.String(),
        kid: Type.String(),
        alg: Type.Optional(Type.String()),
        use: Type.Optional(Type.String()),
        crv: Type.Optional(Type.String()),
        x: Type.Optional(Type.String()),
        y: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  ),
});

export type Jwks = Static<typeof JwksSchema>;

export type RouteAuth = 'public' | readonly Role[];

export interface AuthContext {
  userId: number;
  /** NULL for platform admins. */
  tenantId: number | null;
  role: Role;
  /** The session: the refresh-token family this access token was issued with. */
  sessionId: string;
}

export interface AccessTokenSubject {
  userId: number;
  tenantId: number | null;
  role: Role;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    auth: AuthContext | undefined;
  }
  interface FastifyInstance {
    tokens: TokenService;
  }
}

const ISSUER = 'calldock';
const AUDIENCE = 'calldock-api';
const ALG = 'ES256';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export const unauthenticated = (message = 'A valid access token is required') =>
  new AppError('UNAUTHENTICATED', message, 401);
export const forbidden = (message = 'Your role may not do this') =>
  new AppError('FORBIDDEN', message, 403);

export interface TokenService {
  issueAccessToken(subject: AccessTokenSubject): Promise<{ token: string; expiresIn: number }>;
  verifyAccessToken(token: string): Promise<AuthContext>;
  /** The public keys (every unretired `kid`), loading them on first use. */
  jwks(): Promise<Jwks>;
  /** Called by logout and refresh-token reuse detection. */
  revokeSession(sessionId: string): void;
  /** Tells the verifier how to ask whether a session is revoked (set by the auth module). */
  setSessionCheck(check: (sessionId: string) => Promise<boolean>): void;
}

interface KeyRing {
  kid: string;
  privateKey: CryptoKey;
  jwks: Jwks;
}

async function loadKeys(app: FastifyInstance): Promise<KeyRing> {
  const rows = await app.db
    .selectFrom('signingKeys')
    .selectAll()
    .where('retiredAt', 'is', null)
    .orderBy('createdAt', 'desc')
    .execute();
  const active = rows[0];
  if (!active) {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const row = {
      kid,
      alg: ALG,
      publicJwk: toJson({ ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' }),
      privateJwk: toJson({ ...(await exportJWK(privateKey)), kid, alg: ALG }),
    };
    // Two replicas starting at once may both generate a key; both keys are valid and served.
    await app.db.insertInto('signingKeys').values(row).execute();
    return loadKeys(app);
  }
  const privateJwk = fromJson<JWK>(active.privateJwk, {});
  return {
    kid: active.kid,
    privateKey: (await importJWK(privateJwk, ALG)) as CryptoKey,
    jwks: {
      keys: rows.map((r) => fromJson<Jwks['keys'][number]>(r.publicJwk, { kty: 'EC', kid: r.kid })),
    },
  };
}

/** Short-lived memory of session checks so a burst of requests costs one query. */
class SessionCache {
  private readonly entries = new Map<string, { revoked: boolean; at: number }>();
  constructor(private readonly ttlMs: number) {}
  get(id: string): boolean | undefined {
    const hit = this.entries.get(id);
    if (!hit) return undefined;
    if (!hit.revoked && Date.now() - hit.at > this.ttlMs) {
      this.entries.delete(id);
      return undefined;
    }
    return hit.revoked;
  }
  set(id: string, revoked: boolean): void {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(id, { revoked, at: Date.now() });
  }
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

async function authPlugin(app: FastifyInstance): Promise<void> {
  // One load at a time: concurrent first requests share it instead of each generating a key.
  // A failed load is forgotten so the next request tries again.
  type Loaded = { ring: KeyRing; verifier: ReturnType<typeof createLocalJWKSet> };
  let loading: Promise<Loaded> | undefined;
  const keys = () => {
    loading ??= loadKeys(app).then(
      (ring) => ({ ring, verifier: createLocalJWKSet(ring.jwks as JSONWebKeySet) }),
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
  // Load the keys early when the database is there; if it is not, start anyway (readiness says
  // so) and load them on first use.
  app.addHook('onReady', async () => {
    await keys().catch((err: unknown) => app.log.warn({ err }, 'signing keys not loaded yet'));
  });

  const sessions = new SessionCache(5_000);
  let sessionCheck: (sessionId: string) => Promise<boolean> = async () => false;

  const tokens: TokenService = {
    async issueAccessToken(subject) {
      const { ring } = await keys();
      const token = await new SignJWT({ tid: subject.tenantId, role: subject.role, sid: subject.sessionId })
        .setProtectedHeader({ alg: ALG, kid: ring.kid, typ: 'JWT' })
        .setSubject(String(subject.userId))
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
        .sign(ring.privateKey);
      return { token, expiresIn: ACCESS_TOKEN_TTL_SECONDS };
    },
    async verifyAccessToken(token) {
      const { verifier } = await keys();
      let payload;
      try {
        // Only ES256 is accepted: `alg: none` and HMAC-with-the-public-key tricks fail here.
        ({ payload } = await jwtVerify(token, verifier, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: [ALG],
        }));
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw unauthenticated(
          code === 'ERR_JWT_EXPIRED' ? 'The access token has expired' : 'The access token is not valid',
        );
      }
      const userId = Number(payload.sub);
      const tenantId = payload.tid === null ? null : Number(payload.tid);
      const sessionId = payload.sid;
      if (!Number.isInteger(userId) || !isRole(payload.role) || typeof sessionId !== 'string') {
        throw unauthenticated('The access token is not valid');
      }
      let revoked = sessions.get(sessionId);
      if (revoked === undefined) {
        revoked = await sessionCheck(sessionId);
        sessions.set(sessionId, revoked);
      }
      if (revoked) throw unauthenticated('The session has ended; log in again');
      return { userId, tenantId, role: payload.role, sessionId };
    },
    async jwks() {
      return (await keys()).ring.jwks;
    },
    revokeSession(sessionId) {
      sessions.set(sessionId, true);
    },
    setSessionCheck(check) {
      sessionCheck = check;
    },
  };
  app.decorate('tokens', tokens);
  app.decorateRequest('auth', undefined);

  // The well-known place verifiers look; /api/v1/auth/jwks serves the same set.
  app.get(
    '/.well-known/jwks.json',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify access tokens (JWKS)',
        response: { 200: JwksSchema },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=300');
      return tokens.jwks();
    },
  );

  // Every /api route must say who may call it; forgetting is a start-up error, not an open door.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const auth = route.config?.auth;
    if (auth === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare config.auth`);
    }
    if (auth !== 'public') {
      const schema = (route.schema ??= {}) as Record<string, unknown>;
      schema.security = [{ bearer: [] }];
      const roles = `Roles: ${auth.join(', ')}.`;
      const said = schema.description === undefined ? undefined : String(schema.description);
      // A GET and its automatic HEAD twin share one schema object: say the roles once.
      if (!said?.endsWith(roles)) schema.description = said ? `${said}\n\n${roles}` : roles;
    }
  });

  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config?.auth;
    if (auth === undefined || auth === 'public') return;
    const header = request.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match?.[1]) throw unauthenticated();
    const context = await tokens.verifyAccessToken(match[1]);
    if (!auth.includes(context.role)) throw forbidden();
    request.auth = context;
  });
}

/** The caller, on a route that is not public. */
export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}

/**
 * The tenant every query of this request is scoped to: the caller's own. Platform admins have
 * none and work on tenants through /api/v1/tenants.
 */
export function tenantOf(request: FastifyRequest): number {
  const auth = requireAuth(request);
  if (auth.tenantId === null) throw forbidden('This route works on a tenant; your login has none');
  return auth.tenantId;
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['db'] });
