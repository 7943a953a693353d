import { describe, expect, it } from 'vitest';
import { isRefusedAwsError, isTransientAwsError } from '../../../functions/adapters/aws/aws-error-kind';

const awsError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra });

describe('AWS error classification', () => {
  it.each([
    ['ThrottlingException', awsError('ThrottlingException')],
    ['KmsThrottlingException', awsError('KmsThrottlingException')],
    ['a 503', awsError('SomethingElse', { $metadata: { httpStatusCode: 503 } })],
    ['a 429', awsError('SomethingElse', { $metadata: { httpStatusCode: 429 } })],
    ['a server fault', awsError('Weird', { $fault: 'server' })],
    ['a reset connection', awsError('Error', { code: 'ECONNRESET' })],
  ])('treats %s as transient, not refused', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(true);
    expect(isRefusedAwsError(error)).toBe(false);
  });

  it.each([
    'AccessDeniedException',
    'KMSDisabledException',
    'KmsAccessDeniedException',
    'ExpiredTokenException',
  ])('treats %s as a refusal, not transient', (name) => {
    expect(isRefusedAwsError(awsError(name))).toBe(true);
    expect(isTransientAwsError(awsError(name, { $metadata: { httpStatusCode: 400 } }))).toBe(false);
  });

  it('treats a client mistake as neither', () => {
    const error = awsError('InvalidParameterException', {
      $metadata: { httpStatusCode: 400 },
      $fault: 'client',
    });
    expect(isTransientAwsError(error)).toBe(false);
    expect(isRefusedAwsError(error)).toBe(false);
  });
});
