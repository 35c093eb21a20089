/**
 * Contacts (the CRM part): names, several E.164 phones, emails, company, notes; CSV import and
 * export; and the screen-pop lookup by phone or email.
 */
import { sql, type Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { ContactTable } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { AppError, createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import { paginate, type Page } from '../../lib/pagination.ts';
import { likeContains } from '../../lib/search.ts';
import { iso } from '../routing/common.ts';
import type { HelpdeskCtx } from './context.ts';
import { CsvError, parseCsv, toCsv } from './csv.ts';
import type {
  Contact,
  ContactCreate,
  ContactListQuery,
  ContactPatch,
  ImportResult,
} from './schemas.ts';

export const contactNotFound = createError('CONTACT_NOT_FOUND', 'Contact %s not found', 404);
type ContactRow = Selectable<ContactTable>;

const E164 = /^\+[1-9]\d{1,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

async function present(db: Executor, tenantId: number, rows: ContactRow[]): Promise<Contact[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const phones = await db
    .selectFrom('contactPhones')
    .select(['contactId', 'number', 'label'])
    .where('tenantId', '=', tenantId)
    .where('contactId', 'in', ids)
    .orderBy('position')
    .orderBy('id')
    .execute();
  const emails = await db
    .selectFrom('contactEmails')
    .select(['contactId', 'email'])
    .where('tenantId', '=', tenantId)
    .where('contactId', 'in', ids)
    .orderBy('position')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    firstName: r.firstName,
    lastName: r.lastName,
    company: r.company,
    notes: r.notes,
    phones: phones
      .filter((p) => p.contactId === r.id)
      .map((p) => ({ number: p.number, label: p.label })),
    emails: emails.filter((e) => e.contactId === r.id).map((e) => e.email),
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  }));
}

export async function findContactRow(
  db: Executor,
  tenantId: number,
  id: number,
  options: { forUpdate?: boolean; shared?: boolean } = {},
): Promise<ContactRow | undefined> {
  let q = db
    .selectFrom('contacts')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  if (options.shared) q = q.modifyEnd(sql`lock in share mode`);
  return q.executeTakeFirst();
}

export async function getContact(db: Executor, tenantId: number, id: number): Promise<Contact> {
  const row = await findContactRow(db, tenantId, id);
  if (!row) throw contactNotFound(id);
  return (await present(db, tenantId, [row]))[0]!;
}

export async function listContacts(
  db: Executor,
  tenantId: number,
  query: ContactListQuery,
): Promise<Page<Contact>> {
  let q = db.selectFrom('contacts').selectAll('contacts').where('contacts.tenantId', '=', tenantId);
  if (query.q) {
    const like = likeContains(query.q);
    q = q.where((eb) =>
      eb.or([
        eb('contacts.firstName', 'like', like),
        eb('contacts.lastName', 'like', like),
        eb('contacts.company', 'like', like),
        eb(sql<string>`concat(contacts.first_name, ' ', contacts.last_name)`, 'like', like),
      ]),
    );
  }
  if (query.phone) {
    const phone = query.phone;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('contactPhones')
          .select('contactPhones.id')
          .whereRef('contactPhones.contactId', '=', 'contacts.id')
          .where('contactPhones.tenantId', '=', tenantId)
          .where('contactPhones.number', '=', phone),
      ),
    );
  }
  if (query.email) {
    const email = query.email.toLowerCase();
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('contactEmails')
          .select('contactEmails.id')
          .whereRef('contactEmails.contactId', '=', 'contacts.id')
          .where('contactEmails.tenantId', '=', tenantId)
          .where('contactEmails.email', '=', email),
      ),
    );
  }
  const page = await paginate(
    q,
    query,
    { createdAt: 'createdAt', lastName: 'lastName', company: 'company', id: 'id' },
    'contacts',
  );
  return { items: await present(db, tenantId, page.items), nextCursor: page.nextCursor };
}

interface ContactValues {
  firstName: string;
  lastName: string;
  company: string;
  notes: string | null;
  phones: Array<{ number: string; label?: string | undefined }>;
  emails: string[];
}

function checkValues(v: ContactValues, errors: FieldErrors): void {
  if (!v.firstName.trim() && !v.lastName.trim() && !v.company.trim()) {
    errors.add('firstName', 'a contact needs a first name, last name or company');
  }
  const seen = new Set<string>();
  v.phones.forEach((p, i) => {
    if (!E164.test(p.number)) errors.add(`phones.${i}.number`, 'must be E.164, like +442079460123');
    else if (seen.has(p.number)) errors.add(`phones.${i}.number`, 'is listed twice');
    seen.add(p.number);
  });
  const seenEmail = new Set<string>();
  v.emails.forEach((e, i) => {
    if (!EMAIL.test(e) || e.length > 254) errors.add(`emails.${i}`, 'must be an email address');
    else if (seenEmail.has(e.toLowerCase())) errors.add(`emails.${i}`, 'is listed twice');
    seenEmail.add(e.toLowerCase());
  });
}

async function writeChildren(db: Executor, tenantId: number, contactId: number, v: ContactValues) {
  await db
    .deleteFrom('contactPhones')
    .where('tenantId', '=', tenantId)
    .where('contactId', '=', contactId)
    .execute();
  await db
    .deleteFrom('contactEmails')
    .where('tenantId', '=', tenantId)
    .where('contactId', '=', contactId)
    .execute();
  if (v.phones.length > 0) {
    await db
      .insertInto('contactPhones')
      .values(
        v.phones.map((p, position) => ({
          tenantId,
          contactId,
          number: p.number,
          label: p.label ?? '',
          position,
        })),
      )
      .execute();
  }
  if (v.emails.length > 0) {
    await db
      .insertInto('contactEmails')
      .values(
        v.emails.map((email, position) => ({
          tenantId,
          contactId,
          email: email.toLowerCase(),
          position,
        })),
      )
      .execute();
  }
}

async function insertContact(db: Executor, tenantId: number, v: ContactValues): Promise<number> {
  const result = await db
    .insertInto('contacts')
    .values({
      tenantId,
      firstName: v.firstName,
      lastName: v.lastName,
      company: v.company,
      notes: v.notes,
    })
    .executeTakeFirstOrThrow();
  const id = Number(result.insertId);
  await writeChildren(db, tenantId, id, v);
  return id;
}

function valuesOf(body: ContactCreate): ContactValues {
  return {
    firstName: body.firstName?.trim() ?? '',
    lastName: body.lastName?.trim() ?? '',
    company: body.company?.trim() ?? '',
    notes: body.notes ?? null,
    phones: body.phones ?? [],
    emails: body.emails ?? [],
  };
}

export async function createContact(ctx: HelpdeskCtx, body: ContactCreate): Promise<Contact> {
  const values = valuesOf(body);
  const errors = new FieldErrors();
  checkValues(values, errors);
  errors.throwIfAny();
  return ctx.db.transaction().execute(async (trx) => {
    const id = await insertContact(trx, ctx.tenantId, values);
    const after = await getContact(trx, ctx.tenantId, id);
    if (ctx.request) {
      await audit(trx, ctx.request, {
        action: 'contact.create',
        entityType: 'contact',
        entityId: id,
        after,
      });
    }
    return after;
  });
}

/** Finds a contact by email or phone, or creates one; for tickets made from calls, chats, forms. */
export async function findOrCreateContact(
  db: Executor,
  tenantId: number,
  who: { name?: string | undefined; email?: string | undefined; phone?: string | undefined },
): Promise<number | null> {
  const email = who.email?.toLowerCase();
  if (email) {
    const hit = await db
      .selectFrom('contactEmails')
      .select('contactId')
      .where('tenantId', '=', tenantId)
      .where('email', '=', email)
      .orderBy('id')
      .executeTakeFirst();
    if (hit) return Number(hit.contactId);
  }
  if (who.phone) {
    const hit = await db
      .selectFrom('contactPhones')
      .select('contactId')
      .where('tenantId', '=', tenantId)
      .where('number', '=', who.phone)
      .orderBy('id')
      .executeTakeFirst();
    if (hit) return Number(hit.contactId);
  }
  if (!email && !(who.phone && E164.test(who.phone)) && !who.name) return null;
  const [firstName = '', ...rest] = (who.name ?? '').trim().split(/\s+/);
  return insertContact(db, tenantId, {
    firstName: firstName || (email ?? who.phone ?? ''),
    lastName: rest.join(' '),
    company: '',
    notes: null,
    phones: who.phone && E164.test(who.phone) ? [{ number: who.phone }] : [],
    emails: email ? [email] : [],
  });
}

export async function updateContact(
  ctx: HelpdeskCtx,
  id: number,
  version: number,
  patch: ContactPatch,
): Promise<Contact> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await findContactRow(trx, ctx.tenantId, id, { forUpdate: true });
    if (!row) throw contactNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    const before = await getContact(trx, ctx.tenantId, id);
    const values: ContactValues = {
      firstName: patch.firstName?.trim() ?? before.firstName,
      lastName: patch.lastName?.trim() ?? before.lastName,
      company: patch.company?.trim() ?? before.company,
      notes: patch.notes !== undefined ? patch.notes : before.notes,
      phones: patch.phones ?? before.phones,
      emails: patch.emails ?? before.emails,
    };
    const errors = new FieldErrors();
    checkValues(values, errors);
    errors.throwIfAny();
    await trx
      .updateTable('contacts')
      .set({
        firstName: values.firstName,
        lastName: values.lastName,
        company: values.company,
        notes: values.notes,
        version: sql<number>`version + 1`,
      })
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .execute();
    if (patch.phones !== undefined || patch.emails !== undefined)
      await writeChildren(trx, ctx.tenantId, id, values);
    const after = await getContact(trx, ctx.tenantId, id);
    if (ctx.request) {
      await audit(trx, ctx.request, {
        action: 'contact.update',
        entityType: 'contact',
        entityId: id,
        before,
        after,
      });
    }
    return after;
  });
}

export async function deleteContact(ctx: HelpdeskCtx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await findContactRow(trx, ctx.tenantId, id, { forUpdate: true });
    if (!row) throw contactNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    const before = await getContact(trx, ctx.tenantId, id);
    // Tickets keep their history; their requester becomes unknown (FK ON DELETE SET NULL).
    await trx
      .deleteFrom('contacts')
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .execute();
    if (ctx.request) {
      await audit(trx, ctx.request, {
        action: 'contact.delete',
        entityType: 'contact',
        entityId: id,
        before,
      });
    }
  });
}

// ------------------------------------------------------------------ CSV

/** Columns of the CSV, in export order; import reads them by header name, in any order. */
export const CSV_COLUMNS = [
  'first_name',
  'last_name',
  'company',
  'phones',
  'emails',
  'notes',
] as const;
const MAX_IMPORT_ROWS = 10_000;
const split = (v: string) =>
  v
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Imports contacts from CSV: the good rows are written (in one transaction), the bad ones are
 * reported by line with the fields at fault. Phones and emails hold several values separated
 * by `;`.
 */
export async function importContacts(ctx: HelpdeskCtx, text: string): Promise<ImportResult> {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) {
      throw new AppError('VALIDATION_FAILED', 'Invalid CSV', 400, [
        { field: 'csv', message: `line ${err.line}: ${err.message}` },
      ]);
    }
    throw err;
  }
  const [header, ...rows] = records;
  if (!header)
    throw new AppError('VALIDATION_FAILED', 'Invalid CSV', 400, [
      { field: 'csv', message: 'is empty' },
    ]);
  const names = header.fields.map((f) =>
    f
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
  );
  const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'Invalid CSV', 400, [
      {
        field: 'csv',
        message: `line 1: unknown columns ${unknown.join(', ')}; known: ${CSV_COLUMNS.join(', ')}`,
      },
    ]);
  }
  if (rows.length > MAX_IMPORT_ROWS) {
    throw new AppError('VALIDATION_FAILED', 'Invalid CSV', 400, [
      { field: 'csv', message: `has more than ${MAX_IMPORT_ROWS} rows` },
    ]);
  }
  const good: ContactValues[] = [];
  const bad: ImportResult['errors'] = [];
  for (const record of rows) {
    const get = (column: string) => {
      const i = names.indexOf(column);
      return i >= 0 ? (record.fields[i] ?? '').trim() : '';
    };
    const errors = new FieldErrors();
    if (record.fields.length !== names.length) {
      errors.add('row', `has ${record.fields.length} fields; the header has ${names.length}`);
    }
    const values: ContactValues = {
      firstName: get('first_name'),
      lastName: get('last_name'),
      company: get('company'),
      notes: get('notes') || null,
      phones: split(get('phones')).map((number) => ({ number: number.replace(/[\s().-]/g, '') })),
      emails: split(get('emails')),
    };
    for (const [field, value, max] of [
      ['first_name', values.firstName, 120],
      ['last_name', values.lastName, 120],
      ['company', values.company, 200],
    ] as const) {
      if (value.length > max) errors.add(field, `is longer than ${max} characters`);
    }
    checkValues(values, errors);
    if (errors.empty) good.push(values);
    else {
      bad.push({
        line: record.line,
        errors: errors.list.map((e) => ({
          field: e.field
            .replace(/^phones\.\d+\.number$/, 'phones')
            .replace(/^emails\.\d+$/, 'emails')
            .replace(/^firstName$/, 'first_name'),
          message: e.message,
        })),
      });
    }
  }
  const contactIds = await ctx.db.transaction().execute(async (trx) => {
    const ids: number[] = [];
    for (const values of good) ids.push(await insertContact(trx, ctx.tenantId, values));
    if (ctx.request) {
      await audit(trx, ctx.request, {
        action: 'contact.import',
        entityType: 'contact',
        after: { imported: ids.length, rejectedLines: bad.map((b) => b.line) },
      });
    }
    return ids;
  });
  return { imported: contactIds.length, contactIds, errors: bad };
}

export async function exportContacts(db: Executor, tenantId: number): Promise<string> {
  const rows: string[][] = [[...CSV_COLUMNS]];
  let lastId = 0;
  // In pages, so a large book does not sit in memory twice.
  for (;;) {
    const page = await db
      .selectFrom('contacts')
      .selectAll()
      .where('tenantId', '=', tenantId)
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(500)
      .execute();
    if (page.length === 0) break;
    for (const c of await present(db, tenantId, page)) {
      rows.push([
        c.firstName,
        c.lastName,
        c.company,
        c.phones.map((p) => p.number).join(';'),
        c.emails.join(';'),
        c.notes ?? '',
      ]);
    }
    lastId = page[page.length - 1]!.id;
  }
  return toCsv(rows);
}

// ------------------------------------------------------------------ screen-pop

/** Contacts matching a phone (E.164) or an email, most recently changed first. */
export async function contactsMatching(
  db: Executor,
  tenantId: number,
  match: { phone?: string | undefined; email?: string | undefined },
): Promise<Contact[]> {
  const ids = new Set<number>();
  if (match.phone) {
    const rows = await db
      .selectFrom('contactPhones')
      .select('contactId')
      .where('tenantId', '=', tenantId)
      .where('number', '=', match.phone)
      .limit(20)
      .execute();
    rows.forEach((r) => ids.add(Number(r.contactId)));
  }
  if (match.email) {
    const rows = await db
      .selectFrom('contactEmails')
      .select('contactId')
      .where('tenantId', '=', tenantId)
      .where('email', '=', match.email.toLowerCase())
      .limit(20)
      .execute();
    rows.forEach((r) => ids.add(Number(r.contactId)));
  }
  if (ids.size === 0) return [];
  const rows = await db
    .selectFrom('contacts')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', 'in', [...ids])
    .orderBy('updatedAt', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return present(db, tenantId, rows);
}

/** The contact's recent calls: any call from or to one of its numbers. */
export async function recentCalls(db: Executor, tenantId: number, numbers: string[], limit = 5) {
  if (numbers.length === 0) return [];
  const rows = await db
    .selectFrom('calls')
    .select(['id', 'direction', 'fromNumber', 'toNumber', 'startedAt', 'talkMs', 'agentUserId'])
    .where('tenantId', '=', tenantId)
    .where((eb) => eb.or([eb('fromNumber', 'in', numbers), eb('toNumber', 'in', numbers)]))
    .orderBy('startedAt', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    direction: r.direction,
    fromNumber: r.fromNumber,
    toNumber: r.toNumber,
    startedAt: iso(r.startedAt),
    talkMs: r.talkMs,
    agentUserId: r.agentUserId === null ? null : Number(r.agentUserId),
  }));
}
