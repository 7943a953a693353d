import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors';
import { listExecutionsOfAccounts } from '../../../functions/core/executions/executions-of-accounts';
import { ExecutionRepository } from '../../../functions/core/repositories/execution-repository';
import type { ExecutionStatus } from '../../../schemas/execution';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-07-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** [account, execution id, minutes after T0, status] */
const RUNS: ReadonlyArray<[string, string, number, ExecutionStatus]> = [
  ['acc-a', 'run-a1', 1, 'completed'],
  ['acc-b', 'run-b1', 2, 'failed'],
  ['acc-a', 'run-a2', 3, 'completed'],
  ['acc-c', 'run-c1', 3, 'failed'], // same started_at as run-a2
  ['acc-b', 'run-b2', 5, 'completed'],
  ['acc-c', 'run-c2', 6, 'completed'],
  ['acc-a', 'run-a3', 7, 'failed'],
  ['acc-b', 'run-b3', 8, 'completed'],
  ['acc-other', 'run-x1', 4, 'completed'],
];

describe('Function: listExecutionsOfAccounts', () => {
  let env: TestTables;
  let executions: ExecutionRepository;
  const accounts = ['acc-a', 'acc-b', 'acc-c', 'acc-empty'];

  beforeAll(async () => {
    env = await startTestTables();
    executions = new ExecutionRepository({ client: env.client, tableName: env.tables.executions });
    for (const [accountId, executionId, minutes, status] of RUNS) {
      await executions.create({
        execution_id: executionId,
        account_id: accountId,
        tenant_id: 'tenant-1',
        started_at: at(minutes),
        status,
      });
    }
  });
  afterAll(async () => {
    await env.close();
  });

  /** Every page of the listing, in order. */
  async function allPages(limit: number, status?: ExecutionStatus): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listExecutionsOfAccounts(executions, accounts, {
        status,
        page: { limit, cursor },
      });
      pages.push(page.items.map((execution) => execution.execution_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return pages;
  }

  it('merges the accounts newest first by started_at, ties by execution id, and leaves others out', async () => {
    // Act
    const [page] = await allPages(100);

    // Assess
    expect(page).toEqual(['run-b3', 'run-a3', 'run-c2', 'run-b2', 'run-c1', 'run-a2', 'run-b1', 'run-a1']);
  });

  it.each([1, 2, 3, 7])('pages of %i together hold every execution once, in order', async (limit) => {
    // Act
    const pages = await allPages(limit);

    // Assess
    expect(pages.flat()).toEqual([
      'run-b3',
      'run-a3',
      'run-c2',
      'run-b2',
      'run-c1',
      'run-a2',
      'run-b1',
      'run-a1',
    ]);
    expect(pages.every((page) => page.length > 0 && page.length <= limit)).toBe(true);
    expect(pages).toHaveLength(Math.ceil(8 / limit));
  });

  it('filters by status across pages', async () => {
    // Act
    const pages = await allPages(2, 'failed');

    // Assess
    expect(pages.flat()).toEqual(['run-a3', 'run-c1', 'run-b1']);
  });

  it('answers an empty last page without a cursor when no account has executions', async () => {
    // Act
    const page = await listExecutionsOfAccounts(executions, ['acc-empty'], { page: { limit: 5 } });

    // Assess
    expect(page).toEqual({ items: [], next_cursor: null });
  });

  it('refuses a cursor it did not issue, naming the cursor field', async () => {
    // Act
    const listing = listExecutionsOfAccounts(executions, accounts, { page: { cursor: 'bm90LWEtY3Vyc29y' } });

    // Assess
    await expect(listing).rejects.toBeInstanceOf(ValidationError);
    await expect(listing).rejects.toMatchObject({ issues: [{ field: 'cursor' }] });
  });
});
