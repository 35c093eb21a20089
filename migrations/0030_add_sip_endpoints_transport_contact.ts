import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sip_endpoints
      -- Agents: 'webrtc' (the console, over WSS) or 'udp' (a desk phone, or the test carrier).
      ADD COLUMN transport ENUM('webrtc','udp') NULL AFTER kind,
      -- A fixed SIP URI to reach a UDP agent at, instead of waiting for it to register.
      ADD COLUMN contact VARCHAR(255) NULL AFTER port
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sip_endpoints DROP COLUMN transport, DROP COLUMN contact`.execute(db);
}
