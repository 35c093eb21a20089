/**
 * Seeds the demo tenant and its logins. Idempotent: running it again changes nothing that is
 * already there (and never resets a password someone changed).
 */
import argon2 from 'argon2';
import type { Db } from './database.ts';
import { toJson } from './json.ts';
import type { Role } from './schema.ts';

export const DEMO_PASSWORD = 'calldock-demo';

export interface DemoLogin {
  email: string;
  role: Role;
  displayName: string;
  extension?: string;
}

export const PLATFORM_ADMIN: DemoLogin = {
  email: 'platform@calldock.test',
  role: 'platform_admin',
  displayName: 'Platform Admin',
};

export const DEMO_TENANT = { name: 'Demo Company', slug: 'demo', timezone: 'Europe/London' };

export const DEMO_LOGINS: readonly DemoLogin[] = [
  { email: 'admin@demo.calldock.test', role: 'tenant_admin', displayName: 'Ada Admin' },
  { email: 'supervisor@demo.calldock.test', role: 'supervisor', displayName: 'Sam Supervisor' },
  { email: 'agent1@demo.calldock.test', role: 'agent', displayName: 'Alex Agent', extension: '1001' },
  { email: 'agent2@demo.calldock.test', role: 'agent', displayName: 'Bea Agent', extension: '1002' },
];

export async function seedDemo(db: Db): Promise<{ tenantId: number }> {
  const hash = await argon2.hash(DEMO_PASSWORD, { type: argon2.argon2id });
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('tenants')
      .values({ ...DEMO_TENANT, featureFlags: toJson({}) })
      .onDuplicateKeyUpdate({ slug: DEMO_TENANT.slug })
      .execute();
    const tenant = await trx
      .selectFrom('tenants')
      .select('id')
      .where('slug', '=', DEMO_TENANT.slug)
      .executeTakeFirstOrThrow();

    const users = [
      { ...PLATFORM_ADMIN, tenantId: null },
      ...DEMO_LOGINS.map((login) => ({ ...login, tenantId: tenant.id })),
    ];
    for (const user of users) {
      await trx
        .insertInto('users')
        .values({
          tenantId: user.tenantId,
          email: user.email,
          displayName: user.displayName,
          role: user.role,
          extension: user.extension ?? null,
          passwordHash: hash,
        })
        .onDuplicateKeyUpdate({ email: user.email })
        .execute();
    }
    return { tenantId: tenant.id };
  });
}
