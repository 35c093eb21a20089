import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tickets (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      subject VARCHAR(250) NOT NULL,
      requester_contact_id BIGINT UNSIGNED NULL,
      status ENUM('new','open','pending','solved','closed') NOT NULL DEFAULT 'new',
      priority ENUM('low','normal','high','urgent') NOT NULL DEFAULT 'normal',
      assignee_user_id BIGINT UNSIGNED NULL,
      group_queue_id BIGINT UNSIGNED NULL,
      tags JSON NOT NULL,
      custom_fields JSON NOT NULL,
      -- Where it came from (call, voicemail, chat, offline_form); ticket_links holds the way back.
      source_kind VARCHAR(20) NULL,
      source_id VARCHAR(64) NULL,
      merged_into_ticket_id BIGINT UNSIGNED NULL,
      created_by_user_id BIGINT UNSIGNED NULL,
      first_response_due_at DATETIME(3) NULL,
      resolution_due_at DATETIME(3) NULL,
      first_responded_at DATETIME(3) NULL,
      solved_at DATETIME(3) NULL,
      closed_at DATETIME(3) NULL,
      -- Set once by the breach job (a guarded UPDATE), never cleared.
      first_response_breached_at DATETIME(3) NULL,
      resolution_breached_at DATETIME(3) NULL,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      KEY ix_tickets_tenant_status (tenant_id, status, updated_at),
      KEY ix_tickets_tenant_created (tenant_id, created_at),
      KEY ix_tickets_tenant_assignee (tenant_id, assignee_user_id, status),
      KEY ix_tickets_tenant_requester (tenant_id, requester_contact_id, created_at),
      KEY ix_tickets_fr_due (first_response_due_at),
      KEY ix_tickets_res_due (resolution_due_at),
      CONSTRAINT fk_tickets_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_tickets_requester FOREIGN KEY (requester_contact_id) REFERENCES contacts (id) ON DELETE SET NULL,
      CONSTRAINT fk_tickets_assignee FOREIGN KEY (assignee_user_id) REFERENCES users (id) ON DELETE SET NULL,
      CONSTRAINT fk_tickets_group FOREIGN KEY (group_queue_id) REFERENCES queues (id) ON DELETE SET NULL,
      CONSTRAINT fk_tickets_merged_into FOREIGN KEY (merged_into_ticket_id) REFERENCES tickets (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS tickets`.execute(db);
}
