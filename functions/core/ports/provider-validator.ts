import { DomainError } from '../errors';

/** Why a provider refused credentials: stable codes recorded on accounts and shown to users. */
export type CredentialRejectionReason =
  | 'invalid_credentials'
  | 'access_denied'
  | 'external_id_mismatch'
  | 'account_mismatch'
  | 'expired'
  | 'provider_unreachable'
  | 'not_supported'
  | 'malformed';

/**
 * The provider did not accept the credentials. The message is safe to show: it never holds a
 * credential value, only what was wrong.
 */
export class CredentialValidationError extends DomainError {
  override readonly name = 'CredentialValidationError';
  readonly code = 'validation_failed';
  override readonly permanent: boolean;
  constructor(
    readonly reason: CredentialRejectionReason,
    message: string,
    options?: ErrorOptions,
  ) {
    // The reason leads the message so it survives Step Functions' error Cause on both targets.
    super(`[${reason}] ${message}`, options);
    this.permanent = reason !== 'provider_unreachable';
  }
}

export interface ProviderValidationContext {
  accountId: string;
  /** The external id issued at init for AWS role onboarding (not a secret). */
  externalId?: string | null;
  /** The account number the user declared, when known: the provider's answer must match it. */
  declaredAccountNumber?: string | null;
}

export interface ProviderValidationResult {
  /** The canonical account identifier the provider reported (account id, subscription, project, tenancy…). */
  accountNumber: string;
  /** True when the live call was skipped by the local offline setting. */
  validatedOffline: boolean;
}

/** The live check of one credential type with its provider. */
export interface ProviderValidator {
  validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): Promise<ProviderValidationResult>;
}
