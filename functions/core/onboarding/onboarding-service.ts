import type * as z from 'zod/mini';
import type { Account } from '../../../schemas/account';
import { toIsoUtc } from '../../../schemas/common';
import type {
  CaughtFailureSchema,
  CompleteOnboardingInputSchema,
  CreateFirstScheduleInputSchema,
  FailOnboardingInputSchema,
  PromoteCredentialsInputSchema,
  RecordValidationFailureInputSchema,
  Verification,
  VerifyStagedCredentialsInputSchema,
  VerifyStoredCredentialsInputSchema,
} from '../../../schemas/workflow-payloads';
import { NotFoundError } from '../errors';
import { publishCredentialsRejected } from '../notifications/domain-events';
import { type CredentialRejectionReason, CredentialValidationError } from '../ports/provider-validator';
import { describeFailure } from '../task-failure';
import type { WorkflowDependencies } from '../workflow-dependencies';
import { verifyAccountCredentials } from './credential-verification';
import { createScheduleForAccount } from './first-schedule';

type Input<Schema extends z.ZodMiniType> = z.infer<Schema>;

/**
 * Answers that say the credentials themselves are wrong: the account goes to `error` until new
 * ones are validated. An unreachable provider or a missing validator says nothing about them.
 */
const DEFINITIVE_REJECTIONS: ReadonlySet<CredentialRejectionReason> = new Set([
  'invalid_credentials',
  'access_denied',
  'external_id_mismatch',
  'account_mismatch',
  'expired',
  'malformed',
]);

async function requireAccount(
  deps: WorkflowDependencies,
  accountId: string,
  tenantId?: string,
): Promise<Account> {
  const account = await deps.accounts.get(accountId);
  if (!account || (tenantId !== undefined && account.tenant_id !== tenantId))
    throw new NotFoundError('account', accountId);
  return account;
}

/** Onboarding, step 1: structural then live checks of the staged version. Nothing is written. */
export async function verifyStagedCredentials(
  deps: WorkflowDependencies,
  input: Input<typeof VerifyStagedCredentialsInputSchema>,
): Promise<Verification> {
  const account = await requireAccount(deps, input.account_id, input.tenant_id);
  const result = await verifyAccountCredentials(deps, account, { versionId: input.secret_version_id });
  return {
    account_number: result.accountNumber,
    validated_at: toIsoUtc(deps.clock()),
    validated_offline: result.validatedOffline,
  };
}

/** Onboarding, step 2: the verified version becomes current (idempotent). */
export async function promoteCredentials(
  deps: WorkflowDependencies,
  input: Input<typeof PromoteCredentialsInputSchema>,
): Promise<void> {
  await deps.secretStore.promote(input.account_id, input.secret_version_id);
}

/** Onboarding, step 3: status active, onboarding completed, account number, validation time. */
export async function completeOnboarding(
  deps: WorkflowDependencies,
  input: Input<typeof CompleteOnboardingInputSchema>,
): Promise<{ account_id: string; status: string; onboarding_status: string }> {
  const account = await deps.accounts.completeOnboarding(input.account_id, {
    onboarding_id: input.onboarding_id,
    account_number: input.verification.account_number,
    last_validated_at: input.verification.validated_at,
    validated_offline: input.verification.validated_offline,
  });
  return {
    account_id: account.account_id,
    status: account.status,
    onboarding_status: account.onboarding_status,
  };
}

/** Onboarding, optional step 4: the first schedule, through the scheduling port. */
export async function createFirstSchedule(
  deps: WorkflowDependencies,
  input: Input<typeof CreateFirstScheduleInputSchema>,
): Promise<{ schedule_id: string }> {
  const account = await requireAccount(deps, input.account_id, input.tenant_id);
  const schedule = await createScheduleForAccount(
    deps,
    account,
    input.schedule,
    `first-schedule:${input.onboarding_id}`,
  );
  return { schedule_id: schedule.schedule_id };
}

/** Onboarding failed: drop the staged version (current credentials stay) and record why. */
export async function failOnboarding(
  deps: WorkflowDependencies,
  input: Input<typeof FailOnboardingInputSchema>,
): Promise<{ error_code: string }> {
  const failure = describeFailure(input.failure);
  await deps.secretStore.discard(input.account_id, input.secret_version_id);
  await deps.accounts.failOnboarding(input.account_id, {
    onboarding_id: input.onboarding_id,
    code: failure.error_code,
    message: failure.error_message,
  });
  if (DEFINITIVE_REJECTIONS.has(failure.error_code as CredentialRejectionReason)) {
    await publishCredentialsRejected(deps, input.account_id, {
      code: failure.error_code,
      message: failure.error_message,
    });
  }
  return { error_code: failure.error_code };
}

/**
 * Validation (on demand, and the first step of every scan): the current credentials, checked
 * with the provider; the outcome is recorded on the account either way.
 */
export async function verifyStoredCredentials(
  deps: WorkflowDependencies,
  input: Input<typeof VerifyStoredCredentialsInputSchema>,
): Promise<Verification> {
  const account = await requireAccount(deps, input.account_id, input.tenant_id);
  const validatedAt = toIsoUtc(deps.clock());
  try {
    const result = await verifyAccountCredentials(deps, account, { stage: 'current' });
    await Promise.all([
      deps.accounts.recordValidation(
        account.account_id,
        {
          ok: true,
          validated_at: validatedAt,
          account_number: result.accountNumber,
          validated_offline: result.validatedOffline,
        },
        { status: account.status },
      ),
      input.execution_id
        ? deps.executions.recordProgress(input.execution_id, {
            current_step: 'credentials_validated',
            progress_percent: 5,
          })
        : undefined,
    ]);
    return {
      account_number: result.accountNumber,
      validated_at: validatedAt,
      validated_offline: result.validatedOffline,
    };
  } catch (error) {
    if (error instanceof CredentialValidationError && DEFINITIVE_REJECTIONS.has(error.reason)) {
      await deps.accounts.recordValidation(
        account.account_id,
        {
          ok: false,
          validated_at: validatedAt,
          code: error.reason,
          message: error.message.replace(/^\[[a-z_]+\]\s*/, ''),
        },
        { status: account.status },
      );
    }
    throw error;
  }
}

/** A validation run that failed for a reason other than the provider's answer (timeouts, faults). */
export async function recordValidationFailure(
  deps: WorkflowDependencies,
  input: Input<typeof RecordValidationFailureInputSchema>,
): Promise<{ error_code: string }> {
  const failure = describeFailure(input.failure ?? undefined);
  if (DEFINITIVE_REJECTIONS.has(failure.error_code as CredentialRejectionReason)) {
    // verifyStoredCredentials recorded it already; recording again is idempotent in effect.
    await publishCredentialsRejected(deps, input.account_id, {
      code: failure.error_code,
      message: failure.error_message,
    });
    return { error_code: failure.error_code };
  }
  // A fault on our side or the provider's (timeout, unreachable): the account keeps its status.
  deps.logger.warn('credential validation could not complete', {
    account_id: input.account_id,
    error_code: failure.error_code,
  });
  return { error_code: failure.error_code };
}

export type CaughtFailure = z.infer<typeof CaughtFailureSchema>;
