import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE voicemails (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      -- The call that left it (calls.id) and its linkedid, which survives a CDR purge.
      call_id BIGINT UNSIGNED NULL,
      call_linkedid VARCHAR(64) NOT NULL,
      -- A user's own box, or a shared box by name (a user box whose user is deleted keeps its messages).
      box_user_id BIGINT UNSIGNED NULL,
      box_name VARCHAR(120) NULL,
      from_number VARCHAR(64) NULL,
      duration_ms INT UNSIGNED NOT NULL,
      -- Asterisk's stored recording (without the .wav extension), fetched over ARI.
      recording_name VARCHAR(255) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      listened_at DATETIME(3) NULL,
      UNIQUE KEY uq_voicemails_recording (recording_name),
      KEY ix_voicemails_tenant_created (tenant_id, created_at),
      KEY ix_voicemails_tenant_box_user_created (tenant_id, box_user_id, created_at),
      KEY ix_voicemails_call (call_id),
      CONSTRAINT fk_voicemails_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_voicemails_box_user FOREIGN KEY (box_user_id) REFERENCES users (id) ON DELETE SET NULL,
      CONSTRAINT fk_voicemails_call FOREIGN KEY (call_id) REFERENCES calls (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS voicemails`.execute(db);
}
