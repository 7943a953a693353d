import type { Account } from '../../schemas/account';
import { onboardingExecutionIdOf } from '../core/onboarding/account-service';
import type { SubmittedOnboarding } from '../core/onboarding/credential-submission';
import type { AccountView } from './api-schemas';

/**
 * An account as the API shows it: the legacy fields plus the onboarding and validation outcome.
 * A whitelist on purpose: internal attributes (the secret's name, the scan lock) are not shown,
 * and no account attribute ever holds a credential value.
 */
export function accountView(account: Account): AccountView {
  return {
    account_id: account.account_id,
    tenant_id: account.tenant_id,
    provider_id: account.provider_id,
    provider_type: account.provider_type ?? null,
    account_name: account.account_name,
    account_number: account.account_number ?? null,
    status: account.status,
    onboarding_status: account.onboarding_status,
    onboarding_id: account.onboarding_id ?? null,
    onboarding_execution_id: onboardingExecutionIdOf(account),
    auth_method: account.auth_method ?? null,
    credential_type: account.credential_type ?? null,
    external_id: account.external_id ?? null,
    validated_offline: account.validated_offline ?? false,
    last_validated_at: account.last_validated_at ?? null,
    onboarding_error:
      account.onboarding_error_code != null
        ? { code: account.onboarding_error_code, message: account.onboarding_error_message ?? '' }
        : null,
    validation_error:
      account.validation_error_code != null
        ? {
            code: account.validation_error_code,
            message: account.validation_error_message ?? '',
            failed_at: account.validation_failed_at ?? null,
          }
        : null,
    created_at: account.created_at,
    updated_at: account.updated_at,
    disabled_at: account.disabled_at ?? null,
  };
}

/** Where the status of an onboarding or validation execution is read. */
export function executionStatusUrl(executionId: string): string {
  return `/api/v1/onboarding/executions/${executionId}`;
}

/** The 202 answer of a credential submission (onboarding started). */
export function submissionAccepted(submitted: SubmittedOnboarding) {
  return {
    execution_id: submitted.execution.name,
    status_url: executionStatusUrl(submitted.execution.name),
    account_id: submitted.account_id,
    onboarding_id: submitted.onboarding_id,
    status: 'accepted' as const,
    already_started: submitted.execution.alreadyStarted,
  };
}
