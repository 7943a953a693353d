import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decryptFernet, FernetKeyError, FernetTokenError, parseFernetKey } from '../../../cli/migrate/fernet';
import { FERNET_INVALID_VECTORS, FERNET_VALID_VECTORS } from '../../fixtures/fernet-spec-vectors';

interface FernetJs {
  Secret: new (key: string) => unknown;
  Token: new (options: {
    secret: unknown;
    time?: string;
    iv?: number[];
  }) => { encode(message: string): string };
}
const fernetJs = createRequire(import.meta.url)('fernet') as FernetJs;

describe('Function: decryptFernet', () => {
  it.each(FERNET_VALID_VECTORS)('decrypts the spec verify vector (ttl $ttlSeconds s)', (vector) => {
    const plaintext = decryptFernet(vector.token, parseFernetKey(vector.secret), {
      ttlSeconds: vector.ttlSeconds,
      now: new Date(vector.now),
    });
    expect(plaintext.toString('utf8')).toBe(vector.src);
  });

  it('decrypts the spec generate vector made by the independent fernet.js implementation', () => {
    const [vector] = FERNET_VALID_VECTORS;
    const token = new fernetJs.Token({
      secret: new fernetJs.Secret(vector.secret),
      time: vector.generatedAt,
      iv: [...vector.iv],
    }).encode(vector.src);
    expect(token.replace(/=+$/, '')).toBe(vector.token.replace(/=+$/, ''));
    expect(decryptFernet(token, parseFernetKey(vector.secret)).toString('utf8')).toBe(vector.src);
  });

  it('reads a token given as the bytes of its text (BYTEA)', () => {
    const [vector] = FERNET_VALID_VECTORS;
    expect(decryptFernet(Buffer.from(vector.token, 'latin1'), parseFernetKey(vector.secret)).toString()).toBe(
      vector.src,
    );
  });

  it.each(FERNET_INVALID_VECTORS)('refuses the spec invalid vector: $desc', (vector) => {
    expect(() =>
      decryptFernet(vector.token, parseFernetKey(vector.secret), {
        ttlSeconds: vector.ttlSeconds,
        now: new Date(vector.now),
      }),
    ).toThrow(FernetTokenError);
  });

  it('refuses a token under another key, naming the signature and not the token', () => {
    const [vector] = FERNET_VALID_VECTORS;
    const otherKey = parseFernetKey(Buffer.alloc(32, 7).toString('base64url'));
    expect(() => decryptFernet(vector.token, otherKey)).toThrow(/signature does not match/);
  });

  it('throws a FernetKeyError for a key that is not 32 bytes, without echoing it', () => {
    expect(() => parseFernetKey('not-a-key-canary')).toThrow(FernetKeyError);
    expect(() => parseFernetKey('not-a-key-canary')).not.toThrow(/canary/);
  });
});
