import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, ValidationError } from '../../functions/core/errors';
import {
  type Orchestrator,
  type StartWorkflowRequest,
  sameExecutionInput,
  type WorkflowExecutionHandle,
} from '../../functions/core/ports/orchestrator';
import { type NewSchedule, ScheduleRepository } from '../../functions/core/repositories/schedule-repository';
import {
  flexibleWindowOffsetMs,
  LocalScheduler,
  type LocalSchedulerStore,
} from '../../local/local-scheduler';
import { type Schedule, ScheduleSchema } from '../../schemas/schedule';
import { startTestTables, type TestTables } from '../support/dynalite';

/** Records every start; a second start of a name answers like Step Functions (same input: already started). */
class RecordingOrchestrator implements Orchestrator {
  readonly calls: StartWorkflowRequest[] = [];
  readonly started: Array<{ name: string; input: Record<string, unknown> }> = [];
  readonly #inputs = new Map<string, Record<string, unknown>>();

  async start(request: StartWorkflowRequest): Promise<WorkflowExecutionHandle> {
    this.calls.push(request);
    const existing = this.#inputs.get(request.name);
    if (existing && !sameExecutionInput(existing, request.input)) {
      throw new ConflictError(`an execution named '${request.name}' exists with another input`, 'name');
    }
    if (!existing) {
      this.#inputs.set(request.name, request.input);
      this.started.push({ name: request.name, input: request.input });
    }
    return {
      workflow: request.workflow,
      name: request.name,
      executionArn: `arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:${request.name}`,
      startedAt: new Date().toISOString(),
      alreadyStarted: existing !== undefined,
    };
  }

  describe(): never {
    throw new Error('not used by the scheduler');
  }
  list(): never {
    throw new Error('not used by the scheduler');
  }
  history(): never {
    throw new Error('not used by the scheduler');
  }
  stop(): never {
    throw new Error('not used by the scheduler');
  }

  slots(): string[] {
    return this.started.map((start) => String(start.input.scheduled_time));
  }
}

const T0 = Date.parse('2031-06-01T00:00:30.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('Class: LocalScheduler', () => {
  let env: TestTables;
  let repository: ScheduleRepository;
  let now = T0;
  let serial = 0;
  let directory: string;
  let stateFile: string;
  let orchestrator: RecordingOrchestrator;
  const open: LocalScheduler[] = [];
  const clock = () => new Date(now);

  beforeAll(async () => {
    env = await startTestTables();
    repository = new ScheduleRepository({ client: env.client, tableName: env.tables.schedules, clock });
  });
  afterAll(async () => {
    await env.close();
  });
  beforeEach(async () => {
    now = T0;
    directory = await mkdtemp(join(tmpdir(), 'local-scheduler-'));
    stateFile = join(directory, 'scheduler', 'state.json');
    orchestrator = new RecordingOrchestrator();
  });
  afterEach(async () => {
    for (const scheduler of open.splice(0)) await scheduler.close();
    await rm(directory, { recursive: true, force: true });
  });

  const newScheduler = (options: { catchUpWindowMinutes?: number; store?: LocalSchedulerStore } = {}) => {
    const scheduler = new LocalScheduler({
      orchestrator,
      schedules: options.store ?? repository,
      stateFile,
      clock,
      useTimer: false,
      ...(options.catchUpWindowMinutes ? { catchUpWindowMinutes: options.catchUpWindowMinutes } : {}),
    });
    open.push(scheduler);
    return scheduler;
  };

  /** A schedule stored in the table (tenant prefix per test, so start-up listings stay apart). */
  const createSchedule = async (overrides: Partial<NewSchedule> = {}): Promise<Schedule> =>
    repository.create({
      schedule_id: `ls-${String(++serial).padStart(4, '0')}`,
      tenant_id: 'tenant-1',
      account_id: 'account-1',
      name: `Schedule ${serial}`,
      schedule_type: 'cron',
      schedule_expression: 'cron(0 * * * ? *)',
      ...overrides,
    });

  /** A store that lists only the given schedules (start-up of one test's schedules). */
  const storeOf = (schedules: () => Schedule[]): LocalSchedulerStore => ({
    async *listAllForStartup() {
      for (const schedule of schedules()) {
        const fresh = await repository.get(schedule.schedule_id);
        if (fresh) yield fresh;
      }
    },
    recordRunOutcome: (...args) => repository.recordRunOutcome(...args),
  });

  describe('Method: advanceTo', () => {
    it('fires a cron schedule at each slot with the slot as scheduled time and the scan name', async () => {
      // Prepare
      const schedule = await createSchedule();
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);

      // Act
      const report = await scheduler.advanceTo(new Date(T0 + 3 * HOUR));

      // Assess
      expect(report).toEqual({ fired: 3, alreadyStarted: 0, failed: 0, missed: 0 });
      expect(orchestrator.started).toEqual(
        ['01', '02', '03'].map((hour) => ({
          name: `scan-${schedule.schedule_id}-20310601T${hour}00Z`,
          input: {
            tenant_id: 'tenant-1',
            account_id: 'account-1',
            schedule_id: schedule.schedule_id,
            scheduled_time: `2031-06-01T${hour}:00:00.000Z`,
            triggered_by: 'scheduler',
          },
        })),
      );
      expect(orchestrator.calls.every((call) => call.workflow === 'scan')).toBe(true);
    });

    it('fires a rate schedule every interval from its creation', async () => {
      // Prepare
      const schedule = await createSchedule({
        schedule_type: 'interval',
        schedule_expression: 'rate(5 minutes)',
      });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);

      // Act
      await scheduler.advanceTo(new Date(T0 + 20 * MINUTE));

      // Assess: created at 00:00:30, so the anchor is 00:01.
      expect(orchestrator.slots()).toEqual([
        '2031-06-01T00:01:00.000Z',
        '2031-06-01T00:06:00.000Z',
        '2031-06-01T00:11:00.000Z',
        '2031-06-01T00:16:00.000Z',
      ]);
    });

    it('stops firing while paused and resumes from now, without the slots of the pause', async () => {
      // Prepare
      const schedule = await createSchedule();
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);
      await scheduler.advanceTo(new Date(T0 + HOUR));
      const paused = await repository.setStatus(schedule.schedule_id, 'paused', { paused_by: 'user-1' });

      // Act
      await scheduler.upsert(paused);
      await scheduler.advanceTo(new Date(T0 + 4 * HOUR));
      const whilePaused = orchestrator.slots();
      now = T0 + 4 * HOUR;
      await scheduler.upsert(await repository.setStatus(schedule.schedule_id, 'active'));
      await scheduler.advanceTo(new Date(T0 + 6 * HOUR));

      // Assess
      expect(whilePaused).toEqual(['2031-06-01T01:00:00.000Z']);
      expect(orchestrator.slots()).toEqual([
        '2031-06-01T01:00:00.000Z',
        '2031-06-01T05:00:00.000Z',
        '2031-06-01T06:00:00.000Z',
      ]);
    });

    it('honours the end date and then drops the entry', async () => {
      // Prepare
      const schedule = await createSchedule({
        schedule_expression: 'cron(0/10 * * * ? *)',
        end_date: '2031-06-01T00:35:00Z',
      });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);

      // Act
      await scheduler.advanceTo(new Date(T0 + 2 * HOUR));

      // Assess
      expect(orchestrator.slots()).toEqual([
        '2031-06-01T00:10:00.000Z',
        '2031-06-01T00:20:00.000Z',
        '2031-06-01T00:30:00.000Z',
      ]);
      expect(scheduler.size).toBe(0);
    });

    it('does not arm a one-time schedule whose time has passed', async () => {
      // Prepare: 05:30 IST is 00:00 UTC, 30 seconds before now.
      const schedule = await createSchedule({
        schedule_type: 'one_time',
        schedule_expression: 'at(2031-06-01T05:30:00)',
        timezone: 'Asia/Kolkata',
      });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();

      // Act
      await scheduler.upsert(schedule);
      await scheduler.advanceTo(new Date(T0 + 2 * HOUR));

      // Assess
      expect(scheduler.pendingSlot(schedule.schedule_id)).toBeUndefined();
      expect(orchestrator.slots()).toEqual([]);
    });

    it('fires a one-time schedule once, drops its entry and never arms it again', async () => {
      // Prepare
      const schedule = await createSchedule({
        schedule_type: 'one_time',
        schedule_expression: 'at(2031-06-01T07:00:00)',
        timezone: 'Asia/Kolkata',
      });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);

      // Act
      await scheduler.advanceTo(new Date(T0 + 3 * HOUR));
      await scheduler.upsert(schedule);
      await scheduler.advanceTo(new Date(T0 + 6 * HOUR));

      // Assess: 07:00 IST is 01:30 UTC.
      expect(orchestrator.slots()).toEqual(['2031-06-01T01:30:00.000Z']);
      expect(scheduler.size).toBe(0);
    });

    it('skips a wall time that spring-forward removes and fires a repeated autumn time once', async () => {
      // Prepare: New York moves to EDT on 2031-03-09 and back to EST on 2031-11-02.
      now = Date.parse('2031-03-07T12:00:00Z');
      const spring = await createSchedule({
        schedule_expression: 'cron(30 2 * * ? *)',
        timezone: 'America/New_York',
      });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(spring);
      await scheduler.advanceTo(new Date('2031-03-11T12:00:00Z'));
      const springSlots = orchestrator.slots();
      await scheduler.remove(spring.schedule_id);
      now = Date.parse('2031-10-31T12:00:00Z');
      const autumn = await createSchedule({
        schedule_expression: 'cron(30 1 * * ? *)',
        timezone: 'America/New_York',
      });
      await scheduler.upsert(autumn);

      // Act
      await scheduler.advanceTo(new Date('2031-11-03T12:00:00Z'));

      // Assess
      expect(springSlots).toEqual([
        '2031-03-08T07:30:00.000Z', // 02:30 EST
        '2031-03-10T06:30:00.000Z', // 02:30 EDT; 2031-03-09 02:30 does not exist
        '2031-03-11T06:30:00.000Z',
      ]);
      expect(orchestrator.slots().slice(3)).toEqual([
        '2031-11-01T05:30:00.000Z', // 01:30 EDT
        '2031-11-02T05:30:00.000Z', // 01:30 EDT, the first of the two 01:30s; not again at 06:30Z
        '2031-11-03T06:30:00.000Z', // 01:30 EST
      ]);
    });

    it('fires a flexible-window slot at its deterministic offset, with the slot as scheduled time', async () => {
      // Prepare
      const schedule = await createSchedule({ flexible_window_minutes: 15 });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);
      const pending = scheduler.pendingSlot(schedule.schedule_id);
      const slot = new Date('2031-06-01T01:00:00Z');
      const offset = flexibleWindowOffsetMs(schedule.schedule_id, slot, 15);

      // Act
      const before = await scheduler.advanceTo(new Date(slot.getTime() + offset - 1));
      const at = await scheduler.advanceTo(new Date(slot.getTime() + offset));

      // Assess
      expect(pending?.slot).toEqual(slot);
      expect(pending?.fireAt.getTime()).toBe(slot.getTime() + offset);
      expect(before.fired).toBe(0);
      expect(at.fired).toBe(1);
      expect(orchestrator.slots()).toEqual(['2031-06-01T01:00:00.000Z']);
    });
    it('keeps a pending slot inside its window when the schedule is upserted again unchanged', async () => {
      // Prepare
      const schedule = await createSchedule({ flexible_window_minutes: 30 });
      const slot = new Date('2031-06-01T01:00:00Z');
      const offset = flexibleWindowOffsetMs(schedule.schedule_id, slot, 30);
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);
      now = slot.getTime() + Math.floor(offset / 2); // after the slot, before its fire time

      // Act
      await scheduler.upsert(await repository.update(schedule.schedule_id, { name: 'Renamed' }));
      await scheduler.advanceTo(new Date(slot.getTime() + 30 * MINUTE));

      // Assess
      expect(offset).toBeGreaterThan(0);
      expect(orchestrator.slots()).toEqual(['2031-06-01T01:00:00.000Z']);
    });
  });

  describe('Function: flexibleWindowOffsetMs', () => {
    it('stays in [0, window), is deterministic and spreads slots over the window', () => {
      // Prepare
      const slots = Array.from({ length: 500 }, (_, index) => new Date(T0 + index * HOUR));

      // Act
      const offsets = slots.map((slot) => flexibleWindowOffsetMs('sch-flex', slot, 10));
      const again = slots.map((slot) => flexibleWindowOffsetMs('sch-flex', slot, 10));

      // Assess
      expect(offsets).toEqual(again);
      expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...offsets)).toBeLessThan(10 * MINUTE);
      expect(Math.max(...offsets) - Math.min(...offsets)).toBeGreaterThan(8 * MINUTE);
      expect(flexibleWindowOffsetMs('sch-flex', slots[0] as Date, 0)).toBe(0);
    });
  });

  describe('Method: tick', () => {
    it('starts one scan per slot however often it is upserted or ticked', async () => {
      // Prepare
      const schedule = await createSchedule();
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);
      await scheduler.upsert(schedule);
      now = Date.parse('2031-06-01T01:00:10Z');

      // Act
      const first = await scheduler.tick();
      await scheduler.upsert(schedule);
      const second = await scheduler.tick();

      // Assess
      expect(first.fired).toBe(1);
      expect(second.fired).toBe(0);
      expect(orchestrator.calls).toHaveLength(1);
      expect(scheduler.pendingSlot(schedule.schedule_id)?.slot.toISOString()).toBe(
        '2031-06-01T02:00:00.000Z',
      );
    });

    it('reports the slots a stalled process let pass as missed instead of running them all', async () => {
      // Prepare
      const schedule = await createSchedule({ schedule_expression: 'cron(0/10 * * * ? *)' });
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);
      now = Date.parse('2031-06-01T00:45:00Z');

      // Act
      const report = await scheduler.tick();

      // Assess: 00:10 fires late; 00:20, 00:30 and 00:40 passed.
      expect(report).toEqual({ fired: 1, alreadyStarted: 0, failed: 0, missed: 3 });
      expect(orchestrator.slots()).toEqual(['2031-06-01T00:10:00.000Z']);
      expect((await repository.get(schedule.schedule_id))?.missed_count).toBe(3);
      expect(scheduler.pendingSlot(schedule.schedule_id)?.slot.toISOString()).toBe(
        '2031-06-01T00:50:00.000Z',
      );
    });

    it('counts a start the orchestrator already had as already started, not as a new scan', async () => {
      // Prepare
      const schedule = await createSchedule();
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      await scheduler.upsert(schedule);
      await orchestrator.start({
        workflow: 'scan',
        name: `scan-${schedule.schedule_id}-20310601T0100Z`,
        input: {
          tenant_id: 'tenant-1',
          account_id: 'account-1',
          schedule_id: schedule.schedule_id,
          scheduled_time: '2031-06-01T01:00:00.000Z',
          triggered_by: 'scheduler',
        },
      });
      now = Date.parse('2031-06-01T01:00:00Z');

      // Act
      const report = await scheduler.tick();

      // Assess
      expect(report).toMatchObject({ fired: 1, alreadyStarted: 1 });
      expect(orchestrator.started).toHaveLength(1);
    });
  });

  describe('Method: upsert', () => {
    it('throws a ValidationError naming the field of a schedule it cannot read', async () => {
      // Prepare
      const scheduler = newScheduler({ store: storeOf(() => []) });
      await scheduler.start();
      const schedule = ScheduleSchema.parse({
        ...(await createSchedule()),
        timezone: 'Mars/Olympus',
      });

      // Act
      const attempt = scheduler.upsert(schedule);

      // Assess
      await expect(attempt).rejects.toThrow(ValidationError);
      await expect(attempt).rejects.toMatchObject({ issues: [{ field: 'timezone' }] });
    });
  });

  describe('Method: start', () => {
    it('loads the active schedules of the table once and arms them', async () => {
      // Prepare
      const active = await createSchedule();
      const paused = await createSchedule({ status: 'paused' });
      await env.client.send(
        new PutCommand({
          TableName: env.tables.schedules,
          Item: { schedule_id: 'ls-broken', tenant_id: 'tenant-1', name: 'no account id', status: 'active' },
        }),
      );
      const scheduler = newScheduler();

      // Act
      const report = await scheduler.start();

      // Assess
      expect(report.loaded).toBeGreaterThanOrEqual(2);
      expect(report.invalid).toBeGreaterThanOrEqual(1);
      expect(scheduler.pendingSlot(active.schedule_id)?.slot.toISOString()).toBe('2031-06-01T01:00:00.000Z');
      expect(scheduler.pendingSlot(paused.schedule_id)).toBeUndefined();
      expect(report.missedSlots).toBe(0);
    });

    it('reports the slots missed while stopped once per schedule, with the count, and runs none', async () => {
      // Prepare
      const schedule = await createSchedule();
      const store = storeOf(() => [schedule]);
      const first = newScheduler({ store });
      await first.start();
      await first.advanceTo(new Date('2031-06-01T01:00:00Z'));
      await first.close();
      now = Date.parse('2031-06-01T04:10:00Z');
      const second = newScheduler({ store });

      // Act
      const report = await second.start();
      const afterStart = await second.tick();

      // Assess
      expect(report).toMatchObject({ missedSchedules: 1, missedSlots: 3, caughtUp: 0 });
      expect(afterStart.fired).toBe(0);
      expect(orchestrator.slots()).toEqual(['2031-06-01T01:00:00.000Z']);
      const stored = await repository.get(schedule.schedule_id);
      expect(stored?.missed_count).toBe(3);
      expect(second.pendingSlot(schedule.schedule_id)?.slot.toISOString()).toBe('2031-06-01T05:00:00.000Z');
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as { last_fired: Record<string, string> };
      expect(state.last_fired[schedule.schedule_id]).toBe('2031-06-01T01:00:00.000Z');
    });

    it('runs only the latest missed slot inside the catch-up window and reports the others', async () => {
      // Prepare
      const schedule = await createSchedule();
      const store = storeOf(() => [schedule]);
      const first = newScheduler({ store });
      await first.start();
      await first.advanceTo(new Date('2031-06-01T01:00:00Z'));
      await first.close();
      now = Date.parse('2031-06-01T04:10:00Z');
      const second = newScheduler({ store, catchUpWindowMinutes: 30 });

      // Act
      const report = await second.start();
      const afterStart = await second.tick();

      // Assess
      expect(report).toMatchObject({ missedSchedules: 1, missedSlots: 2, caughtUp: 1 });
      expect(afterStart.fired).toBe(1);
      expect(orchestrator.slots()).toEqual(['2031-06-01T01:00:00.000Z', '2031-06-01T04:00:00.000Z']);
      expect((await repository.get(schedule.schedule_id))?.missed_count).toBe(2);
    });

    it('runs nothing missed when the latest missed slot is older than the catch-up window', async () => {
      // Prepare
      const schedule = await createSchedule();
      const store = storeOf(() => [schedule]);
      const first = newScheduler({ store });
      await first.start();
      await first.advanceTo(new Date('2031-06-01T01:00:00Z'));
      await first.close();
      now = Date.parse('2031-06-01T04:40:00Z');
      const second = newScheduler({ store, catchUpWindowMinutes: 30 });

      // Act
      const report = await second.start();
      await second.tick();

      // Assess
      expect(report).toMatchObject({ missedSlots: 3, caughtUp: 0 });
      expect(orchestrator.slots()).toEqual(['2031-06-01T01:00:00.000Z']);
    });

    it('counts nothing as missed on a first start (no state file)', async () => {
      // Prepare
      const schedule = await createSchedule();
      now = Date.parse('2031-06-02T00:00:30Z');
      const scheduler = newScheduler({ store: storeOf(() => [schedule]) });

      // Act
      const report = await scheduler.start();

      // Assess
      expect(report).toMatchObject({ loaded: 1, armed: 1, missedSlots: 0 });
      expect((await repository.get(schedule.schedule_id))?.missed_count).toBe(0);
    });
  });

  describe('Timer', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('fires through one timer armed for the earliest entry, and stops after close', async () => {
      // Prepare
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 });
      const schedule = ScheduleSchema.parse({
        schedule_id: 'timer-1',
        tenant_id: 'tenant-1',
        account_id: 'account-1',
        name: 'Timer',
        schedule_type: 'cron',
        schedule_expression: 'cron(0/5 * * * ? *)',
        status: 'active',
        enabled: 'true',
        created_at: new Date(T0).toISOString(),
        updated_at: new Date(T0).toISOString(),
      });
      const scheduler = new LocalScheduler({
        orchestrator,
        schedules: {
          async *listAllForStartup() {
            yield schedule;
          },
          recordRunOutcome: async () => {
            throw new Error('nothing is missed here');
          },
        },
        stateFile,
      });
      open.push(scheduler);
      await scheduler.start();

      const advanceMinutes = async (minutes: number) => {
        for (let minute = 0; minute < minutes; minute += 1) {
          await vi.advanceTimersByTimeAsync(MINUTE);
          await scheduler.idle(); // the state file is written with real I/O
        }
      };

      // Act
      await advanceMinutes(4);
      const beforeSlot = orchestrator.slots().length;
      const timersWhileWaiting = vi.getTimerCount();
      await advanceMinutes(12);
      const afterThree = orchestrator.slots();
      await scheduler.close();
      await vi.advanceTimersByTimeAsync(30 * MINUTE);

      // Assess
      expect(beforeSlot).toBe(0);
      expect(timersWhileWaiting).toBe(1);
      expect(afterThree).toEqual([
        '2031-06-01T00:05:00.000Z',
        '2031-06-01T00:10:00.000Z',
        '2031-06-01T00:15:00.000Z',
      ]);
      expect(orchestrator.slots()).toHaveLength(3);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
