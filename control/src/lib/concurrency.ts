/**
 * Optimistic concurrency: every editable row has a `version`; responses carry it as an ETag
 * (`"v7"`), and a change must say which version it is based on — an `If-Match` header or a
 * `version` field in the body. A stale version is 412; saying nothing is 428, so two admins
 * can never silently overwrite each other.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

export function etag(version: number): string {
  return `"v${version}"`;
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('ETag', etag(version));
}

/** The version the caller's change is based on. */
export function expectedVersion(request: FastifyRequest, bodyVersion?: number): number {
  const header = request.headers['if-match'];
  if (typeof header === 'string' && header.trim() !== '') {
    const match = header.trim().match(/^(?:W\/)?"v(\d+)"$/);
    if (!match) {
      throw new AppError('VALIDATION_FAILED', 'Invalid If-Match header', 400, [
        { field: 'If-Match', message: 'must be an ETag this API gave out, like "v3"' },
      ]);
    }
    return Number(match[1]);
  }
  if (bodyVersion !== undefined) return bodyVersion;
  throw new AppError(
    'PRECONDITION_REQUIRED',
    'Send If-Match with the ETag you read (or a version field) so changes cannot be lost',
    428,
  );
}

export function versionConflict(current: number): AppError {
  return new AppError(
    'VERSION_CONFLICT',
    `Someone else changed this first (now at version ${current}); reload and try again`,
    412,
    { currentVersion: current },
  );
}
