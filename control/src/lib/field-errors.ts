/**
 * Collects per-field problems that a schema cannot see (a range that overlaps another, an id that
 * is not in the tenant) so one 400 names all of them, in the same shape as schema errors.
 */
import { AppError } from './errors.ts';

export interface FieldError {
  field: string;
  message: string;
}

export class FieldErrors {
  readonly list: FieldError[] = [];

  add(field: string, message: string): this {
    this.list.push({ field, message });
    return this;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(message = 'Invalid body'): void {
    if (!this.empty) throw new AppError('VALIDATION_FAILED', message, 400, this.list);
  }
}

export function invalidField(field: string, message: string, summary = 'Invalid body'): AppError {
  return new AppError('VALIDATION_FAILED', summary, 400, [{ field, message }]);
}
