import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../cli/exit-codes';
import { parseFernetKey } from '../../../cli/migrate/fernet';
import type { MigrationProgress } from '../../../cli/migrate/migration-progress';
import type { MigrationMode, MigrationReport } from '../../../cli/migrate/migration-report';
import { awsTargetFrom, type MigrationTarget, openLocalTarget } from '../../../cli/migrate/migration-target';
import { runPostgresMigration } from '../../../cli/migrate/postgres-migration';
import { PostgresSource } from '../../../cli/migrate/postgres-source';
import { EventBridgeScheduler } from '../../../functions/adapters/aws/eventbridge-scheduler';
import { SecretsManagerSecretStore } from '../../../functions/adapters/aws/secrets-manager-secret-store';
import { systemClock } from '../../../functions/core/clock';
import { loadConfig } from '../../../functions/core/config';
import { createJsonLogger } from '../../../functions/core/json-logger';
import type { Item } from '../../../functions/core/repositories/dynamodb-table';
import { acquireDataDirLock } from '../../../local/data-dir-lock';
import { startLocalRuntime } from '../../../local/runtime';
import { FAKE_AWS_ACCOUNT } from '../../fixtures/credentials';
import { newFernetKey } from '../../fixtures/legacy/legacy-postgres-fixtures';
import { startTestTables } from '../../support/dynalite';
import { FakeSecretsManager } from '../../support/fake-secrets-manager';
import { type LegacyPostgres, startLegacyPostgres } from '../../support/legacy-postgres';

const ACCOUNTS = 120;

let legacy: LegacyPostgres;
let parent: string;
let dataDirectory: string;
/** Everything the migration printed or wrote outside the target, searched for the canary at the end. */
const outputs: string[] = [];

const recordingProgress = (): MigrationProgress => ({
  begin: (table, total) => outputs.push(`${table} ${total}`),
  advance: (count) => outputs.push(String(count)),
  end: () => undefined,
});

async function migrate(
  mode: MigrationMode,
  options: { key?: string; directory?: string } = {},
): Promise<MigrationReport> {
  const source = await PostgresSource.connect(legacy.url);
  let target: MigrationTarget | undefined;
  try {
    target = await openLocalTarget(
      loadConfig({ THREAT_ENGINE_DATA_DIR: options.directory ?? dataDirectory }),
      {
        dryRun: mode !== 'migrate',
      },
    );
    const report = await runPostgresMigration({
      source,
      key: parseFernetKey(options.key ?? legacy.summary.key),
      target,
      mode,
      progress: recordingProgress(),
    });
    outputs.push(JSON.stringify(report));
    return report;
  } finally {
    await target?.close();
    await source.close();
  }
}

/** Opens the migrated data directory as the runtime would (under its lock), for a look inside. */
async function inspect<T>(
  look: (target: MigrationTarget) => Promise<T>,
  directory = dataDirectory,
): Promise<T> {
  const target = await openLocalTarget(loadConfig({ THREAT_ENGINE_DATA_DIR: directory }), { dryRun: false });
  try {
    return await look(target);
  } finally {
    await target.close();
  }
}

async function allItems(
  target: MigrationTarget,
  entity: Parameters<MigrationTarget['records']['scanAll']>[0],
) {
  const items: Item[] = [];
  for await (const item of target.records.scanAll(entity)) items.push(item);
  return items;
}

const failedIds = (report: MigrationReport, table: string) =>
  report.failures.filter((failure) => failure.table === table).map((failure) => failure.id);

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runBin(
  args: string[],
  env: Record<string, string>,
  onStderr?: (text: string, child: ChildProcess) => void,
) {
  return new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/threat-engine.mjs', 'migrate', 'postgres', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      outputs.push(stdout, stderr);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  legacy = await startLegacyPostgres({ accounts: ACCOUNTS });
  parent = await mkdtemp(join(tmpdir(), 'migrate-postgres-'));
  dataDirectory = join(parent, 'data');
}, 120_000);

afterAll(async () => {
  await legacy?.close();
  if (parent) await rm(parent, { recursive: true, force: true });
});

describe('Command: migrate postgres', () => {
  it('a dry run on a fresh data directory writes nothing and counts what a run would create', async () => {
    // Act
    const report = await migrate('dry-run');

    // Assess
    expect(await exists(dataDirectory)).toBe(false);
    expect(report.mode).toBe('dry-run');
    expect(report.tables.tenants).toMatchObject({ created: legacy.summary.tenantIds.length, updated: 0 });
    expect(report.tables.accounts).toMatchObject({
      created: legacy.summary.accounts.size,
      failed: legacy.summary.failingAccounts.size,
    });
    expect(report.tables.secrets?.created).toBe(
      [...legacy.summary.accounts.values()].filter((type) => type !== undefined).length,
    );
  });

  it('moves every record under its legacy id, and names each record that cannot move with the reason', async () => {
    // Act
    const report = await migrate('migrate');

    // Assess
    const { summary } = legacy;
    expect(report.ok).toBe(false);
    expect(report.tables.tenants).toMatchObject({ created: summary.tenantIds.length, failed: 0 });
    expect(report.tables.accounts).toMatchObject({
      created: summary.accounts.size,
      failed: summary.failingAccounts.size,
    });
    for (const [accountId, reason] of summary.failingAccounts) {
      expect(report.failures.find((failure) => failure.id === accountId)?.reason).toMatch(reason);
    }
    expect(failedIds(report, 'providers')).toEqual(summary.failingProviderIds);
    const refused = summary.schedules.filter((plan) => plan.refusal);
    expect(failedIds(report, 'schedules').sort()).toEqual(refused.map((plan) => plan.schedule_id).sort());
    for (const plan of refused) {
      expect(report.failures.find((failure) => failure.id === plan.schedule_id)?.reason).toContain(
        plan.refusal,
      );
    }
    expect(report.notes.join('\n')).toMatch(/older credential rows of \d+ accounts were not migrated/);
  });

  it('keeps ids, statuses, counters, time zones and timestamps, and stores each current credential in the vault', async () => {
    const { summary } = legacy;
    await inspect(async (target) => {
      const tenants = await allItems(target, 'tenants');
      expect(tenants.map((tenant) => tenant.tenant_id).sort()).toEqual([...summary.tenantIds].sort());
      expect(tenants[0]?.created_at).toBe(summary.knownTimestamp.iso);

      const accounts = new Map((await allItems(target, 'accounts')).map((item) => [item.account_id, item]));
      expect([...accounts.keys()].sort()).toEqual([...summary.accounts.keys()].sort());
      for (const [accountId, type] of summary.accounts) {
        const account = accounts.get(accountId) as Item;
        if (type === undefined) {
          expect(account).toMatchObject({ status: 'pending', onboarding_status: 'pending' });
          expect(await target.secretStore.describe(accountId)).toBeUndefined();
          continue;
        }
        expect(account).toMatchObject({
          status: 'active',
          onboarding_status: 'completed',
          credential_type: type,
        });
        const secret = await target.secretStore.read(accountId);
        expect(secret.credential_type).toBe(type);
        expect(account.secret_name).toBe(target.secretStore.secretNameFor(accountId));
        if (type === 'aws_iam_role') {
          expect(account.external_id).toBe(secret.credentials.external_id);
          expect(account.account_number).toBe(FAKE_AWS_ACCOUNT);
        }
      }
      for (const [accountId, newestMark] of summary.severalCredentials) {
        const secret = JSON.stringify((await target.secretStore.read(accountId)).credentials);
        if (secret.includes(summary.canary)) expect(secret).toContain(newestMark);
      }

      const schedules = new Map(
        (await allItems(target, 'schedules')).map((item) => [item.schedule_id, item]),
      );
      const byKind = (kind: string) =>
        schedules.get(summary.schedules.find((plan) => plan.kind === kind)?.schedule_id ?? '') as Item;
      expect(byKind('cron-kolkata')).toMatchObject({
        schedule_expression: 'cron(30 2 * * ? *)',
        timezone: 'Asia/Kolkata',
        run_count: 12,
        success_count: 10,
        failure_count: 2,
        enabled: 'true',
        last_run_at: '2024-05-31T10:20:00.000Z',
      });
      expect(byKind('cron-sunday')).toMatchObject({ schedule_expression: 'cron(15 6 ? * 1 *)' });
      expect(byKind('interval-hourly')).toMatchObject({
        schedule_expression: 'rate(1 hour)',
        start_date: '2024-06-01T10:20:00.000Z',
      });
      // 23:45 UTC is 10:45 the next morning in Sydney (AEDT).
      expect(byKind('one-time')).toMatchObject({
        schedule_expression: 'at(2099-01-16T10:45:00)',
        next_run_at: '2099-01-15T23:45:00.000Z',
      });
      expect(byKind('paused')).toMatchObject({ status: 'paused', enabled: 'false' });

      const executions = new Map(
        (await allItems(target, 'executions')).map((item) => [item.execution_id, item]),
      );
      expect([...executions.keys()].sort()).toEqual(
        [...summary.executionIds, ...summary.runningExecutionIds].sort(),
      );
      for (const executionId of summary.runningExecutionIds) {
        expect(executions.get(executionId)).toMatchObject({
          status: 'aborted',
          error_code: 'legacy_running_at_migration',
        });
      }
      const scans = await allItems(target, 'scanResults');
      expect(scans.map((scan) => scan.scan_id).sort()).toEqual([...summary.scanIds].sort());
      expect(scans.every((scan) => ['scheduled'].includes(String(scan.scan_type)))).toBe(true);
    });
  });

  it('leaves no secret without its account and no account without its secret', async () => {
    const vault = JSON.parse(await readFile(join(dataDirectory, 'vault', 'vault.json'), 'utf8')) as {
      secrets: Record<string, unknown>;
    };
    await inspect(async (target) => {
      const withCredentials = (await allItems(target, 'accounts')).filter((account) => account.secret_name);
      expect(Object.keys(vault.secrets).sort()).toEqual(
        withCredentials.map((account) => account.secret_name).sort(),
      );
    });
  });

  it('changes nothing when run again', async () => {
    // Act
    const report = await migrate('migrate');

    // Assess
    for (const [table, counts] of Object.entries(report.tables)) {
      expect({ table, created: counts.created, updated: counts.updated }).toEqual({
        table,
        created: 0,
        updated: 0,
      });
    }
  });

  it('verify names a tampered target record and a tampered secret, and a re-run repairs them', async () => {
    // Prepare
    const { summary } = legacy;
    const [accountId, type] = [...summary.accounts].find(
      ([, credentialType]) => credentialType === 'azure_service_principal',
    ) as [string, string];
    const scheduleId = summary.schedules.find((plan) => plan.kind === 'cron-kolkata')?.schedule_id as string;
    await inspect(async (target) => {
      const account = (await target.records.get('accounts', accountId)) as Item;
      await target.documentClient.send(
        new PutCommand({ TableName: target.tables.accounts, Item: { ...account, account_name: 'tampered' } }),
      );
      const schedule = (await target.records.get('schedules', scheduleId)) as Item;
      await target.documentClient.send(
        new PutCommand({ TableName: target.tables.schedules, Item: { ...schedule, timezone: 'UTC' } }),
      );
      const current = await target.secretStore.read(accountId);
      const staged = await target.secretStore.stage(
        accountId,
        { ...current, credentials: { ...current.credentials, client_secret: 'tampered-secret' } },
        'tamper',
      );
      await target.secretStore.promote(accountId, staged.versionId);
    });

    // Act
    const verified = await migrate('verify');
    const repaired = await migrate('migrate');
    const verifiedAgain = await migrate('verify');

    // Assess
    expect(type).toBe('azure_service_principal');
    const reasonOf = (report: MigrationReport, table: string, id: string) =>
      report.failures.find((failure) => failure.table === table && failure.id === id)?.reason;
    expect(reasonOf(verified, 'accounts', accountId)).toMatch(/differs from the source in account_name/);
    expect(reasonOf(verified, 'schedules', scheduleId)).toMatch(/timezone/);
    expect(reasonOf(verified, 'secrets', accountId)).toMatch(/does not hold the newest legacy credential/);
    expect(verified.tables.accounts?.mismatched).toBe(1);
    expect(repaired.tables.accounts?.updated).toBe(1);
    expect(repaired.tables.schedules?.updated).toBe(1);
    expect(repaired.tables.secrets?.updated).toBe(1);
    expect(verifiedAgain.tables.accounts).toMatchObject({ mismatched: 0, missing: 0 });
    expect(verifiedAgain.tables.secrets).toMatchObject({ mismatched: 0, missing: 0 });
  });

  it('a wrong CREDENTIAL_ENCRYPTION_KEY fails every credential clearly, one record at a time', async () => {
    // Act
    const report = await migrate('dry-run', { key: newFernetKey() });

    // Assess
    const withCredential = [...legacy.summary.accounts.values()].filter((type) => type !== undefined).length;
    const signatureFailures = report.failures.filter((failure) =>
      /signature does not match/.test(failure.reason),
    );
    expect(signatureFailures.length).toBe(withCredential + 3);
    expect(report.tables.tenants).toMatchObject({ unchanged: legacy.summary.tenantIds.length, failed: 0 });
  });

  it('refuses clearly while the local runtime holds the data directory', async () => {
    // Prepare
    const lock = await acquireDataDirLock(dataDirectory, 'the threat-engine local runtime');

    // Act
    const attempt = migrate('migrate');

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toThrow(
      /refusing to migrate: .* in use by the threat-engine local runtime/,
    );
    await lock.release();
  });

  it('verify passes once every source record has moved', async () => {
    // Prepare: take the records that cannot move out of the source.
    const { summary } = legacy;
    const refused = summary.schedules.filter((plan) => plan.refusal).map((plan) => plan.schedule_id);
    await legacy.db.query('DELETE FROM schedules WHERE schedule_id = ANY($1::uuid[])', [refused]);
    await legacy.db.query('DELETE FROM accounts WHERE account_id = ANY($1::uuid[])', [
      [...summary.failingAccounts.keys()],
    ]);
    await legacy.db.query('DELETE FROM providers WHERE provider_id = ANY($1::uuid[])', [
      summary.failingProviderIds,
    ]);

    // Act
    const report = await migrate('verify');

    // Assess
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('killed with SIGKILL mid-run (TZ=Asia/Kolkata), a re-run completes it without duplicates and verify exits 0', async () => {
    // Prepare
    const directory = join(parent, 'killed');
    const reportFile = join(parent, 'killed-report.json');
    const env = {
      CREDENTIAL_ENCRYPTION_KEY: legacy.summary.key,
      THREAT_ENGINE_DATA_DIR: directory,
      TZ: 'Asia/Kolkata',
    };

    // Act
    const killed = await runBin(['--source', legacy.url], env, (stderr, child) => {
      if (stderr.includes('migrate: accounts:') && child.exitCode === null) child.kill('SIGKILL');
    });
    const completed = await runBin(['--source', legacy.url, '--report', reportFile], env);
    const verified = await runBin(['--source', legacy.url, '--verify'], env);

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(completed.code).toBe(0);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/\(verify\) .*: OK/);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as MigrationReport;
    outputs.push(JSON.stringify(report));
    expect(report.tables.accounts?.failed).toBe(0);
    await inspect(async (target) => {
      const accounts = await allItems(target, 'accounts');
      expect(accounts).toHaveLength(legacy.summary.accounts.size);
      const tenants = await allItems(target, 'tenants');
      expect(tenants.every((tenant) => tenant.created_at === legacy.summary.knownTimestamp.iso)).toBe(true);
      const vault = JSON.parse(await readFile(join(directory, 'vault', 'vault.json'), 'utf8')) as {
        secrets: Record<string, { versions: Record<string, unknown> }>;
      };
      const withSecret = accounts.filter((account) => account.secret_name);
      expect(Object.keys(vault.secrets).sort()).toEqual(
        withSecret.map((account) => account.secret_name).sort(),
      );
      // One version per secret: the re-run met the versions the killed run had written.
      expect(Object.values(vault.secrets).every((secret) => Object.keys(secret.versions).length === 1)).toBe(
        true,
      );
    }, directory);
  });

  it('the local runtime then serves the migrated data: accounts under their ids, schedules armed, offline re-validation succeeds', async () => {
    // Prepare
    const directory = join(parent, 'killed');
    const { summary } = legacy;
    const active = await inspect(
      async (target) =>
        (await allItems(target, 'schedules')).filter(
          (item) => item.status === 'active' && item.enabled === 'true',
        ).length,
      directory,
    );
    const logLines: string[] = [];
    const runtime = await startLocalRuntime({
      env: {
        THREAT_ENGINE_DATA_DIR: directory,
        THREAT_ENGINE_VALIDATE_OFFLINE: 'true',
        API_VALIDATION_RATE_LIMIT: '1000',
      },
      port: 0,
      logger: createJsonLogger({
        level: 'DEBUG',
        service: 'migrate-test',
        write: (line) => logLines.push(line),
      }),
      workflowTimeScale: 0.01,
    });
    try {
      const token = await runtime.tokens.issue({ role: 'platform_admin', subject: 'migrate-test' });
      const get = async (path: string) => {
        const response = await fetch(`${runtime.url}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const text = await response.text();
        outputs.push(text);
        return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
      };
      const tenantId = summary.tenantIds[0] as string;

      // Act
      const listed = await get(`/api/v1/onboarding/accounts?tenant_id=${tenantId}&limit=100`);
      const validations = [];
      for (const type of ['aws_iam_role', 'azure_service_principal', 'gcp_service_account'] as const) {
        const accountId = [...summary.accounts].find(([, credentialType]) => credentialType === type)?.[0];
        // Re-validation answers synchronously, as the legacy client expects.
        const answered = await get(`/api/v1/accounts/${accountId}/credentials/validate`);
        validations.push({ type, status: answered.status, success: answered.body.success ?? null });
      }

      // Assess
      expect(runtime.scheduler.size).toBe(active);
      const items = listed.body.accounts as Array<{ account_id: string }>;
      const expected = (
        await legacy.db.query<{ account_id: string }>(
          'SELECT account_id FROM accounts WHERE tenant_id = $1',
          [tenantId],
        )
      ).rows.map((row) => row.account_id);
      expect(items.map((item) => item.account_id).sort()).toEqual(expected.sort());
      expect(validations).toEqual([
        { type: 'aws_iam_role', status: 200, success: true },
        { type: 'azure_service_principal', status: 200, success: true },
        { type: 'gcp_service_account', status: 200, success: true },
      ]);
    } finally {
      await runtime.close();
      outputs.push(...logLines);
    }
  });

  it('leaves no credential plaintext anywhere on disk or in its output', async () => {
    const files = await filesUnder(parent);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const content = await readFile(file);
      expect({ file, found: content.includes(legacy.summary.canary) }).toEqual({ file, found: false });
    }
    expect(outputs.join('\n')).not.toContain(legacy.summary.canary);
  });
  it('--target aws writes through Secrets Manager and creates an EventBridge Scheduler entry per schedule', async () => {
    // Prepare
    const tables = await startTestTables();
    const secretsManager = new FakeSecretsManager(systemClock);
    const schedulerMock = mockClient(SchedulerClient);
    schedulerMock.on(ListSchedulesCommand).resolves({ Schedules: [] });
    schedulerMock
      .on(CreateScheduleCommand)
      .resolves({ ScheduleArn: 'arn:aws:scheduler:ap-south-1:111122223333:schedule/g/x' });
    const secretStore = new SecretsManagerSecretStore({
      client: secretsManager.client,
      prefix: 'threat-engine',
      cacheTtlMs: 0,
    });
    const target = awsTargetFrom({
      documentClient: tables.client,
      tables: tables.tables,
      secretStore,
      scheduler: new EventBridgeScheduler({
        client: new SchedulerClient({
          region: 'ap-south-1',
          credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
        }),
        groupName: 'threat-engine-scans',
        scanStateMachineArn: 'arn:aws:states:ap-south-1:111122223333:stateMachine:scan',
        roleArn: 'arn:aws:iam::111122223333:role/scheduler',
      }),
      description: 'AWS (test)',
    });
    const run = async (mode: MigrationMode) => {
      const source = await PostgresSource.connect(legacy.url);
      try {
        return await runPostgresMigration({
          source,
          key: parseFernetKey(legacy.summary.key),
          target,
          mode,
          progress: recordingProgress(),
        });
      } finally {
        await source.close();
      }
    };
    try {
      // Act
      const first = await run('migrate');
      const again = await run('migrate');

      // Assess
      const { summary } = legacy;
      const withCredential = [...summary.accounts.values()].filter((type) => type !== undefined).length;
      expect(first.tables.secrets).toMatchObject({ created: withCredential, failed: 0 });
      expect(again.tables.secrets).toMatchObject({ created: 0, updated: 0, unchanged: withCredential });
      const [accountId, type] = [...summary.accounts].find(
        ([, credentialType]) => credentialType === 'oci_user_principal',
      ) as [string, string];
      expect((await secretStore.read(accountId)).credential_type).toBe(type);
      const created = schedulerMock.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
      const migrated = summary.schedules.filter((plan) => !plan.refusal);
      const firstRun = created.slice(0, migrated.length);
      expect(firstRun.map((entry) => entry.Name).sort()).toEqual(
        migrated.map((plan) => `te-${plan.schedule_id}`).sort(),
      );
      const entryOf = (kind: string) =>
        firstRun.find(
          (entry) => entry.Name === `te-${migrated.find((plan) => plan.kind === kind)?.schedule_id}`,
        );
      expect(entryOf('cron-kolkata')).toMatchObject({
        ScheduleExpression: 'cron(30 2 * * ? *)',
        ScheduleExpressionTimezone: 'Asia/Kolkata',
        State: 'ENABLED',
      });
      expect(entryOf('paused')).toMatchObject({ State: 'DISABLED' });
      expect(JSON.stringify(created)).not.toContain(summary.canary);
    } finally {
      schedulerMock.restore();
      await tables.close();
    }
  });
});
