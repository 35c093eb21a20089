import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE widget_call_tickets (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      widget_id BIGINT UNSIGNED NOT NULL,
      -- The visitor's handle on the ticket (status, callback): random, shown to the page.
      ticket VARCHAR(40) NOT NULL,
      -- The short-lived PJSIP endpoint (auth and aor share the id) pushed to Asterisk for it.
      endpoint_id VARCHAR(80) NOT NULL,
      extension VARCHAR(40) NOT NULL,
      page_url VARCHAR(1000) NULL,
      visitor_name VARCHAR(120) NULL,
      visitor_email VARCHAR(254) NULL,
      visitor_ip VARCHAR(64) NULL,
      expires_at DATETIME(3) NOT NULL,
      used_at DATETIME(3) NULL,
      call_linkedid VARCHAR(64) NULL,
      callback_number VARCHAR(32) NULL,
      removed_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_widget_call_tickets_ticket (ticket),
      UNIQUE KEY uq_widget_call_tickets_endpoint (endpoint_id),
      KEY ix_widget_call_tickets_sweep (removed_at, expires_at),
      KEY ix_widget_call_tickets_tenant (tenant_id, created_at),
      CONSTRAINT fk_widget_call_tickets_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_widget_call_tickets_widget FOREIGN KEY (widget_id) REFERENCES widgets (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS widget_call_tickets`.execute(db);
}
