import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { IdSchema, ProviderTypeSchema, TimestampSchema, toIsoUtc } from '../../../schemas/common';
import {
  EnabledFlagSchema,
  NotificationChannelsSchema,
  OverlapPolicySchema,
  type Schedule,
  ScheduleSchema,
  type ScheduleStatus,
  ScheduleStatusSchema,
  ScheduleTypeSchema,
} from '../../../schemas/schedule';
import { INDEX, TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { newId } from '../ids';
import { type Condition, DynamoDbTable, type Item, type UpdateParts } from './dynamodb-table';
import type { Page, PageRequest } from './pagination';
import { parseInput, parseStored, StoredItemError } from './stored-item';

export interface ScheduleRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

const {
  schedule_id: _scheduleId,
  status: _status,
  enabled: _enabled,
  created_at: _createdAt,
  updated_at: _updatedAt,
  ...storedFields
} = ScheduleSchema.shape;

/**
 * What creates a schedule: the stored fields (strict: unknown fields are refused), with the id,
 * status (default active), enabled flag (default: 'true' exactly when active) and creation time
 * optional. Counters start at 0.
 */
export const NewScheduleSchema = z.strictObject({
  ...storedFields,
  schedule_id: z.optional(IdSchema),
  status: z._default(ScheduleStatusSchema, 'active'),
  enabled: z.optional(EnabledFlagSchema),
  created_at: z.optional(TimestampSchema),
});
export type NewSchedule = z.input<typeof NewScheduleSchema>;

const StringList = z.array(z.string().check(z.maxLength(256))).check(z.maxLength(200));

/** The plain fields an update may change; `null` removes an optional one (never a null key written). */
export const ScheduleUpdateSchema = z
  .strictObject({
    name: z.optional(z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(256))),
    description: z.nullish(z.string().check(z.maxLength(1024))),
    schedule_type: z.optional(ScheduleTypeSchema),
    cron_expression: z.nullish(z.string().check(z.maxLength(256))),
    interval_seconds: z.nullish(z.number().check(z.int(), z.positive())),
    schedule_expression: z.nullish(z.string().check(z.maxLength(256))),
    timezone: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    regions: z.optional(StringList),
    services: z.optional(StringList),
    exclude_services: z.optional(StringList),
    notify_on_success: z.optional(z.boolean()),
    notify_on_failure: z.optional(z.boolean()),
    notification_channels: z.nullish(NotificationChannelsSchema),
    next_run_at: z.nullish(TimestampSchema),
    start_date: z.nullish(TimestampSchema),
    end_date: z.nullish(TimestampSchema),
    flexible_window_minutes: z.nullish(z.number().check(z.int(), z.gte(0), z.lte(1440))),
    overlap_policy: z.nullish(OverlapPolicySchema),
    auto_pause_after_failures: z.nullish(z.number().check(z.int(), z.gte(0))),
    scheduler_entry_name: z.nullish(z.string().check(z.maxLength(512))),
    provider_type: z.nullish(ProviderTypeSchema),
  })
  .check(
    z.refine((value) => Object.values(value).some((field) => field !== undefined), {
      message: 'at least one field must be given',
    }),
  );
export type ScheduleUpdate = z.input<typeof ScheduleUpdateSchema>;

/** A listing's filters: one status; `failing`: only schedules whose latest run failed (the legacy `status=error`). */
export interface ScheduleListFilter {
  status?: ScheduleStatus | undefined;
  failing?: boolean | undefined;
  page?: PageRequest | undefined;
}

export type RunOutcome = 'success' | 'failure' | 'skipped' | 'missed';

/** The counters after a recorded run. */
export interface ScheduleCounters {
  run_count: number;
  success_count: number;
  failure_count: number;
  skipped_count: number;
  missed_count: number;
  consecutive_failures: number;
}

export interface StatusChange {
  paused_by?: string | undefined;
  pause_note?: string | undefined;
  /** Resuming records who and why, as pausing does. */
  resumed_by?: string | undefined;
  resume_note?: string | undefined;
}

const EXISTS: Condition = { expression: 'attribute_exists(#id)', names: { '#id': 'schedule_id' } };
const PAUSE_FIELDS = ['paused_at', 'paused_by', 'pause_note'] as const;
const RESUME_FIELDS = ['resumed_at', 'resumed_by', 'resume_note'] as const;
const NoteSchema = z.object({
  by: z.optional(z.string().check(z.maxLength(256))),
  note: z.optional(z.string().check(z.maxLength(1024))),
});

export class ScheduleRepository {
  private readonly table: DynamoDbTable;
  private readonly clock: Clock;

  constructor(options: ScheduleRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.schedules);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Writes a new schedule (`next_run_at` only when it has one: a null would break next-run-index).
   * ConflictError on `schedule_id` when it exists.
   */
  async create(input: NewSchedule): Promise<Schedule> {
    const data = parseInput(NewScheduleSchema, input, 'schedule');
    const now = toIsoUtc(this.clock());
    const item = this.table.writable({
      ...data,
      schedule_id: data.schedule_id ?? newId(),
      enabled: data.enabled ?? (data.status === 'active' ? 'true' : 'false'),
      created_at: data.created_at ?? now,
      updated_at: now,
    });
    const written = await this.table.put(item, {
      expression: 'attribute_not_exists(#id)',
      names: { '#id': 'schedule_id' },
    });
    if (!written)
      throw new ConflictError(`schedule ${String(item.schedule_id)} already exists`, 'schedule_id');
    return this.parse(item);
  }

  async get(scheduleId: string): Promise<Schedule | undefined> {
    const item = await this.table.get({ schedule_id: scheduleId });
    return item ? this.parse(item) : undefined;
  }

  /** A tenant's schedules (tenant-schedules-index), optionally of one status. */
  async listByTenant(tenantId: string, options: ScheduleListFilter = {}): Promise<Page<Schedule>> {
    return this.list(INDEX.tenantSchedules, { tenant_id: tenantId }, options);
  }

  /** An account's schedules (account-schedules-index), optionally of one status. */
  async listByAccount(accountId: string, options: ScheduleListFilter = {}): Promise<Page<Schedule>> {
    return this.list(INDEX.accountSchedules, { account_id: accountId }, options);
  }

  /** Changes plain fields (NotFoundError when there is no schedule). */
  async update(scheduleId: string, fields: ScheduleUpdate): Promise<Schedule> {
    const data = parseInput(ScheduleUpdateSchema, fields, 'schedule');
    return this.apply(scheduleId, { set: { ...data, updated_at: toIsoUtc(this.clock()) } });
  }

  /**
   * Pause, resume or disable. Pausing records who and why; resuming clears that and the run of
   * consecutive failures (an auto-paused schedule starts afresh). `enabled` follows the status.
   */
  async setStatus(scheduleId: string, status: ScheduleStatus, change: StatusChange = {}): Promise<Schedule> {
    const value = parseInput(ScheduleStatusSchema, status, 'schedule', 'status');
    const now = toIsoUtc(this.clock());
    let parts: UpdateParts;
    if (value === 'paused') {
      const pause = parseInput(NoteSchema, { by: change.paused_by, note: change.pause_note }, 'schedule');
      parts = {
        set: {
          status: value,
          enabled: 'false',
          paused_at: now,
          updated_at: now,
          paused_by: pause.by ?? null,
          pause_note: pause.note ?? null,
        },
        remove: RESUME_FIELDS,
      };
    } else if (value === 'active') {
      const resume = parseInput(NoteSchema, { by: change.resumed_by, note: change.resume_note }, 'schedule');
      parts = {
        set: {
          status: value,
          enabled: 'true',
          consecutive_failures: 0,
          updated_at: now,
          resumed_at: now,
          resumed_by: resume.by ?? null,
          resume_note: resume.note ?? null,
        },
        remove: PAUSE_FIELDS,
      };
    } else {
      parts = {
        set: { status: value, enabled: 'false', updated_at: now },
        remove: [...PAUSE_FIELDS, ...RESUME_FIELDS],
      };
    }
    return this.apply(scheduleId, parts);
  }

  /** Deletes the schedule and returns it; NotFoundError when there is none. */
  async delete(scheduleId: string): Promise<Schedule> {
    const deleted = await this.table.delete({ schedule_id: scheduleId }, EXISTS);
    if (!deleted) throw new NotFoundError('schedule', scheduleId);
    return this.parse(deleted);
  }

  /**
   * Counts a run with atomic ADDs (never read-modify-write): success and failure add to
   * run_count and their own counter; failures add to consecutive_failures and a success sets it
   * to 0; skipped and missed runs add to their own counter only. Returns every counter after
   * the update (read from the same write, so concurrent callers each see a consistent set).
   */
  async recordRunOutcome(
    scheduleId: string,
    outcome: RunOutcome,
    options: {
      last_run_at?: string | undefined;
      /** How many runs this outcome stands for: only 'skipped' and 'missed' may count more than 1. */
      count?: number | undefined;
    } = {},
  ): Promise<ScheduleCounters & { schedule: Schedule }> {
    const count = options.count ?? 1;
    if (
      !Number.isInteger(count) ||
      count < 1 ||
      (count > 1 && outcome !== 'skipped' && outcome !== 'missed')
    ) {
      const message = 'must be a whole number of at least 1 (more than 1 only for skipped and missed runs)';
      throw new ValidationError(`invalid schedule: count ${message}`, [{ field: 'count', message }]);
    }
    const lastRunAt =
      options.last_run_at === undefined
        ? undefined
        : parseInput(TimestampSchema, options.last_run_at, 'schedule', 'last_run_at');
    const now = toIsoUtc(this.clock());
    const set: Record<string, unknown> = { updated_at: now, last_run_at: lastRunAt };
    const add: Record<string, number> = {};
    switch (outcome) {
      case 'success':
        Object.assign(add, { run_count: 1, success_count: 1 });
        set.consecutive_failures = 0;
        break;
      case 'failure':
        Object.assign(add, { run_count: 1, failure_count: 1, consecutive_failures: 1 });
        break;
      case 'skipped':
        add.skipped_count = count;
        break;
      case 'missed':
        add.missed_count = count;
        break;
      default:
        throw new Error(`unknown run outcome ${String(outcome satisfies never)}`);
    }
    const schedule = await this.apply(scheduleId, { set, add });
    return {
      run_count: schedule.run_count,
      success_count: schedule.success_count,
      failure_count: schedule.failure_count,
      skipped_count: schedule.skipped_count,
      missed_count: schedule.missed_count,
      consecutive_failures: schedule.consecutive_failures,
      // The item as this write left it: callers deciding on it need not read it again.
      schedule,
    };
  }

  /**
   * Every schedule of every tenant, page by page through a Scan of the table. For the START-UP of
   * the local scheduler only (it then keeps its entries in memory, maintained by upsert/remove):
   * never on a request path and never on a timer. Items that do not match the schedule schema are
   * handed to `onInvalid` and skipped, so one bad legacy row cannot stop the scheduler.
   */
  async *listAllForStartup(
    options: { pageSize?: number; onInvalid?: (error: StoredItemError) => void } = {},
  ): AsyncGenerator<Schedule> {
    let cursor: string | undefined;
    do {
      const page = await this.table.scanPage({ limit: options.pageSize ?? 100, cursor }, (item) => item);
      for (const item of page.items) {
        let schedule: Schedule;
        try {
          schedule = this.parse(item);
        } catch (error) {
          if (!(error instanceof StoredItemError)) throw error;
          options.onInvalid?.(error);
          continue;
        }
        yield schedule;
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  private async list(
    indexName: string,
    key: Record<string, string>,
    options: ScheduleListFilter,
  ): Promise<Page<Schedule>> {
    const status =
      options.status === undefined
        ? undefined
        : parseInput(ScheduleStatusSchema, options.status, 'schedule', 'status');
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (status !== undefined) {
      conditions.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = status;
    }
    if (options.failing) {
      conditions.push('#failures > :none');
      names['#failures'] = 'consecutive_failures';
      values[':none'] = 0;
    }
    return this.table.queryPage(
      {
        indexName,
        key,
        ...(conditions.length === 0
          ? {}
          : { filter: { expression: conditions.join(' AND '), names, values } }),
      },
      options.page,
      (item) => this.parse(item),
    );
  }

  private async apply(scheduleId: string, parts: UpdateParts): Promise<Schedule> {
    const updated = await this.table.update({ schedule_id: scheduleId }, parts, EXISTS);
    if (!updated) throw new NotFoundError('schedule', scheduleId);
    return this.parse(updated);
  }

  private parse(item: Item): Schedule {
    return parseStored(ScheduleSchema, item, 'schedule', 'schedule_id');
  }
}
