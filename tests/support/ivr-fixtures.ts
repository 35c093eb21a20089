/** IVR menus written straight to the database (their provisioning API is another module's). */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../control/src/db/database.ts';
import type { TargetType } from '../../control/src/db/schema.ts';

export interface TestTarget {
  type: TargetType;
  id?: number;
  value?: string;
}

export async function createIvrMenu(
  db: Db,
  tenantId: number,
  values: {
    prompt: string;
    timeoutSeconds?: number;
    maxRetries?: number;
    invalidPrompt?: string;
    failover?: TestTarget;
    options?: Record<string, TestTarget>;
  },
): Promise<number> {
  const result = await db
    .insertInto('ivrMenus')
    .values({
      tenantId,
      name: `menu-${randomBytes(3).toString('hex')}`,
      prompt: values.prompt,
      timeoutSeconds: values.timeoutSeconds ?? 5,
      maxRetries: values.maxRetries ?? 2,
      invalidPrompt: values.invalidPrompt ?? null,
      failoverTargetType: values.failover?.type ?? null,
      failoverTargetId: values.failover?.id ?? null,
      failoverTargetValue: values.failover?.value ?? null,
    })
    .executeTakeFirstOrThrow();
  const menuId = Number(result.insertId);
  for (const [digit, target] of Object.entries(values.options ?? {})) {
    await db
      .insertInto('ivrOptions')
      .values({
        tenantId,
        menuId,
        digit,
        targetType: target.type,
        targetId: target.id ?? null,
        targetValue: target.value ?? null,
      })
      .execute();
  }
  return menuId;
}
