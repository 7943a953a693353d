import { IdSchema, quoted } from '../../schemas/common';

/**
 * Typed errors shared by every entry point. The API maps `code` (not the class name) to a status,
 * and workflows use `name` in their Retry/Catch lists, so both are part of the contract.
 */

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `credentials.role_arn`. */
  field: string;
  message: string;
}

export type ErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'conflict'
  | 'invalid_transition'
  | 'configuration_invalid'
  | 'forbidden'
  | 'unauthenticated'
  | 'rate_limited'
  | 'secret_not_found'
  | 'secret_expired'
  | 'dependency_unavailable';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  /** True when retrying the same input can never succeed (workflows must not retry these). */
  readonly permanent: boolean = true;
}

export class ValidationError extends DomainError {
  override readonly name = 'ValidationError';
  readonly code = 'validation_failed';
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ConfigurationError extends DomainError {
  override readonly name = 'ConfigurationError';
  readonly code = 'configuration_invalid';
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  constructor(
    readonly entity: string,
    readonly id: string,
    options?: ErrorOptions,
  ) {
    super(`${entity} ${IdSchema.safeParse(id).success ? id : quoted(id)} was not found`, options);
  }
}

/** A uniqueness or idempotency conflict: the thing already exists in a different shape. */
export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  readonly code = 'conflict';
  constructor(
    message: string,
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A status change the state model forbids, e.g. reopening a finished execution. */
export class InvalidTransitionError extends DomainError {
  override readonly name = 'InvalidTransitionError';
  readonly code = 'invalid_transition';
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly to: string,
    readonly allowedFrom: readonly string[],
    options?: ErrorOptions,
  ) {
    super(
      `${entity} ${id} cannot move to '${to}': it must be ${allowedFrom.map((s) => `'${s}'`).join(' or ')}`,
      options,
    );
  }
}

export class SecretNotFoundError extends DomainError {
  override readonly name = 'SecretNotFoundError';
  readonly code = 'secret_not_found';
  constructor(
    readonly accountId: string,
    readonly stage: string = 'current',
    options?: ErrorOptions,
  ) {
    super(`no ${stage} credentials are stored for account ${accountId}`, options);
  }
}

export class SecretExpiredError extends DomainError {
  override readonly name = 'SecretExpiredError';
  readonly code = 'secret_expired';
  constructor(
    readonly accountId: string,
    readonly expiredAt: string,
    options?: ErrorOptions,
  ) {
    super(`the credentials of account ${accountId} expired at ${expiredAt}`, options);
  }
}

/** A dependency (table server, secret store, engine) failed in a way that may pass on retry. */
export class DependencyUnavailableError extends DomainError {
  override readonly name = 'DependencyUnavailableError';
  readonly code = 'dependency_unavailable';
  override readonly permanent = false;
  constructor(
    readonly dependency: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No valid bearer token. */
export class UnauthenticatedError extends DomainError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'unauthenticated';
}

/** The caller's role may not do this (within its own tenant; other tenants' ids are NotFoundError). */
export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  readonly code = 'forbidden';
}

/** Too many requests of one kind for a tenant within the window. */
export class RateLimitedError extends DomainError {
  override readonly name = 'RateLimitedError';
  readonly code = 'rate_limited';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
