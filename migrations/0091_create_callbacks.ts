import { sql, type Kysely } from 'kysely';

/**
 * Callback tasks: a customer to call back from a queue, in the place they had in it. A task
 * waits (in the queue, ordered by queued_at), is dialled when an agent takes it, and ends
 * completed (the customer answered), failed (attempts used up) or cancelled.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE callbacks (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      queue_id BIGINT UNSIGNED NOT NULL,
      number VARCHAR(32) NOT NULL,
      reason ENUM('requested', 'abandoned', 'scheduled', 'web') NOT NULL,
      status ENUM('waiting', 'dialing', 'completed', 'failed', 'cancelled') NOT NULL DEFAULT 'waiting',
      -- The call that asked for it or was abandoned (one task per call at most).
      origin_linkedid VARCHAR(64) NULL,
      -- The latest call placed for it.
      callback_linkedid VARCHAR(64) NULL,
      -- The place in the queue: when the customer first joined it.
      queued_at DATETIME(3) NOT NULL,
      priority TINYINT UNSIGNED NOT NULL DEFAULT 0,
      attempts TINYINT UNSIGNED NOT NULL DEFAULT 0,
      max_attempts TINYINT UNSIGNED NOT NULL DEFAULT 3,
      next_attempt_at DATETIME(3) NULL,
      agent_user_id BIGINT UNSIGNED NULL,
      last_cause VARCHAR(32) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_callbacks_origin (origin_linkedid),
      KEY ix_callbacks_status (status, tenant_id, queue_id, queued_at),
      KEY ix_callbacks_tenant_created (tenant_id, created_at),
      CONSTRAINT fk_callbacks_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_callbacks_queue FOREIGN KEY (queue_id) REFERENCES queues (id) ON DELETE CASCADE,
      CONSTRAINT fk_callbacks_agent FOREIGN KEY (agent_user_id) REFERENCES users (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS callbacks`.execute(db);
}
