import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, type ErrorCode, type FieldIssue } from '../core/errors';
import type { Logger } from '../core/logger';

/** The one error shape every endpoint answers with (`detail` kept for legacy clients). */
export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details: FieldIssue[];
  detail: string;
}

const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  validation_failed: 400,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  configuration_invalid: 500,
  forbidden: 403,
  unauthenticated: 401,
  rate_limited: 429,
  secret_not_found: 404,
  secret_expired: 409,
  dependency_unavailable: 503,
};

export function errorBody(
  status: number,
  code: string,
  message: string,
  details: FieldIssue[] = [],
): ErrorBody {
  return { status, code, message, details, detail: message };
}

/** Maps a thrown error to a response: typed errors keep their message, anything else is a bare 500. */
export function respondWithError(context: Context, error: unknown, logger: Logger): Response {
  if (error instanceof DomainError && error.code !== 'configuration_invalid') {
    const status = STATUS_BY_CODE[error.code];
    const details = 'issues' in error && Array.isArray(error.issues) ? (error.issues as FieldIssue[]) : [];
    if (status >= 500) logger.warn('request failed on a dependency', { code: error.code, error });
    return context.json(errorBody(status, error.code, error.message, details), status);
  }
  logger.error('unhandled error while serving a request', { path: context.req.path, error });
  return context.json(errorBody(500, 'internal_error', 'the server failed to handle this request'), 500);
}
