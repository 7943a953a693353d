import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITIONS, TABLES } from '../../schemas/tables';
import { startTestTables, type TestTables } from '../support/dynalite';

describe('Table definitions', () => {
  let env: TestTables;
  beforeAll(async () => {
    env = await startTestTables();
  });
  afterAll(async () => {
    await env.close();
  });

  it('keep the legacy table names, keys and GSIs', () => {
    const shape = TABLE_DEFINITIONS.filter((table) => table.legacy).map((table) => ({
      name: table.defaultName,
      key: [table.partitionKey.name, table.sortKey?.name].filter(Boolean).join(','),
      gsis: table.globalSecondaryIndexes.map(
        (index) =>
          `${index.indexName}(${[index.partitionKey.name, index.sortKey?.name].filter(Boolean).join(',')})`,
      ),
    }));
    expect(shape).toEqual([
      { name: 'threat-engine-tenants', key: 'tenant_id', gsis: ['tenant-name-index(tenant_name)'] },
      {
        name: 'threat-engine-providers',
        key: 'provider_id',
        gsis: ['tenant-provider-index(tenant_id,provider_type)'],
      },
      {
        name: 'threat-engine-accounts',
        key: 'account_id',
        gsis: ['tenant-accounts-index(tenant_id,status)', 'provider-accounts-index(provider_id,status)'],
      },
      {
        name: 'threat-engine-schedules',
        key: 'schedule_id',
        gsis: [
          'tenant-schedules-index(tenant_id,schedule_id)',
          'account-schedules-index(account_id,schedule_id)',
          'next-run-index(enabled,next_run_at)',
        ],
      },
      {
        name: 'threat-engine-executions',
        key: 'execution_id',
        gsis: [
          'schedule-executions-index(schedule_id,started_at)',
          'account-executions-index(account_id,started_at)',
        ],
      },
      {
        name: 'threat-engine-scan-results',
        key: 'scan_id',
        gsis: ['account-scans-index(account_id,started_at)', 'status-scans-index(status,started_at)'],
      },
    ]);
    for (const table of Object.values(TABLES)) {
      for (const index of table.globalSecondaryIndexes) expect(index.projection).toBe('ALL');
    }
  });

  it('are created on the local server exactly as defined', async () => {
    const described = await env.client.send(new DescribeTableCommand({ TableName: env.tables.accounts }));
    expect(described.Table?.KeySchema).toEqual([{ AttributeName: 'account_id', KeyType: 'HASH' }]);
    expect(described.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'provider-accounts-index',
      'tenant-accounts-index',
    ]);
    expect(
      described.Table?.GlobalSecondaryIndexes?.every((index) => index.Projection?.ProjectionType === 'ALL'),
    ).toBe(true);
  });
});
