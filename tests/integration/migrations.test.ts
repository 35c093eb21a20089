import { sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import {
  dropDatabase,
  ensureDatabase,
  listTables,
  migrateDownAll,
  migrationFiles,
  migrateToLatest,
} from '../../control/src/db/migrate.ts';
import { migrations } from '../../migrations/index.ts';
import { freshDatabaseUrl } from '../support/database.ts';

const SCHEMA = [
  'agent_state_log',
  'audit_log',
  'business_hours',
  'call_events',
  'callbacks',
  'calls',
  'chat_messages',
  'chats',
  'contact_emails',
  'contact_phones',
  'contacts',
  'dids',
  'holidays',
  'idempotency_keys',
  'invites',
  'ivr_menus',
  'ivr_options',
  'offline_messages',
  'queue_members',
  'queues',
  'rate_limit_hits',
  'refresh_tokens',
  'security_blocks',
  'signing_keys',
  'sip_endpoints',
  'sla_policies',
  'tenants',
  'ticket_attachments',
  'ticket_fields',
  'ticket_history',
  'ticket_links',
  'ticket_messages',
  'ticket_views',
  'tickets',
  'users',
  'voicemails',
  'widget_call_tickets',
  'widgets',
];

describe('migrations', () => {
  const url = freshDatabaseUrl(inject('mysqlServerUrl'), 'migrations');
  const db = createDatabase(url, { connectionLimit: 1 });

  afterAll(async () => {
    await db.destroy();
    await dropDatabase(url);
  });

  it('lists every file of migrations/ in migrations/index.ts, in order', () => {
    expect(Object.keys(migrations)).toEqual(migrationFiles());
  });

  it('go up, all the way down, and up again on a fresh database', async () => {
    await ensureDatabase(url);
    const up = await migrateToLatest(db);
    expect(up.every((r) => r.status === 'Success')).toBe(true);
    expect((await listTables(db)).filter((t) => !t.startsWith('kysely_')).sort()).toEqual(SCHEMA);

    const down = await migrateDownAll(db);
    expect(down).toHaveLength(up.length);
    expect((await listTables(db)).filter((t) => !t.startsWith('kysely_'))).toEqual([]);

    const again = await migrateToLatest(db);
    expect(again.map((r) => r.migrationName)).toEqual(up.map((r) => r.migrationName));
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('indexes the common CDR queries by tenant and time', async () => {
    // SHOW INDEX reads the same on MariaDB and MySQL 8.
    const { rows } = await sql<{ Key_name: string; Column_name: string; Seq_in_index: number }>`
      SHOW INDEX FROM calls`.execute(db.withoutPlugins());
    const columns = (key: string) =>
      rows
        .filter((r) => r.Key_name === key)
        .sort((a, b) => a.Seq_in_index - b.Seq_in_index)
        .map((r) => r.Column_name);
    expect(columns('ix_calls_tenant_started')).toEqual(['tenant_id', 'started_at']);
    expect(columns('ix_calls_tenant_queue_started')).toEqual(['tenant_id', 'queue_id', 'started_at']);
    expect(columns('ix_calls_tenant_agent_started')).toEqual(['tenant_id', 'agent_user_id', 'started_at']);
    expect(columns('uq_calls_linkedid')).toEqual(['linkedid']);
  });

  it('indexes a tenant’s DIDs by number, the order they are listed and paged in', async () => {
    const { rows } = await sql<{ Key_name: string; Column_name: string; Seq_in_index: number }>`
      SHOW INDEX FROM dids`.execute(db.withoutPlugins());
    const columns = rows
      .filter((r) => r.Key_name === 'ix_dids_tenant_number')
      .sort((a, b) => a.Seq_in_index - b.Seq_in_index)
      .map((r) => r.Column_name);
    expect(columns).toEqual(['tenant_id', 'number']);
  });
});
