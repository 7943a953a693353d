import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleOutput,
  ListSchedulesCommand,
  type ListSchedulesCommandOutput,
  SchedulerClient,
  type ScheduleSummary,
  UpdateScheduleCommand,
  type UpdateScheduleInput,
} from '@aws-sdk/client-scheduler';
import type { Config } from '../../../schemas/config';
import type { Schedule } from '../../../schemas/schedule';
import { type Clock, systemClock } from '../../core/clock';
import {
  ConfigurationError,
  DependencyUnavailableError,
  DomainError,
  NotFoundError,
  ValidationError,
} from '../../core/errors';
import { type Logger, silentLogger } from '../../core/logger';
import { sameExecutionInput } from '../../core/ports/orchestrator';
import type { ReconcileReport, SchedulerPort } from '../../core/ports/scheduler';
import {
  fireTimesAfter,
  isScheduleActive,
  type ScheduleTiming,
  scheduleTimingOf,
} from '../../core/scheduling/schedule-service';
import { instrumented } from './aws-client-instrumentation';
import { type AwsErrorShape, awsErrorName, isRefusedAwsError, isTransientAwsError } from './aws-error-kind';

/**
 * The scheduler port on AWS: one EventBridge Scheduler entry per schedule, in one schedule group,
 * named `te-<schedule_id>`, whose target starts the scan state machine.
 *
 * The target is Step Functions' TEMPLATED target (Target.Arn = the state machine ARN: Scheduler
 * calls StartExecution with our Input). It cannot choose the execution name, so Scheduler names
 * executions itself (a generated id), unlike the local scheduler, which uses
 * `scan-<scheduleId>-<slot>`. What ties a run to its schedule and time on AWS is the input
 * (`schedule_id`, `scheduled_time` = `<aws.scheduler.scheduled-time>`, the slot and not the
 * delivery time): the scan workflow's claim step records the workflow execution name and ARN and
 * the slot on the execution record (one record per schedule and slot minute), which is how an
 * operator finds the run of schedule X at time T; the same claim turns retries and duplicate
 * deliveries of a slot into one scan.
 *
 * Daylight saving follows EventBridge Scheduler itself (ScheduleExpressionTimezone): a wall time
 * skipped in spring does not run, one repeated in autumn runs once; the local scheduler matches it.
 */

export interface SchedulerRetryPolicy {
  /** How long Scheduler keeps retrying one delivery (60–86400 s). */
  maximumEventAgeInSeconds: number;
  /** Retries of one delivery (0–185). */
  maximumRetryAttempts: number;
}

export interface EventBridgeSchedulerOptions {
  client: SchedulerClient;
  /** The schedule group holding every entry (created by the CDK app). */
  groupName: string;
  /** The scan state machine, the target of every entry. */
  scanStateMachineArn: string;
  /** The role Scheduler assumes to start executions (states:StartExecution on the scan state machine). */
  roleArn: string;
  /** An SQS queue receiving deliveries that failed every retry. */
  deadLetterQueueArn?: string;
  retryPolicy?: SchedulerRetryPolicy;
  clock?: Clock;
  logger?: Logger;
  /** Entries reconcile reads and repairs at once (default 8). */
  reconcileConcurrency?: number;
}

/** Replaced by Scheduler with the slot's time (ISO-8601 UTC) in every delivery. */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';
export const ENTRY_NAME_PREFIX = 'te-';
export const DEFAULT_SCHEDULER_RETRY_POLICY: SchedulerRetryPolicy = {
  maximumEventAgeInSeconds: 3600,
  maximumRetryAttempts: 3,
};

const DEPENDENCY = 'eventbridge_scheduler';
const MAX_ENTRY_NAME = 64;
const ENTRY_NAME_CHARACTERS = /^[0-9A-Za-z_.-]+$/;
const HASH_LENGTH = 8;
const DEFAULT_RECONCILE_CONCURRENCY = 8;

/**
 * The entry name of a schedule: `te-<schedule_id>` when that fits Scheduler's rule (1–64 of
 * [0-9A-Za-z-_.]); otherwise the id is cut and sanitized and ends with 8 hex characters of its
 * hash, so different ids never share a name.
 */
export function entryNameFor(scheduleId: string): string {
  const plain = `${ENTRY_NAME_PREFIX}${scheduleId}`;
  if (plain.length <= MAX_ENTRY_NAME && ENTRY_NAME_CHARACTERS.test(scheduleId)) return plain;
  const hash = createHash('sha256').update(scheduleId).digest('hex').slice(0, HASH_LENGTH);
  const budget = MAX_ENTRY_NAME - ENTRY_NAME_PREFIX.length - 1 - HASH_LENGTH;
  return `${ENTRY_NAME_PREFIX}${scheduleId.replace(/[^0-9A-Za-z_.-]/g, '-').slice(0, budget)}-${hash}`;
}

/** The scan workflow input of every delivery (ids only; the slot is filled in by Scheduler). */
export function scanTargetInput(
  schedule: Pick<Schedule, 'tenant_id' | 'account_id' | 'schedule_id'>,
): string {
  return JSON.stringify({
    tenant_id: schedule.tenant_id,
    account_id: schedule.account_id,
    schedule_id: schedule.schedule_id,
    scheduled_time: SCHEDULED_TIME_PLACEHOLDER,
    triggered_by: 'scheduler',
  });
}

export type { ReconcileChange, ReconcileReport } from '../../core/ports/scheduler';

const errorName = awsErrorName;

/**
 * Maps an EventBridge Scheduler failure to a core error naming the operation and the entry; the
 * SDK error is kept as `cause`. Throttling and faults may pass on retry (DependencyUnavailableError).
 */
export function mapSchedulerError(error: unknown, operation: string, entryName: string): Error {
  if (error instanceof DomainError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const name = shape.name ?? 'UnknownError';
  const options = { cause: error };
  if (isTransientAwsError(error)) {
    return new DependencyUnavailableError(
      DEPENDENCY,
      `${operation} of schedule entry ${entryName} failed (${name}); try again later`,
      options,
    );
  }
  if (isRefusedAwsError(error)) {
    return new ConfigurationError(
      `${operation} of schedule entry ${entryName} was refused (${name}): check the role's scheduler permissions and iam:PassRole on the scheduler role`,
      [],
      options,
    );
  }
  switch (name) {
    case 'ResourceNotFoundException':
      return new NotFoundError('schedule entry', entryName, options);
    case 'ServiceQuotaExceededException':
      return new ConfigurationError(
        `${operation} of schedule entry ${entryName} failed: the EventBridge Scheduler quota of schedules is reached`,
        [],
        options,
      );
    case 'ValidationException': {
      const message = (shape.message ?? 'refused by EventBridge Scheduler').slice(0, 300);
      return new ValidationError(`${operation} of schedule entry ${entryName} was refused: ${message}`, [
        { field: 'scheduler_entry', message },
      ]);
    }
  }
  return error instanceof Error
    ? error
    : new Error(`${operation} of schedule entry ${entryName} failed (${name})`, options);
}

/** Runs `work` over the items with at most `limit` in flight. */
async function forEachConcurrently<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    if (failure) break;
    const task = work(item)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}

export class EventBridgeScheduler implements SchedulerPort {
  private readonly client: SchedulerClient;
  private readonly groupName: string;
  private readonly scanStateMachineArn: string;
  private readonly roleArn: string;
  private readonly deadLetterQueueArn: string | undefined;
  private readonly retryPolicy: SchedulerRetryPolicy;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly reconcileConcurrency: number;

  constructor(options: EventBridgeSchedulerOptions) {
    const missing = (['groupName', 'scanStateMachineArn', 'roleArn'] as const).find(
      (field) => !options[field],
    );
    if (missing) {
      throw new ConfigurationError(`the EventBridge Scheduler adapter needs ${missing}`, [
        { field: missing, message: 'is required' },
      ]);
    }
    const retry = options.retryPolicy ?? DEFAULT_SCHEDULER_RETRY_POLICY;
    if (
      !Number.isInteger(retry.maximumEventAgeInSeconds) ||
      retry.maximumEventAgeInSeconds < 60 ||
      retry.maximumEventAgeInSeconds > 86_400
    ) {
      throw new ConfigurationError('retryPolicy.maximumEventAgeInSeconds must be 60 to 86400', [
        { field: 'retryPolicy.maximumEventAgeInSeconds', message: 'must be a whole number from 60 to 86400' },
      ]);
    }
    if (
      !Number.isInteger(retry.maximumRetryAttempts) ||
      retry.maximumRetryAttempts < 0 ||
      retry.maximumRetryAttempts > 185
    ) {
      throw new ConfigurationError('retryPolicy.maximumRetryAttempts must be 0 to 185', [
        { field: 'retryPolicy.maximumRetryAttempts', message: 'must be a whole number from 0 to 185' },
      ]);
    }
    this.client = options.client;
    this.groupName = options.groupName;
    this.scanStateMachineArn = options.scanStateMachineArn;
    this.roleArn = options.roleArn;
    this.deadLetterQueueArn = options.deadLetterQueueArn;
    this.retryPolicy = retry;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.reconcileConcurrency = options.reconcileConcurrency ?? DEFAULT_RECONCILE_CONCURRENCY;
  }

  /**
   * Creates or replaces the schedule's entry: UpdateSchedule, and on ResourceNotFound
   * CreateSchedule with a client token derived from the request (a retried create is idempotent).
   * Paused and disabled schedules get a DISABLED entry. A schedule that will never fire again
   * (an at() or an end_date in the past) gets no entry: an existing one is removed.
   * Throws the ValidationError of a schedule whose timing cannot be read (naming the field).
   */
  async upsert(schedule: Schedule): Promise<void> {
    const desired = this.desiredEntry(schedule);
    if (!desired) {
      await this.remove(schedule.schedule_id);
      return;
    }
    await this.write(desired, 'update-first');
  }

  /** Deletes the schedule's entry; a missing entry is not an error. */
  async remove(scheduleId: string): Promise<void> {
    await this.deleteEntry(entryNameFor(scheduleId));
  }

  /**
   * Compares the entries of the group (those named `te-…`) with the schedules (the table) and
   * repairs drift: creates missing entries, updates different ones (expression, time zone, state,
   * target and its input, window, dates, retry and dead-letter settings) and deletes orphaned
   * ones (no schedule of that id). Entries of schedules that will never fire again are left
   * alone. With `dryRun` nothing is written: the report says what would be done.
   */
  async reconcile(
    schedules: AsyncIterable<Schedule> | Iterable<Schedule>,
    options: { dryRun?: boolean } = {},
  ): Promise<ReconcileReport> {
    const dryRun = options.dryRun ?? false;
    const report: ReconcileReport = {
      created: [],
      updated: [],
      deleted: [],
      unchanged: 0,
      expired: [],
      failed: [],
      dry_run: dryRun,
    };
    const entries = await this.listEntries();
    const expectedNames = new Set<string>();

    await forEachConcurrently(schedules, this.reconcileConcurrency, async (schedule) => {
      const entryName = entryNameFor(schedule.schedule_id);
      expectedNames.add(entryName);
      try {
        const desired = this.desiredEntry(schedule);
        if (!desired) {
          report.expired.push(schedule.schedule_id);
          return;
        }
        if (!entries.has(entryName)) {
          if (!dryRun) await this.write(desired, 'create-first');
          report.created.push({ entry_name: entryName, schedule_id: schedule.schedule_id });
          return;
        }
        const actual = await this.getEntry(entryName);
        const differences = actual ? this.differences(desired, actual) : ['(missing)'];
        if (differences.length === 0) {
          report.unchanged += 1;
          return;
        }
        if (!dryRun) await this.write(desired, actual ? 'update-first' : 'create-first');
        const change = { entry_name: entryName, schedule_id: schedule.schedule_id };
        if (actual) report.updated.push({ ...change, differences });
        else report.created.push(change);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        report.failed.push({
          schedule_id: schedule.schedule_id,
          entry_name: entryName,
          error: error.message,
        });
      }
    });

    const orphans = [...entries.keys()].filter((name) => !expectedNames.has(name));
    await forEachConcurrently(orphans, this.reconcileConcurrency, async (entryName) => {
      const scheduleId = await this.scheduleIdOf(entryName);
      if (!dryRun) await this.deleteEntry(entryName);
      report.deleted.push({ entry_name: entryName, ...(scheduleId ? { schedule_id: scheduleId } : {}) });
    });

    for (const list of [report.created, report.updated, report.deleted]) {
      list.sort((a, b) => a.entry_name.localeCompare(b.entry_name));
    }
    report.expired.sort();
    this.logger.info('schedule entries reconciled', {
      group: this.groupName,
      dry_run: dryRun,
      created: report.created.length,
      updated: report.updated.length,
      deleted: report.deleted.length,
      unchanged: report.unchanged,
      expired: report.expired.length,
      failed: report.failed.length,
    });
    return report;
  }

  /** The entry a schedule should have now, or undefined when it will never fire again. */
  private desiredEntry(schedule: Schedule): UpdateScheduleInput | undefined {
    const timing: ScheduleTiming = scheduleTimingOf(schedule);
    const now = this.clock();
    if (fireTimesAfter(timing, now, 1).length === 0) return undefined;
    const oneTime = timing.expression.kind === 'at';
    const window = schedule.flexible_window_minutes ?? 0;
    return {
      Name: entryNameFor(schedule.schedule_id),
      GroupName: this.groupName,
      Description: `threat-engine scan schedule ${schedule.schedule_id}`.slice(0, 512),
      ScheduleExpression: timing.expression.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      // Scheduler refuses a start date in the past; start and end dates do not apply to at().
      ...(!oneTime && timing.startDate && timing.startDate.getTime() > now.getTime()
        ? { StartDate: timing.startDate }
        : {}),
      ...(!oneTime && timing.endDate ? { EndDate: timing.endDate } : {}),
      State: isScheduleActive(schedule) ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: window > 0 ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: window } : { Mode: 'OFF' },
      ActionAfterCompletion: oneTime ? 'DELETE' : 'NONE',
      Target: {
        Arn: this.scanStateMachineArn,
        RoleArn: this.roleArn,
        Input: scanTargetInput(schedule),
        RetryPolicy: {
          MaximumEventAgeInSeconds: this.retryPolicy.maximumEventAgeInSeconds,
          MaximumRetryAttempts: this.retryPolicy.maximumRetryAttempts,
        },
        ...(this.deadLetterQueueArn ? { DeadLetterConfig: { Arn: this.deadLetterQueueArn } } : {}),
      },
    };
  }

  /** What differs between the entry a schedule should have and the one that exists. */
  private differences(desired: UpdateScheduleInput, actual: GetScheduleOutput): string[] {
    const now = this.clock().getTime();
    const time = (date: Date | undefined) => date?.getTime();
    const differences: string[] = [];
    const check = (field: string, same: boolean) => {
      if (!same) differences.push(field);
    };
    check('ScheduleExpression', desired.ScheduleExpression === actual.ScheduleExpression);
    check(
      'ScheduleExpressionTimezone',
      (desired.ScheduleExpressionTimezone ?? 'UTC') === (actual.ScheduleExpressionTimezone ?? 'UTC'),
    );
    check('State', (desired.State ?? 'ENABLED') === (actual.State ?? 'ENABLED'));
    check(
      'ActionAfterCompletion',
      (desired.ActionAfterCompletion ?? 'NONE') === (actual.ActionAfterCompletion ?? 'NONE'),
    );
    check(
      'FlexibleTimeWindow',
      desired.FlexibleTimeWindow?.Mode === actual.FlexibleTimeWindow?.Mode &&
        (desired.FlexibleTimeWindow?.MaximumWindowInMinutes ?? 0) ===
          (actual.FlexibleTimeWindow?.MaximumWindowInMinutes ?? 0),
    );
    // A start date already passed is not sent again; a future one must match.
    const actualStart = time(actual.StartDate);
    check(
      'StartDate',
      desired.StartDate
        ? time(desired.StartDate) === actualStart
        : actualStart === undefined || actualStart <= now,
    );
    check('EndDate', time(desired.EndDate) === time(actual.EndDate));
    check('Target.Arn', desired.Target?.Arn === actual.Target?.Arn);
    check('Target.RoleArn', desired.Target?.RoleArn === actual.Target?.RoleArn);
    check('Target.Input', sameJson(desired.Target?.Input, actual.Target?.Input));
    check(
      'Target.RetryPolicy',
      desired.Target?.RetryPolicy?.MaximumEventAgeInSeconds ===
        actual.Target?.RetryPolicy?.MaximumEventAgeInSeconds &&
        desired.Target?.RetryPolicy?.MaximumRetryAttempts ===
          actual.Target?.RetryPolicy?.MaximumRetryAttempts,
    );
    check(
      'Target.DeadLetterConfig',
      desired.Target?.DeadLetterConfig?.Arn === actual.Target?.DeadLetterConfig?.Arn,
    );
    return differences;
  }

  /**
   * Writes an entry. `update-first` (upsert: the entry usually exists) tries UpdateSchedule then
   * CreateSchedule on ResourceNotFound; `create-first` (reconcile of a missing entry) the reverse
   * on ConflictException. CreateSchedule carries a client token derived from the request.
   */
  private async write(request: UpdateScheduleInput, order: 'update-first' | 'create-first'): Promise<void> {
    const name = request.Name ?? '';
    const update = async () => {
      await this.client.send(new UpdateScheduleCommand(request));
    };
    const create = async () => {
      await this.client.send(new CreateScheduleCommand({ ...request, ClientToken: clientTokenOf(request) }));
    };
    if (order === 'update-first') {
      try {
        await update();
        return;
      } catch (error) {
        if (errorName(error) !== 'ResourceNotFoundException')
          throw mapSchedulerError(error, 'UpdateSchedule', name);
      }
    }
    try {
      await create();
      return;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') {
        throw new ConfigurationError(
          `schedule group ${this.groupName} does not exist (CreateSchedule of ${name})`,
          [{ field: 'groupName', message: `schedule group ${this.groupName} does not exist` }],
          { cause: error },
        );
      }
      // Created meanwhile by a concurrent upsert (or it existed, for create-first): update it.
      if (errorName(error) !== 'ConflictException') throw mapSchedulerError(error, 'CreateSchedule', name);
    }
    try {
      await update();
    } catch (error) {
      throw mapSchedulerError(error, 'UpdateSchedule', name);
    }
  }

  private async deleteEntry(entryName: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: entryName, GroupName: this.groupName }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return;
      throw mapSchedulerError(error, 'DeleteSchedule', entryName);
    }
  }

  private async getEntry(entryName: string): Promise<GetScheduleOutput | undefined> {
    try {
      return await this.client.send(new GetScheduleCommand({ Name: entryName, GroupName: this.groupName }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw mapSchedulerError(error, 'GetSchedule', entryName);
    }
  }

  /** Every entry of the group named `te-…` (ListSchedules, page by page). */
  private async listEntries(): Promise<Map<string, ScheduleSummary>> {
    const entries = new Map<string, ScheduleSummary>();
    let nextToken: string | undefined;
    do {
      let page: ListSchedulesCommandOutput;
      try {
        page = await this.client.send(
          new ListSchedulesCommand({
            GroupName: this.groupName,
            NamePrefix: ENTRY_NAME_PREFIX,
            MaxResults: 100,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
      } catch (error) {
        throw mapSchedulerError(error, 'ListSchedules', `${this.groupName}/${ENTRY_NAME_PREFIX}*`);
      }
      for (const summary of page.Schedules ?? []) {
        if (summary.Name) entries.set(summary.Name, summary);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return entries;
  }

  /** The schedule id an orphaned entry stood for: from its input, else from its name. */
  private async scheduleIdOf(entryName: string): Promise<string | undefined> {
    const entry = await this.getEntry(entryName).catch(() => undefined);
    try {
      const input = JSON.parse(entry?.Target?.Input ?? '{}') as { schedule_id?: unknown };
      if (typeof input.schedule_id === 'string') return input.schedule_id;
    } catch {
      // Not our JSON: fall back to the name.
    }
    const fromName = entryName.slice(ENTRY_NAME_PREFIX.length);
    return fromName.length > 0 ? fromName : undefined;
  }
}

function sameJson(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  try {
    return sameExecutionInput(JSON.parse(a), JSON.parse(b));
  } catch {
    return false;
  }
}

/** A create's idempotency token (64 hex characters): the same request always gets the same token. */
function clientTokenOf(request: UpdateScheduleInput): string {
  // Dates serialize as ISO strings; the key order is the one desiredEntry builds, always the same.
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/** The EventBridge Scheduler adapter, for the tasks that manage schedules (the CDK app sets its variables). */
export function awsScheduler(config: Config): EventBridgeScheduler {
  const { SCAN_STATE_MACHINE_ARN, SCHEDULER_ROLE_ARN } = config;
  if (!SCAN_STATE_MACHINE_ARN || !SCHEDULER_ROLE_ARN) {
    throw new ConfigurationError(
      'SCAN_STATE_MACHINE_ARN and SCHEDULER_ROLE_ARN must be set to manage schedules',
      [
        {
          field: SCAN_STATE_MACHINE_ARN ? 'SCHEDULER_ROLE_ARN' : 'SCAN_STATE_MACHINE_ARN',
          message: 'expected an ARN',
        },
      ],
    );
  }
  return new EventBridgeScheduler({
    client: instrumented(new SchedulerClient({ region: config.AWS_REGION })),
    groupName: config.SCHEDULE_GROUP_NAME,
    scanStateMachineArn: SCAN_STATE_MACHINE_ARN,
    roleArn: SCHEDULER_ROLE_ARN,
    ...(config.SCHEDULER_DLQ_ARN ? { deadLetterQueueArn: config.SCHEDULER_DLQ_ARN } : {}),
  });
}
