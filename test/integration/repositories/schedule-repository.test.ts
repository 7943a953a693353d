import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../../functions/core/errors';
import {
  type NewSchedule,
  ScheduleRepository,
} from '../../../functions/core/repositories/schedule-repository';
import { INDEX } from '../../../schemas/tables';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-06-01T00:00:00.000Z');

describe('Class: ScheduleRepository', () => {
  let env: TestTables;
  let schedules: ScheduleRepository;
  const now = T0;
  let serial = 0;

  beforeAll(async () => {
    env = await startTestTables();
    schedules = new ScheduleRepository({
      client: env.client,
      tableName: env.tables.schedules,
      clock: () => new Date(now),
    });
  });
  afterAll(async () => {
    await env.close();
  });

  const newSchedule = (overrides: Partial<NewSchedule> = {}): NewSchedule => ({
    schedule_id: `sch-${String(++serial).padStart(3, '0')}`,
    tenant_id: 'tenant-1',
    account_id: 'account-1',
    name: `Nightly ${serial}`,
    schedule_type: 'cron',
    cron_expression: '0 2 * * *',
    provider_type: 'aws',
    ...overrides,
  });
  const rawItem = async (scheduleId: string) =>
    (
      await env.client.send(
        new GetCommand({ TableName: env.tables.schedules, Key: { schedule_id: scheduleId } }),
      )
    ).Item;

  describe('Method: create', () => {
    it('writes enabled as a string, zeroed counters, Z timestamps and no next_run_at when it has none', async () => {
      // Act
      const schedule = await schedules.create(newSchedule({ description: null }));

      // Assess
      const raw = await rawItem(schedule.schedule_id);
      expect(raw).toMatchObject({
        enabled: 'true',
        status: 'active',
        run_count: 0,
        created_at: '2031-06-01T00:00:00.000Z',
      });
      expect(raw).not.toHaveProperty('next_run_at');
      expect(raw).not.toHaveProperty('description');
      expect(Object.values(raw ?? {})).not.toContain(null);
      const due = await env.client.send(
        new QueryCommand({
          TableName: env.tables.schedules,
          IndexName: INDEX.nextRun,
          KeyConditionExpression: 'enabled = :e',
          ExpressionAttributeValues: { ':e': 'true' },
        }),
      );
      expect(due.Items?.map((item) => item.schedule_id)).not.toContain(schedule.schedule_id);
    });

    it('normalizes a naive next_run_at to Z and derives enabled from the status', async () => {
      // Act
      const paused = await schedules.create(
        newSchedule({ status: 'paused', next_run_at: '2031-06-02T02:00:00' }),
      );

      // Assess
      expect(await rawItem(paused.schedule_id)).toMatchObject({
        enabled: 'false',
        next_run_at: '2031-06-02T02:00:00.000Z',
      });
    });

    it('throws a ConflictError on schedule_id for an existing id and a ValidationError on bad fields', async () => {
      // Prepare
      const schedule = await schedules.create(newSchedule());

      // Act
      const duplicate = await schedules
        .create(newSchedule({ schedule_id: schedule.schedule_id }))
        .catch((error: unknown) => error);
      const invalid = await schedules
        .create({ ...newSchedule({ schedule_type: 'hourly' as 'cron' }), bogus: true } as NewSchedule)
        .catch((error: unknown) => error);

      // Assess
      expect(duplicate).toBeInstanceOf(ConflictError);
      expect(duplicate).toMatchObject({ field: 'schedule_id' });
      expect(invalid).toBeInstanceOf(ValidationError);
      expect(invalid).toMatchObject({
        issues: expect.arrayContaining([
          expect.objectContaining({ field: 'schedule_type' }),
          expect.objectContaining({ field: 'bogus' }),
        ]),
      });
    });
  });

  describe('Method: get', () => {
    it('reads a legacy schedule: naive timestamps, missing new counters, boolean enabled', async () => {
      // Prepare
      await env.client.send(
        new PutCommand({
          TableName: env.tables.schedules,
          Item: {
            schedule_id: 'legacy-schedule',
            tenant_id: 'tenant-legacy',
            account_id: 'account-legacy',
            name: 'Old nightly',
            schedule_type: 'interval',
            interval_seconds: 3600,
            status: 'active',
            enabled: 'true',
            run_count: 7,
            success_count: 6,
            failure_count: 1,
            last_run_at: '2024-05-01T10:00:00.123456',
            next_run_at: '2024-05-01T11:00:00.123456',
            created_at: '2024-04-01T00:00:00',
            updated_at: '2024-05-01T10:00:00.123456',
          },
        }),
      );

      // Act
      const schedule = await schedules.get('legacy-schedule');

      // Assess
      expect(schedule).toMatchObject({
        last_run_at: '2024-05-01T10:00:00.123Z',
        next_run_at: '2024-05-01T11:00:00.123Z',
        created_at: '2024-04-01T00:00:00.000Z',
        skipped_count: 0,
        consecutive_failures: 0,
        timezone: 'UTC',
      });
      expect(await schedules.get('no-such-schedule')).toBeUndefined();
    });
  });

  describe('Method: listByTenant / listByAccount', () => {
    beforeAll(async () => {
      for (let i = 0; i < 30; i += 1) {
        await schedules.create(
          newSchedule({
            schedule_id: `list-${String(i).padStart(2, '0')}`,
            tenant_id: 'tenant-list',
            account_id: i < 20 ? 'account-list-a' : 'account-list-b',
            status: i % 5 === 0 ? 'paused' : 'active',
          }),
        );
      }
      await schedules.create(newSchedule({ tenant_id: 'tenant-other', account_id: 'account-other' }));
    });

    it('walks a tenant schedules in pages of 7 in id order, no duplicates, no gaps', async () => {
      // Act
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await schedules.listByTenant('tenant-list', { page: { limit: 7, cursor } });
        expect(page.items.length).toBe(Math.min(7, 30 - ids.length));
        ids.push(...page.items.map((schedule) => schedule.schedule_id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);

      // Assess
      expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `list-${String(i).padStart(2, '0')}`));
    });

    it('filters by status and lists by account', async () => {
      // Act
      const paused = await schedules.listByTenant('tenant-list', { status: 'paused' });
      const accountB = await schedules.listByAccount('account-list-b', { page: { limit: 100 } });
      const first = await schedules.listByAccount('account-list-a', { page: { limit: 3 } });
      const crossed = schedules.listByAccount('account-other', { page: { cursor: first.next_cursor ?? '' } });

      // Assess
      expect(paused.items.map((schedule) => schedule.schedule_id)).toEqual([
        'list-00',
        'list-05',
        'list-10',
        'list-15',
        'list-20',
        'list-25',
      ]);
      expect(accountB.items).toHaveLength(10);
      await expect(crossed).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'cursor' }] });
    });
  });

  describe('Method: update / setStatus / delete', () => {
    it('updates fields and removes next_run_at when it is set to null', async () => {
      // Prepare
      const schedule = await schedules.create(newSchedule({ next_run_at: '2031-06-02T02:00:00Z' }));

      // Act
      const updated = await schedules.update(schedule.schedule_id, {
        cron_expression: '0 3 * * *',
        regions: ['ap-south-1'],
        next_run_at: null,
      });

      // Assess
      expect(updated).toMatchObject({ cron_expression: '0 3 * * *', regions: ['ap-south-1'] });
      expect(await rawItem(schedule.schedule_id)).not.toHaveProperty('next_run_at');
      await expect(schedules.update('missing', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
      expect(await rawItem('missing')).toBeUndefined();
    });

    it('pauses with who and why, resumes clearing them, and disables', async () => {
      // Prepare
      const schedule = await schedules.create(newSchedule());

      // Act
      const paused = await schedules.setStatus(schedule.schedule_id, 'paused', {
        paused_by: 'user-1',
        pause_note: 'maintenance window',
      });
      const resumed = await schedules.setStatus(schedule.schedule_id, 'active');
      const disabled = await schedules.setStatus(schedule.schedule_id, 'disabled');

      // Assess
      expect(paused).toMatchObject({
        status: 'paused',
        enabled: 'false',
        paused_by: 'user-1',
        pause_note: 'maintenance window',
        paused_at: new Date(now).toISOString(),
      });
      expect(resumed).toMatchObject({ status: 'active', enabled: 'true' });
      expect(resumed).not.toHaveProperty('paused_by');
      expect(disabled).toMatchObject({ status: 'disabled', enabled: 'false' });
    });

    it('deletes a schedule and throws a NotFoundError the second time', async () => {
      // Prepare
      const schedule = await schedules.create(newSchedule());

      // Act
      const deleted = await schedules.delete(schedule.schedule_id);

      // Assess
      expect(deleted.schedule_id).toBe(schedule.schedule_id);
      await expect(schedules.delete(schedule.schedule_id)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('Method: recordRunOutcome', () => {
    it('counts 20 concurrent successes exactly (atomic ADD)', async () => {
      // Prepare
      const schedule = await schedules.create(newSchedule());

      // Act
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          schedules.recordRunOutcome(schedule.schedule_id, 'success', { last_run_at: '2031-06-01T02:00:00' }),
        ),
      );

      // Assess
      expect((await schedules.get(schedule.schedule_id))?.run_count).toBe(20);
      expect(new Set(results.map((counters) => counters.run_count)).size).toBe(20);
      expect((await rawItem(schedule.schedule_id))?.last_run_at).toBe('2031-06-01T02:00:00.000Z');
    });

    it('keeps each counter apart under mixed concurrent outcomes and resets consecutive failures', async () => {
      // Prepare
      const schedule = await schedules.create(newSchedule());
      const outcomes = [
        ...Array<'failure'>(6).fill('failure'),
        ...Array<'skipped'>(4).fill('skipped'),
        ...Array<'missed'>(3).fill('missed'),
      ];

      // Act
      await Promise.all(outcomes.map((outcome) => schedules.recordRunOutcome(schedule.schedule_id, outcome)));
      const afterFailures = await schedules.get(schedule.schedule_id);
      const afterSuccess = await schedules.recordRunOutcome(schedule.schedule_id, 'success');

      // Assess
      expect(afterFailures).toMatchObject({
        run_count: 6,
        failure_count: 6,
        success_count: 0,
        skipped_count: 4,
        missed_count: 3,
        consecutive_failures: 6,
      });
      const { schedule: written, ...counters } = afterSuccess;
      expect(counters).toEqual({
        run_count: 7,
        success_count: 1,
        failure_count: 6,
        skipped_count: 4,
        missed_count: 3,
        consecutive_failures: 0,
      });
      // The item as the write left it (the auto-pause decision reads it, not a second Get).
      expect(written).toEqual(await schedules.get(written.schedule_id));
    });

    it('adds to the counters of a legacy item that lacks the new ones', async () => {
      // Act
      const counters = await schedules.recordRunOutcome('legacy-schedule', 'failure');

      // Assess
      expect(counters).toMatchObject({
        run_count: 8,
        failure_count: 2,
        consecutive_failures: 1,
        skipped_count: 0,
      });
    });

    it('throws a NotFoundError for a missing schedule and creates no item', async () => {
      await expect(schedules.recordRunOutcome('missing-schedule', 'success')).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await rawItem('missing-schedule')).toBeUndefined();
    });
  });
});
