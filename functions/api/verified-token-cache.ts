import { createHash } from 'node:crypto';
import type { Caller } from './api-context';

export interface VerifiedTokenCacheOptions {
  /** At most this many tokens are remembered; the least recently used one goes first. Default 1,000. */
  maxEntries?: number;
  /** One verification is reused for at most this long (and never past the token's `exp`). Default 60. */
  ttlSeconds?: number;
}

/** What one successful verification established, and with which key. */
export interface VerifiedToken<Key> {
  caller: Caller;
  /** The key the signature was checked with: a hit counts only while the issuer still resolves to it. */
  key: Key;
  /** The token's protected header, to ask the key resolver again without decoding the token. */
  header: Record<string, unknown>;
  /** Epoch milliseconds after which the entry is dead: min(exp, verified at + ttl). */
  validUntilMs: number;
}

/**
 * Successful token verifications, remembered for a short while so that a client sending the same
 * bearer token with every request does not pay a signature check each time.
 *
 * What keeps it safe (the verifier does the checking, this only remembers):
 * - entries are keyed by the SHA-256 of the token, so a hit needs the exact same token, and no
 *   token is held in memory;
 * - an entry dies at the token's `exp` (without the clock tolerance the full check grants) and
 *   at most `ttlSeconds` after the check, whichever is first;
 * - only successes are stored: a refused token is checked in full every time, and nothing a
 *   refusal says can make a later token pass;
 * - the entry keeps the key it was verified with, and the verifier serves a hit only while the
 *   issuer's key resolver still returns that same key: rotating the signing key (`token
 *   --rotate-key`) refuses every token signed before at the next request, cached or not;
 * - the number of entries is bounded (least recently used evicted), so many distinct tokens cost
 *   memory up to `maxEntries` only.
 */
export class VerifiedTokenCache<Key = unknown> {
  readonly #entries = new Map<string, VerifiedToken<Key>>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? 1000;
    const ttlSeconds = options.ttlSeconds ?? 60;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be ≥ 1');
    if (!(ttlSeconds > 0)) throw new RangeError('ttlSeconds must be > 0');
    this.#maxEntries = maxEntries;
    this.#ttlMs = ttlSeconds * 1000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cache key of a token (its SHA-256, hex). */
  digestOf(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** The live entry for a token digest at `nowMs`, or undefined (a dead one is dropped). */
  get(digest: string, nowMs: number): VerifiedToken<Key> | undefined {
    const entry = this.#entries.get(digest);
    if (!entry) return undefined;
    this.#entries.delete(digest);
    if (nowMs >= entry.validUntilMs) return undefined;
    this.#entries.set(digest, entry);
    return entry;
  }

  /** Remembers a successful verification made at `nowMs` of a token expiring at `expSeconds`. */
  remember(
    digest: string,
    verified: Omit<VerifiedToken<Key>, 'validUntilMs'>,
    expSeconds: number,
    nowMs: number,
  ): void {
    const validUntilMs = Math.min(expSeconds * 1000, nowMs + this.#ttlMs);
    if (!(validUntilMs > nowMs)) return;
    this.#entries.delete(digest);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(digest, { ...verified, caller: Object.freeze({ ...verified.caller }), validUntilMs });
  }

  /** Drops the entry of a token digest (e.g. when its key no longer resolves). */
  forget(digest: string): void {
    this.#entries.delete(digest);
  }
}
