import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAzureServicePrincipalCredentials } from '../../fixtures/credentials';
import { ApiHarness, type ApiResponse, type TenantFixture } from '../../support/api-harness';

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Credentials are write-only: a unique canary secret goes in through every submission endpoint,
 * then every answer of the API, every log line, every table item and every file of the data
 * directory is searched for it (the vault encrypts it; nothing else may hold it).
 */
describe('Credential canary through the API', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  const canary = `CanarySecret${randomBytes(12).toString('hex')}`;
  const responses: ApiResponse[] = [];

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('never shows the submitted secret anywhere but in the encrypted vault', async () => {
    // Prepare
    const account = await harness.initAccount(tenant, 'azure');
    const credentials = fakeAzureServicePrincipalCredentials({ client_secret: canary });
    const record = <T extends ApiResponse>(response: T) => {
      responses.push(response);
      return response;
    };

    // Act: submit through every endpoint that takes credentials, then read everything back.
    const submitted = record(
      await harness.request<Record<string, unknown>>('POST', '/api/v1/onboarding/azure/validate', {
        token: tenant.tokens.tenant_admin,
        json: { account_id: account.accountId, auth_method: 'service_principal', credentials },
        headers: { 'idempotency-key': 'canary-1' },
      }),
    );
    record(
      await harness.request('POST', '/api/v1/onboarding/azure/validate', {
        token: tenant.tokens.tenant_admin,
        json: { account_id: account.accountId, auth_method: 'service_principal', credentials },
        headers: { 'idempotency-key': 'canary-1' },
      }),
    );
    const executionId = String(submitted.body.execution_id);
    await harness.waitForExecution(executionId, tenant.tokens.viewer);
    const replaced = record(
      await harness.request<Record<string, unknown>>(
        'POST',
        `/api/v1/accounts/${account.accountId}/credentials`,
        {
          token: tenant.tokens.tenant_admin,
          json: { credential_type: 'azure_service_principal', credentials },
        },
      ),
    );
    await harness.waitForExecution(String(replaced.body.execution_id), tenant.tokens.viewer);
    record(
      await harness.request('POST', `/api/v1/accounts/${account.accountId}/credentials`, {
        token: tenant.tokens.tenant_admin,
        json: {
          credential_type: 'azure_service_principal',
          credentials: { ...credentials, client_id: canary },
        },
      }),
    );
    const validation = record(
      await harness.request<Record<string, unknown>>(
        'GET',
        `/api/v1/accounts/${account.accountId}/credentials/validate`,
        {
          token: tenant.tokens.operator,
        },
      ),
    );
    await harness.waitForExecution(String(validation.body.execution_id), tenant.tokens.viewer);
    for (const path of [
      `/api/v1/onboarding/accounts/${account.accountId}`,
      '/api/v1/onboarding/accounts',
      `/api/v1/onboarding/executions/${executionId}`,
      `/api/v1/onboarding/executions/${String(validation.body.execution_id)}`,
      `/api/v1/onboarding/executions/${String(replaced.body.execution_id)}`,
    ]) {
      record(await harness.request('GET', path, { token: tenant.tokens.viewer }));
    }
    const stored = await harness.runtime.secretStore.read(account.accountId);
    record(
      await harness.request('DELETE', `/api/v1/accounts/${account.accountId}/credentials`, {
        token: tenant.tokens.tenant_admin,
      }),
    );
    const files = await filesUnder(harness.runtime.dataDirectory);
    const fileHits: string[] = [];
    for (const file of files) {
      if ((await readFile(file)).includes(canary)) fileHits.push(file);
    }

    // Assess
    expect(submitted.status).toBe(200);
    expect(stored.credentials.client_secret).toBe(canary); // It went in: the searches below are not vacuous.
    expect(responses.length).toBeGreaterThan(8);
    expect(responses.map((response) => response.status)).not.toContain(500);
    for (const response of responses) expect(response.text).not.toContain(canary);
    expect(harness.logLines.join('\n')).not.toContain(canary);
    expect(await harness.allItemsText()).not.toContain(canary);
    expect(files.some((file) => file.includes('vault'))).toBe(true);
    expect(fileHits).toEqual([]);
  });
});
