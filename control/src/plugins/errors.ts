import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, type ErrorBody } from '../lib/errors.ts';

/** Fastify's own error codes mapped to ours, so clients see one vocabulary. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_BODY',
  FST_ERR_RATE_LIMIT: 'RATE_LIMITED',
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Turns Ajv's issues into `{ field, message }` pairs a form can put next to its inputs. */
export function fieldErrors(
  issues: readonly ValidationIssue[],
  context: string | undefined,
): Array<{ field: string; message: string }> {
  return issues.map((issue) => {
    let field = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const params = issue.params ?? {};
    if (issue.keyword === 'required' && typeof params.missingProperty === 'string') {
      field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
    }
    if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      field = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
      return { field, message: 'is not a known field' };
    }
    return { field: field || (context ?? 'body'), message: issue.message ?? 'is invalid' };
  });
}

function errorsPlugin(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    let status: number;
    let body: ErrorBody;
    if (error instanceof AppError) {
      status = error.statusCode;
      body = { error: { code: error.code, message: error.message, details: error.details } };
    } else if ((error as FastifyError).validation) {
      const fe = error as FastifyError;
      status = 400;
      body = {
        error: {
          code: 'VALIDATION_FAILED',
          message: `Invalid ${fe.validationContext ?? 'request'}`,
          details: fieldErrors(fe.validation ?? [], fe.validationContext),
        },
      };
    } else {
      const fe = error as FastifyError;
      status = fe.statusCode && fe.statusCode >= 400 ? fe.statusCode : 500;
      const code = (fe.code && FASTIFY_CODES[fe.code]) ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
      // Never leak internals on 5xx: the log has the stack, the client gets a request id.
      const message = status >= 500 ? 'Internal server error' : fe.message;
      body = { error: { code, message } };
    }
    if (status >= 500 && !(error instanceof AppError)) {
      request.log.error({ err: error }, 'request failed');
      body.error.details = { requestId: request.id };
    } else {
      request.log.info({ code: body.error.code, status }, 'request refused');
    }
    // Every limiter says how long to wait; clients read it from the standard header.
    const retryAfter = (body.error.details as { retryAfter?: unknown } | undefined)?.retryAfter;
    if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({
      error: { code: 'NOT_FOUND', message: `Route ${request.method} ${request.url} not found` },
    } satisfies ErrorBody);
  });
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x' });
