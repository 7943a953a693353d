import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../../../functions/core/errors';
import {
  ExecutionRepository,
  type NewExecution,
} from '../../../functions/core/repositories/execution-repository';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-07-01T00:00:00.000Z');

describe('Class: ExecutionRepository', () => {
  let env: TestTables;
  let executions: ExecutionRepository;
  let now = T0;
  let serial = 0;

  beforeAll(async () => {
    env = await startTestTables();
    executions = new ExecutionRepository({
      client: env.client,
      tableName: env.tables.executions,
      clock: () => new Date(now),
    });
  });
  afterAll(async () => {
    await env.close();
  });

  const newExecution = (overrides: Partial<NewExecution> = {}): NewExecution => ({
    execution_id: `exe-${++serial}`,
    schedule_id: 'schedule-1',
    account_id: 'account-1',
    tenant_id: 'tenant-1',
    provider_type: 'aws',
    triggered_by: 'scheduler',
    ...overrides,
  });
  const rawItem = async (executionId: string) =>
    (
      await env.client.send(
        new GetCommand({ TableName: env.tables.executions, Key: { execution_id: executionId } }),
      )
    ).Item;

  describe('Method: create', () => {
    it('creates a running execution and reports a duplicate without an exception', async () => {
      // Act
      const first = await executions.create(
        newExecution({ execution_id: 'slot-1', current_step: 'claimed' }),
      );
      now += 1000;
      const second = await executions.create(
        newExecution({ execution_id: 'slot-1', triggered_by: 'manual' }),
      );

      // Assess
      expect(first).toMatchObject({
        created: true,
        execution: { status: 'running', started_at: new Date(T0).toISOString(), triggered_by: 'scheduler' },
      });
      expect(second).toEqual({ created: false, execution: first.execution });
    });

    it('lets exactly one of 10 concurrent claims of the same slot create it', async () => {
      // Act
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          executions.create(newExecution({ execution_id: 'slot-race', workflow_execution_name: `wf-${i}` })),
        ),
      );

      // Assess
      expect(results.filter((result) => result.created)).toHaveLength(1);
      const winner = results.find((result) => result.created)?.execution.workflow_execution_name;
      expect(results.every((result) => result.execution.workflow_execution_name === winner)).toBe(true);
    });

    it('omits a null schedule_id (a GSI key) instead of writing null', async () => {
      // Act
      const { execution } = await executions.create(
        newExecution({ schedule_id: null, scheduled_time: null }),
      );

      // Assess
      const raw = await rawItem(execution.execution_id);
      expect(raw).toBeDefined();
      expect(raw).not.toHaveProperty('schedule_id');
      expect(raw).not.toHaveProperty('scheduled_time');
    });

    it('reads a legacy execution with naive timestamps as Z timestamps', async () => {
      // Prepare
      await env.client.send(
        new PutCommand({
          TableName: env.tables.executions,
          Item: {
            execution_id: 'legacy-execution',
            schedule_id: 'legacy-schedule',
            account_id: 'legacy-account',
            started_at: '2024-05-01T10:00:00.123456',
            completed_at: '2024-05-01T10:05:00.5',
            status: 'completed',
            total_checks: 10,
          },
        }),
      );

      // Act
      const execution = await executions.get('legacy-execution');

      // Assess
      expect(execution).toMatchObject({
        started_at: '2024-05-01T10:00:00.123Z',
        completed_at: '2024-05-01T10:05:00.500Z',
        triggered_by: 'scheduler',
      });
    });
  });

  describe('Method: recordProgress / finish', () => {
    it('records progress, then finishes with the elapsed seconds', async () => {
      // Prepare
      now = T0;
      const { execution } = await executions.create(newExecution());
      now += 90_500;

      // Act
      const progressed = await executions.recordProgress(execution.execution_id, {
        current_step: 'engine_running',
        progress_percent: 40,
        engine_scan_id: 'engine-1',
      });
      const finished = await executions.finish(execution.execution_id, 'completed', {
        scan_id: 'scan-1',
        total_checks: 12,
        passed_checks: 10,
        failed_checks: 2,
      });

      // Assess
      expect(progressed).toMatchObject({
        current_step: 'engine_running',
        progress_percent: 40,
        engine_scan_id: 'engine-1',
      });
      expect(finished).toMatchObject({
        status: 'completed',
        completed_at: new Date(T0 + 90_500).toISOString(),
        execution_time_seconds: 90.5,
        total_checks: 12,
      });
    });

    it('refuses to reopen or re-finish a finished execution, but repeats the same finish idempotently', async () => {
      // Prepare
      const { execution } = await executions.create(newExecution());
      const finished = await executions.finish(execution.execution_id, 'failed', {
        error_code: 'engine_failed',
      });

      // Act
      const repeated = await executions.finish(execution.execution_id, 'failed', { error_code: 'other' });
      const differently = await executions
        .finish(execution.execution_id, 'completed')
        .catch((error: unknown) => error);
      const reopened = await executions
        .recordProgress(execution.execution_id, { current_step: 'engine_running', progress_percent: 50 })
        .catch((error: unknown) => error);
      const backToRunning = await executions
        .finish(execution.execution_id, 'running')
        .catch((error: unknown) => error);

      // Assess
      expect(repeated).toEqual(finished);
      expect(differently).toBeInstanceOf(InvalidTransitionError);
      expect(differently).toMatchObject({ to: 'completed', allowedFrom: ['running'] });
      expect(reopened).toBeInstanceOf(InvalidTransitionError);
      expect(backToRunning).toBeInstanceOf(ValidationError);
      expect(backToRunning).toMatchObject({ issues: [{ field: 'status' }] });
      expect(await executions.get(execution.execution_id)).toMatchObject({
        status: 'failed',
        error_code: 'engine_failed',
      });
    });

    it('finishes from a known start time without reading, and still refuses a finished execution', async () => {
      // Prepare
      const { execution } = await executions.create(newExecution());
      const { execution: failed } = await executions.create(newExecution());
      await executions.finish(failed.execution_id, 'failed');
      now += 30_000;

      // Act
      const completed = await executions.finish(
        execution.execution_id,
        'completed',
        {},
        { startedAt: execution.started_at },
      );
      const differently = await executions
        .finish(failed.execution_id, 'completed', {}, { startedAt: failed.started_at })
        .catch((error: unknown) => error);
      const repeated = await executions.finish(
        failed.execution_id,
        'failed',
        {},
        { startedAt: failed.started_at },
      );

      // Assess
      expect(completed).toMatchObject({ status: 'completed', execution_time_seconds: 30 });
      expect(differently).toBeInstanceOf(InvalidTransitionError);
      expect(repeated.status).toBe('failed');
    });

    it('lets exactly one of two concurrent different finishes win', async () => {
      // Prepare
      const { execution } = await executions.create(newExecution());

      // Act
      const outcomes = await Promise.allSettled([
        executions.finish(execution.execution_id, 'completed'),
        executions.finish(execution.execution_id, 'cancelled'),
      ]);

      // Assess
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
      expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(InvalidTransitionError);
    });

    it('throws a NotFoundError for a missing execution', async () => {
      await expect(executions.finish('missing', 'completed')).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        executions.recordProgress('missing', { current_step: 'x', progress_percent: 1 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await rawItem('missing')).toBeUndefined();
    });
  });

  describe('Method: markAborted', () => {
    it('aborts the running executions and leaves finished and missing ones alone', async () => {
      // Prepare
      const running = await executions.create(newExecution());
      const done = await executions.create(newExecution());
      await executions.finish(done.execution.execution_id, 'completed');

      // Act
      const aborted = await executions.markAborted([
        running.execution.execution_id,
        done.execution.execution_id,
        'missing',
      ]);

      // Assess
      expect(aborted).toEqual([running.execution.execution_id]);
      expect((await executions.get(running.execution.execution_id))?.status).toBe('aborted');
      expect((await executions.get(done.execution.execution_id))?.status).toBe('completed');
    });
  });

  describe('Method: listBySchedule / listByAccount', () => {
    beforeAll(async () => {
      for (let i = 0; i < 30; i += 1) {
        await executions.create(
          newExecution({
            execution_id: `listed-${i}`,
            schedule_id: 'schedule-listed',
            account_id: i % 2 === 0 ? 'account-even' : 'account-odd',
            started_at: new Date(T0 + i * 60_000).toISOString(),
          }),
        );
      }
    });

    it('walks a schedule executions newest first in pages of 7, no duplicates, no gaps', async () => {
      // Act
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await executions.listBySchedule('schedule-listed', { page: { limit: 7, cursor } });
        expect(page.items.length).toBe(Math.min(7, 30 - ids.length));
        ids.push(...page.items.map((execution) => execution.execution_id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);

      // Assess
      expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `listed-${29 - i}`));
    });

    it('lists an account executions newest first and refuses another account cursor', async () => {
      // Act
      const odd = await executions.listByAccount('account-odd', { page: { limit: 5 } });
      const crossed = executions.listByAccount('account-even', { page: { cursor: odd.next_cursor ?? '' } });

      // Assess
      expect(odd.items.map((execution) => execution.execution_id)).toEqual([
        'listed-29',
        'listed-27',
        'listed-25',
        'listed-23',
        'listed-21',
      ]);
      await expect(crossed).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'cursor' }] });
    });
  });
});
