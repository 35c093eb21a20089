/** Widget settings (admins) and what the public side of a widget reads. */
import { randomBytes } from 'node:crypto';
import type { Executor } from '../../db/database.ts';
import { fromJson, toJson } from '../../db/json.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import type { Page } from '../../lib/pagination.ts';
import { iso, type Ctx } from '../routing/common.ts';
import { hoursStatus } from '../hours/service.ts';
import * as repo from './repository.ts';
import type {
  PrechatField,
  Widget,
  WidgetCreate,
  WidgetListQuery,
  WidgetPatch,
} from './schemas.ts';

export const widgetNotFound = createError('WIDGET_NOT_FOUND', 'Widget %s not found', 404);

export const DEFAULT_PRECHAT: PrechatField[] = [
  { name: 'name', label: 'Your name', type: 'text', required: false },
  { name: 'email', label: 'Email', type: 'email', required: false },
];

/** The script tag for a widget, served by `base` (the control plane's public origin). */
export function snippet(base: string, publicId: string): string {
  return `<script src="${base}/widget.js?id=${publicId}" async></script>`;
}

export function toWidget(row: repo.WidgetRow, base: string): Widget {
  return {
    id: row.id,
    publicId: row.publicId,
    name: row.name,
    color: row.color,
    label: row.label,
    position: row.position,
    logoUrl: row.logoUrl,
    greeting: row.greeting,
    callEnabled: Boolean(row.callEnabled),
    chatEnabled: Boolean(row.chatEnabled),
    callQueueId: row.callQueueId,
    chatQueueId: row.chatQueueId,
    businessHoursId: row.businessHoursId,
    allowedOrigins: fromJson<string[]>(row.allowedOrigins, []),
    prechatFields: fromJson<PrechatField[]>(row.prechatFields, []),
    enabled: Boolean(row.enabled),
    snippet: snippet(base, row.publicId),
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** Queue and hours references must be the tenant's own: a 400 naming each field that is not. */
async function checkRefs(db: Executor, tenantId: number, body: WidgetPatch): Promise<void> {
  const errors = new FieldErrors();
  for (const field of ['callQueueId', 'chatQueueId'] as const) {
    const id = body[field];
    if (id != null && !(await repo.queueInTenant(db, tenantId, id)))
      errors.add(field, 'is not a queue of this tenant');
  }
  if (
    body.businessHoursId != null &&
    !(await repo.hoursInTenant(db, tenantId, body.businessHoursId))
  ) {
    errors.add('businessHoursId', 'is not a business-hours schedule of this tenant');
  }
  errors.throwIfAny();
}

function values(body: WidgetPatch): repo.WidgetChanges {
  const out: repo.WidgetChanges = {};
  if (body.name !== undefined) out.name = body.name;
  if (body.color !== undefined) out.color = body.color;
  if (body.label !== undefined) out.label = body.label;
  if (body.position !== undefined) out.position = body.position;
  if (body.logoUrl !== undefined) out.logoUrl = body.logoUrl;
  if (body.greeting !== undefined) out.greeting = body.greeting;
  if (body.callEnabled !== undefined) out.callEnabled = body.callEnabled ? 1 : 0;
  if (body.chatEnabled !== undefined) out.chatEnabled = body.chatEnabled ? 1 : 0;
  if (body.callQueueId !== undefined) out.callQueueId = body.callQueueId;
  if (body.chatQueueId !== undefined) out.chatQueueId = body.chatQueueId;
  if (body.businessHoursId !== undefined) out.businessHoursId = body.businessHoursId;
  if (body.allowedOrigins !== undefined) out.allowedOrigins = toJson(body.allowedOrigins);
  if (body.prechatFields !== undefined) out.prechatFields = toJson(body.prechatFields);
  if (body.enabled !== undefined) out.enabled = body.enabled ? 1 : 0;
  return out;
}

async function load(db: Executor, tenantId: number, id: number): Promise<repo.WidgetRow> {
  const row = await repo.findWidget(db, tenantId, id);
  if (!row) throw widgetNotFound(id);
  return row;
}

export async function getWidget(
  db: Executor,
  tenantId: number,
  id: number,
  base: string,
): Promise<Widget> {
  return toWidget(await load(db, tenantId, id), base);
}

export async function listWidgets(
  db: Executor,
  tenantId: number,
  query: WidgetListQuery,
  base: string,
): Promise<Page<Widget>> {
  const page = await repo.listWidgets(db, tenantId, query);
  return { items: page.items.map((r) => toWidget(r, base)), nextCursor: page.nextCursor };
}

export async function createWidget(ctx: Ctx, body: WidgetCreate, base: string): Promise<Widget> {
  await checkRefs(ctx.db, ctx.tenantId, body);
  return ctx.db.transaction().execute(async (trx) => {
    const publicId = `w${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
    const id = await repo.insertWidget(trx, ctx.tenantId, {
      ...values(body),
      name: body.name,
      publicId,
      allowedOrigins: toJson(body.allowedOrigins ?? []),
      prechatFields: toJson(body.prechatFields ?? DEFAULT_PRECHAT),
    });
    const widget = toWidget(await load(trx, ctx.tenantId, id), base);
    await audit(trx, ctx.request, {
      action: 'widget.create',
      entityType: 'widget',
      entityId: id,
      after: widget,
    });
    return widget;
  });
}

export async function updateWidget(
  ctx: Ctx,
  id: number,
  version: number,
  body: WidgetPatch,
  base: string,
): Promise<Widget> {
  const before = toWidget(await load(ctx.db, ctx.tenantId, id), base);
  await checkRefs(ctx.db, ctx.tenantId, body);
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.updateWidget(trx, ctx.tenantId, id, version, values(body)))) {
      const current = await load(trx, ctx.tenantId, id);
      throw versionConflict(current.version);
    }
    const after = toWidget(await load(trx, ctx.tenantId, id), base);
    await audit(trx, ctx.request, {
      action: 'widget.update',
      entityType: 'widget',
      entityId: id,
      before,
      after,
    });
    return after;
  });
}

export async function deleteWidget(
  ctx: Ctx,
  id: number,
  version: number,
  base: string,
): Promise<void> {
  const before = await load(ctx.db, ctx.tenantId, id);
  if (before.version !== version) throw versionConflict(before.version);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.deleteWidget(trx, ctx.tenantId, id);
    await audit(trx, ctx.request, {
      action: 'widget.delete',
      entityType: 'widget',
      entityId: id,
      before: toWidget(before, base),
    });
  });
}

/** Whether the widget's business hours are open now (no schedule: always). */
export async function isOpenNow(
  db: Executor,
  widget: repo.WidgetRow,
  at = new Date(),
): Promise<boolean> {
  if (widget.businessHoursId === null) return true;
  try {
    return (await hoursStatus(db, widget.tenantId, widget.businessHoursId, at)).open;
  } catch {
    return true;
  }
}
