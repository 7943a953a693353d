import type { Caller } from './api-context';
import type { ApiServices } from './api-services';

/** The rate-limited action every credential-checking endpoint counts against. */
export const VALIDATION_ACTION = 'validation';

/**
 * Counts one validation call (validate, validate-json, credentials POST, credentials/validate)
 * against the caller's tenant: such calls can be abused to test stolen keys, so each tenant gets
 * a budget per window (429 with Retry-After past it). Platform admins count per subject.
 */
export async function consumeValidationBudget(services: ApiServices, caller: Caller): Promise<void> {
  await services.rateLimiter.consume(VALIDATION_ACTION, caller.tenantId ?? `platform-${caller.subject}`);
}
