import { sql, type Kysely } from 'kysely';

// Source addresses blocked in Asterisk after too many failed SIP authentications. active_ip holds
// the address while the block is not lifted, so however many control-plane replicas read the
// same log, an address has at most one unlifted block.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE security_blocks (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      ip VARCHAR(45) NOT NULL,
      reason VARCHAR(255) NOT NULL,
      failures INT UNSIGNED NOT NULL,
      blocked_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      lifted_at DATETIME(3) NULL,
      lift_reason ENUM('expired','admin') NULL,
      lifted_by BIGINT UNSIGNED NULL,
      active_ip VARCHAR(45) GENERATED ALWAYS AS (IF(lifted_at IS NULL, ip, NULL)) STORED,
      UNIQUE KEY uq_security_blocks_active_ip (active_ip),
      KEY ix_security_blocks_expiry (lifted_at, expires_at),
      KEY ix_security_blocks_blocked_at (blocked_at),
      CONSTRAINT fk_security_blocks_lifted_by FOREIGN KEY (lifted_by) REFERENCES users (id)
        ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS security_blocks`.execute(db);
}
