import { type CryptoKey, errors, type JWTVerifyGetKey, jwtVerify, type KeyObject } from 'jose';
import type { Clock } from '../core/clock';
import { UnauthenticatedError } from '../core/errors';
import type { Caller } from './api-context';
import {
  type AuthenticationRequest,
  type ClaimNames,
  callerFromClaims,
  DEFAULT_CLAIM_NAMES,
  type TokenVerifier,
} from './token-verifier';
import type { VerifiedTokenCache } from './verified-token-cache';

export interface JwtTokenVerifierOptions {
  /** The issuer's public key, or a key resolver (e.g. jose's createRemoteJWKSet for an OIDC issuer). */
  key: KeyObject | CryptoKey | JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Only these signature algorithms are accepted (never `none`, never an HMAC one for a public key). */
  algorithms: readonly string[];
  claimNames?: ClaimNames;
  /** Seconds of clock skew tolerated on exp/nbf/iat. Default 30. */
  clockToleranceSeconds?: number;
  /** Tokens must carry `exp` no further than this ahead (a bound on leaked tokens). Default 90 days. */
  maxLifetimeSeconds?: number;
  clock?: Clock;
  /**
   * Remembers successful verifications (see verified-token-cache.ts): a repeated token costs a
   * hash and a key lookup instead of a signature check. None by default.
   */
  cache?: VerifiedTokenCache;
}

type VerificationKey = Awaited<ReturnType<JWTVerifyGetKey>>;

const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies a signed JWT with jose: signature with an allow-listed algorithm, issuer, audience,
 * expiry (required), then reads the caller from its claims. Every failure is a 401 whose message
 * says what was wrong with the token without repeating it.
 */
export class JwtTokenVerifier implements TokenVerifier {
  readonly #options: JwtTokenVerifierOptions;

  constructor(options: JwtTokenVerifierOptions) {
    if (
      options.algorithms.length === 0 ||
      options.algorithms.some((alg) => alg === 'none' || alg.startsWith('HS'))
    ) {
      throw new TypeError('algorithms must list asymmetric JWS algorithms only (e.g. ES256, EdDSA, RS256)');
    }
    this.#options = options;
  }

  async verify(request: AuthenticationRequest): Promise<Caller> {
    const { token } = request;
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH)
      throw new UnauthenticatedError('the bearer token is not a JWT');
    const options = this.#options;
    const cache = options.cache;
    const digest = cache?.digestOf(token);
    if (cache && digest !== undefined) {
      const hit = cache.get(digest, this.#now().getTime());
      if (hit) {
        // Served only while the issuer still resolves this token to the key that verified it.
        if ((await this.#currentKey(hit.header, token)) === hit.key) return { ...hit.caller };
        cache.forget(digest);
      }
    }

    const now = this.#now();
    const verifyOptions = {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...options.algorithms],
      clockTolerance: options.clockToleranceSeconds ?? 30,
      requiredClaims: ['exp', 'sub'],
      ...(options.clock ? { currentDate: now } : {}),
    };
    let payload: Record<string, unknown>;
    let header: Record<string, unknown>;
    let usedKey: VerificationKey | undefined;
    try {
      const { key } = options;
      const result =
        typeof key === 'function'
          ? await jwtVerify(
              token,
              async (...args: Parameters<JWTVerifyGetKey>) => {
                usedKey = await key(...args);
                return usedKey;
              },
              verifyOptions,
            )
          : await jwtVerify(token, key, verifyOptions);
      if (typeof key !== 'function') usedKey = key;
      payload = result.payload;
      header = result.protectedHeader as Record<string, unknown>;
    } catch (error) {
      throw new UnauthenticatedError(reasonOf(error));
    }
    const nowSeconds = now.getTime() / 1000;
    const exp = payload.exp as number;
    if (exp - nowSeconds > (options.maxLifetimeSeconds ?? 90 * 86_400)) {
      throw new UnauthenticatedError('the token expires too far in the future');
    }
    const caller = callerFromClaims(payload, options.claimNames ?? DEFAULT_CLAIM_NAMES);
    if (cache && digest !== undefined && usedKey !== undefined) {
      cache.remember(digest, { caller, key: usedKey, header }, exp, now.getTime());
    }
    return caller;
  }

  #now(): Date {
    return this.#options.clock ? this.#options.clock() : new Date();
  }

  /** What the configured key (or resolver) gives for this token now; undefined when it refuses. */
  async #currentKey(header: Record<string, unknown>, token: string): Promise<unknown> {
    const { key } = this.#options;
    if (typeof key !== 'function') return key;
    const [protectedPart = '', payload = '', signature = ''] = token.split('.');
    try {
      return await key(header as Parameters<JWTVerifyGetKey>[0], {
        protected: protectedPart,
        payload,
        signature,
      });
    } catch {
      return undefined;
    }
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's signature algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by a known key';
  return 'the bearer token is not a valid JWT';
}
