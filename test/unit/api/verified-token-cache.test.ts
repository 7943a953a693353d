import { type CryptoKey, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtTokenVerifier } from '../../../functions/api/jwt-token-verifier';
import { VerifiedTokenCache } from '../../../functions/api/verified-token-cache';

const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'threat-engine-api';
const T0 = Date.parse('2031-03-01T09:00:00.000Z');
const TENANT = '0b8f7a52-3c1e-4f0a-9d7b-2e6c5a4b3f10';

interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

describe('Class: VerifiedTokenCache (in JwtTokenVerifier)', () => {
  let first: KeyPair;
  let second: KeyPair;

  beforeAll(async () => {
    first = await generateKeyPair('ES256');
    second = await generateKeyPair('ES256');
  });

  /** A verifier over the real jose checks, a settable clock, a current key and a resolver call count. */
  const setup = (options: { maxEntries?: number; ttlSeconds?: number } = {}) => {
    const state = { now: T0, key: first.publicKey, resolutions: 0 };
    const cache = new VerifiedTokenCache(options);
    const verifier = new JwtTokenVerifier({
      key: async () => {
        state.resolutions += 1;
        return state.key;
      },
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      clock: () => new Date(state.now),
      cache,
    });
    const verify = (token: string) => verifier.verify({ token });
    return { state, cache, verify };
  };

  const sign = (
    keys: KeyPair,
    { subject = 'viewer@tenant', ttlSeconds = 3600 }: { subject?: string; ttlSeconds?: number } = {},
  ) =>
    new SignJWT({ role: 'viewer', tenant_id: TENANT })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(Math.floor(T0 / 1000))
      .setExpirationTime(Math.floor(T0 / 1000) + ttlSeconds)
      .sign(keys.privateKey);

  it('remembers a verified token and answers the same caller for it again', async () => {
    // Prepare
    const { cache, verify } = setup();
    const token = await sign(first);

    // Act
    const once = await verify(token);
    const again = await verify(token);

    // Assess
    expect(cache.size).toBe(1);
    expect(again).toEqual(once);
    expect(again).toEqual({ subject: 'viewer@tenant', tenantId: TENANT, role: 'viewer' });
  });

  it('hands out a copy, so a caller changed by one request cannot change the next', async () => {
    // Prepare
    const { verify } = setup();
    const token = await sign(first);
    await verify(token);

    // Act
    const hit = await verify(token);
    hit.role = 'platform_admin';

    // Assess
    expect((await verify(token)).role).toBe('viewer');
  });

  it('refuses a remembered token once the signing key is rotated (a new key is resolved)', async () => {
    // Prepare: verified and remembered under the first key
    const { state, cache, verify } = setup();
    const token = await sign(first);
    await verify(token);
    expect(cache.size).toBe(1);

    // Act
    state.key = second.publicKey;

    // Assess: refused and forgotten; a token of the new key passes
    await expect(verify(token)).rejects.toMatchObject({
      name: 'UnauthenticatedError',
      message: "the token's signature is not valid",
    });
    await expect(verify(token)).rejects.toMatchObject({ name: 'UnauthenticatedError' });
    expect(cache.size).toBe(0);
    await expect(verify(await sign(second))).resolves.toMatchObject({ role: 'viewer' });
  });

  it('refuses a remembered token when the resolver no longer knows its key', async () => {
    // Prepare
    const cache = new VerifiedTokenCache();
    let known = true;
    const verifier = new JwtTokenVerifier({
      key: async () => {
        if (!known) throw new Error('no matching key');
        return first.publicKey;
      },
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      clock: () => new Date(T0),
      cache,
    });
    const token = await sign(first);
    await verifier.verify({ token });

    // Act
    known = false;

    // Assess
    await expect(verifier.verify({ token })).rejects.toMatchObject({ name: 'UnauthenticatedError' });
  });

  it('never serves a token past its exp: after it, the full check decides (tolerance included)', async () => {
    // Prepare: a token of 60 s, remembered (the cache itself would keep it an hour)
    const { state, cache, verify } = setup({ ttlSeconds: 3600 });
    const token = await sign(first, { ttlSeconds: 60 });
    await verify(token);

    // Act: 10 s past exp (inside jose's 30 s tolerance), then 31 s past
    state.now = T0 + 70_000;
    const withinTolerance = await verify(token);
    const sizeAfterTolerated = cache.size;
    state.now = T0 + 91_000;

    // Assess
    expect(withinTolerance.role).toBe('viewer');
    expect(sizeAfterTolerated).toBe(0);
    await expect(verify(token)).rejects.toMatchObject({
      name: 'UnauthenticatedError',
      message: 'the token has expired',
    });
  });

  it('checks a token in full again after ttlSeconds, and refuses it then if it became invalid', async () => {
    // Prepare: remembered for 5 s
    const { state, verify } = setup({ ttlSeconds: 5 });
    const token = await sign(first);
    await verify(token);
    const resolutionsWhenRemembered = state.resolutions;

    // Act: 6 s later, with another key (the full check needs the signature again)
    state.now = T0 + 6_000;
    state.key = second.publicKey;

    // Assess
    await expect(verify(token)).rejects.toMatchObject({ name: 'UnauthenticatedError' });
    expect(state.resolutions).toBeGreaterThan(resolutionsWhenRemembered);
  });

  it('never remembers a refused token', async () => {
    // Prepare: signed by a key the issuer does not use
    const { cache, verify } = setup();
    const forged = await sign(second);

    // Act
    await expect(verify(forged)).rejects.toMatchObject({ name: 'UnauthenticatedError' });
    await expect(verify(forged)).rejects.toMatchObject({ name: 'UnauthenticatedError' });

    // Assess
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries tokens, forgetting the least recently used first', async () => {
    // Prepare
    const { cache, verify } = setup({ maxEntries: 2 });
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((subject) => sign(first, { subject: `${subject}@tenant` })),
    );
    if (!a || !b || !c) throw new Error('tokens not signed');
    await verify(a);
    await verify(b);
    await verify(a);

    // Act: a third token evicts b (a was used more recently)
    await verify(c);

    // Assess
    expect(cache.size).toBe(2);
    expect(cache.get(cache.digestOf(a), T0)).toBeDefined();
    expect(cache.get(cache.digestOf(b), T0)).toBeUndefined();
    expect(cache.get(cache.digestOf(c), T0)).toBeDefined();
  });

  it('refuses bounds that would disable its limits', () => {
    expect(() => new VerifiedTokenCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new VerifiedTokenCache({ ttlSeconds: 0 })).toThrow(RangeError);
  });
});
