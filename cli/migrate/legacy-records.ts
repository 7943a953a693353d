import { ValidationError } from '../../functions/core/errors';
import type { Item } from '../../functions/core/repositories/dynamodb-table';
import { toScheduleExpression } from '../../functions/core/scheduling/schedule-expression';
import { fireTimesAfter, scheduleTimingOf } from '../../functions/core/scheduling/schedule-service';
import { ProviderTypeSchema, parseTimestamp, toIsoUtc } from '../../schemas/common';
import {
  AUTH_METHODS,
  accountNumberOf,
  type CredentialSubmission,
  CredentialSubmissionSchema,
} from '../../schemas/credentials';
import type { Schedule } from '../../schemas/schedule';
import { decryptFernet, type FernetKey, FernetTokenError } from './fernet';
import type { LegacyCredentialRow, Row } from './postgres-source';

/**
 * The legacy rows as this service stores them: ids, statuses, counters and timestamps kept, field
 * meanings kept; what the new code needs and the legacy lacked is derived (provider_type on
 * accounts, the auth method, the external id of a role, the schedule's EventBridge expression).
 * Pure functions: the migration and its verification both build the expected record here.
 */

/** A record that cannot move; the reason names fields and causes, never a credential value. */
export class LegacyRecordError extends Error {
  override readonly name = 'LegacyRecordError';
}

const text = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : String(value);

/** A naive legacy timestamp (UTC) or a Date, as the text the schemas read; undefined when absent. */
function timestamp(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return toIsoUtc(value);
  return String(value);
}

export function tenantRecord(row: Row): Item {
  return {
    tenant_id: text(row.tenant_id),
    tenant_name: text(row.tenant_name),
    description: text(row.description),
    status: text(row.status) ?? 'active',
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at) ?? timestamp(row.created_at),
  };
}

export function providerRecord(row: Row): Item {
  const type = ProviderTypeSchema.safeParse(row.provider_type);
  if (!type.success) {
    throw new LegacyRecordError(
      `unknown provider '${String(row.provider_type).slice(0, 40)}': expected one of ${ProviderTypeSchema.options.join(', ')}`,
    );
  }
  return {
    provider_id: text(row.provider_id),
    tenant_id: text(row.tenant_id),
    provider_type: type.data,
    status: text(row.status) ?? 'active',
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at) ?? timestamp(row.created_at),
  };
}

export interface CurrentCredential {
  credentialId: string;
  submission: CredentialSubmission;
  createdAt: string;
  expiresAt: string | null;
}

/**
 * Decrypts a legacy credential row (a Fernet token of `json.dumps(credentials)`) and checks it as
 * strictly as a submission. The plaintext lives in memory only; errors say why, never what.
 */
export function decryptCredential(row: LegacyCredentialRow, key: FernetKey): CurrentCredential {
  let plaintext: Buffer;
  try {
    plaintext = decryptFernet(row.encrypted_data, key);
  } catch (error) {
    if (error instanceof FernetTokenError) throw new LegacyRecordError(`bad Fernet token: ${error.message}`);
    throw error;
  }
  let credentials: unknown;
  try {
    credentials = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new LegacyRecordError('the decrypted credential is not JSON');
  } finally {
    plaintext.fill(0);
  }
  const parsed = CredentialSubmissionSchema.safeParse({ credential_type: row.credential_type, credentials });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.') || 'credentials';
      return `${field} ${issue.message}`;
    });
    throw new LegacyRecordError(`invalid credentials shape (${row.credential_type}): ${fields.join('; ')}`);
  }
  const createdAt = parseTimestamp(timestamp(row.created_at) ?? '');
  const expiresAt = row.expires_at === null ? undefined : parseTimestamp(timestamp(row.expires_at) ?? '');
  return {
    credentialId: row.credential_id,
    submission: parsed.data,
    createdAt: toIsoUtc(createdAt ?? new Date(0)),
    expiresAt: expiresAt ? toIsoUtc(expiresAt) : null,
  };
}

/** The auth method of a credential type on a provider (aws_iam_role on aws → iam_role). */
function authMethodOf(provider: string, credentialType: string): string | undefined {
  const methods = AUTH_METHODS[provider as keyof typeof AUTH_METHODS] ?? [];
  return methods.find((method) => method.credential_type === credentialType)?.auth_method;
}

export interface AccountRecord {
  record: Item;
  /** Set when the legacy account_number was replaced by the one the newest credential declares. */
  accountNumberCorrected: boolean;
}

/** The account item; with its current credential, the fields the new validation reads. */
export function accountRecord(
  row: Row,
  credential: CurrentCredential | undefined,
  secretName: string | undefined,
): AccountRecord {
  const provider = ProviderTypeSchema.safeParse(row.provider_type);
  if (!provider.success) {
    throw new LegacyRecordError(
      `unknown provider '${String(row.provider_type ?? '(none)').slice(0, 40)}' of provider ${String(row.provider_id)}`,
    );
  }
  let accountNumber = text(row.account_number);
  let accountNumberCorrected = false;
  const record: Item = {
    account_id: text(row.account_id),
    provider_id: text(row.provider_id),
    tenant_id: text(row.tenant_id),
    account_name: text(row.account_name),
    status: text(row.status) ?? 'pending',
    onboarding_status: text(row.onboarding_status) ?? 'pending',
    onboarding_id: text(row.onboarding_id),
    last_validated_at: timestamp(row.last_validated_at),
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at) ?? timestamp(row.created_at),
    provider_type: provider.data,
  };
  if (credential) {
    const { credential_type: credentialType, credentials } = credential.submission;
    const authMethod = authMethodOf(provider.data, credentialType);
    if (!authMethod) {
      throw new LegacyRecordError(
        `a ${credentialType} credential cannot belong to a ${provider.data} account`,
      );
    }
    const declared = accountNumberOf(credentialType, credentials);
    if (declared !== undefined && declared !== accountNumber) {
      accountNumber = declared;
      accountNumberCorrected = true;
    }
    Object.assign(record, {
      auth_method: authMethod,
      credential_type: credentialType,
      secret_name: secretName,
      // Re-validation of a role checks the external id on the account; the legacy kept it only inside the credential.
      external_id: credentialType === 'aws_iam_role' ? credentials.external_id : undefined,
    });
  }
  record.account_number = accountNumber;
  return { record, accountNumberCorrected };
}

const stringArray = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** Fields the runtime moves on once the schedule is migrated: never rewritten by a re-run. */
export const SCHEDULE_RUNTIME_FIELDS = ['next_run_at'] as const;

/**
 * The schedule item, with its EventBridge Scheduler expression. A schedule that has no exact
 * equivalent (a cron restricting both day-of-month and day-of-week, an interval that is not a
 * whole number of minutes, an unknown time zone) is refused with the reason rather than changed.
 * An interval keeps its phase: it is anchored (start_date) on the legacy next_run_at, so it fires
 * at the times the legacy scheduler would have.
 */
export function scheduleRecord(row: Row, now: Date): Item {
  const scheduleType = text(row.schedule_type);
  const timezone = text(row.timezone) ?? 'UTC';
  const nextRunAt = timestamp(row.next_run_at);
  let expression: string;
  try {
    expression = toScheduleExpression({
      schedule_type: scheduleType as Schedule['schedule_type'],
      cron_expression: text(row.cron_expression) ?? null,
      interval_seconds: row.interval_seconds === null ? null : Number(row.interval_seconds),
      next_run_at: nextRunAt ?? null,
      timezone,
    });
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new LegacyRecordError(`no faithful EventBridge schedule: ${error.message}`);
    }
    throw error;
  }
  const enabled = row.enabled === null || row.enabled === undefined ? true : Boolean(row.enabled);
  const record: Item = {
    schedule_id: text(row.schedule_id),
    tenant_id: text(row.tenant_id),
    account_id: text(row.account_id),
    name: text(row.name),
    description: text(row.description),
    schedule_type: scheduleType,
    cron_expression: text(row.cron_expression),
    interval_seconds: row.interval_seconds === null ? undefined : Number(row.interval_seconds),
    timezone,
    regions: stringArray(row.regions),
    services: stringArray(row.services),
    exclude_services: stringArray(row.exclude_services),
    status: text(row.status) ?? 'active',
    enabled: enabled ? 'true' : 'false',
    provider_type: text(row.provider_type),
    run_count: Number(row.run_count ?? 0),
    success_count: Number(row.success_count ?? 0),
    failure_count: Number(row.failure_count ?? 0),
    last_run_at: timestamp(row.last_run_at),
    next_run_at: nextRunAt,
    notify_on_success: row.notify_on_success === null ? false : Boolean(row.notify_on_success),
    notify_on_failure: row.notify_on_failure === null ? true : Boolean(row.notify_on_failure),
    notification_channels: row.notification_channels ?? undefined,
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at) ?? timestamp(row.created_at),
    created_by: text(row.created_by),
    schedule_expression: expression,
  };
  if (scheduleType === 'interval' && nextRunAt) record.start_date = nextRunAt;
  if (scheduleType !== 'one_time') {
    // next_run_at is the next fire time under the new scheduler (the legacy value may be long past).
    try {
      const timing = scheduleTimingOf(record as Schedule);
      const [next] = fireTimesAfter(timing, now, 1);
      record.next_run_at = next ? toIsoUtc(next) : nextRunAt;
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new LegacyRecordError(`no faithful EventBridge schedule: ${error.message}`);
      }
      throw error;
    }
  }
  return record;
}

/** A legacy run still `running` can never finish (the legacy scheduler is gone): it ends aborted. */
export const RUNNING_AT_MIGRATION = 'legacy_running_at_migration';

export function executionRecord(row: Row): Item {
  const running = row.status === 'running';
  return {
    execution_id: text(row.execution_id),
    schedule_id: text(row.schedule_id),
    account_id: text(row.account_id),
    started_at: timestamp(row.started_at),
    completed_at: timestamp(row.completed_at),
    status: running ? 'aborted' : text(row.status),
    triggered_by: text(row.triggered_by) ?? 'scheduler',
    scan_id: text(row.scan_id),
    total_checks: row.total_checks ?? undefined,
    passed_checks: row.passed_checks ?? undefined,
    failed_checks: row.failed_checks ?? undefined,
    error_message: running
      ? 'the execution was still running in the legacy service when it was migrated'
      : text(row.error_message),
    error_code: running ? RUNNING_AT_MIGRATION : undefined,
    execution_time_seconds: row.execution_time_seconds ?? undefined,
    created_at: timestamp(row.created_at),
    tenant_id: text(row.tenant_id),
    provider_type: text(row.provider_type),
  };
}

export function scanResultRecord(row: Row): Item {
  return {
    scan_id: text(row.scan_id),
    account_id: text(row.account_id),
    provider_type: text(row.provider_type),
    // The legacy column is nullable; its only writer was the scheduler.
    scan_type: text(row.scan_type) ?? 'scheduled',
    started_at: timestamp(row.started_at),
    completed_at: timestamp(row.completed_at),
    status: text(row.status),
    total_checks: row.total_checks ?? 0,
    passed_checks: row.passed_checks ?? 0,
    failed_checks: row.failed_checks ?? 0,
    error_checks: row.error_checks ?? 0,
    result_storage_path: text(row.result_storage_path),
    metadata: row.metadata ?? undefined,
    created_at: timestamp(row.created_at),
    tenant_id: text(row.tenant_id),
  };
}
