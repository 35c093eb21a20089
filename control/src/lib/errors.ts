/**
 * Typed application errors. Services throw these; the errors plugin renders every 4xx/5xx as
 * `{"error":{"code","message","details"}}`.
 */
export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** `createError('QUEUE_NOT_FOUND', 'Queue %s not found', 404)` gives a factory `(id) => AppError`. */
export function createError(code: string, template: string, statusCode: number) {
  return (...args: Array<string | number>) => {
    let i = 0;
    const message = template.replace(/%s/g, () => String(args[i++] ?? ''));
    return new AppError(code, message, statusCode);
  };
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
