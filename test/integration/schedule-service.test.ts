import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  DependencyUnavailableError,
  InvalidTransitionError,
  NotFoundError,
  ValidationError,
} from '../../functions/core/errors';
import { silentLogger } from '../../functions/core/logger';
import {
  type Orchestrator,
  type StartWorkflowRequest,
  sameExecutionInput,
  type WorkflowExecutionHandle,
} from '../../functions/core/ports/orchestrator';
import type { ReconcileReport, SchedulerPort } from '../../functions/core/ports/scheduler';
import { AccountRepository } from '../../functions/core/repositories/account-repository';
import { ExecutionRepository } from '../../functions/core/repositories/execution-repository';
import { ScheduleRepository } from '../../functions/core/repositories/schedule-repository';
import { recordOutcomeAndAutoPause, ScheduleService } from '../../functions/core/scheduling/schedule-service';
import {
  CreateScheduleInputSchema,
  PauseScheduleInputSchema,
  type Schedule,
  UpdateScheduleInputSchema,
} from '../../schemas/schedule';
import { startTestTables, type TestTables } from '../support/dynalite';

class RecordingOrchestrator implements Orchestrator {
  readonly started: StartWorkflowRequest[] = [];
  readonly #inputs = new Map<string, Record<string, unknown>>();

  async start(request: StartWorkflowRequest): Promise<WorkflowExecutionHandle> {
    const existing = this.#inputs.get(request.name);
    if (existing && !sameExecutionInput(existing, request.input)) {
      throw new ConflictError(`an execution named '${request.name}' exists with another input`, 'name');
    }
    if (!existing) {
      this.#inputs.set(request.name, request.input);
      this.started.push(request);
    }
    return {
      workflow: request.workflow,
      name: request.name,
      executionArn: `arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:${request.name}`,
      startedAt: '2031-06-01T00:00:30.000Z',
      alreadyStarted: existing !== undefined,
    };
  }

  describe(): never {
    throw new Error('not used');
  }
  list(): never {
    throw new Error('not used');
  }
  history(): never {
    throw new Error('not used');
  }
  stop(): never {
    throw new Error('not used');
  }
}

class RecordingScheduler implements SchedulerPort {
  readonly upserts: Schedule[] = [];
  readonly removes: string[] = [];
  failNext = false;

  async upsert(schedule: Schedule): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new DependencyUnavailableError('eventbridge_scheduler', 'throttled');
    }
    this.upserts.push(schedule);
  }

  async remove(scheduleId: string): Promise<void> {
    this.removes.push(scheduleId);
  }
  async reconcile(): Promise<ReconcileReport> {
    return { created: [], updated: [], deleted: [], unchanged: 0, expired: [], failed: [], dry_run: false };
  }
}

const T0 = Date.parse('2031-06-01T00:00:30.000Z'); // a Sunday

describe('Schemas: schedule request bodies', () => {
  const issuesOf = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }) =>
    (result.error?.issues ?? []).map((issue) => issue.path.join('.'));

  it('names end_date when the end is not after the start', () => {
    // Act
    const result = CreateScheduleInputSchema.safeParse({
      name: 'x',
      preset: 'daily',
      start_date: '2031-06-02T00:00:00Z',
      end_date: '2031-06-02T00:00:00Z',
    });

    // Assess
    expect(issuesOf(result)).toEqual(['end_date']);
  });

  it('turns a preset into its expression and derives schedule_type from an expression', () => {
    // Act
    const preset = CreateScheduleInputSchema.parse({ name: 'x', preset: 'every_6_hours' });
    const rate = CreateScheduleInputSchema.parse({ name: 'x', schedule_expression: 'rate(5 minutes)' });
    const update = UpdateScheduleInputSchema.parse({ preset: 'weekly' });

    // Assess
    expect(preset).toMatchObject({
      schedule_expression: 'cron(0 0/6 * * ? *)',
      schedule_type: 'cron',
      timezone: 'UTC',
    });
    expect(preset).not.toHaveProperty('preset');
    expect(rate.schedule_type).toBe('interval');
    expect(update).toEqual({ schedule_expression: 'cron(0 0 ? * SUN *)', schedule_type: 'cron' });
  });

  it('names the time zone, the legacy field a type needs, and refuses an empty update', () => {
    // Act
    const zone = CreateScheduleInputSchema.safeParse({ name: 'x', preset: 'daily', timezone: '+05:30' });
    const interval = CreateScheduleInputSchema.safeParse({ name: 'x', schedule_type: 'interval' });
    const empty = UpdateScheduleInputSchema.safeParse({});
    const note = PauseScheduleInputSchema.safeParse({ note: 'line\u0000break' });

    // Assess
    expect(issuesOf(zone)).toEqual(['timezone']);
    expect(issuesOf(interval)).toEqual(['interval_seconds']);
    expect(empty.success).toBe(false);
    expect(issuesOf(note)).toEqual(['note']);
  });
});

describe('Class: ScheduleService', () => {
  let env: TestTables;
  let now = T0;
  const clock = () => new Date(now);
  let schedules: ScheduleRepository;
  let accounts: AccountRepository;
  let executions: ExecutionRepository;
  let scheduler: RecordingScheduler;
  let orchestrator: RecordingOrchestrator;
  let service: ScheduleService;
  let serial = 0;
  let accountId: string;

  beforeAll(async () => {
    env = await startTestTables();
    schedules = new ScheduleRepository({ client: env.client, tableName: env.tables.schedules, clock });
    accounts = new AccountRepository({ client: env.client, tableName: env.tables.accounts, clock });
    executions = new ExecutionRepository({ client: env.client, tableName: env.tables.executions, clock });
  });
  afterAll(async () => {
    await env.close();
  });

  const activeAccount = async (tenantId: string): Promise<string> => {
    const account = await accounts.create({
      tenant_id: tenantId,
      provider_id: `provider-${tenantId}`,
      provider_type: 'aws',
      account_name: `Account ${++serial}`,
    });
    await accounts.beginOnboarding(account.account_id, `onboarding-${serial}`);
    await accounts.completeOnboarding(account.account_id, {
      account_number: '123456789012',
      last_validated_at: new Date(now).toISOString(),
    });
    return account.account_id;
  };

  beforeEach(async () => {
    now = T0;
    scheduler = new RecordingScheduler();
    orchestrator = new RecordingOrchestrator();
    service = new ScheduleService({
      schedules,
      accounts,
      executions,
      scheduler,
      orchestrator,
      clock,
      logger: silentLogger,
      settings: { autoPauseAfterFailuresDefault: 3 },
    });
    accountId = await activeAccount('tenant-a');
  });

  const body = (overrides: Record<string, unknown> = {}) => ({
    account_id: accountId,
    name: 'Nightly scan',
    schedule_expression: 'cron(0 2 * * ? *)',
    timezone: 'UTC',
    ...overrides,
  });

  describe('Method: create', () => {
    it('derives the expression from legacy fields, computes next_run_at and upserts the entry', async () => {
      // Act
      const schedule = await service.create('tenant-a', {
        tenant_id: 'tenant-a',
        account_id: accountId,
        name: 'Weekdays',
        schedule_type: 'cron',
        cron_expression: '0 2 * * 1-5',
        timezone: 'Asia/Kolkata',
        regions: ['ap-south-1'],
      });

      // Assess: Monday 02:00 in Kolkata is Sunday 20:30 UTC.
      expect(schedule).toMatchObject({
        tenant_id: 'tenant-a',
        account_id: accountId,
        schedule_type: 'cron',
        cron_expression: '0 2 * * 1-5',
        schedule_expression: 'cron(0 2 ? * 2-6 *)',
        timezone: 'Asia/Kolkata',
        next_run_at: '2031-06-01T20:30:00.000Z',
        status: 'active',
        enabled: 'true',
        provider_type: 'aws',
        regions: ['ap-south-1'],
      });
      expect(scheduler.upserts).toEqual([schedule]);
      expect(await schedules.get(schedule.schedule_id)).toEqual(schedule);
    });

    it('maps interval_seconds to a rate, a preset to its cron and a legacy one_time to at()', async () => {
      // Act
      const interval = await service.create('tenant-a', {
        account_id: accountId,
        name: 'Hourly',
        schedule_type: 'interval',
        interval_seconds: 3600,
      });
      const preset = await service.create('tenant-a', {
        account_id: accountId,
        name: 'Daily',
        preset: 'daily',
      });
      const once = await service.create('tenant-a', {
        account_id: accountId,
        name: 'Once',
        schedule_type: 'one_time',
        next_run_at: '2031-06-03T04:00:00',
        timezone: 'Europe/London',
      });

      // Assess
      expect(interval).toMatchObject({ schedule_type: 'interval', schedule_expression: 'rate(1 hour)' });
      expect(preset).toMatchObject({ schedule_type: 'cron', schedule_expression: 'cron(0 0 * * ? *)' });
      expect(preset).not.toHaveProperty('preset');
      expect(once).toMatchObject({
        schedule_type: 'one_time',
        schedule_expression: 'at(2031-06-03T05:00:00)',
        next_run_at: '2031-06-03T04:00:00.000Z',
      });
    });

    it.each([
      ['a malformed expression', { schedule_expression: 'cron(0 2 * *)' }, 'schedule_expression'],
      ['an hour out of range', { schedule_expression: 'cron(0 25 * * ? *)' }, 'schedule_expression'],
      ['an unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone'],
      [
        'an end before the start',
        { start_date: '2031-07-01T00:00:00Z', end_date: '2031-06-15T00:00:00Z' },
        'end_date',
      ],
      ['an end date already past', { end_date: '2031-05-01T00:00:00Z' }, 'end_date'],
      [
        'a one-time schedule in the past',
        { schedule_expression: 'at(2031-05-01T00:00:00)' },
        'schedule_expression',
      ],
      [
        'a legacy cron type without its cron',
        { schedule_expression: undefined, schedule_type: 'cron' },
        'cron_expression',
      ],
      ['an expression and a preset', { preset: 'hourly' }, 'preset'],
      ['a type that disagrees with the expression', { schedule_type: 'interval' }, 'schedule_type'],
      ['no account', { account_id: undefined }, 'account_id'],
      ["another tenant's id in the body", { tenant_id: 'tenant-b' }, 'tenant_id'],
      ['an unknown field', { bogus: true }, 'bogus'],
    ])('throws ValidationError naming the field for %s', async (_case, overrides, field) => {
      // Act
      const attempt = service.create('tenant-a', body(overrides));

      // Assess
      await expect(attempt).rejects.toThrow(ValidationError);
      await expect(attempt).rejects.toMatchObject({
        issues: expect.arrayContaining([expect.objectContaining({ field })]),
      });
      expect(scheduler.upserts).toEqual([]);
    });

    it("throws NotFoundError for another tenant's account and ConflictError for an inactive one", async () => {
      // Prepare
      const foreign = await activeAccount('tenant-b');
      const pending = await accounts.create({
        tenant_id: 'tenant-a',
        provider_id: 'provider-tenant-a',
        account_name: 'Not onboarded',
      });

      // Act
      const foreignAttempt = service.create('tenant-a', body({ account_id: foreign }));
      const pendingAttempt = service.create('tenant-a', body({ account_id: pending.account_id }));

      // Assess
      await expect(foreignAttempt).rejects.toThrow(NotFoundError);
      await expect(pendingAttempt).rejects.toThrow(ConflictError);
      await expect(pendingAttempt).rejects.toMatchObject({ field: 'account_id' });
    });

    it('returns the same schedule for a repeated idempotency key and refuses another body under it', async () => {
      // Act
      const first = await service.create('tenant-a', body(), { idempotencyKey: 'create-nightly-1' });
      const repeat = await service.create('tenant-a', body(), { idempotencyKey: 'create-nightly-1' });
      const other = service.create('tenant-a', body({ name: 'Other' }), {
        idempotencyKey: 'create-nightly-1',
      });

      // Assess
      expect(repeat.schedule_id).toBe(first.schedule_id);
      await expect(other).rejects.toThrow(ConflictError);
      await expect(other).rejects.toMatchObject({ field: 'idempotency_key' });
      expect(scheduler.upserts.map((item) => item.schedule_id)).toEqual([
        first.schedule_id,
        first.schedule_id,
      ]);
    });

    it('removes the schedule again when its entry cannot be written', async () => {
      // Prepare
      scheduler.failNext = true;
      const before = await schedules.listByAccount(accountId);

      // Act
      const attempt = service.create('tenant-a', body());

      // Assess
      await expect(attempt).rejects.toThrow(DependencyUnavailableError);
      expect((await schedules.listByAccount(accountId)).items).toEqual(before.items);
    });
  });

  describe('Method: get', () => {
    it('shows the next fire times, the recent runs newest first and the counters', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body({ schedule_expression: 'cron(0 */6 * * ? *)' }));
      for (const [index, startedAt] of [
        '2031-05-31T06:00:05Z',
        '2031-05-31T12:00:05Z',
        '2031-05-31T18:00:05Z',
      ].entries()) {
        await executions.create({
          execution_id: `run-${schedule.schedule_id}-${index}`,
          schedule_id: schedule.schedule_id,
          account_id: accountId,
          started_at: startedAt,
          triggered_by: 'scheduler',
        });
      }
      await schedules.recordRunOutcome(schedule.schedule_id, 'success');
      await schedules.recordRunOutcome(schedule.schedule_id, 'failure');
      await schedules.recordRunOutcome(schedule.schedule_id, 'missed', { count: 4 });

      // Act
      const details = await service.get('tenant-a', schedule.schedule_id, { fireTimes: 3, recentRuns: 2 });

      // Assess
      expect(details.next_fire_times).toEqual([
        '2031-06-01T06:00:00.000Z',
        '2031-06-01T12:00:00.000Z',
        '2031-06-01T18:00:00.000Z',
      ]);
      expect(details.next_run_at).toBe('2031-06-01T06:00:00.000Z');
      expect(details.recent_runs.map((run) => run.started_at)).toEqual([
        '2031-05-31T18:00:05.000Z',
        '2031-05-31T12:00:05.000Z',
      ]);
      expect(details.counters).toEqual({
        runs: 2,
        successes: 1,
        failures: 1,
        skipped: 0,
        missed: 4,
        consecutive_failures: 1,
      });
    });

    it('shows no fire times for a paused schedule', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      await service.pause('tenant-a', schedule.schedule_id, { by: 'user-1' });

      // Act
      const details = await service.get('tenant-a', schedule.schedule_id);

      // Assess
      expect(details.next_fire_times).toEqual([]);
      expect(details.status).toBe('paused');
    });
  });

  describe('Tenant isolation', () => {
    it("answers NotFoundError for another tenant's schedule in every method", async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      const id = schedule.schedule_id;

      // Act
      const attempts = [
        service.get('tenant-b', id),
        service.update('tenant-b', id, { name: 'Mine now' }),
        service.pause('tenant-b', id, { by: 'intruder' }),
        service.resume('tenant-b', id, { by: 'intruder' }),
        service.delete('tenant-b', id),
        service.trigger('tenant-b', id, { by: 'intruder' }),
        service.listRuns('tenant-b', id),
      ];

      // Assess
      for (const attempt of attempts) await expect(attempt).rejects.toThrow(NotFoundError);
      expect((await schedules.get(id))?.name).toBe('Nightly scan');
      expect(orchestrator.started).toEqual([]);
    });

    it("lists only the caller's schedules, and refuses another tenant's account filter", async () => {
      // Prepare
      const mine = await service.create('tenant-a', body());
      const foreignAccount = await activeAccount('tenant-b');
      await service.create('tenant-b', body({ account_id: foreignAccount }));

      // Act
      const listed = await service.list('tenant-a', { account_id: accountId });
      const foreign = service.list('tenant-a', { account_id: foreignAccount });

      // Assess
      expect(listed.items.map((item) => item.schedule_id)).toContain(mine.schedule_id);
      expect(listed.items.every((item) => item.tenant_id === 'tenant-a')).toBe(true);
      await expect(foreign).rejects.toThrow(NotFoundError);
    });
  });

  describe('Method: update', () => {
    it('re-upserts the entry with the new expression, clearing the legacy field it replaces', async () => {
      // Prepare
      const schedule = await service.create(
        'tenant-a',
        body({ schedule_expression: undefined, cron_expression: '0 2 * * *' }),
      );

      // Act
      const updated = await service.update('tenant-a', schedule.schedule_id, { preset: 'hourly' });

      // Assess
      expect(updated).toMatchObject({
        schedule_expression: 'cron(0 * * * ? *)',
        next_run_at: '2031-06-01T01:00:00.000Z',
      });
      expect(updated.cron_expression).toBeUndefined();
      expect(scheduler.upserts.at(-1)).toEqual(updated);
    });

    it('keeps the timing when only other fields change, and checks the merged dates', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body({ start_date: '2031-06-10T00:00:00Z' }));

      // Act
      const renamed = await service.update('tenant-a', schedule.schedule_id, { name: 'Renamed' });
      const backwards = service.update('tenant-a', schedule.schedule_id, {
        end_date: '2031-06-05T00:00:00Z',
      });

      // Assess
      expect(renamed).toMatchObject({ name: 'Renamed', schedule_expression: 'cron(0 2 * * ? *)' });
      await expect(backwards).rejects.toMatchObject({
        name: 'ValidationError',
        issues: [{ field: 'end_date' }],
      });
    });
  });

  describe('Method: pause and resume', () => {
    it("stores resume's who and note as pause's are stored, each clearing the other", async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      await service.pause('tenant-a', schedule.schedule_id, { note: 'maintenance', by: 'user-1' });

      // Act
      const resumed = await service.resume('tenant-a', schedule.schedule_id, {
        note: 'window over',
        by: 'user-2',
      });
      const stored = await schedules.get(schedule.schedule_id);
      const pausedAgain = await service.pause('tenant-a', schedule.schedule_id, { by: 'user-3' });

      // Assess
      expect(resumed).toMatchObject({ resumed_by: 'user-2', resume_note: 'window over' });
      expect(resumed.resumed_at).toEqual(expect.any(String));
      expect(stored).toMatchObject({ resumed_by: 'user-2', resume_note: 'window over' });
      expect(stored?.pause_note).toBeUndefined();
      expect(pausedAgain).toMatchObject({ paused_by: 'user-3' });
      expect(pausedAgain.resume_note).toBeUndefined();
    });

    it('disables the entry with who and why, and enables it again from now', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());

      // Act
      const paused = await service.pause('tenant-a', schedule.schedule_id, {
        note: 'maintenance',
        by: 'user-1',
      });
      now = Date.parse('2031-06-03T10:00:00Z');
      const resumed = await service.resume('tenant-a', schedule.schedule_id, { by: 'user-2' });

      // Assess
      expect(paused).toMatchObject({
        status: 'paused',
        enabled: 'false',
        paused_by: 'user-1',
        pause_note: 'maintenance',
      });
      expect(resumed).toMatchObject({
        status: 'active',
        enabled: 'true',
        next_run_at: '2031-06-04T02:00:00.000Z',
      });
      expect(resumed.paused_by).toBeUndefined();
      expect(scheduler.upserts.map((item) => item.status)).toEqual(['active', 'paused', 'active']);
    });

    it('refuses to pause a disabled schedule', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      await schedules.setStatus(schedule.schedule_id, 'disabled');

      // Act
      const attempt = service.pause('tenant-a', schedule.schedule_id, { by: 'user-1' });

      // Assess
      await expect(attempt).rejects.toThrow(InvalidTransitionError);
    });
  });

  describe('Method: delete', () => {
    it('removes the entry, then the schedule', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());

      // Act
      await service.delete('tenant-a', schedule.schedule_id);

      // Assess
      expect(scheduler.removes).toEqual([schedule.schedule_id]);
      expect(await schedules.get(schedule.schedule_id)).toBeUndefined();
    });
  });

  describe('Method: trigger', () => {
    it('starts its own run for every trigger, in the same minute too, recorded before its id is returned', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      now = Date.parse('2031-06-01T09:41:27.500Z');

      // Act
      const result = await service.trigger('tenant-a', schedule.schedule_id, { by: 'user-1' });
      const again = await service.trigger('tenant-a', schedule.schedule_id, { by: 'user-1' });

      // Assess
      expect(orchestrator.started).toHaveLength(2);
      expect(again.execution_id).not.toBe(result.execution_id);
      expect(again.workflow_execution_name).not.toBe(result.workflow_execution_name);
      expect(result).toMatchObject({ already_started: false, scheduled_time: '2031-06-01T09:41:27.500Z' });
      expect(orchestrator.started[0]).toMatchObject({
        workflow: 'scan',
        name: result.workflow_execution_name,
        input: {
          tenant_id: 'tenant-a',
          account_id: accountId,
          schedule_id: schedule.schedule_id,
          triggered_by: 'manual',
          execution_id: result.execution_id,
        },
      });
      expect(await executions.get(result.execution_id)).toMatchObject({
        status: 'running',
        triggered_by: 'manual',
        workflow_execution_arn: result.execution_arn,
      });
    });

    it('meets the first run on a retry with the same request token (Idempotency-Key)', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      now = Date.parse('2031-06-01T10:00:00Z');
      const first = await service.trigger('tenant-a', schedule.schedule_id, { requestToken: 'idem-retry-1' });
      now += 90_000;

      // Act
      const retry = await service.trigger('tenant-a', schedule.schedule_id, { requestToken: 'idem-retry-1' });
      const other = await service.trigger('tenant-a', schedule.schedule_id, { requestToken: 'idem-retry-2' });

      // Assess
      expect(retry).toMatchObject({
        execution_id: first.execution_id,
        workflow_execution_name: first.workflow_execution_name,
        already_started: true,
      });
      expect(other.execution_id).not.toBe(first.execution_id);
      expect(
        orchestrator.started.filter((start) => start.input.schedule_id === schedule.schedule_id),
      ).toHaveLength(2);
    });

    it('starts a manual run even while the scheduler runs the slot of the same minute', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      now = Date.parse('2031-06-02T02:00:20Z');
      const slotName = `scan-${schedule.schedule_id}-20310602T0200Z`;
      await orchestrator.start({
        workflow: 'scan',
        name: slotName,
        input: {
          tenant_id: 'tenant-a',
          account_id: accountId,
          schedule_id: schedule.schedule_id,
          scheduled_time: '2031-06-02T02:00:00.000Z',
          triggered_by: 'scheduler',
        },
      });

      // Act
      const result = await service.trigger('tenant-a', schedule.schedule_id, { by: 'user-1' });

      // Assess
      expect(result.already_started).toBe(false);
      expect(result.workflow_execution_name).not.toBe(slotName);
      expect(orchestrator.started).toHaveLength(2);
    });

    it('refuses to trigger a paused schedule, naming its status', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      await service.pause('tenant-a', schedule.schedule_id, { by: 'user-1' });

      // Act
      const attempt = service.trigger('tenant-a', schedule.schedule_id, { by: 'user-1' });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', field: 'status' });
    });
  });

  describe('Function: recordOutcomeAndAutoPause', () => {
    it('pauses the schedule by system after N consecutive failures (its own N), not before', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body({ auto_pause_after_failures: 2 }));

      // Act
      const first = await service.recordOutcomeAndAutoPause(schedule.schedule_id, 'failure');
      const second = await service.recordOutcomeAndAutoPause(schedule.schedule_id, 'failure');

      // Assess
      expect(first).toMatchObject({ auto_paused: false, counters: { consecutive_failures: 1 } });
      expect(second).toMatchObject({
        auto_paused: true,
        counters: { consecutive_failures: 2, failure_count: 2 },
      });
      const stored = await schedules.get(schedule.schedule_id);
      expect(stored).toMatchObject({ status: 'paused', enabled: 'false', paused_by: 'system' });
      expect(stored?.pause_note).toContain('2 consecutive failed runs');
      expect(scheduler.upserts.at(-1)).toMatchObject({ schedule_id: schedule.schedule_id, status: 'paused' });
    });

    it('uses the default threshold when the schedule sets none, and a success starts the count afresh', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      const deps = {
        schedules,
        scheduler,
        clock,
        logger: silentLogger,
        settings: { autoPauseAfterFailuresDefault: 3 },
      };

      // Act
      await recordOutcomeAndAutoPause(deps, schedule.schedule_id, 'failure');
      await recordOutcomeAndAutoPause(deps, schedule.schedule_id, 'failure');
      await recordOutcomeAndAutoPause(deps, schedule.schedule_id, 'success');
      await recordOutcomeAndAutoPause(deps, schedule.schedule_id, 'failure');
      const afterReset = await schedules.get(schedule.schedule_id);
      await recordOutcomeAndAutoPause(deps, schedule.schedule_id, 'failure');
      const third = await recordOutcomeAndAutoPause(deps, schedule.schedule_id, 'failure');

      // Assess
      expect(afterReset?.status).toBe('active');
      expect(third.auto_paused).toBe(true);
      expect((await schedules.get(schedule.schedule_id))?.status).toBe('paused');
    });

    it('records nothing and pauses nothing for a schedule deleted while its run went on', async () => {
      // Prepare
      const schedule = await service.create('tenant-a', body());
      await service.delete('tenant-a', schedule.schedule_id);

      // Act
      const result = await service.recordOutcomeAndAutoPause(schedule.schedule_id, 'failure');

      // Assess
      expect(result).toEqual({
        counters: null,
        auto_paused: false,
        completed_one_time: false,
        schedule: null,
      });
      expect(await schedules.get(schedule.schedule_id)).toBeUndefined();
    });

    it('ends a one-time schedule whose time has passed, whatever the outcome', async () => {
      // Prepare
      const schedule = await service.create(
        'tenant-a',
        body({ schedule_expression: 'at(2031-06-01T03:00:00)' }),
      );
      const early = await service.recordOutcomeAndAutoPause(schedule.schedule_id, 'success');
      now = Date.parse('2031-06-01T03:05:00Z');

      // Act
      const done = await service.recordOutcomeAndAutoPause(schedule.schedule_id, 'failure');

      // Assess
      expect(early.completed_one_time).toBe(false);
      expect(done).toMatchObject({ completed_one_time: true, auto_paused: false });
      expect((await schedules.get(schedule.schedule_id))?.status).toBe('disabled');
      expect(scheduler.removes).toEqual([schedule.schedule_id]);
    });
  });
});
