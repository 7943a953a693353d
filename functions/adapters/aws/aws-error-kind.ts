/**
 * How the AWS adapters tell a failure that may pass on retry (throttling, a service fault, the
 * network) from a refusal (credentials, permissions, KMS): one classification for every service.
 */

export interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalServerException',
  'InternalServiceError',
  'InternalFailure',
  'ExecutionLimitExceeded',
  'KmsThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

const REFUSED_ERROR_NAMES = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'DecryptionFailure',
  'EncryptionFailure',
]);

export function awsErrorShape(error: unknown): AwsErrorShape {
  return (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
}

export function awsErrorName(error: unknown): string {
  return awsErrorShape(error).name ?? 'UnknownError';
}

/** Throttling, a service fault, a 5xx or 429, or a network failure: worth another try. */
export function isTransientAwsError(error: unknown): boolean {
  const shape = awsErrorShape(error);
  const status = shape.$metadata?.httpStatusCode ?? 0;
  return (
    TRANSIENT_ERROR_NAMES.has(shape.name ?? '') ||
    NETWORK_ERROR_CODES.has(shape.code ?? '') ||
    shape.$fault === 'server' ||
    shape.$retryable !== undefined ||
    status >= 500 ||
    status === 429
  );
}

/** Refused for who we are (credentials, permissions, a KMS key we may not use): a configuration fault. */
export function isRefusedAwsError(error: unknown): boolean {
  const name = awsErrorName(error);
  return REFUSED_ERROR_NAMES.has(name) || (/^kms/i.test(name) && !TRANSIENT_ERROR_NAMES.has(name));
}
