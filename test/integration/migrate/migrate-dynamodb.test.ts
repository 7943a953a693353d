import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDynamoDbAdoption } from '../../../cli/migrate/dynamodb-adoption';
import type { MigrationMode, MigrationReport } from '../../../cli/migrate/migration-report';
import { awsTargetFrom, type MigrationTarget, openLocalTarget } from '../../../cli/migrate/migration-target';
import { SecretsManagerSecretStore } from '../../../functions/adapters/aws/secrets-manager-secret-store';
import { systemClock } from '../../../functions/core/clock';
import { loadConfig } from '../../../functions/core/config';
import type { Item } from '../../../functions/core/repositories/dynamodb-table';
import type { TableNames } from '../../../schemas/tables';
import { fakeAwsIamRoleCredentials, fakeAzureServicePrincipalCredentials } from '../../fixtures/credentials';
import { startTestTables } from '../../support/dynalite';
import { FakeSecretsManager } from '../../support/fake-secrets-manager';
import { RecordingScheduler } from '../../support/recording-scheduler';

const NAIVE = '2024-03-10T08:15:30.123456';
const NAIVE_ISO = '2024-03-10T08:15:30.123Z';
const silent = { begin: () => undefined, advance: () => undefined, end: () => undefined };

let parent: string;
let dataDirectory: string;

const ids = {
  tenant: 'legacy-tenant-1',
  provider: 'legacy-provider-aws',
  azureProvider: 'legacy-provider-azure',
  role: 'legacy-account-role',
  badSecret: 'legacy-account-bad-secret',
  noSecret: 'legacy-account-no-secret',
  pending: 'legacy-account-pending',
  cron: 'legacy-schedule-cron',
  interval: 'legacy-schedule-interval',
  paused: 'legacy-schedule-paused',
  bothDays: 'legacy-schedule-both-days',
  execution: 'legacy-execution-1',
  scan: 'legacy-scan-1',
};

async function withTarget<T>(dryRun: boolean, work: (target: MigrationTarget) => Promise<T>): Promise<T> {
  const target = await openLocalTarget(loadConfig({ THREAT_ENGINE_DATA_DIR: dataDirectory }), { dryRun });
  try {
    return await work(target);
  } finally {
    await target.close();
  }
}

const adopt = (mode: MigrationMode): Promise<MigrationReport> =>
  withTarget(mode !== 'migrate', (target) => runDynamoDbAdoption({ target, mode, progress: silent }));

/** Legacy items as the Python service wrote them: naive timestamps, string `enabled`, no new fields. */
async function seedLegacyTables(target: MigrationTarget): Promise<void> {
  const put = (table: keyof TableNames, item: Item) =>
    target.documentClient.send(new PutCommand({ TableName: target.tables[table], Item: item }));
  const stamps = { created_at: NAIVE, updated_at: NAIVE };
  await put('tenants', {
    tenant_id: ids.tenant,
    tenant_name: 'Legacy Dynamo Tenant',
    status: 'active',
    ...stamps,
  });
  await put('providers', {
    provider_id: ids.provider,
    tenant_id: ids.tenant,
    provider_type: 'aws',
    status: 'active',
    ...stamps,
  });
  await put('providers', {
    provider_id: ids.azureProvider,
    tenant_id: ids.tenant,
    provider_type: 'azure',
    status: 'active',
    ...stamps,
  });
  const account = (accountId: string, providerId: string, onboarded: boolean) =>
    put('accounts', {
      account_id: accountId,
      provider_id: providerId,
      tenant_id: ids.tenant,
      account_name: accountId,
      status: onboarded ? 'active' : 'pending',
      onboarding_status: onboarded ? 'completed' : 'pending',
      ...stamps,
    });
  await account(ids.role, ids.provider, true);
  await account(ids.badSecret, ids.azureProvider, true);
  await account(ids.noSecret, ids.azureProvider, true);
  await account(ids.pending, ids.provider, false);
  const legacySecret = async (
    accountId: string,
    credentialType: string,
    credentials: Record<string, unknown>,
  ) => {
    const staged = await target.secretStore.stage(
      accountId,
      {
        credential_type: credentialType,
        credentials,
        account_id: accountId,
        created_at: NAIVE,
        expires_at: null,
      },
      `legacy-${accountId}`,
    );
    await target.secretStore.promote(accountId, staged.versionId);
  };
  await legacySecret(ids.role, 'aws_iam_role', fakeAwsIamRoleCredentials());
  await legacySecret(ids.badSecret, 'azure_service_principal', {
    ...fakeAzureServicePrincipalCredentials(),
    client_id: 'not-a-guid',
  });
  const schedule = (scheduleId: string, fields: Item) =>
    put('schedules', {
      schedule_id: scheduleId,
      tenant_id: ids.tenant,
      account_id: ids.role,
      name: scheduleId,
      timezone: 'Asia/Kolkata',
      status: 'active',
      enabled: 'true',
      run_count: 3,
      success_count: 3,
      failure_count: 0,
      ...stamps,
      ...fields,
    });
  // A null next_run_at cannot be stored (it is a key of next-run-index: DynamoDB and dynalite refuse a NULL
  // there, which is how the legacy writes of None failed): such a schedule is left without the attribute.
  await schedule(ids.cron, { schedule_type: 'cron', cron_expression: '0 3 * * *' });
  await schedule(ids.interval, {
    schedule_type: 'interval',
    interval_seconds: 7200,
    next_run_at: '2024-06-01T01:00:00',
  });
  await schedule(ids.paused, {
    schedule_type: 'cron',
    cron_expression: '0 4 * * 1',
    status: 'paused',
    enabled: 'false',
  });
  await schedule(ids.bothDays, { schedule_type: 'cron', cron_expression: '0 9 1 * 1' });
  await put('executions', {
    execution_id: ids.execution,
    schedule_id: ids.cron,
    account_id: ids.role,
    started_at: NAIVE,
    completed_at: NAIVE,
    status: 'completed',
    triggered_by: 'scheduler',
  });
  await put('scanResults', {
    scan_id: ids.scan,
    account_id: ids.role,
    provider_type: 'aws',
    scan_type: 'scheduled',
    started_at: NAIVE,
    status: 'completed',
  });
}

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'migrate-dynamodb-'));
  dataDirectory = join(parent, 'data');
  await withTarget(false, seedLegacyTables);
});

afterAll(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
});

describe('Command: migrate dynamodb', () => {
  it('a dry run reports what adoption would change and writes nothing', async () => {
    // Act
    const report = await adopt('dry-run');

    // Assess
    expect(report.tables.schedules).toMatchObject({ updated: 3, failed: 1 });
    await withTarget(true, async (target) => {
      expect(await target.records.get('schedules', ids.cron)).not.toHaveProperty('schedule_expression');
    });
  });

  it('adopts the legacy items in place: normalized timestamps, the fields the new code needs, every secret checked', async () => {
    // Act
    const report = await adopt('migrate');

    // Assess
    const reasonOf = (table: string, id: string) =>
      report.failures.find((failure) => failure.table === table && failure.id === id)?.reason;
    expect(reasonOf('secrets', ids.badSecret)).toMatch(
      /does not parse as its credential type: credentials\.client_id/,
    );
    expect(reasonOf('secrets', ids.noSecret)).toMatch(
      /no secret threat-engine\/account\/legacy-account-no-secret/,
    );
    expect(reasonOf('schedules', ids.bothDays)).toMatch(/both restricted/);
    expect(report.tables.secrets).toMatchObject({ unchanged: 2, failed: 2 });
    // The schedule that cannot be adopted cannot be armed either.
    expect(report.tables.scheduler_entries).toMatchObject({ unchanged: 2, failed: 1 });
    await withTarget(true, async (target) => {
      expect(await target.records.get('accounts', ids.role)).toMatchObject({
        provider_type: 'aws',
        credential_type: 'aws_iam_role',
        auth_method: 'iam_role',
        external_id: fakeAwsIamRoleCredentials().external_id,
        account_number: fakeAwsIamRoleCredentials().account_number,
        secret_name: 'threat-engine/account/legacy-account-role',
        created_at: NAIVE_ISO,
      });
      const cron = await target.records.get('schedules', ids.cron);
      expect(cron).toMatchObject({
        schedule_expression: 'cron(0 3 * * ? *)',
        enabled: 'true',
        timezone: 'Asia/Kolkata',
        run_count: 3,
        created_at: NAIVE_ISO,
      });
      expect(String(cron?.next_run_at)).toMatch(/T21:30:00\.000Z$/);
      expect(await target.records.get('schedules', ids.interval)).toMatchObject({
        schedule_expression: 'rate(2 hours)',
        start_date: '2024-06-01T01:00:00.000Z',
      });
      expect(await target.records.get('schedules', ids.paused)).toMatchObject({
        status: 'paused',
        enabled: 'false',
      });
      expect(await target.records.get('executions', ids.execution)).toMatchObject({
        tenant_id: ids.tenant,
        provider_type: 'aws',
        started_at: NAIVE_ISO,
      });
      expect(await target.records.get('scanResults', ids.scan)).toMatchObject({ tenant_id: ids.tenant });
    });
  });

  it('changes nothing when run again, and verify finds only the records that cannot be adopted', async () => {
    // Act
    const again = await adopt('migrate');
    const verified = await adopt('verify');

    // Assess
    for (const [table, counts] of Object.entries(again.tables)) {
      expect({ table, updated: counts.updated, created: counts.created }).toEqual({
        table,
        updated: 0,
        created: 0,
      });
    }
    expect([...new Set(verified.failures.map((failure) => failure.id))].sort()).toEqual(
      [ids.badSecret, ids.noSecret, ids.bothDays].sort(),
    );
    expect(verified.ok).toBe(false);
  });
});

describe('Command: migrate dynamodb, on AWS', () => {
  it('copies a secret a later legacy variant kept under {prefix}/account/{tenant_id}/{account_id} to the service name, once, and leaves the original', async () => {
    // Prepare: an onboarded account whose only secret is under the tenant-scoped name.
    const tables = await startTestTables();
    const secretsManager = new FakeSecretsManager(systemClock);
    const secretStore = new SecretsManagerSecretStore({
      client: secretsManager.client,
      prefix: 'threat-engine',
      cacheTtlMs: 0,
    });
    const target = awsTargetFrom({
      documentClient: tables.client,
      tables: tables.tables,
      secretStore,
      scheduler: new RecordingScheduler(),
      description: 'AWS (test)',
    });
    const [tenantId, accountId] = ['legacy-tenant-scoped', 'legacy-account-tenant-scoped'];
    const put = (table: keyof TableNames, item: Item) =>
      target.documentClient.send(new PutCommand({ TableName: target.tables[table], Item: item }));
    const stamps = { created_at: NAIVE, updated_at: NAIVE };
    await put('tenants', {
      tenant_id: tenantId,
      tenant_name: 'Tenant-scoped secrets',
      status: 'active',
      ...stamps,
    });
    await put('providers', {
      provider_id: 'p-aws',
      tenant_id: tenantId,
      provider_type: 'aws',
      status: 'active',
    });
    await put('accounts', {
      account_id: accountId,
      provider_id: 'p-aws',
      tenant_id: tenantId,
      account_name: 'tenant scoped',
      status: 'active',
      onboarding_status: 'completed',
      ...stamps,
    });
    const credentials = fakeAwsIamRoleCredentials();
    const legacyName = `threat-engine/account/${tenantId}/${accountId}`;
    const legacyValue = JSON.stringify({
      credential_type: 'aws_iam_role',
      credentials,
      account_id: accountId,
      created_at: NAIVE,
      expires_at: null,
    });
    secretsManager.createSecret({ Name: legacyName, SecretString: legacyValue });
    const serviceName = `threat-engine/account/${accountId}`;
    const run = (mode: MigrationMode) => runDynamoDbAdoption({ target, mode, progress: silent });

    try {
      // Act
      const dryRun = await run('dry-run');
      const namesAfterDryRun = secretsManager.secretNames();
      const verifyBefore = await run('verify');
      const migrated = await run('migrate');
      const versionsAfterFirst = secretsManager.versionCount(serviceName);
      const again = await run('migrate');
      const verifyAfter = await run('verify');

      // Assess
      expect(dryRun.tables.secrets).toMatchObject({ created: 1, failed: 0 });
      expect(namesAfterDryRun).toEqual([legacyName]);
      expect(verifyBefore.tables.secrets).toMatchObject({ failed: 1 });
      expect(verifyBefore.failures).toContainEqual({
        table: 'secrets',
        id: accountId,
        reason: `no secret ${serviceName}, only one under the tenant-scoped name (migrate copies it)`,
      });
      expect(migrated.tables.secrets).toMatchObject({ created: 1, failed: 0 });
      expect(migrated.notes.join('\n')).toContain('1 secrets were copied from the tenant-scoped name');
      expect(again.tables.secrets).toMatchObject({ created: 0, unchanged: 1, failed: 0 });
      expect(verifyAfter.tables.secrets).toMatchObject({ matched: 1, failed: 0 });
      // The store creates a secret empty, then stages the credentials: nothing more on the second run.
      expect(secretsManager.versionCount(serviceName)).toBe(versionsAfterFirst);
      expect((await secretStore.read(accountId)).credentials).toEqual(credentials);
      expect(JSON.parse(secretsManager.storedValues(serviceName).at(-1) ?? '')).toMatchObject({
        credential_type: 'aws_iam_role',
        credentials,
      });
      expect(secretsManager.storedValues(legacyName)).toEqual([legacyValue]);
      expect(await target.records.get('accounts', accountId)).toMatchObject({
        secret_name: serviceName,
        credential_type: 'aws_iam_role',
        auth_method: 'iam_role',
        external_id: credentials.external_id,
      });
      expect(JSON.stringify([dryRun, verifyBefore, migrated, again])).not.toContain(credentials.external_id);
    } finally {
      await tables.close();
    }
  });
});
