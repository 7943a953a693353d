import { isDeepStrictEqual } from 'node:util';
import { InvalidTransitionError, SecretExpiredError, SecretNotFoundError } from '../../functions/core/errors';
import type { StoredSecret } from '../../functions/core/ports/secret-store';
import type { Item } from '../../functions/core/repositories/dynamodb-table';
import type { MigratedEntity } from '../../functions/core/repositories/migrated-record-repository';
import { runConcurrently } from '../../functions/core/run-concurrently';
import type { FernetKey } from './fernet';
import {
  accountRecord,
  type CurrentCredential,
  decryptCredential,
  executionRecord,
  providerRecord,
  RUNNING_AT_MIGRATION,
  SCHEDULE_RUNTIME_FIELDS,
  scanResultRecord,
  scheduleRecord,
  tenantRecord,
} from './legacy-records';
import type { MigrationProgress } from './migration-progress';
import { type MigrationMode, type MigrationReport, ReportBuilder } from './migration-report';
import { canBatch, type MigrationTarget } from './migration-target';
import type { LegacyTable, PostgresSource, Row } from './postgres-source';
import { createRecordSaver, failureReason } from './record-saver';
import { reconcileSchedulerEntries } from './scheduler-entries';

export interface PostgresMigrationOptions {
  source: PostgresSource;
  key: FernetKey;
  target: MigrationTarget;
  mode: MigrationMode;
  progress: MigrationProgress;
  /** Source rows per query (default 200). */
  pageSize?: number;
  /** Records written at once (default 16). */
  concurrency?: number;
  clock?: () => Date;
}

/** The request token of a legacy credential row: its secret version id is derived from it, so a re-run meets the same version. */
export const legacyCredentialToken = (credentialId: string) => `legacy-credential:${credentialId}`;

interface SimpleTable {
  legacy: LegacyTable;
  entity: MigratedEntity;
  id: string;
  toRecord: (row: Row, now: Date) => Item;
  runtimeFields?: readonly string[];
}

const SIMPLE_TABLES = {
  tenants: { legacy: 'tenants', entity: 'tenants', id: 'tenant_id', toRecord: tenantRecord },
  providers: { legacy: 'providers', entity: 'providers', id: 'provider_id', toRecord: providerRecord },
  schedules: {
    legacy: 'schedules',
    entity: 'schedules',
    id: 'schedule_id',
    toRecord: scheduleRecord,
    runtimeFields: SCHEDULE_RUNTIME_FIELDS,
  },
  executions: {
    legacy: 'schedule_executions',
    entity: 'executions',
    id: 'execution_id',
    toRecord: executionRecord,
  },
  scanResults: { legacy: 'scan_results', entity: 'scanResults', id: 'scan_id', toRecord: scanResultRecord },
} as const satisfies Record<string, SimpleTable>;

/**
 * Moves the legacy PostgreSQL data into the target, table by table (tenants, providers, accounts
 * with their current credentials, schedules, executions, scan results), then makes the scheduler
 * entries agree with the schedules. Ids are kept, so every step is idempotent and an interrupted
 * run is completed by running it again. Per page of accounts, the credentials are stored first
 * (the local vault writes them in one file write) and the account items after: an account item
 * never exists without its secret. A record that fails is reported and the others go on; a
 * failure of the target itself (a table missing, AWS unavailable) stops the run.
 *
 * With mode `dry-run` nothing is written and the counts say what a run would do; with `verify`
 * nothing is written and every source record is compared with the target, field by field, and
 * every credential read back and compared in memory.
 */
export async function runPostgresMigration(options: PostgresMigrationOptions): Promise<MigrationReport> {
  const { source, target, mode, progress } = options;
  const pageSize = options.pageSize ?? 200;
  const concurrency = options.concurrency ?? 16;
  const now = (options.clock ?? (() => new Date()))();
  const report = new ReportBuilder('migrate postgres', mode, target.description);
  const dryRun = mode !== 'migrate';

  const saveRecord = createRecordSaver(target, report, mode);

  let runningExecutions = 0;
  const simpleTable = async (name: keyof typeof SIMPLE_TABLES) => {
    const spec: SimpleTable = SIMPLE_TABLES[name];
    report.touch(name);
    progress.begin(name, await source.count(spec.legacy));
    for await (const rows of source.pages(spec.legacy, pageSize)) {
      await runConcurrently(rows, concurrency, async (row) => {
        const id = String(row[spec.id]);
        if (name === 'executions' && row.status === 'running') runningExecutions += 1;
        try {
          const record = spec.toRecord(row, now);
          if (name === 'tenants' && mode !== 'verify') {
            await target.records.claimTenantName(id, String(row.tenant_name), { dryRun });
          }
          await saveRecord(name, spec.entity, id, record, spec.runtimeFields);
        } catch (error) {
          const reason = failureReason(error);
          if (reason === undefined) throw error;
          report.fail(name, id, reason);
        }
      });
      progress.advance(rows.length);
    }
    progress.end();
  };

  await simpleTable('tenants');
  await simpleTable('providers');
  await migrateAccounts();
  await simpleTable('schedules');
  await simpleTable('executions');
  await simpleTable('scanResults');
  await reconcileSchedulerEntries(target, report, mode);

  if (runningExecutions > 0) {
    report.note(
      `${runningExecutions} executions were still running in the legacy service: they are recorded aborted (error_code ${RUNNING_AT_MIGRATION}), since nothing can finish them now`,
    );
  }
  return report.build();

  async function migrateAccounts(): Promise<void> {
    report.touch('accounts');
    report.touch('secrets');
    let superseded = 0;
    let supersededAccounts = 0;
    let corrected = 0;
    progress.begin('accounts', await source.count('accounts'));
    for await (const rows of source.pages('accounts', pageSize)) {
      const credentials = await source.credentialsOf(rows.map((row) => String(row.account_id)));
      const ready: Array<{ id: string; record: Item; credential: CurrentCredential | undefined }> = [];
      for (const row of rows) {
        const id = String(row.account_id);
        const history = credentials.get(id) ?? [];
        if (history.length > 1) {
          superseded += history.length - 1;
          supersededAccounts += 1;
        }
        try {
          const newest = history[0];
          const credential = newest ? decryptCredential(newest, options.key) : undefined;
          const { record, accountNumberCorrected } = accountRecord(
            row,
            credential,
            credential ? target.secretStore.secretNameFor(id) : undefined,
          );
          target.records.prepare('accounts', record);
          if (accountNumberCorrected) corrected += 1;
          ready.push({ id, record, credential });
        } catch (error) {
          const reason = failureReason(error);
          if (reason === undefined) throw error;
          report.fail('accounts', id, reason);
        }
      }

      const withSecrets = new Set<string>();
      const storeSecrets = () =>
        runConcurrently(ready, concurrency, async ({ id, credential }) => {
          if (!credential) {
            withSecrets.add(id);
            return;
          }
          try {
            await storeSecret(id, credential);
            withSecrets.add(id);
          } catch (error) {
            const reason = failureReason(error);
            if (reason === undefined) throw error;
            report.fail('secrets', id, reason);
            report.fail('accounts', id, `its credential could not be stored: ${reason}`);
          }
        });
      const store = target.secretStore;
      // Inside a batch the local vault is read once per page, not once per secret (and written once).
      if (canBatch(store)) await store.writeBatch(storeSecrets);
      else await storeSecrets();

      // Only after the page's secrets are stored: an account item never points to a missing secret.
      await runConcurrently(
        ready.filter(({ id }) => withSecrets.has(id)),
        concurrency,
        async ({ id, record }) => {
          try {
            await saveRecord('accounts', 'accounts', id, record);
          } catch (error) {
            const reason = failureReason(error);
            if (reason === undefined) throw error;
            report.fail('accounts', id, reason);
          }
        },
      );
      progress.advance(rows.length);
    }
    progress.end();
    if (superseded > 0) {
      report.note(
        `${superseded} older credential rows of ${supersededAccounts} accounts were not migrated: the newest row of each account is its current credential; the older ones stay in the source database only`,
      );
    }
    if (corrected > 0) {
      report.note(
        `${corrected} accounts took their account_number from their newest credential (the legacy value was missing or differed; validation compares them)`,
      );
    }
  }

  async function storeSecret(accountId: string, credential: CurrentCredential): Promise<void> {
    const store = target.secretStore;
    const token = legacyCredentialToken(credential.credentialId);
    if (mode === 'verify') {
      try {
        const stored = await store.read(accountId);
        if (sameCredential(stored, credential)) report.count('secrets', 'matched');
        else {
          report.problem(
            'secrets',
            accountId,
            'mismatched',
            'the current secret does not hold the newest legacy credential',
          );
        }
      } catch (error) {
        if (error instanceof SecretNotFoundError) {
          report.problem('secrets', accountId, 'missing', 'no current secret in the target');
        } else if (error instanceof SecretExpiredError) {
          report.fail('secrets', accountId, 'the credential has expired (expires_at is past)');
        } else throw error;
      }
      return;
    }
    let current: StoredSecret | undefined;
    try {
      current = await store.read(accountId);
    } catch (error) {
      if (!(error instanceof SecretNotFoundError || error instanceof SecretExpiredError)) throw error;
    }
    if (current && sameCredential(current, credential)) {
      report.count('secrets', 'unchanged');
      return;
    }
    report.count('secrets', current ? 'updated' : 'created');
    if (dryRun) return;
    const payload = {
      credential_type: credential.submission.credential_type,
      credentials: credential.submission.credentials as Record<string, unknown>,
      account_id: accountId,
      created_at: credential.createdAt,
      expires_at: credential.expiresAt,
    };
    const staged = await store.stage(accountId, payload, token);
    try {
      await store.promote(accountId, staged.versionId);
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
      // The version exists but something else was made current since (a tampered or newer secret):
      // the source wins, as a new version derived from the one it replaces (the same on every re-run).
      const replaced = (await store.describe(accountId))?.currentVersionId ?? 'none';
      const restored = await store.stage(accountId, payload, `${token}:replacing:${replaced}`);
      await store.promote(accountId, restored.versionId);
    }
  }
}

/** The stored secret holds this credential (compared in memory; nothing is printed). */
function sameCredential(stored: StoredSecret, credential: CurrentCredential): boolean {
  return (
    stored.credential_type === credential.submission.credential_type &&
    isDeepStrictEqual(stored.credentials, credential.submission.credentials)
  );
}
