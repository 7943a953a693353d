import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsAccessKeyCredentials } from '../../fixtures/credentials';
import { WorkflowHarness } from '../../support/workflow-harness';

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('Credential canary', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start({ engineMode: 'async', runningPolls: 1 });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('never lets a credential value reach a history, a log line, a table item or the vault file in clear', async () => {
    // Prepare: a unique secret, and runs through every workflow and failure path that touches it
    const canary = `CanarySecret${Date.now()}`.padEnd(40, 'Z');
    const credentials = {
      credential_type: 'aws_access_key' as const,
      credentials: fakeAwsAccessKeyCredentials({ secret_access_key: canary }),
    };
    const { tenant, account } = await harness.activeAccount('aws', credentials);
    const scan = {
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api' as const,
    };

    // Act: a successful scan, an engine failure, a rejected validation and a failed re-onboarding
    expect((await harness.runScan(scan)).description.status).toBe('SUCCEEDED');
    const scansReachingTheEngine = harness.simulator.scansStarted;
    harness.simulator.failNext(10, { kind: 'http-error', status: 500 });
    expect((await harness.runScan(scan)).description.status).toBe('FAILED');
    harness.simulator.reset();
    harness.validator.rejectNext('invalid_credentials');
    await harness.onboard(tenant.tenant_id, account.account_id, credentials);
    harness.validator.rejectNext('expired');
    expect((await harness.runScan(scan)).description.status).toBe('FAILED');

    // Assess: the engine did receive the secret (in the request body only) …
    expect(scansReachingTheEngine).toBe(1);
    // … and nothing we keep holds it.
    const histories = await Promise.all(
      (await filesUnder(join(harness.directory, 'workflows'))).map((file) => readFile(file, 'utf8')),
    );
    expect(histories.length).toBeGreaterThan(0);
    for (const text of histories) expect(text).not.toContain(canary);
    for (const line of harness.logLines) expect(line).not.toContain(canary);
    for (const tableName of Object.values(harness.tables.tables)) {
      const items = await harness.tables.client.send(new ScanCommand({ TableName: tableName }));
      expect(JSON.stringify(items.Items ?? [])).not.toContain(canary);
    }
    for (const file of await filesUnder(join(harness.directory, 'vault'))) {
      expect((await readFile(file)).includes(Buffer.from(canary))).toBe(false);
    }
    expect(JSON.stringify(harness.simulator.requests)).not.toContain(canary);
  });
});
