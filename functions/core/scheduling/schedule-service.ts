import type { Account } from '../../../schemas/account';
import { parseTimestamp, toIsoUtc } from '../../../schemas/common';
import type { Execution, ExecutionStatus } from '../../../schemas/execution';
import {
  CreateScheduleInputSchema,
  type CreateScheduleRequest,
  PauseScheduleInputSchema,
  ResumeScheduleInputSchema,
  type Schedule,
  type ScheduleStatus,
  type ScheduleType,
  scheduleTypeOfExpression,
  UpdateScheduleInputSchema,
} from '../../../schemas/schedule';
import type { ScanRequest } from '../../../schemas/workflow-payloads';
import type { Clock } from '../clock';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../errors';
import { scanExecutionName } from '../execution-names';
import { deterministicId, newId } from '../ids';
import type { Logger } from '../logger';
import type { Orchestrator } from '../ports/orchestrator';
import type { SchedulerPort } from '../ports/scheduler';
import type { AccountRepository } from '../repositories/account-repository';
import type { ExecutionRepository } from '../repositories/execution-repository';
import type { Page, PageRequest } from '../repositories/pagination';
import type {
  NewSchedule,
  RunOutcome,
  ScheduleCounters,
  ScheduleRepository,
  ScheduleUpdate,
} from '../repositories/schedule-repository';
import { parseInput } from '../repositories/stored-item';
import { executionIdFor } from '../scans/scan-service';
import {
  nextFireTimes,
  type ParsedScheduleExpression,
  parseScheduleExpression,
  toScheduleExpression,
  wallTimeToInstant,
} from './schedule-expression';

/**
 * Schedules: the API's operations (create, read, list, update, pause, resume, delete, trigger)
 * and what a finished run does to its schedule (counters, auto-pause, one-time completion).
 * Every method takes the caller's tenant and answers NotFoundError for another tenant's ids.
 * The schedules table is the source of truth; the scheduler port holds entries derived from it
 * (an EventBridge Scheduler entry on AWS, an in-process timer locally) and is told of every change.
 */

export interface ScheduleSettings {
  /** Consecutive failed runs after which a schedule pauses itself, unless it sets its own number (0 = never). */
  autoPauseAfterFailuresDefault: number;
  /** How many upcoming fire times `get` shows (default 5). */
  nextFireTimesCount?: number;
  /** How many recent runs `get` shows (default 10). */
  recentRunsCount?: number;
}

export const DEFAULT_SCHEDULE_SETTINGS: Required<ScheduleSettings> = {
  autoPauseAfterFailuresDefault: 5,
  nextFireTimesCount: 5,
  recentRunsCount: 10,
};

/** Who pauses a schedule by itself (auto-pause after failures). */
export const SYSTEM_ACTOR = 'system';

export interface ScheduleServiceDependencies {
  schedules: ScheduleRepository;
  accounts: AccountRepository;
  executions: ExecutionRepository;
  scheduler: SchedulerPort;
  orchestrator: Orchestrator;
  clock: Clock;
  logger: Logger;
  settings: ScheduleSettings;
}

/** The counters of a schedule, as the API shows them. */
export interface ScheduleRunCounters {
  runs: number;
  successes: number;
  failures: number;
  /** Runs skipped by the overlap policy (a scan of the account was still running). */
  skipped: number;
  /** Slots that passed while the scheduler was stopped and were not run. */
  missed: number;
  consecutive_failures: number;
}

/** One schedule with what GET /schedules/{id} adds: upcoming fire times, recent runs, counters. */
export type ScheduleDetails = Schedule & {
  /** ISO-8601 UTC; empty when the schedule is not active or will not fire again. */
  next_fire_times: string[];
  /** The newest runs first. */
  recent_runs: Execution[];
  counters: ScheduleRunCounters;
  /** Why fire times could not be computed (a stored legacy expression or zone this service refuses). */
  timing_error?: string;
};

export interface ScheduleListOptions {
  account_id?: string | undefined;
  status?: ScheduleStatus | undefined;
  /** Only schedules whose latest run failed (the legacy `status=error`). */
  failing?: boolean | undefined;
  page?: PageRequest | undefined;
}

export interface TriggerResult {
  execution_id: string;
  workflow_execution_name: string;
  /** Null only when the slot was started by the scheduler and its record does not carry the ARN yet. */
  execution_arn: string | null;
  /** True when this slot (the current minute) already had a scan: no second scan was started. */
  already_started: boolean;
  /** The slot: now, truncated to the minute (ISO-8601 UTC). */
  scheduled_time: string;
}

export interface RecordedRunOutcome {
  /** Null when the schedule no longer exists (deleted while the run went on). */
  counters: ScheduleCounters | null;
  /** True when this outcome paused the schedule (consecutive failures reached the threshold). */
  auto_paused: boolean;
  /** True when this outcome finished a one-time schedule (it is now disabled, its entry removed). */
  completed_one_time: boolean;
}

// ---------------------------------------------------------------------------------------------
// Timing: shared by the service and both scheduler adapters

/** What decides when a schedule fires. */
export interface ScheduleTiming {
  expression: ParsedScheduleExpression;
  timezone: string;
  /** Inclusive (cron and rate only). */
  startDate?: Date;
  /** Exclusive (cron and rate only). */
  endDate?: Date;
  /** Where a rate counts from: the start date, else the creation time. */
  anchor: Date;
}

type TimingFields = Pick<
  Schedule,
  | 'schedule_type'
  | 'cron_expression'
  | 'interval_seconds'
  | 'schedule_expression'
  | 'next_run_at'
  | 'timezone'
  | 'start_date'
  | 'end_date'
>;

const LEGACY_TIMING_FIELD: Record<ScheduleType, 'cron_expression' | 'interval_seconds' | 'next_run_at'> = {
  cron: 'cron_expression',
  interval: 'interval_seconds',
  one_time: 'next_run_at',
};

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }]);
}

function dateOf(field: string, value: string | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  const date = parseTimestamp(value);
  if (!date) throw invalid(field, 'must be an ISO-8601 timestamp');
  return date;
}

/**
 * The EventBridge Scheduler expression of a schedule: `schedule_expression` when set, else the
 * one its legacy fields map to (cron_expression, interval_seconds, or next_run_at for one_time).
 * Throws a ValidationError naming the field at fault.
 */
export function scheduleExpressionOf(schedule: TimingFields): string {
  return parsedExpressionOf(schedule).expression.expression;
}

/**
 * Parsed expressions by text: a parse builds a croner evaluator (~0.1 ms), and thousands of
 * schedules share a few expressions (presets). Bounded; the parsed values are never mutated.
 */
const parsedExpressions = new Map<string, ParsedScheduleExpression>();
const MAX_PARSED_EXPRESSIONS = 4096;

function parseCached(expression: string): ParsedScheduleExpression {
  let parsed = parsedExpressions.get(expression);
  if (!parsed) {
    parsed = parseScheduleExpression(expression);
    if (parsedExpressions.size >= MAX_PARSED_EXPRESSIONS) parsedExpressions.clear();
    parsedExpressions.set(expression, parsed);
  }
  return parsed;
}

function parsedExpressionOf(schedule: TimingFields): { expression: ParsedScheduleExpression; field: string } {
  if (schedule.schedule_expression) {
    return {
      expression: parseCached(schedule.schedule_expression),
      field: 'schedule_expression',
    };
  }
  const expression = toScheduleExpression({
    schedule_type: schedule.schedule_type,
    cron_expression: schedule.cron_expression ?? null,
    interval_seconds: schedule.interval_seconds ?? null,
    next_run_at: schedule.next_run_at ?? null,
    timezone: schedule.timezone,
  });
  return {
    expression: parseScheduleExpression(expression),
    field: LEGACY_TIMING_FIELD[schedule.schedule_type],
  };
}

/** The timing of a stored schedule (ValidationError naming the field when it cannot fire). */
export function scheduleTimingOf(schedule: TimingFields & Pick<Schedule, 'created_at'>): ScheduleTiming {
  const { expression } = parsedExpressionOf(schedule);
  const startDate = dateOf('start_date', schedule.start_date);
  const endDate = dateOf('end_date', schedule.end_date);
  const anchor = startDate ?? dateOf('created_at', schedule.created_at) ?? new Date(0);
  return {
    expression,
    timezone: schedule.timezone,
    anchor,
    ...(startDate ? { startDate } : {}),
    ...(endDate ? { endDate } : {}),
  };
}

/** The next `count` fire times strictly after `after` (EventBridge Scheduler semantics, DST included). */
export function fireTimesAfter(timing: ScheduleTiming, after: Date, count: number): Date[] {
  return nextFireTimes(timing.expression, {
    timezone: timing.timezone,
    after,
    count,
    anchor: timing.anchor,
    ...(timing.startDate ? { startDate: timing.startDate } : {}),
    ...(timing.endDate ? { endDate: timing.endDate } : {}),
  });
}

/** True when the schedule's entry should fire (status active and the legacy `enabled` flag set). */
export function isScheduleActive(schedule: Pick<Schedule, 'status' | 'enabled'>): boolean {
  return schedule.status === 'active' && schedule.enabled === 'true';
}

/** True for a one-time schedule (at(…), or the legacy one_time type). */
export function isOneTimeSchedule(
  schedule: Pick<Schedule, 'schedule_type' | 'schedule_expression'>,
): boolean {
  return schedule.schedule_expression
    ? scheduleTypeOfExpression(schedule.schedule_expression) === 'one_time'
    : schedule.schedule_type === 'one_time';
}

/**
 * Resolves the timing of a definition about to be written and its next fire time after `now`.
 * Every refusal is a ValidationError naming the field the caller gave.
 */
function resolveTiming(
  fields: TimingFields,
  now: Date,
  createdAt: Date,
): { expression: string; schedule_type: ScheduleType; next: Date } {
  const { expression, field } = parsedExpressionOf(fields);
  const scheduleType = scheduleTypeOfExpression(expression.expression);
  const startDate = dateOf('start_date', fields.start_date);
  const endDate = dateOf('end_date', fields.end_date);
  if (startDate && endDate && endDate.getTime() <= startDate.getTime()) {
    throw invalid('end_date', 'must be after start_date');
  }
  const timing: ScheduleTiming = {
    expression,
    timezone: fields.timezone,
    anchor: startDate ?? createdAt,
    ...(startDate ? { startDate } : {}),
    ...(endDate ? { endDate } : {}),
  };
  const [next] = fireTimesAfter(timing, now, 1);
  if (!next) {
    if (expression.kind === 'at') {
      const instant = wallTimeToInstant(expression.wallTime, fields.timezone);
      throw invalid(
        field,
        instant
          ? `${expression.expression} in ${fields.timezone} is in the past: a one-time schedule must run in the future`
          : `${expression.expression} does not exist in ${fields.timezone} (a daylight-saving gap skips it)`,
      );
    }
    if (endDate && endDate.getTime() <= now.getTime()) {
      throw invalid('end_date', 'is in the past: the schedule would never run');
    }
    throw invalid(
      field,
      `${expression.expression} never fires after now${endDate ? ' and before end_date' : ''}`,
    );
  }
  return { expression: expression.expression, schedule_type: scheduleType, next };
}

function countersOf(schedule: Schedule): ScheduleRunCounters {
  return {
    runs: schedule.run_count,
    successes: schedule.success_count,
    failures: schedule.failure_count,
    skipped: schedule.skipped_count,
    missed: schedule.missed_count,
    consecutive_failures: schedule.consecutive_failures,
  };
}

/** The fields that make two creations of one idempotency key the same request. */
const IDEMPOTENT_FIELDS = [
  'account_id',
  'name',
  'description',
  'schedule_expression',
  'timezone',
  'start_date',
  'end_date',
  'flexible_window_minutes',
  'overlap_policy',
  'regions',
  'services',
  'exclude_services',
  'notify_on_success',
  'notify_on_failure',
  'notification_channels',
  'auto_pause_after_failures',
] as const;

function sameFields(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  fields: readonly string[],
): boolean {
  return fields.every((field) => JSON.stringify(a[field] ?? null) === JSON.stringify(b[field] ?? null));
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The schedule item a parsed create body makes for an account: the expression resolved (from
 * schedule_expression, the preset or the legacy fields) and checked, next_run_at its first fire
 * time after `now`, status active. Throws a ValidationError naming the field at fault. Used by
 * `ScheduleService.create` and meant for the onboarding workflow's first schedule too.
 */
export function newScheduleFor(
  account: Pick<Account, 'account_id' | 'tenant_id' | 'provider_type'>,
  input: CreateScheduleRequest,
  options: { scheduleId: string; now: Date },
): NewSchedule & { schedule_id: string; schedule_expression: string } {
  const timing = resolveTiming(input, options.now, options.now);
  const { tenant_id: _tenant, account_id: _account, ...definition } = input;
  return {
    ...definition,
    schedule_id: options.scheduleId,
    tenant_id: account.tenant_id,
    account_id: account.account_id,
    provider_type: account.provider_type ?? null,
    schedule_type: timing.schedule_type,
    schedule_expression: timing.expression,
    next_run_at: toIsoUtc(timing.next),
    status: 'active',
    enabled: 'true',
    created_at: toIsoUtc(options.now),
  };
}

// ---------------------------------------------------------------------------------------------
// What a finished run does to its schedule (called by the scan workflow's completion steps)

export interface RunOutcomeDependencies {
  schedules: Pick<ScheduleRepository, 'recordRunOutcome' | 'get' | 'setStatus'>;
  scheduler: SchedulerPort;
  clock: Clock;
  logger: Logger;
  settings: Pick<ScheduleSettings, 'autoPauseAfterFailuresDefault'>;
}

/** Whether a schedule has a fire time after `now` (false too when its timing cannot be read). */
function firesAgain(schedule: Schedule, now: Date): boolean {
  try {
    return fireTimesAfter(scheduleTimingOf(schedule), now, 1).length > 0;
  } catch (error) {
    if (error instanceof ValidationError) return false;
    throw error;
  }
}

/**
 * Records the outcome of one run of a schedule (atomic counters), then:
 * - after a failure, pauses the schedule (by 'system', with a note) when its consecutive failures
 *   reach its `auto_pause_after_failures`, or the default when it sets none (0 = never);
 * - for a one-time schedule whose time has passed, any outcome (success, failure, skipped,
 *   missed) ends it: status disabled and its entry removed (on AWS the entry already deleted
 *   itself, ActionAfterCompletion DELETE). This is done here, after the run, and not when the
 *   timer fires, because the scan's claim step skips runs of a schedule that is not active. A
 *   manual trigger before its time leaves it active.
 * Returns the counters and what it did. The scheduler call happens after the table write: if it
 * fails the error is thrown and a retry of the step finds the schedule already paused.
 */
export async function recordOutcomeAndAutoPause(
  deps: RunOutcomeDependencies,
  scheduleId: string,
  outcome: RunOutcome,
  options: { last_run_at?: string | undefined; count?: number | undefined } = {},
): Promise<RecordedRunOutcome> {
  let counters: ScheduleCounters;
  try {
    counters = await deps.schedules.recordRunOutcome(scheduleId, outcome, options);
  } catch (error) {
    // The schedule was deleted while its run went on: there is nothing left to count.
    if (!(error instanceof NotFoundError)) throw error;
    deps.logger.info('run outcome of a deleted schedule not recorded', { schedule_id: scheduleId, outcome });
    return { counters: null, auto_paused: false, completed_one_time: false };
  }
  const result: RecordedRunOutcome = { counters, auto_paused: false, completed_one_time: false };
  const schedule = await deps.schedules.get(scheduleId);
  if (!schedule) return result;
  const log = deps.logger.child({ schedule_id: scheduleId, tenant_id: schedule.tenant_id });

  if (isOneTimeSchedule(schedule) && schedule.status !== 'disabled' && !firesAgain(schedule, deps.clock())) {
    await deps.schedules.setStatus(scheduleId, 'disabled');
    await deps.scheduler.remove(scheduleId);
    log.info('one-time schedule completed', { outcome });
    return { ...result, completed_one_time: true };
  }

  const threshold = schedule.auto_pause_after_failures ?? deps.settings.autoPauseAfterFailuresDefault;
  if (
    outcome === 'failure' &&
    threshold > 0 &&
    counters.consecutive_failures >= threshold &&
    schedule.status === 'active'
  ) {
    const paused = await deps.schedules.setStatus(scheduleId, 'paused', {
      paused_by: SYSTEM_ACTOR,
      pause_note: `paused automatically after ${counters.consecutive_failures} consecutive failed runs`,
    });
    await deps.scheduler.upsert(paused);
    log.warn('schedule paused after consecutive failures', {
      consecutive_failures: counters.consecutive_failures,
      threshold,
    });
    return { ...result, auto_paused: true };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The service

export class ScheduleService {
  private readonly settings: Required<ScheduleSettings>;

  constructor(private readonly deps: ScheduleServiceDependencies) {
    const { settings } = deps;
    this.settings = {
      autoPauseAfterFailuresDefault:
        settings.autoPauseAfterFailuresDefault ?? DEFAULT_SCHEDULE_SETTINGS.autoPauseAfterFailuresDefault,
      nextFireTimesCount: settings.nextFireTimesCount ?? DEFAULT_SCHEDULE_SETTINGS.nextFireTimesCount,
      recentRunsCount: settings.recentRunsCount ?? DEFAULT_SCHEDULE_SETTINGS.recentRunsCount,
    };
  }

  /**
   * Creates a schedule for an active account of the tenant, then its scheduler entry. The
   * expression comes from schedule_expression, the preset, or the legacy fields; next_run_at is
   * its first fire time. With an idempotency key the schedule id derives from (tenant, key): a
   * repeat returns the schedule (and makes sure its entry exists); another body under the same key
   * is a ConflictError on `idempotency_key`. Without a key, a scheduler failure removes the item
   * again (no schedule without an entry) and is thrown.
   */
  async create(
    tenantId: string,
    rawInput: unknown,
    options: { idempotencyKey?: string | undefined; by?: string | undefined } = {},
  ): Promise<Schedule> {
    const input = parseInput(CreateScheduleInputSchema, rawInput, 'schedule');
    if (input.tenant_id !== undefined && input.tenant_id !== tenantId) {
      throw invalid('tenant_id', "must be the caller's tenant (or be left out)");
    }
    if (input.account_id === undefined) throw invalid('account_id', 'is required');
    const { idempotencyKey } = options;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw invalid('idempotency_key', 'must be 1 to 128 characters of A-Z a-z 0-9 _ . : -');
    }

    const account = await this.deps.accounts.get(input.account_id);
    if (!account || account.tenant_id !== tenantId) throw new NotFoundError('account', input.account_id);
    if (account.status !== 'active') {
      throw new ConflictError(
        `account ${account.account_id} is ${account.status}: only an active (onboarded) account can be scheduled`,
        'account_id',
      );
    }

    const candidate = newScheduleFor(account, input, {
      scheduleId: idempotencyKey ? deterministicId('schedule', `${tenantId}|${idempotencyKey}`) : newId(),
      now: this.deps.clock(),
    });

    if (idempotencyKey) {
      const existing = await this.deps.schedules.get(candidate.schedule_id);
      if (existing) return this.repeatCreate(existing, candidate);
    }
    let schedule: Schedule;
    try {
      schedule = await this.deps.schedules.create(candidate);
    } catch (error) {
      // Two requests with one key at once: the loser answers like a repeat.
      if (!(idempotencyKey && error instanceof ConflictError && error.field === 'schedule_id')) throw error;
      const existing = await this.deps.schedules.get(candidate.schedule_id);
      if (!existing) throw error;
      return this.repeatCreate(existing, candidate);
    }

    try {
      await this.deps.scheduler.upsert(schedule);
    } catch (error) {
      if (!idempotencyKey) {
        await this.deps.schedules.delete(schedule.schedule_id).catch((cleanup: unknown) =>
          this.deps.logger.error('could not remove a schedule whose entry failed', {
            schedule_id: schedule.schedule_id,
            error: cleanup,
          }),
        );
      }
      throw error;
    }
    this.deps.logger.info('schedule created', {
      schedule_id: schedule.schedule_id,
      tenant_id: tenantId,
      account_id: account.account_id,
      schedule_expression: schedule.schedule_expression,
      timezone: schedule.timezone,
      by: options.by,
    });
    return schedule;
  }

  /** One schedule with its next fire times, its recent runs and its counters. */
  async get(
    tenantId: string,
    scheduleId: string,
    options: { fireTimes?: number; recentRuns?: number } = {},
  ): Promise<ScheduleDetails> {
    const schedule = await this.require(tenantId, scheduleId);
    const fireTimeCount = options.fireTimes ?? this.settings.nextFireTimesCount;
    const runCount = options.recentRuns ?? this.settings.recentRunsCount;
    let nextTimes: string[] = [];
    let timingError: string | undefined;
    if (isScheduleActive(schedule) && fireTimeCount > 0) {
      try {
        nextTimes = fireTimesAfter(scheduleTimingOf(schedule), this.deps.clock(), fireTimeCount).map(
          toIsoUtc,
        );
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        timingError = error.message;
      }
    }
    const runs =
      runCount > 0
        ? await this.deps.executions.listBySchedule(scheduleId, { page: { limit: Math.min(runCount, 100) } })
        : { items: [] };
    return {
      ...schedule,
      next_run_at: isScheduleActive(schedule) ? (nextTimes[0] ?? null) : schedule.next_run_at,
      next_fire_times: nextTimes,
      recent_runs: runs.items,
      counters: countersOf(schedule),
      ...(timingError ? { timing_error: timingError } : {}),
    };
  }

  /**
   * The tenant's schedules (one account's when `account_id` is given: NotFoundError when that
   * account belongs to another tenant), optionally of one status, one page at a time.
   */
  async list(tenantId: string, options: ScheduleListOptions = {}): Promise<Page<Schedule>> {
    const query = { status: options.status, failing: options.failing, page: options.page };
    let page: Page<Schedule>;
    if (options.account_id !== undefined) {
      const account = await this.deps.accounts.get(options.account_id);
      if (account && account.tenant_id !== tenantId) throw new NotFoundError('account', options.account_id);
      page = await this.deps.schedules.listByAccount(options.account_id, query);
    } else {
      page = await this.deps.schedules.listByTenant(tenantId, query);
    }
    return { ...page, items: page.items.filter((schedule) => schedule.tenant_id === tenantId) };
  }

  /** A schedule's runs, newest first (GET /schedules/{id}/executions). */
  async listRuns(
    tenantId: string,
    scheduleId: string,
    options: { status?: ExecutionStatus | undefined; page?: PageRequest | undefined } = {},
  ): Promise<Page<Execution>> {
    await this.require(tenantId, scheduleId);
    return this.deps.executions.listBySchedule(scheduleId, options);
  }

  /**
   * Changes a schedule and re-upserts its entry. When a timing field changes (expression, preset,
   * legacy fields, time zone, dates) the whole timing is checked again and next_run_at recomputed;
   * a new schedule_expression clears the legacy cron_expression/interval_seconds it replaces.
   */
  async update(
    tenantId: string,
    scheduleId: string,
    rawInput: unknown,
    options: { by?: string | undefined } = {},
  ): Promise<Schedule> {
    const changes = parseInput(UpdateScheduleInputSchema, rawInput, 'schedule');
    const current = await this.require(tenantId, scheduleId);
    const fields: ScheduleUpdate = { ...changes };
    const timingKeys = [
      'schedule_type',
      'cron_expression',
      'interval_seconds',
      'schedule_expression',
      'next_run_at',
      'timezone',
      'start_date',
      'end_date',
    ] as const;
    if (timingKeys.some((key) => changes[key] !== undefined)) {
      const legacyGiven =
        changes.schedule_type !== undefined ||
        changes.cron_expression !== undefined ||
        changes.interval_seconds !== undefined;
      const merged: TimingFields = {
        schedule_type: changes.schedule_type ?? current.schedule_type,
        cron_expression:
          changes.cron_expression === undefined ? current.cron_expression : changes.cron_expression,
        interval_seconds:
          changes.interval_seconds === undefined ? current.interval_seconds : changes.interval_seconds,
        // Legacy fields given alone replace the expression; a new expression replaces them.
        schedule_expression:
          changes.schedule_expression !== undefined
            ? changes.schedule_expression
            : legacyGiven
              ? null
              : current.schedule_expression,
        next_run_at: changes.next_run_at === undefined ? current.next_run_at : changes.next_run_at,
        timezone: changes.timezone ?? current.timezone,
        start_date: changes.start_date === undefined ? current.start_date : changes.start_date,
        end_date: changes.end_date === undefined ? current.end_date : changes.end_date,
      };
      if (changes.schedule_expression) {
        const type = scheduleTypeOfExpression(changes.schedule_expression);
        merged.schedule_type = type;
        if (changes.cron_expression === undefined) fields.cron_expression = null;
        if (changes.interval_seconds === undefined) fields.interval_seconds = null;
      }
      const createdAt = parseTimestamp(current.created_at) ?? this.deps.clock();
      const timing = resolveTiming(merged, this.deps.clock(), createdAt);
      fields.schedule_expression = timing.expression;
      fields.schedule_type = timing.schedule_type;
      fields.next_run_at = toIsoUtc(timing.next);
    }
    const updated = await this.deps.schedules.update(scheduleId, fields);
    await this.deps.scheduler.upsert(updated);
    this.deps.logger.info('schedule updated', {
      schedule_id: scheduleId,
      tenant_id: tenantId,
      fields: Object.keys(changes),
      by: options.by,
    });
    return updated;
  }

  /**
   * Pauses an active schedule (its entry is disabled), recording who and why. Pausing a paused
   * schedule returns it unchanged; a disabled one cannot be paused (InvalidTransitionError).
   */
  async pause(
    tenantId: string,
    scheduleId: string,
    options: { note?: string | undefined; by?: string | undefined } = {},
  ): Promise<Schedule> {
    const { note } = parseInput(PauseScheduleInputSchema, { note: options.note }, 'schedule');
    const current = await this.require(tenantId, scheduleId);
    if (current.status === 'paused') return current;
    if (current.status !== 'active') {
      throw new InvalidTransitionError('schedule', scheduleId, 'paused', ['active']);
    }
    const paused = await this.deps.schedules.setStatus(scheduleId, 'paused', {
      paused_by: options.by,
      pause_note: note,
    });
    await this.deps.scheduler.upsert(paused);
    this.deps.logger.info('schedule paused', {
      schedule_id: scheduleId,
      tenant_id: tenantId,
      by: options.by,
    });
    return paused;
  }

  /** Pauses every active schedule of a tenant (a disabled tenant's scans stop); returns their ids. */
  async pauseAllOfTenant(
    tenantId: string,
    options: { note?: string | undefined; by?: string | undefined } = {},
  ): Promise<string[]> {
    const paused: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.schedules.listByTenant(tenantId, {
        status: 'active',
        page: { limit: 100, ...(cursor ? { cursor } : {}) },
      });
      for (const schedule of page.items) {
        await this.pause(tenantId, schedule.schedule_id, options);
        paused.push(schedule.schedule_id);
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return paused;
  }

  /**
   * Resumes a paused (or disabled) schedule: active again, consecutive failures cleared, entry
   * enabled, next_run_at from now (slots that passed while paused are not run). A schedule that
   * would never fire again (a past at(), a past end_date) is a ConflictError on `schedule_expression`.
   */
  async resume(
    tenantId: string,
    scheduleId: string,
    options: { note?: string | undefined; by?: string | undefined } = {},
  ): Promise<Schedule> {
    const { note } = parseInput(ResumeScheduleInputSchema, { note: options.note }, 'schedule');
    const current = await this.require(tenantId, scheduleId);
    if (current.status === 'active') return current;
    let next: Date | undefined;
    try {
      [next] = fireTimesAfter(scheduleTimingOf(current), this.deps.clock(), 1);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new ConflictError(
        `schedule ${scheduleId} cannot resume: ${error.message}`,
        'schedule_expression',
        {
          cause: error,
        },
      );
    }
    if (!next) {
      throw new ConflictError(
        `schedule ${scheduleId} cannot resume: it would never fire again (its time or end_date has passed)`,
        'schedule_expression',
      );
    }
    await this.deps.schedules.setStatus(scheduleId, 'active');
    const resumed = await this.deps.schedules.update(scheduleId, { next_run_at: toIsoUtc(next) });
    await this.deps.scheduler.upsert(resumed);
    this.deps.logger.info('schedule resumed', {
      schedule_id: scheduleId,
      tenant_id: tenantId,
      by: options.by,
      note,
    });
    return resumed;
  }

  /** Removes the scheduler entry, then the schedule (its executions stay, as history). */
  async delete(
    tenantId: string,
    scheduleId: string,
    options: { by?: string | undefined } = {},
  ): Promise<Schedule> {
    await this.require(tenantId, scheduleId);
    await this.deps.scheduler.remove(scheduleId);
    const deleted = await this.deps.schedules.delete(scheduleId);
    this.deps.logger.info('schedule deleted', {
      schedule_id: scheduleId,
      tenant_id: tenantId,
      by: options.by,
    });
    return deleted;
  }

  /**
   * Starts a scan of the schedule now, through the orchestrator, and answers at once. The slot is
   * now truncated to the minute: a trigger racing the timer (or a second click) in the same
   * minute meets the same execution name and record, so there is one scan.
   */
  async trigger(
    tenantId: string,
    scheduleId: string,
    options: { by?: string | undefined } = {},
  ): Promise<TriggerResult> {
    const schedule = await this.require(tenantId, scheduleId);
    if (!isScheduleActive(schedule)) {
      throw new ConflictError(
        `schedule ${scheduleId} is ${schedule.status}: resume it before triggering a run`,
        'status',
      );
    }
    const account = await this.deps.accounts.get(schedule.account_id);
    if (!account || account.tenant_id !== tenantId || account.status !== 'active') {
      throw new ConflictError(
        `account ${schedule.account_id} of schedule ${scheduleId} is ${account?.status ?? 'gone'}: only an active account can be scanned`,
        'account_id',
      );
    }
    const slot = new Date(Math.floor(this.deps.clock().getTime() / 60_000) * 60_000);
    const scheduledTime = toIsoUtc(slot);
    const name = scanExecutionName({
      scheduleId,
      accountId: schedule.account_id,
      scheduledTime: slot,
      triggeredBy: 'manual',
    });
    const request: ScanRequest = {
      tenant_id: tenantId,
      account_id: schedule.account_id,
      schedule_id: scheduleId,
      scheduled_time: scheduledTime,
      triggered_by: 'manual',
    };
    const executionId = executionIdFor(request, name);
    const log = this.deps.logger.child({
      schedule_id: scheduleId,
      tenant_id: tenantId,
      execution_id: executionId,
    });
    try {
      const handle = await this.deps.orchestrator.start({ workflow: 'scan', name, input: { ...request } });
      log.info('schedule triggered', { by: options.by, already_started: handle.alreadyStarted });
      return {
        execution_id: executionId,
        workflow_execution_name: handle.name,
        execution_arn: handle.executionArn,
        already_started: handle.alreadyStarted,
        scheduled_time: scheduledTime,
      };
    } catch (error) {
      // The scheduler started this very slot under the same name (with triggered_by 'scheduler').
      if (!(error instanceof ConflictError && error.field === 'name')) throw error;
      const existing = await this.deps.executions.get(executionId);
      log.info('schedule triggered while its slot was already running', { by: options.by });
      return {
        execution_id: executionId,
        workflow_execution_name: existing?.workflow_execution_name ?? name,
        execution_arn: existing?.workflow_execution_arn ?? null,
        already_started: true,
        scheduled_time: scheduledTime,
      };
    }
  }

  /** See the standalone {@link recordOutcomeAndAutoPause}. */
  async recordOutcomeAndAutoPause(
    scheduleId: string,
    outcome: RunOutcome,
    options: { last_run_at?: string | undefined; count?: number | undefined } = {},
  ): Promise<RecordedRunOutcome> {
    return recordOutcomeAndAutoPause({ ...this.deps, settings: this.settings }, scheduleId, outcome, options);
  }

  private async repeatCreate(existing: Schedule, candidate: NewSchedule): Promise<Schedule> {
    if (
      existing.tenant_id !== candidate.tenant_id ||
      !sameFields(existing, candidate as Record<string, unknown>, IDEMPOTENT_FIELDS)
    ) {
      throw new ConflictError(
        'idempotency_key was already used to create a different schedule',
        'idempotency_key',
      );
    }
    // A repeat may follow an attempt that wrote the item but not the entry: make sure it exists.
    await this.deps.scheduler.upsert(existing);
    return existing;
  }

  private async require(tenantId: string, scheduleId: string): Promise<Schedule> {
    const schedule = await this.deps.schedules.get(scheduleId);
    if (!schedule || schedule.tenant_id !== tenantId) throw new NotFoundError('schedule', scheduleId);
    return schedule;
  }
}
