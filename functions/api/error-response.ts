import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  ConflictError,
  DomainError,
  type ErrorCode,
  type FieldIssue,
  RateLimitedError,
  UnauthenticatedError,
} from '../core/errors';
import type { Logger } from '../core/logger';

/** The legacy `detail` of a refused request: `{message, errors}` as legacy validation failures gave it. */
export interface LegacyDetail {
  message: string;
  errors: string[];
}

/**
 * The one error shape every endpoint answers with. `detail` is the legacy field its clients read:
 * for a 400, `{message, errors[]}` (the shape legacy validation failures had, one error per
 * field issue); otherwise the message as a string (`{"detail": "Account … not found"}`).
 */
export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details: FieldIssue[];
  detail: string | LegacyDetail;
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
  const detail =
    status === 400
      ? { message, errors: details.map((issue) => `${issue.field}: ${issue.message}`) }
      : message;
  return { status, code, message, details, detail };
}

function detailsOf(error: DomainError): FieldIssue[] {
  if ('issues' in error && Array.isArray(error.issues)) return error.issues as FieldIssue[];
  if (error instanceof ConflictError && error.field) return [{ field: error.field, message: error.message }];
  return [];
}

/**
 * Maps a thrown error to a response: typed client errors keep their message and field details;
 * server-side failures (5xx) answer a fixed message without details: the reason stays in the log.
 */
export function respondWithError(context: Context, error: unknown, logger: Logger): Response {
  if (error instanceof DomainError && error.code !== 'configuration_invalid') {
    const status = STATUS_BY_CODE[error.code];
    if (status >= 500) {
      logger.warn('request failed on a dependency', { path: context.req.path, code: error.code, error });
      context.header('Retry-After', '5');
      return context.json(
        errorBody(status, error.code, 'a service this request depends on is unavailable; retry later'),
        status,
      );
    }
    if (error instanceof RateLimitedError) context.header('Retry-After', String(error.retryAfterSeconds));
    if (error instanceof UnauthenticatedError)
      context.header('WWW-Authenticate', 'Bearer error="invalid_token"');
    return context.json(errorBody(status, error.code, error.message, detailsOf(error)), status);
  }
  if (error instanceof HTTPException && error.status < 500) {
    const status = error.status as ContentfulStatusCode;
    return context.json(errorBody(status, 'bad_request', 'the request could not be read'), status);
  }
  logger.error('unhandled error while serving a request', { path: context.req.path, error });
  return context.json(errorBody(500, 'internal_error', 'the server failed to handle this request'), 500);
}
