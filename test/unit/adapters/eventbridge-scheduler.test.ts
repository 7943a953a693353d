import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleOutput,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  SchedulerServiceException,
  ThrottlingException,
  UpdateScheduleCommand,
  type UpdateScheduleInput,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EventBridgeScheduler,
  entryNameFor,
  SCHEDULED_TIME_PLACEHOLDER,
} from '../../../functions/adapters/aws/eventbridge-scheduler';
import {
  ConfigurationError,
  DependencyUnavailableError,
  ValidationError,
} from '../../../functions/core/errors';
import { type Schedule, ScheduleSchema } from '../../../schemas/schedule';

const GROUP = 'threat-engine-schedules';
const SCAN_ARN = 'arn:aws:states:ap-south-1:123456789012:stateMachine:threat-engine-scan';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/threat-engine-scheduler';
const DLQ_ARN = 'arn:aws:sqs:ap-south-1:123456789012:threat-engine-scheduler-dlq';
const NOW = new Date('2031-06-01T00:00:00.000Z');

const schedule = (overrides: Record<string, unknown> = {}): Schedule =>
  ScheduleSchema.parse({
    schedule_id: 'sch-1',
    tenant_id: 'tenant-1',
    account_id: 'account-1',
    name: 'Nightly',
    schedule_type: 'cron',
    schedule_expression: 'cron(0 2 * * ? *)',
    timezone: 'Asia/Kolkata',
    status: 'active',
    enabled: 'true',
    created_at: '2031-05-01T00:00:00Z',
    updated_at: '2031-05-01T00:00:00Z',
    ...overrides,
  });

const serviceError = (name: string, status = 400) =>
  new SchedulerServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });

describe('Class: EventBridgeScheduler', () => {
  const scheduler = mockClient(SchedulerClient);
  let adapter: EventBridgeScheduler;

  beforeEach(() => {
    scheduler.reset();
    adapter = new EventBridgeScheduler({
      client: new SchedulerClient({ region: 'ap-south-1' }),
      groupName: GROUP,
      scanStateMachineArn: SCAN_ARN,
      roleArn: ROLE_ARN,
      deadLetterQueueArn: DLQ_ARN,
      retryPolicy: { maximumEventAgeInSeconds: 900, maximumRetryAttempts: 5 },
      clock: () => NOW,
    });
  });

  describe('Function: entryNameFor', () => {
    it('names the entry te-<schedule_id> when that fits 64 characters of the allowed set', () => {
      // Act
      const name = entryNameFor('0b6f3c1e-8a8d-4f43-9d0e-3f3a1c2b4d5e');

      // Assess
      expect(name).toBe('te-0b6f3c1e-8a8d-4f43-9d0e-3f3a1c2b4d5e');
    });

    it('cuts and hashes ids that are too long or hold other characters, keeping them distinct', () => {
      // Prepare
      const long = 'a'.repeat(100);

      // Act
      const names = [entryNameFor(long), entryNameFor(`${long}b`), entryNameFor('tenant:schedule')];

      // Assess
      for (const name of names) expect(name).toMatch(/^te-[0-9A-Za-z_.-]{1,61}$/);
      expect(new Set(names).size).toBe(3);
      expect(names[2]).toMatch(/^te-tenant-schedule-[0-9a-f]{8}$/);
    });
  });

  describe('Method: constructor', () => {
    it('throws ConfigurationError naming a missing role ARN', () => {
      // Act
      const build = () =>
        new EventBridgeScheduler({
          client: new SchedulerClient({}),
          groupName: GROUP,
          scanStateMachineArn: SCAN_ARN,
          roleArn: '',
        });

      // Assess
      expect(build).toThrow(ConfigurationError);
      expect(build).toThrow(/roleArn/);
    });

    it('throws ConfigurationError naming a retry policy outside what Scheduler accepts', () => {
      // Act
      const build = () =>
        new EventBridgeScheduler({
          client: new SchedulerClient({}),
          groupName: GROUP,
          scanStateMachineArn: SCAN_ARN,
          roleArn: ROLE_ARN,
          retryPolicy: { maximumEventAgeInSeconds: 30, maximumRetryAttempts: 3 },
        });

      // Assess
      expect(build).toThrow(/maximumEventAgeInSeconds/);
    });
  });

  describe('Method: upsert', () => {
    it('updates the entry with the expression, zone, target, placeholder input, retry policy and DLQ', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(schedule());

      // Assess
      expect(scheduler).toReceiveCommandTimes(UpdateScheduleCommand, 1);
      expect(scheduler).not.toReceiveCommand(CreateScheduleCommand);
      expect(scheduler).toReceiveCommandWith(UpdateScheduleCommand, {
        Name: 'te-sch-1',
        GroupName: GROUP,
        ScheduleExpression: 'cron(0 2 * * ? *)',
        ScheduleExpressionTimezone: 'Asia/Kolkata',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'NONE',
        Target: {
          Arn: SCAN_ARN,
          RoleArn: ROLE_ARN,
          Input: expect.any(String),
          RetryPolicy: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 5 },
          DeadLetterConfig: { Arn: DLQ_ARN },
        },
      });
      const request = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input as UpdateScheduleInput;
      expect(request.Target?.Input).toContain(`"scheduled_time":"${SCHEDULED_TIME_PLACEHOLDER}"`);
      expect(JSON.parse(request.Target?.Input ?? '')).toEqual({
        tenant_id: 'tenant-1',
        account_id: 'account-1',
        schedule_id: 'sch-1',
        scheduled_time: '<aws.scheduler.scheduled-time>',
        triggered_by: 'scheduler',
      });
      expect(request).not.toHaveProperty('StartDate');
      expect(request).not.toHaveProperty('EndDate');
    });

    it('creates the entry with an idempotent client token when the update finds none', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).rejects(
        new ResourceNotFoundException({
          Message: 'Schedule te-sch-1 does not exist.',
          message: 'Schedule te-sch-1 does not exist.',
          $metadata: {},
        }),
      );
      scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(schedule());
      await adapter.upsert(schedule());

      // Assess
      expect(scheduler).toReceiveCommandTimes(CreateScheduleCommand, 2);
      const [first, second] = scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
      expect(first).toMatchObject({
        Name: 'te-sch-1',
        GroupName: GROUP,
        ScheduleExpression: 'cron(0 2 * * ? *)',
        Target: { Arn: SCAN_ARN, RoleArn: ROLE_ARN, DeadLetterConfig: { Arn: DLQ_ARN } },
      });
      expect(first?.ClientToken).toMatch(/^[0-9a-f]{64}$/);
      expect(second?.ClientToken).toBe(first?.ClientToken);
    });

    it('gives a different definition a different client token', async () => {
      // Prepare
      scheduler
        .on(UpdateScheduleCommand)
        .rejects(new ResourceNotFoundException({ Message: 'missing', message: 'missing', $metadata: {} }));
      scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(schedule());
      await adapter.upsert(schedule({ schedule_expression: 'cron(0 3 * * ? *)' }));

      // Assess
      const tokens = scheduler
        .commandCalls(CreateScheduleCommand)
        .map((call) => call.args[0].input.ClientToken);
      expect(tokens[0]).not.toBe(tokens[1]);
    });

    it('updates after all when a concurrent upsert created the entry first', async () => {
      // Prepare
      scheduler
        .on(UpdateScheduleCommand)
        .rejectsOnce(new ResourceNotFoundException({ Message: 'missing', message: 'missing', $metadata: {} }))
        .resolves({ ScheduleArn: 'arn:entry' });
      scheduler
        .on(CreateScheduleCommand)
        .rejects(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} }));

      // Act
      await adapter.upsert(schedule());

      // Assess
      expect(scheduler).toReceiveCommandTimes(UpdateScheduleCommand, 2);
      expect(scheduler).toReceiveCommandTimes(CreateScheduleCommand, 1);
    });

    it('throws ConfigurationError naming the group when the schedule group does not exist', async () => {
      // Prepare
      scheduler
        .on(UpdateScheduleCommand)
        .rejects(new ResourceNotFoundException({ Message: 'missing', message: 'missing', $metadata: {} }));
      scheduler
        .on(CreateScheduleCommand)
        .rejects(new ResourceNotFoundException({ Message: 'group', message: 'group', $metadata: {} }));

      // Act
      const attempt = adapter.upsert(schedule());

      // Assess
      await expect(attempt).rejects.toThrow(ConfigurationError);
      await expect(attempt).rejects.toMatchObject({ issues: [{ field: 'groupName' }] });
    });

    it('writes a DISABLED entry for a paused schedule', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(schedule({ status: 'paused', enabled: 'false', paused_by: 'user-1' }));

      // Assess
      expect(scheduler).toReceiveCommandWith(UpdateScheduleCommand, { Name: 'te-sch-1', State: 'DISABLED' });
    });

    it('deletes a one-time entry after completion and sends no start or end date for at()', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(
        schedule({
          schedule_type: 'one_time',
          schedule_expression: 'at(2031-06-02T09:30:00)',
          start_date: '2031-06-01T12:00:00Z',
          end_date: '2031-07-01T00:00:00Z',
        }),
      );

      // Assess
      expect(scheduler).toReceiveCommandWith(UpdateScheduleCommand, {
        ScheduleExpression: 'at(2031-06-02T09:30:00)',
        ActionAfterCompletion: 'DELETE',
      });
      const request = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
      expect(request).not.toHaveProperty('StartDate');
      expect(request).not.toHaveProperty('EndDate');
    });

    it('maps legacy fields, the flexible window and future start and end dates', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(
        schedule({
          schedule_expression: null,
          cron_expression: '*/15 9-17 * * 1-5',
          flexible_window_minutes: 10,
          start_date: '2031-06-05T00:00:00Z',
          end_date: '2031-12-31T00:00:00Z',
        }),
      );

      // Assess
      expect(scheduler).toReceiveCommandWith(UpdateScheduleCommand, {
        ScheduleExpression: 'cron(0/15 9-17 ? * 2-6 *)',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
        StartDate: new Date('2031-06-05T00:00:00Z'),
        EndDate: new Date('2031-12-31T00:00:00Z'),
      });
    });

    it('leaves out a start date already past (Scheduler refuses one)', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      await adapter.upsert(schedule({ start_date: '2031-05-15T00:00:00Z' }));

      // Assess
      expect(scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).not.toHaveProperty('StartDate');
    });

    it('removes the entry of a schedule that will never fire again', async () => {
      // Prepare
      scheduler.on(DeleteScheduleCommand).resolves({});

      // Act
      await adapter.upsert(
        schedule({ schedule_type: 'one_time', schedule_expression: 'at(2031-05-20T10:00:00)' }),
      );

      // Assess
      expect(scheduler).not.toReceiveCommand(UpdateScheduleCommand);
      expect(scheduler).toReceiveCommandWith(DeleteScheduleCommand, { Name: 'te-sch-1', GroupName: GROUP });
    });

    it('throws the ValidationError of an expression it cannot read, naming the field', async () => {
      // Act
      const attempt = adapter.upsert(schedule({ schedule_expression: 'cron(0 25 * * ? *)' }));

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'ValidationError',
        issues: [{ field: 'schedule_expression' }],
      });
      expect(scheduler).not.toReceiveCommand(UpdateScheduleCommand);
    });

    it('maps throttling to DependencyUnavailableError', async () => {
      // Prepare
      scheduler.on(UpdateScheduleCommand).rejects(
        new ThrottlingException({
          Message: 'Rate exceeded',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 429 },
        }),
      );

      // Act
      const attempt = adapter.upsert(schedule());

      // Assess
      await expect(attempt).rejects.toThrow(DependencyUnavailableError);
      await expect(attempt).rejects.toThrow(/te-sch-1/);
    });

    it('maps a refused request to ValidationError and a denied one to ConfigurationError', async () => {
      // Prepare
      scheduler
        .on(UpdateScheduleCommand)
        .rejectsOnce(
          new ValidationException({
            Message: 'Invalid Schedule Expression',
            message: 'Invalid Schedule Expression',
            $metadata: {},
          }),
        )
        .rejectsOnce(serviceError('AccessDeniedException', 403));

      // Act
      const refused = adapter.upsert(schedule());
      await expect(refused).rejects.toThrow(ValidationError);
      const denied = adapter.upsert(schedule());

      // Assess
      await expect(refused).rejects.toMatchObject({ issues: [{ field: 'scheduler_entry' }] });
      await expect(denied).rejects.toThrow(ConfigurationError);
    });
  });

  describe('Method: remove', () => {
    it('deletes the entry of the schedule', async () => {
      // Prepare
      scheduler.on(DeleteScheduleCommand).resolves({});

      // Act
      await adapter.remove('sch-1');

      // Assess
      expect(scheduler).toReceiveCommandWith(DeleteScheduleCommand, { Name: 'te-sch-1', GroupName: GROUP });
    });

    it('ignores an entry that does not exist', async () => {
      // Prepare
      scheduler
        .on(DeleteScheduleCommand)
        .rejects(new ResourceNotFoundException({ Message: 'missing', message: 'missing', $metadata: {} }));

      // Act
      const attempt = adapter.remove('sch-1');

      // Assess
      await expect(attempt).resolves.toBeUndefined();
    });

    it('maps a server fault to DependencyUnavailableError', async () => {
      // Prepare
      scheduler.on(DeleteScheduleCommand).rejects(serviceError('InternalServerException', 500));

      // Act
      const attempt = adapter.remove('sch-1');

      // Assess
      await expect(attempt).rejects.toThrow(DependencyUnavailableError);
    });
  });

  describe('Method: reconcile', () => {
    /** The entry the adapter writes for a schedule, as GetSchedule returns it (the mock is reset after). */
    const entryOf = async (item: Schedule): Promise<GetScheduleOutput> => {
      scheduler.reset();
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });
      await adapter.upsert(item);
      const input = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input as UpdateScheduleInput;
      scheduler.reset();
      return { ...input, Arn: `arn:aws:scheduler:ap-south-1:123456789012:schedule/${GROUP}/${input.Name}` };
    };

    it('creates missing entries, updates different ones, deletes orphans and counts the rest', async () => {
      // Prepare
      const missing = schedule({ schedule_id: 'sch-missing' });
      const same = schedule({ schedule_id: 'sch-same' });
      const changed = schedule({ schedule_id: 'sch-changed', schedule_expression: 'cron(0 4 * * ? *)' });
      const paused = schedule({ schedule_id: 'sch-paused', status: 'paused', enabled: 'false' });
      const expired = schedule({
        schedule_id: 'sch-expired',
        schedule_type: 'one_time',
        schedule_expression: 'at(2031-01-01T00:00:00)',
      });
      const entries: Record<string, GetScheduleOutput> = {
        'te-sch-same': await entryOf(same),
        'te-sch-changed': await entryOf(schedule({ schedule_id: 'sch-changed' })),
        'te-sch-paused': await entryOf(schedule({ schedule_id: 'sch-paused' })),
        'te-sch-gone': await entryOf(schedule({ schedule_id: 'sch-gone' })),
      };
      // Two pages, to prove the listing follows NextToken.
      scheduler
        .on(ListSchedulesCommand)
        .resolvesOnce({
          Schedules: [{ Name: 'te-sch-same' }, { Name: 'te-sch-changed' }],
          NextToken: 'page-2',
        })
        .resolves({ Schedules: [{ Name: 'te-sch-paused' }, { Name: 'te-sch-gone' }] });
      for (const [name, entry] of Object.entries(entries)) {
        scheduler.on(GetScheduleCommand, { Name: name }).resolves(entry);
      }
      scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });
      scheduler.on(DeleteScheduleCommand).resolves({});

      // Act
      const report = await adapter.reconcile(
        (async function* () {
          yield* [missing, same, changed, paused, expired];
        })(),
      );

      // Assess
      expect(report).toEqual({
        created: [{ entry_name: 'te-sch-missing', schedule_id: 'sch-missing' }],
        updated: [
          { entry_name: 'te-sch-changed', schedule_id: 'sch-changed', differences: ['ScheduleExpression'] },
          { entry_name: 'te-sch-paused', schedule_id: 'sch-paused', differences: ['State'] },
        ],
        deleted: [{ entry_name: 'te-sch-gone', schedule_id: 'sch-gone' }],
        unchanged: 1,
        expired: ['sch-expired'],
        failed: [],
        dry_run: false,
      });
      expect(scheduler).toReceiveCommandWith(ListSchedulesCommand, {
        GroupName: GROUP,
        NamePrefix: 'te-',
        NextToken: 'page-2',
      });
      expect(scheduler).toReceiveCommandWith(CreateScheduleCommand, {
        Name: 'te-sch-missing',
        ClientToken: expect.any(String),
      });
      expect(scheduler).toReceiveCommandWith(UpdateScheduleCommand, {
        Name: 'te-sch-changed',
        ScheduleExpression: 'cron(0 4 * * ? *)',
      });
      expect(scheduler).toReceiveCommandWith(UpdateScheduleCommand, {
        Name: 'te-sch-paused',
        State: 'DISABLED',
      });
      expect(scheduler).toReceiveCommandTimes(UpdateScheduleCommand, 2);
      expect(scheduler).toReceiveCommandWith(DeleteScheduleCommand, {
        Name: 'te-sch-gone',
        GroupName: GROUP,
      });
      expect(scheduler).toReceiveCommandTimes(DeleteScheduleCommand, 1);
    });

    it('finds a changed target input and a changed time zone', async () => {
      // Prepare
      const item = schedule({ timezone: 'Europe/London' });
      const entry = await entryOf(schedule({ account_id: 'account-old' }));
      scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'te-sch-1' }] });
      scheduler.on(GetScheduleCommand).resolves(entry);
      scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      const report = await adapter.reconcile([item]);

      // Assess
      expect(report.updated).toEqual([
        {
          entry_name: 'te-sch-1',
          schedule_id: 'sch-1',
          differences: ['ScheduleExpressionTimezone', 'Target.Input'],
        },
      ]);
    });

    it('reports without writing anything on a dry run', async () => {
      // Prepare
      scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'te-sch-gone' }] });
      scheduler
        .on(GetScheduleCommand)
        .resolves({ Name: 'te-sch-gone', Target: { Arn: SCAN_ARN, RoleArn: ROLE_ARN } });

      // Act
      const report = await adapter.reconcile([schedule({ schedule_id: 'sch-new' })], { dryRun: true });

      // Assess
      expect(report.created).toEqual([{ entry_name: 'te-sch-new', schedule_id: 'sch-new' }]);
      expect(report.deleted).toEqual([{ entry_name: 'te-sch-gone', schedule_id: 'sch-gone' }]);
      expect(report.dry_run).toBe(true);
      expect(scheduler).not.toReceiveCommand(CreateScheduleCommand);
      expect(scheduler).not.toReceiveCommand(UpdateScheduleCommand);
      expect(scheduler).not.toReceiveCommand(DeleteScheduleCommand);
    });

    it('reports a schedule it cannot repair and carries on with the others', async () => {
      // Prepare
      scheduler.on(ListSchedulesCommand).resolves({ Schedules: [] });
      scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:entry' });

      // Act
      const report = await adapter.reconcile([
        schedule({ schedule_id: 'sch-bad', schedule_expression: 'rate(0 minutes)' }),
        schedule({ schedule_id: 'sch-good' }),
      ]);

      // Assess
      expect(report.failed).toEqual([
        {
          schedule_id: 'sch-bad',
          entry_name: 'te-sch-bad',
          error: expect.stringContaining('schedule_expression'),
        },
      ]);
      expect(report.created).toEqual([{ entry_name: 'te-sch-good', schedule_id: 'sch-good' }]);
    });

    it('throws DependencyUnavailableError when the listing is throttled', async () => {
      // Prepare
      scheduler.on(ListSchedulesCommand).rejects(
        new ThrottlingException({
          Message: 'Rate exceeded',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 429 },
        }),
      );

      // Act
      const attempt = adapter.reconcile([schedule()]);

      // Assess
      await expect(attempt).rejects.toThrow(DependencyUnavailableError);
    });
  });
});
