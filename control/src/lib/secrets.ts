/**
 * Opaque bearer secrets (refresh tokens, invite tokens): 32 random bytes, base64url. Only their
 * SHA-256 is stored, so a copy of the database cannot be replayed; the secrets are long and random
 * enough that a fast hash is the right one (no salt or argon2 needed, and lookups stay indexed).
 */
import { createHash, randomBytes } from 'node:crypto';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}
