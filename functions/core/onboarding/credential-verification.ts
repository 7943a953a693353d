import type { Account } from '../../../schemas/account';
import { CredentialSubmissionSchema } from '../../../schemas/credentials';
import { SecretExpiredError, SecretNotFoundError } from '../errors';
import {
  CredentialValidationError,
  type ProviderValidationResult,
  type ProviderValidator,
} from '../ports/provider-validator';
import type { SecretReadOptions, SecretStore, StoredSecret } from '../ports/secret-store';

/**
 * Structural checks first (the credential schemas), then the provider's live check. Secret-store
 * refusals become credential errors with a reason users can act on. Nothing returned is secret.
 */
export async function verifyAccountCredentials(
  dependencies: { secretStore: SecretStore; validator: ProviderValidator },
  account: Account,
  read: SecretReadOptions,
): Promise<ProviderValidationResult & { credential_type: string }> {
  const secret = await readForVerification(dependencies.secretStore, account.account_id, read);
  const structural = CredentialSubmissionSchema.safeParse({
    credential_type: secret.credential_type,
    credentials: secret.credentials,
  });
  if (!structural.success) {
    const fields = [...new Set(structural.error.issues.map((issue) => issue.path.join('.')))].join(', ');
    throw new CredentialValidationError(
      'malformed',
      `the stored credentials fail the structural checks (${fields})`,
    );
  }
  const result = await dependencies.validator.validate(secret.credential_type, secret.credentials, {
    accountId: account.account_id,
    externalId: account.external_id ?? null,
    declaredAccountNumber: account.account_number ?? null,
  });
  return { ...result, credential_type: secret.credential_type };
}

async function readForVerification(
  store: SecretStore,
  accountId: string,
  options: SecretReadOptions,
): Promise<StoredSecret> {
  try {
    return await store.read(accountId, options);
  } catch (error) {
    if (error instanceof SecretExpiredError) {
      throw new CredentialValidationError('expired', `the stored credentials expired at ${error.expiredAt}`, {
        cause: error,
      });
    }
    if (error instanceof SecretNotFoundError) {
      throw new CredentialValidationError(
        'invalid_credentials',
        options.versionId
          ? 'the staged credentials are no longer available'
          : 'no credentials are stored for this account',
        { cause: error },
      );
    }
    throw error;
  }
}
