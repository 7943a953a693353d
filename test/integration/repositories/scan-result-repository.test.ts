import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTransitionError, NotFoundError } from '../../../functions/core/errors';
import {
  type NewScanResult,
  ScanResultRepository,
} from '../../../functions/core/repositories/scan-result-repository';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-08-01T00:00:00.000Z');

describe('Class: ScanResultRepository', () => {
  let env: TestTables;
  let scanResults: ScanResultRepository;
  let serial = 0;

  beforeAll(async () => {
    env = await startTestTables();
    scanResults = new ScanResultRepository({
      client: env.client,
      tableName: env.tables.scanResults,
      clock: () => new Date(T0),
    });
  });
  afterAll(async () => {
    await env.close();
  });

  const newResult = (overrides: Partial<NewScanResult> = {}): NewScanResult => ({
    scan_id: `scan-${++serial}`,
    account_id: 'account-1',
    tenant_id: 'tenant-1',
    provider_type: 'aws',
    scan_type: 'scheduled',
    ...overrides,
  });

  describe('Method: create', () => {
    it('records the same scan once when it is written twice', async () => {
      // Prepare
      const input = newResult({
        scan_id: 'twice',
        status: 'completed',
        total_checks: 5,
        metadata: { engine_polls: 3 },
      });

      // Act
      const first = await scanResults.create(input);
      const second = await scanResults.create({ ...input, total_checks: 99 });

      // Assess
      expect(first).toMatchObject({
        created: true,
        scanResult: { total_checks: 5, started_at: new Date(T0).toISOString() },
      });
      expect(second).toEqual({ created: false, scanResult: first.scanResult });
      const stored = await env.client.send(new ScanCommand({ TableName: env.tables.scanResults }));
      expect(stored.Items?.filter((item) => item.scan_id === 'twice')).toHaveLength(1);
    });

    it('reads a legacy result with naive timestamps and missing counts', async () => {
      // Prepare
      await env.client.send(
        new PutCommand({
          TableName: env.tables.scanResults,
          Item: {
            scan_id: 'legacy-scan',
            account_id: 'legacy-account',
            provider_type: 'azure',
            scan_type: 'manual',
            started_at: '2024-05-01T10:00:00.123456',
            status: 'completed',
          },
        }),
      );

      // Act
      const result = await scanResults.get('legacy-scan');

      // Assess
      expect(result).toMatchObject({
        started_at: '2024-05-01T10:00:00.123Z',
        total_checks: 0,
        error_checks: 0,
      });
    });
  });

  describe('Method: finish', () => {
    it('finishes a running result, repeats idempotently and refuses another final status', async () => {
      // Prepare
      const { scanResult } = await scanResults.create(newResult());

      // Act
      const finished = await scanResults.finish(scanResult.scan_id, 'completed', {
        total_checks: 3,
        passed_checks: 3,
      });
      const repeated = await scanResults.finish(scanResult.scan_id, 'completed', { total_checks: 4 });
      const changed = await scanResults.finish(scanResult.scan_id, 'failed').catch((error: unknown) => error);
      const missing = await scanResults.finish('missing-scan', 'failed').catch((error: unknown) => error);

      // Assess
      expect(finished).toMatchObject({
        status: 'completed',
        total_checks: 3,
        completed_at: new Date(T0).toISOString(),
      });
      expect(repeated).toEqual(finished);
      expect(changed).toBeInstanceOf(InvalidTransitionError);
      expect(missing).toBeInstanceOf(NotFoundError);
    });
  });

  describe('Method: listByAccount / listByStatus', () => {
    beforeAll(async () => {
      for (let i = 0; i < 30; i += 1) {
        await scanResults.create(
          newResult({
            scan_id: `listed-${i}`,
            account_id: 'account-listed',
            started_at: new Date(T0 + i * 1000).toISOString(),
            status: i % 3 === 0 ? 'failed' : 'completed',
          }),
        );
      }
    });

    it('walks an account results newest first in pages of 7, no duplicates, no gaps', async () => {
      // Act
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await scanResults.listByAccount('account-listed', { limit: 7, cursor });
        expect(page.items.length).toBe(Math.min(7, 30 - ids.length));
        ids.push(...page.items.map((result) => result.scan_id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);

      // Assess
      expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `listed-${29 - i}`));
    });

    it('lists by status newest first and refuses a cursor of another status', async () => {
      // Act
      const failed = await scanResults.listByStatus('failed', { limit: 4 });
      const crossed = await scanResults
        .listByStatus('completed', { cursor: failed.next_cursor ?? '' })
        .catch((error: unknown) => error);

      // Assess
      expect(failed.items.map((result) => result.scan_id)).toEqual([
        'listed-27',
        'listed-24',
        'listed-21',
        'listed-18',
      ]);
      expect(crossed).toMatchObject({ name: 'ValidationError', issues: [{ field: 'cursor' }] });
    });
  });
});
