import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../functions/core/logger';
import { createRepositories } from '../../functions/core/repositories/repositories';
import { DataDirLockedError } from '../../local/data-dir-lock';
import { startLocalRuntime } from '../../local/runtime';

describe('Local runtime', () => {
  let dataDirectory: string;
  beforeAll(async () => {
    dataDirectory = await mkdtemp(join(tmpdir(), 'te-runtime-'));
  });
  afterAll(async () => {
    await rm(dataDirectory, { recursive: true, force: true });
  });

  const start = () =>
    startLocalRuntime({ env: { THREAT_ENGINE_DATA_DIR: dataDirectory }, port: 0, logger: silentLogger });

  it('keeps tables and secrets across a restart', async () => {
    // Prepare
    const first = await start();
    const tenant = await createRepositories(first.documentClient, first.tables).tenants.create({
      tenant_name: 'Survivor',
    });
    await first.secretStore.stage(
      'acct-restart',
      {
        credential_type: 'ibm_api_key',
        credentials: { api_key: 'FakeIbmApiKeyForTestsOnly'.padEnd(44, 'k') },
        account_id: 'acct-restart',
        created_at: new Date().toISOString(),
        expires_at: null,
      },
      'restart-token',
    );
    await first.close();

    // Act
    const second = await start();
    try {
      const again = await createRepositories(second.documentClient, second.tables).tenants.get(
        tenant.tenant_id,
      );
      const secret = await second.secretStore.describe('acct-restart');

      // Assess
      expect(again?.tenant_name).toBe('Survivor');
      expect(secret?.pendingVersionId).toBeDefined();
    } finally {
      await second.close();
    }
  });

  it('refuses a second runtime on the same data directory and frees it on close', async () => {
    const first = await start();
    try {
      await expect(start()).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      await first.close();
    }
    const again = await start();
    await again.close();
  });

  it('answers 503 on health when a check fails', async () => {
    const runtime = await start();
    try {
      (runtime.secretStore as { checkHealth: () => Promise<void> }).checkHealth = async () => {
        throw new Error('vault unreadable');
      };
      const response = await fetch(`${runtime.url}/api/v1/health`);
      const body = (await response.json()) as { status: string; checks: Record<string, { status: string }> };

      expect(response.status).toBe(503);
      expect(body.checks.secret_store?.status).toBe('failing');
      expect(JSON.stringify(body)).not.toContain('vault unreadable');
    } finally {
      await runtime.close();
    }
  });
});
