import { SecretExpiredError, SecretNotFoundError, ValidationError } from '../../functions/core/errors';
import type { SecretPayload } from '../../functions/core/ports/secret-store';
import type { Item } from '../../functions/core/repositories/dynamodb-table';
import type { MigratedEntity } from '../../functions/core/repositories/migrated-record-repository';
import { runConcurrently } from '../../functions/core/run-concurrently';
import { toScheduleExpression } from '../../functions/core/scheduling/schedule-expression';
import { fireTimesAfter, scheduleTimingOf } from '../../functions/core/scheduling/schedule-service';
import { toIsoUtc } from '../../schemas/common';
import { AUTH_METHODS, accountNumberOf, StoredSecretSchema } from '../../schemas/credentials';
import type { Schedule } from '../../schemas/schedule';
import { LegacyRecordError, RUNNING_AT_MIGRATION, SCHEDULE_RUNTIME_FIELDS } from './legacy-records';
import type { MigrationProgress } from './migration-progress';
import { type MigrationMode, type MigrationReport, ReportBuilder } from './migration-report';
import { canBatch, type MigrationTarget, readsTenantScopedSecrets } from './migration-target';
import { createRecordSaver, failureReason } from './record-saver';
import { reconcileSchedulerEntries } from './scheduler-entries';

export interface DynamoDbAdoptionOptions {
  target: MigrationTarget;
  mode: MigrationMode;
  progress: MigrationProgress;
  concurrency?: number;
  clock?: () => Date;
}

const ID_OF: Record<MigratedEntity, string> = {
  tenants: 'tenant_id',
  providers: 'provider_id',
  accounts: 'account_id',
  schedules: 'schedule_id',
  executions: 'execution_id',
  scanResults: 'scan_id',
};

const ONBOARDED = (item: Item) => item.onboarding_status === 'completed' || item.status === 'active';

/**
 * Adopts the legacy DynamoDB tables in place: every item is read under this service's schemas
 * (those that do not read are reported, and left as they are), and what the new code needs and
 * the legacy lacked is filled in: timestamps normalized to ISO-8601 UTC `Z`, `enabled` as the
 * strings 'true'/'false', a null next_run_at removed (it broke the index) or recomputed, the
 * EventBridge expression of each schedule, provider_type and tenant_id carried down from the
 * parents, and on each account the credential type, auth method, secret name and (for a role)
 * external id read from its secret. Every account's secret is checked under the legacy name
 * `{prefix}/account/{account_id}` (or copied there from the later variant's
 * `{prefix}/account/{tenant_id}/{account_id}`) and must parse as its credential type says (the
 * value is never printed). Then every active schedule gets its scheduler entry and paused ones none.
 */
export async function runDynamoDbAdoption(options: DynamoDbAdoptionOptions): Promise<MigrationReport> {
  const { target, mode, progress } = options;
  const concurrency = options.concurrency ?? 16;
  const now = (options.clock ?? (() => new Date()))();
  const report = new ReportBuilder('migrate dynamodb', mode, target.description);
  const save = createRecordSaver(target, report, mode);
  const providerTypes = new Map<string, string>();
  const accounts = new Map<string, { tenantId: string; providerType: string | undefined }>();
  let runningExecutions = 0;
  let tenantScopedCopies = 0;

  const adopt = async (
    entity: MigratedEntity,
    fill: (item: Item) => Promise<Item> | Item,
    runtimeFields?: readonly string[],
  ) => {
    report.touch(entity);
    progress.begin(entity, 0);
    let page: Item[] = [];
    const flush = async () => {
      const run = () =>
        runConcurrently(page, concurrency, async (item) => {
          const id = String(item[ID_OF[entity]] ?? '(no id)');
          try {
            await save(entity, entity, id, await fill({ ...item }), runtimeFields, true);
          } catch (error) {
            const reason = failureReason(error);
            if (reason === undefined) throw error;
            report.fail(entity, id, reason);
          }
        });
      // Accounts read their secrets: inside a batch the local vault is read once per page, not per secret.
      const store = target.secretStore;
      if (entity === 'accounts' && canBatch(store)) await store.writeBatch(run);
      else await run();
      progress.advance(page.length);
      page = [];
    };
    for await (const item of target.records.scanAll(entity)) {
      page.push(item);
      if (page.length >= 100) await flush();
    }
    await flush();
    progress.end();
  };

  await adopt('tenants', async (item) => {
    if (mode !== 'verify' && typeof item.tenant_name === 'string' && typeof item.tenant_id === 'string') {
      await target.records.claimTenantName(item.tenant_id, item.tenant_name, { dryRun: mode === 'dry-run' });
    }
    return item;
  });
  await adopt('providers', (item) => {
    if (typeof item.provider_id === 'string' && typeof item.provider_type === 'string') {
      providerTypes.set(item.provider_id, item.provider_type);
    }
    return item;
  });
  report.touch('secrets');
  await adopt('accounts', async (item) => {
    const accountId = String(item.account_id);
    item.provider_type ??= providerTypes.get(String(item.provider_id));
    accounts.set(accountId, {
      tenantId: String(item.tenant_id),
      providerType: typeof item.provider_type === 'string' ? item.provider_type : undefined,
    });
    return fillFromSecret(accountId, item);
  });
  await adopt(
    'schedules',
    (item) => {
      item.provider_type ??= accounts.get(String(item.account_id))?.providerType;
      return fillSchedule(item);
    },
    SCHEDULE_RUNTIME_FIELDS,
  );
  await adopt('executions', (item) => {
    const parent = accounts.get(String(item.account_id));
    item.tenant_id ??= parent?.tenantId;
    item.provider_type ??= parent?.providerType;
    if (item.status === 'running' && mode !== 'verify') {
      runningExecutions += 1;
      Object.assign(item, {
        status: 'aborted',
        error_code: RUNNING_AT_MIGRATION,
        error_message: 'the execution was still running in the legacy service when it was adopted',
      });
    }
    return item;
  });
  await adopt('scanResults', (item) => {
    item.tenant_id ??= accounts.get(String(item.account_id))?.tenantId;
    return item;
  });
  await reconcileSchedulerEntries(target, report, mode);
  if (tenantScopedCopies > 0) {
    report.note(
      `${tenantScopedCopies} secrets ${mode === 'dry-run' ? 'would be' : 'were'} copied from the tenant-scoped name {prefix}/account/{tenant_id}/{account_id} to {prefix}/account/{account_id}; the originals are left as they are`,
    );
  }
  if (runningExecutions > 0) {
    report.note(
      `${runningExecutions} executions were still running in the legacy service: they are recorded aborted (error_code ${RUNNING_AT_MIGRATION})`,
    );
  }
  return report.build();

  /** Reads the account's secret (in memory only) and fills the account fields the new code reads. */
  async function fillFromSecret(accountId: string, item: Item): Promise<Item> {
    let value: unknown;
    /** Set when the secret was read under the tenant-scoped name: copied once it passes the checks. */
    let tenantScopedPayload: SecretPayload | undefined;
    try {
      value = await target.secretStore.read(accountId);
    } catch (error) {
      if (error instanceof SecretNotFoundError) {
        const tenantScoped = ONBOARDED(item)
          ? await readTenantScopedSecret(accountId, String(item.tenant_id))
          : 'absent';
        if (tenantScoped === 'reported') return item;
        if (tenantScoped === 'absent') {
          if (ONBOARDED(item)) {
            report.fail(
              'secrets',
              accountId,
              `no secret ${target.secretStore.secretNameFor(accountId)} (the account is onboarded)`,
            );
          } else report.count('secrets', mode === 'verify' ? 'matched' : 'unchanged');
          return item;
        }
        tenantScopedPayload = tenantScoped.payload;
        value = tenantScopedPayload;
      } else if (error instanceof SecretExpiredError) {
        report.fail('secrets', accountId, 'the credential has expired (expires_at is past)');
        return item;
      } else if (error instanceof ValidationError) {
        report.fail(
          'secrets',
          accountId,
          `the secret does not parse: ${error.issues.map((issue) => issue.field).join(', ')}`,
        );
        return item;
      } else {
        throw error;
      }
    }
    const parsed = StoredSecretSchema.safeParse(value);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.map(String).join('.') || '(value)');
      report.fail(
        'secrets',
        accountId,
        `the secret does not parse as its credential type: ${fields.join(', ')}`,
      );
      return item;
    }
    if (!tenantScopedPayload) report.count('secrets', mode === 'verify' ? 'matched' : 'unchanged');
    const secret = parsed.data;
    const provider = String(item.provider_type);
    const authMethod = AUTH_METHODS[provider as keyof typeof AUTH_METHODS]?.find(
      (method) => method.credential_type === secret.credential_type,
    )?.auth_method;
    if (!authMethod) {
      throw new LegacyRecordError(
        `its ${secret.credential_type} secret cannot belong to a ${provider} account`,
      );
    }
    const declared = accountNumberOf(secret.credential_type, secret.credentials);
    if (tenantScopedPayload) await copyTenantScopedSecret(accountId, tenantScopedPayload);
    return {
      ...item,
      credential_type: secret.credential_type,
      auth_method: authMethod,
      secret_name: target.secretStore.secretNameFor(accountId),
      ...(secret.credential_type === 'aws_iam_role' ? { external_id: secret.credentials.external_id } : {}),
      ...(declared !== undefined ? { account_number: declared } : {}),
    };
  }

  /**
   * A later legacy variant kept an account's secret under `{prefix}/account/{tenant_id}/{account_id}`.
   * 'absent' when the store cannot look there (the local vault) or nothing is there; 'reported'
   * when what is there cannot be adopted, or (verify) when it was not copied yet.
   */
  async function readTenantScopedSecret(
    accountId: string,
    tenantId: string,
  ): Promise<{ payload: SecretPayload } | 'absent' | 'reported'> {
    const store = target.secretStore;
    if (!readsTenantScopedSecrets(store)) return 'absent';
    let payload: SecretPayload;
    try {
      payload = await store.readTenantScoped(tenantId, accountId);
    } catch (error) {
      if (error instanceof SecretNotFoundError) return 'absent';
      if (error instanceof SecretExpiredError) {
        report.fail('secrets', accountId, 'the tenant-scoped credential has expired (expires_at is past)');
        return 'reported';
      }
      if (error instanceof ValidationError) {
        report.fail(
          'secrets',
          accountId,
          `the tenant-scoped secret does not parse: ${error.issues.map((issue) => issue.field).join(', ')}`,
        );
        return 'reported';
      }
      throw error;
    }
    if (mode === 'verify') {
      report.fail(
        'secrets',
        accountId,
        `no secret ${store.secretNameFor(accountId)}, only one under the tenant-scoped name (migrate copies it)`,
      );
      return 'reported';
    }
    return { payload };
  }

  /** Copies a checked tenant-scoped secret to this service's name: stage then promote, one version however often it runs. */
  async function copyTenantScopedSecret(accountId: string, payload: SecretPayload): Promise<void> {
    tenantScopedCopies += 1;
    report.count('secrets', 'created');
    if (mode !== 'migrate') return;
    const staged = await target.secretStore.stage(
      accountId,
      payload,
      `migrate-tenant-scoped-secret-${accountId}`,
    );
    await target.secretStore.promote(accountId, staged.versionId);
  }

  function fillSchedule(item: Item): Item {
    const schedule = { ...item };
    if (schedule.next_run_at === null) delete schedule.next_run_at;
    if (typeof schedule.enabled === 'boolean') schedule.enabled = schedule.enabled ? 'true' : 'false';
    if (!schedule.schedule_expression) {
      try {
        schedule.schedule_expression = toScheduleExpression({
          schedule_type: schedule.schedule_type as Schedule['schedule_type'],
          cron_expression: (schedule.cron_expression as string | undefined) ?? null,
          interval_seconds: (schedule.interval_seconds as number | undefined) ?? null,
          next_run_at: (schedule.next_run_at as string | undefined) ?? null,
          timezone: (schedule.timezone as string | undefined) ?? 'UTC',
        });
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new LegacyRecordError(`no faithful EventBridge schedule: ${error.message}`);
        }
        throw error;
      }
      if (schedule.schedule_type === 'interval' && schedule.next_run_at && !schedule.start_date) {
        schedule.start_date = schedule.next_run_at;
      }
    }
    if (schedule.schedule_type !== 'one_time' && schedule.next_run_at === undefined) {
      try {
        const [next] = fireTimesAfter(scheduleTimingOf(schedule as Schedule), now, 1);
        if (next) schedule.next_run_at = toIsoUtc(next);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new LegacyRecordError(`no faithful EventBridge schedule: ${error.message}`);
      }
    }
    return schedule;
  }
}
