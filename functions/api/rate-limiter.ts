import type { Clock } from '../core/clock';
import { RateLimitedError } from '../core/errors';
import type { ClaimRepository } from '../core/repositories/claim-repository';

/** Counts calls of one kind per key (a tenant); throws RateLimitedError (429) past the budget. */
export interface RateLimiter {
  consume(action: string, key: string): Promise<void>;
}

export interface WindowRateLimiterOptions {
  claims: ClaimRepository;
  /** Calls allowed per window and key. */
  limit: number;
  windowSeconds: number;
  clock: Clock;
}

/**
 * A fixed-window counter in the claims table (`rate#<action>#<key>#<window start>`), one atomic
 * ADD per call, so every API instance (Lambda or local) shares the same budget. Counters expire
 * through the table's TTL one window after theirs ends. Refused calls count too: someone testing
 * stolen keys gains nothing by hammering.
 */
export class WindowRateLimiter implements RateLimiter {
  constructor(private readonly options: WindowRateLimiterOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1)
      throw new RangeError('limit must be a whole number >= 1');
    if (!Number.isInteger(options.windowSeconds) || options.windowSeconds < 1) {
      throw new RangeError('windowSeconds must be a whole number >= 1');
    }
  }

  async consume(action: string, key: string): Promise<void> {
    const { limit, windowSeconds, clock, claims } = this.options;
    const nowMs = clock().getTime();
    const windowMs = windowSeconds * 1000;
    const windowStart = Math.floor(nowMs / windowMs) * windowMs;
    const windowEnd = windowStart + windowMs;
    const count = await claims.increment(`rate#${action}#${key}#${windowStart}`, {
      expiresAt: new Date(windowEnd + windowMs),
    });
    if (count > limit) {
      throw new RateLimitedError(
        `too many ${action} requests for this tenant: at most ${limit} every ${windowSeconds} seconds`,
        Math.max(1, Math.ceil((windowEnd - nowMs) / 1000)),
      );
    }
  }
}
