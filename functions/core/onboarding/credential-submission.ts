import type { ProviderType } from '../../../schemas/common';
import { toIsoUtc } from '../../../schemas/common';
import { CredentialSubmissionSchema, credentialTypeFor } from '../../../schemas/credentials';
import type { Clock } from '../clock';
import { NotFoundError, ValidationError } from '../errors';
import { onboardingExecutionName } from '../execution-names';
import { deterministicId } from '../ids';
import type { Orchestrator, WorkflowExecutionHandle } from '../ports/orchestrator';
import type { SecretStore } from '../ports/secret-store';
import type { AccountRepository } from '../repositories/account-repository';

export interface CredentialSubmissionDependencies {
  accounts: AccountRepository;
  secretStore: SecretStore;
  orchestrator: Orchestrator;
  clock: Clock;
}

export interface SubmitCredentialsRequest {
  tenantId: string;
  accountId: string;
  /** The provider named by the caller (the URL path); it must be the account's. */
  provider?: ProviderType;
  credentialType: string;
  credentials: unknown;
  /** Makes a retried submission a no-op: same staged version, same onboarding, same execution. */
  requestToken: string;
  expiresAt?: string | null;
  firstSchedule?: Record<string, unknown> | null;
}

export interface SubmittedOnboarding {
  account_id: string;
  onboarding_id: string;
  secret_version_id: string;
  execution: WorkflowExecutionHandle;
}

/**
 * Stages credentials (pending: working ones stay current) and starts the onboarding workflow,
 * which validates them and promotes them only on success. The workflow input carries the version
 * id, never the value.
 */
export async function submitCredentials(
  deps: CredentialSubmissionDependencies,
  request: SubmitCredentialsRequest,
): Promise<SubmittedOnboarding> {
  const account = await deps.accounts.get(request.accountId);
  if (!account || account.tenant_id !== request.tenantId)
    throw new NotFoundError('account', request.accountId);
  if (request.provider && account.provider_type && request.provider !== account.provider_type) {
    throw new ValidationError(`account ${account.account_id} is a ${account.provider_type} account`, [
      { field: 'provider', message: `must be ${account.provider_type} for this account` },
    ]);
  }

  const parsed = CredentialSubmissionSchema.safeParse({
    credential_type: request.credentialType,
    credentials: request.credentials,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || 'credentials',
      message: issue.message,
    }));
    throw new ValidationError(
      `invalid credentials: ${issues.map((issue) => issue.field).join(', ')}`,
      issues,
    );
  }
  const provider = account.provider_type;
  if (provider) {
    const allowed = [
      'iam_role',
      'access_key',
      'service_principal',
      'service_account',
      'user_principal',
      'api_key',
    ]
      .map((method) => credentialTypeFor(provider, method))
      .filter(Boolean);
    if (!allowed.includes(parsed.data.credential_type)) {
      throw new ValidationError(
        `${parsed.data.credential_type} credentials cannot onboard a ${provider} account`,
        [{ field: 'credential_type', message: `must be one of ${allowed.join(', ')}` }],
      );
    }
  }

  const staged = await deps.secretStore.stage(
    account.account_id,
    {
      credential_type: parsed.data.credential_type,
      credentials: parsed.data.credentials as Record<string, unknown>,
      account_id: account.account_id,
      created_at: toIsoUtc(deps.clock()),
      expires_at: request.expiresAt ?? null,
    },
    request.requestToken,
  );
  const onboardingId = deterministicId('onboarding', `${account.account_id}|${request.requestToken}`);
  await deps.accounts.beginOnboarding(account.account_id, onboardingId);
  if (account.secret_name !== staged.secretName) {
    // The reference, not the value: where this account's credentials live.
    await deps.accounts.update(account.account_id, { secret_name: staged.secretName });
  }
  const execution = await deps.orchestrator.start({
    workflow: 'onboarding',
    name: onboardingExecutionName(account.account_id, onboardingId.replaceAll('-', '').slice(0, 16)),
    input: {
      tenant_id: account.tenant_id,
      account_id: account.account_id,
      onboarding_id: onboardingId,
      secret_version_id: staged.versionId,
      first_schedule: request.firstSchedule ?? null,
    },
  });
  return {
    account_id: account.account_id,
    onboarding_id: onboardingId,
    secret_version_id: staged.versionId,
    execution,
  };
}
