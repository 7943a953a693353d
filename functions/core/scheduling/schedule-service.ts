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
  ScheduleRepository,
  ScheduleUpdate,
} from '../repositories/schedule-repository';
import { parseInput } from '../repositories/stored-item';
import { recordStartedScan } from '../scans/scan-service';
import {
  type RecordedRunOutcome,
  type RunOutcomeDependencies,
  recordOutcomeAndAutoPause,
  SYSTEM_ACTOR,
} from './run-outcome';
import {
  fireTimesAfter,
  invalid,
  isOneTimeSchedule,
  isScheduleActive,
  resolveTiming,
  type ScheduleTiming,
  scheduleExpressionOf,
  scheduleTimingOf,
  type TimingFields,
} from './schedule-timing';

// The timing and run-outcome halves live in their own files; importers of this module keep working.
export {
  fireTimesAfter,
  isOneTimeSchedule,
  isScheduleActive,
  type RecordedRunOutcome,
  type RunOutcomeDependencies,
  recordOutcomeAndAutoPause,
  type ScheduleTiming,
  SYSTEM_ACTOR,
  scheduleExpressionOf,
  scheduleTimingOf,
};

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
  /** True when this was a retry (same Idempotency-Key) of a trigger that already started the run. */
  already_started: boolean;
  /** When the run was asked for (ISO-8601 UTC). */
  scheduled_time: string;
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
    await this.deps.schedules.setStatus(scheduleId, 'active', { resumed_by: options.by, resume_note: note });
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
   * Starts a scan of the schedule now, through the orchestrator, and answers at once. A manual
   * trigger is its own request: it never shares the identity of a scheduler slot or of an earlier
   * trigger (in the same minute or not), and the overlap policy decides in the claim, as for any
   * run. A retry carrying the same `requestToken` (the API derives it from Idempotency-Key) meets
   * the first one's run. The run's record is written before its id is returned, so it can be
   * followed and cancelled at once.
   */
  async trigger(
    tenantId: string,
    scheduleId: string,
    options: { by?: string | undefined; requestToken?: string | undefined } = {},
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
    const executionId = options.requestToken
      ? deterministicId('scan-trigger', `${scheduleId}|${options.requestToken}`)
      : newId();
    const log = this.deps.logger.child({
      schedule_id: scheduleId,
      tenant_id: tenantId,
      execution_id: executionId,
    });
    if (options.requestToken) {
      const earlier = await this.deps.executions.get(executionId);
      if (earlier?.workflow_execution_name) {
        log.info('schedule trigger repeated', { by: options.by });
        return {
          execution_id: executionId,
          workflow_execution_name: earlier.workflow_execution_name,
          execution_arn: earlier.workflow_execution_arn ?? null,
          already_started: true,
          scheduled_time: earlier.scheduled_time ?? earlier.started_at,
        };
      }
    }
    const now = this.deps.clock();
    const scheduledTime = toIsoUtc(now);
    const name = scanExecutionName({
      accountId: schedule.account_id,
      triggeredBy: 'manual',
      requestedAt: now,
      nonce: executionId.replace(/-/g, '').slice(0, 6),
    });
    const request: ScanRequest = {
      tenant_id: tenantId,
      account_id: schedule.account_id,
      schedule_id: scheduleId,
      scheduled_time: scheduledTime,
      triggered_by: 'manual',
      execution_id: executionId,
    };
    const handle = await this.deps.orchestrator.start({ workflow: 'scan', name, input: { ...request } });
    await recordStartedScan(this.deps.executions, {
      execution_id: executionId,
      request,
      provider_type: account.provider_type,
      workflow_execution_name: handle.name,
      workflow_execution_arn: handle.executionArn,
      started_at: scheduledTime,
    });
    log.info('schedule triggered', { by: options.by, already_started: handle.alreadyStarted });
    return {
      execution_id: executionId,
      workflow_execution_name: handle.name,
      execution_arn: handle.executionArn,
      already_started: handle.alreadyStarted,
      scheduled_time: scheduledTime,
    };
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
