import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../functions/core/errors';
import {
  assertRecoveryWindow,
  CurrentSecretCache,
  parseStoredSecret,
  validateSecretPayload,
  versionIdFor,
} from '../../../../functions/core/ports/secret-store';
import { fakePayload, manualClock } from '../../../support/secret-store-contract';

describe('Function: versionIdFor', () => {
  it('derives the same UUID-shaped id for the same account and token', () => {
    const id = versionIdFor('acc-1', 'request-1');

    expect(versionIdFor('acc-1', 'request-1')).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('derives different ids for another token or another account', () => {
    const id = versionIdFor('acc-1', 'request-1');

    expect(versionIdFor('acc-1', 'request-2')).not.toBe(id);
    expect(versionIdFor('acc-2', 'request-1')).not.toBe(id);
  });

  it('throws when the token is empty', () => {
    expect(() => versionIdFor('acc-1', '')).toThrow(ValidationError);
  });
});

describe('Function: validateSecretPayload', () => {
  it('normalizes legacy naive timestamps to UTC with Z and a missing expires_at to null', () => {
    const { expires_at: _omitted, ...legacy } = fakePayload('acc-1', 'one', {
      created_at: '2024-05-01T10:00:00.123456',
    });

    const parsed = validateSecretPayload(legacy);

    expect(parsed.created_at).toBe('2024-05-01T10:00:00.123Z');
    expect(parsed.expires_at).toBeNull();
  });

  it.each([
    ['an array', ['fake']],
    ['a string', 'fake-secret-as-string'],
    ['null', null],
    ['an empty object', {}],
  ])('throws naming credentials when they are %s, without repeating the value', (_label, credentials) => {
    const error = (() => {
      try {
        validateSecretPayload({ ...fakePayload('acc-1', 'one'), credentials });
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.field)).toEqual(['credentials']);
    expect(JSON.stringify((error as ValidationError).issues)).not.toContain('fake-secret-as-string');
  });

  it('throws naming every missing field', () => {
    expect(() => validateSecretPayload({ credentials: { key: 'fake' } })).toThrow(
      /credential_type, account_id, created_at/,
    );
  });
});

describe('Function: parseStoredSecret', () => {
  it('throws without quoting a value that is not JSON', () => {
    const attempt = () => parseStoredSecret('acc-1', '{"client_secret": fake-secret-unquoted');

    expect(attempt).toThrow(ValidationError);
    expect(attempt).not.toThrow(/fake-secret-unquoted/);
  });

  it('throws when the stored value belongs to another account', () => {
    expect(() => parseStoredSecret('acc-1', JSON.stringify(fakePayload('acc-2', 'one')))).toThrow(
      /stored secret of account acc-1 is malformed/,
    );
  });
});

describe('Function: assertRecoveryWindow', () => {
  it.each([7, 30])('accepts %i days', (days) => {
    expect(() => assertRecoveryWindow(days)).not.toThrow();
  });

  it.each([6, 31, 7.5, Number.NaN])('throws for %s days', (days) => {
    expect(() => assertRecoveryWindow(days)).toThrow(ValidationError);
  });
});

describe('Class: CurrentSecretCache', () => {
  const stored = { ...fakePayload('acc-1', 'one'), versionId: 'v'.repeat(32) };

  it('forgets an entry once the TTL has passed', () => {
    const time = manualClock();
    const cache = new CurrentSecretCache(time.clock, 1_000);
    cache.set('acc-1', stored);

    time.advance(999);
    const within = cache.get('acc-1');
    time.advance(1);

    expect(within).toBe(stored);
    expect(cache.get('acc-1')).toBeUndefined();
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = new CurrentSecretCache(manualClock().clock, 0);

    cache.set('acc-1', stored);

    expect(cache.get('acc-1')).toBeUndefined();
  });

  it('throws when the TTL is negative', () => {
    expect(() => new CurrentSecretCache(manualClock().clock, -1)).toThrow(/cacheTtlMs/);
  });
});
