import { AriHttpError, AriUnavailableError } from '../../ari/connection.ts';
import { AppError, createError } from '../../lib/errors.ts';

export const endpointNotFound = createError('ENDPOINT_NOT_FOUND', 'Endpoint %s not found', 404);
export const userNotFound = createError('USER_NOT_FOUND', 'User %s not found', 404);

export function invalid(fields: Array<{ field: string; message: string }>): AppError {
  return new AppError('VALIDATION_FAILED', 'Invalid body', 400, fields);
}

export function conflict(code: string, field: string, message: string): AppError {
  return new AppError(code, message, 409, [{ field, message }]);
}

/** A failed push, as the API reports it. Anything that is not an ARI failure is a bug: rethrown. */
export function pushFailed(err: unknown): unknown {
  if (err instanceof AriUnavailableError) {
    return new AppError(
      'ASTERISK_UNAVAILABLE',
      'Asterisk cannot be reached, so nothing was changed; try again once it is back',
      503,
    );
  }
  if (err instanceof AriHttpError) {
    return new AppError(
      'ASTERISK_REJECTED',
      `Asterisk refused the change (${err.reason}), so nothing was changed`,
      502,
    );
  }
  return err;
}
