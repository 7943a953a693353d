import {
  type CredentialRejectionReason,
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
  type ProviderValidator,
} from '../../functions/core/ports/provider-validator';
import { accountNumberOf } from '../../schemas/credentials';

/**
 * A provider validator for workflow tests: accepts structurally valid credentials (answering the
 * account number they declare) unless a rejection was queued. Records what it was asked, minus
 * the credential values.
 */
export class ScriptedValidator implements ProviderValidator {
  readonly calls: Array<{ credentialType: string; context: ProviderValidationContext }> = [];
  readonly #rejections: CredentialRejectionReason[] = [];

  /** What it answers when the credentials declare no account number (e.g. access keys). */
  constructor(readonly accountNumber = '111122223333') {}

  rejectNext(reason: CredentialRejectionReason, times = 1): void {
    for (let i = 0; i < times; i += 1) this.#rejections.push(reason);
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    this.calls.push({ credentialType, context });
    const rejection = this.#rejections.shift();
    if (rejection)
      throw new CredentialValidationError(rejection, `the provider refused the credentials (${rejection})`);
    const declared = accountNumberOf(
      credentialType as Parameters<typeof accountNumberOf>[0],
      credentials as never,
    );
    return { accountNumber: declared ?? this.accountNumber, validatedOffline: false };
  }
}
