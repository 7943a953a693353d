import type { Clock } from '../core/clock';
import { ConflictError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { ClaimRepository } from '../core/repositories/claim-repository';

/** A response kept to answer a retried request with the same Idempotency-Key. */
export interface StoredResponse {
  status: number;
  body: string;
  contentType: string;
  location?: string | undefined;
}

export type IdempotencyBegin =
  /** First time this key is seen: run the request, then `complete` or `abandon`. */
  | { state: 'started' }
  /** The same request already answered: send this again. */
  | { state: 'replay'; response: StoredResponse }
  /** The same request is being handled right now. */
  | { state: 'in_progress' };

/**
 * Idempotency records of mutating requests, scoped per tenant. The same key with another request
 * (another fingerprint) is a ConflictError naming `Idempotency-Key`.
 */
export interface IdempotencyStore {
  begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin>;
  complete(scope: string, key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  /** Forgets a key whose request failed, so a corrected retry may use it again. */
  abandon(scope: string, key: string, fingerprint: string): Promise<void>;
}

export interface ClaimsIdempotencyStoreOptions {
  claims: ClaimRepository;
  ttlSeconds: number;
  clock: Clock;
  logger: Logger;
}

/**
 * Two claims per key in the claims table, both expiring after the TTL: `idempotency#<scope>#<key>`
 * owned by the request's fingerprint (one conditional write decides between concurrent retries),
 * and `idempotency-response#<scope>#<key>` holding the answer once there is one.
 */
export class ClaimsIdempotencyStore implements IdempotencyStore {
  constructor(private readonly options: ClaimsIdempotencyStoreOptions) {}

  async begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin> {
    const { claims } = this.options;
    let created: boolean;
    try {
      ({ created } = await claims.claim(
        requestClaimId(scope, key),
        fingerprint,
        { kind: 'idempotency' },
        {
          expiresAt: this.expiry(),
        },
      ));
    } catch (error) {
      if (error instanceof ConflictError) {
        throw new ConflictError(
          'this Idempotency-Key was already used with a different request: use a new key for a new request',
          'Idempotency-Key',
          { cause: error },
        );
      }
      throw error;
    }
    if (created) return { state: 'started' };
    const stored = await claims.get(responseClaimId(scope, key));
    const response = stored?.owner === fingerprint ? parseStoredResponse(stored.attributes) : undefined;
    return response ? { state: 'replay', response } : { state: 'in_progress' };
  }

  async complete(scope: string, key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    try {
      await this.options.claims.claim(
        responseClaimId(scope, key),
        fingerprint,
        { ...response },
        { expiresAt: this.expiry() },
      );
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // An older answer under an expired key: the request itself succeeded, only the replay is lost.
      this.options.logger.warn('idempotent response not recorded', { scope });
    }
  }

  async abandon(scope: string, key: string, fingerprint: string): Promise<void> {
    try {
      await this.options.claims.release(requestClaimId(scope, key), fingerprint);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  private expiry(): Date {
    return new Date(this.options.clock().getTime() + this.options.ttlSeconds * 1000);
  }
}

const requestClaimId = (scope: string, key: string) => `idempotency#${scope}#${key}`;
const responseClaimId = (scope: string, key: string) => `idempotency-response#${scope}#${key}`;

function parseStoredResponse(attributes: Record<string, unknown> | undefined): StoredResponse | undefined {
  if (!attributes) return undefined;
  const { status, body, contentType, location } = attributes;
  if (typeof status !== 'number' || typeof body !== 'string' || typeof contentType !== 'string')
    return undefined;
  return { status, body, contentType, ...(typeof location === 'string' ? { location } : {}) };
}
