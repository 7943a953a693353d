import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { IdSchema, TimestampSchema, toIsoUtc } from '../../../schemas/common';
import {
  type Execution,
  ExecutionSchema,
  type ExecutionStatus,
  ExecutionStatusSchema,
  TERMINAL_EXECUTION_STATUSES,
} from '../../../schemas/execution';
import { INDEX, TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { InvalidTransitionError, NotFoundError } from '../errors';
import { newId } from '../ids';
import { type Condition, DynamoDbTable, type Item } from './dynamodb-table';
import type { Page, PageRequest } from './pagination';
import { parseInput, parseStored } from './stored-item';

export interface ExecutionRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

const {
  execution_id: _executionId,
  started_at: _startedAt,
  status: _status,
  updated_at: _updatedAt,
  ...storedFields
} = ExecutionSchema.shape;

/** What creates an execution record (strict: unknown fields are refused). Defaults: running, now. */
export const NewExecutionSchema = z.strictObject({
  ...storedFields,
  execution_id: z.optional(IdSchema),
  started_at: z.optional(TimestampSchema),
  status: z._default(ExecutionStatusSchema, 'running'),
});
export type NewExecution = z.input<typeof NewExecutionSchema>;

export type TerminalExecutionStatus = Exclude<ExecutionStatus, 'running'>;
const TerminalStatusSchema = z.enum(
  TERMINAL_EXECUTION_STATUSES as [TerminalExecutionStatus, ...TerminalExecutionStatus[]],
);

/** What a finished execution records besides its status. */
export const FinishFieldsSchema = z.strictObject({
  completed_at: z.optional(TimestampSchema),
  scan_id: z.nullish(z.string().check(z.maxLength(256))),
  engine_scan_id: z.nullish(z.string().check(z.maxLength(256))),
  total_checks: z.nullish(z.number().check(z.int(), z.nonnegative())),
  passed_checks: z.nullish(z.number().check(z.int(), z.nonnegative())),
  failed_checks: z.nullish(z.number().check(z.int(), z.nonnegative())),
  error_code: z.nullish(z.string().check(z.maxLength(128))),
  error_message: z.nullish(z.string()),
  current_step: z.nullish(z.string().check(z.maxLength(128))),
  progress_percent: z.nullish(z.number().check(z.gte(0), z.lte(100))),
});
export type FinishFields = z.input<typeof FinishFieldsSchema>;

export const ProgressSchema = z.strictObject({
  current_step: z.string().check(z.minLength(1), z.maxLength(128)),
  progress_percent: z.number().check(z.gte(0), z.lte(100)),
  engine_scan_id: z.optional(z.string().check(z.maxLength(256))),
});
export type Progress = z.input<typeof ProgressSchema>;

export interface CreatedExecution {
  /** False when the id already existed: `execution` is then the record found (a duplicate claim). */
  created: boolean;
  execution: Execution;
}

const MAX_ERROR_MESSAGE = 1000;
const RUNNING = {
  expression: 'attribute_exists(#id) AND #status = :running',
  names: { '#id': 'execution_id', '#status': 'status' },
  values: { ':running': 'running' },
};

export class ExecutionRepository {
  private readonly table: DynamoDbTable;
  private readonly clock: Clock;

  constructor(options: ExecutionRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.executions);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Creates the record unless its id exists (attribute_not_exists): a deterministic id per
   * schedule slot makes this the slot claim, and a duplicate shows as `created: false`.
   */
  async create(input: NewExecution): Promise<CreatedExecution> {
    const data = parseInput(NewExecutionSchema, input, 'execution');
    const now = toIsoUtc(this.clock());
    const item = this.table.writable({
      ...data,
      execution_id: data.execution_id ?? newId(),
      started_at: data.started_at ?? now,
      error_message: data.error_message?.slice(0, MAX_ERROR_MESSAGE),
      updated_at: now,
    });
    const written = await this.table.put(item, {
      expression: 'attribute_not_exists(#id)',
      names: { '#id': 'execution_id' },
    });
    if (written) return { created: true, execution: this.parse(item) };
    const existing = await this.get(String(item.execution_id));
    if (!existing) return this.create(input); // Deleted in between (never in practice): claim again.
    return { created: false, execution: existing };
  }

  async get(executionId: string): Promise<Execution | undefined> {
    const item = await this.table.get({ execution_id: executionId });
    return item ? this.parse(item) : undefined;
  }

  /** A schedule's executions, newest first (schedule-executions-index). */
  async listBySchedule(
    scheduleId: string,
    options: { status?: ExecutionStatus; page?: PageRequest } = {},
  ): Promise<Page<Execution>> {
    return this.list(INDEX.scheduleExecutions, { schedule_id: scheduleId }, options);
  }

  /** How many executions a schedule has (of one status when given); see DynamoDbTable.count. */
  async countBySchedule(
    scheduleId: string,
    options: { status?: ExecutionStatus | undefined } = {},
  ): Promise<{ count: number; exact: boolean }> {
    return this.table.count({
      indexName: INDEX.scheduleExecutions,
      key: { schedule_id: scheduleId },
      ...this.statusFilter(options.status),
    });
  }

  /**
   * An account's executions, newest first (account-executions-index); with `startedAtOrBefore`
   * only those that started at or before that time.
   */
  async listByAccount(
    accountId: string,
    options: { status?: ExecutionStatus; startedAtOrBefore?: string; page?: PageRequest } = {},
  ): Promise<Page<Execution>> {
    return this.list(INDEX.accountExecutions, { account_id: accountId }, options);
  }

  /** Progress of a running execution; InvalidTransitionError once it has finished. */
  async recordProgress(executionId: string, progress: Progress): Promise<Execution> {
    const data = parseInput(ProgressSchema, progress, 'execution progress');
    const updated = await this.table.update(
      { execution_id: executionId },
      { set: { ...data, updated_at: toIsoUtc(this.clock()) } },
      RUNNING,
    );
    if (updated) return this.parse(updated);
    await this.require(executionId);
    throw new InvalidTransitionError('execution', executionId, data.current_step, ['running']);
  }

  /**
   * running → a terminal status, with completed_at and execution_time_seconds (from started_at).
   * A finished execution cannot be reopened or finished differently (InvalidTransitionError);
   * finishing it again with the status it has is idempotent and returns it. A caller that knows
   * the start time (the scan steps carry it from the claim) saves the read: the first write is
   * conditional on `running` all the same, and a record that is not running is read then.
   */
  async finish(
    executionId: string,
    status: ExecutionStatus,
    fields: FinishFields = {},
    known?: { startedAt: string },
  ): Promise<Execution> {
    return (await this.finishOnce(executionId, status, fields, known)).execution;
  }

  /**
   * finish(), telling whether this call made the transition (`finishedNow`) or found the run
   * already in that status (a retried step): what follows a run's end is done once.
   */
  async finishOnce(
    executionId: string,
    status: ExecutionStatus,
    fields: FinishFields = {},
    known?: { startedAt: string },
  ): Promise<{ execution: Execution; finishedNow: boolean }> {
    const terminal = parseInput(TerminalStatusSchema, status, 'execution', 'status');
    const data = parseInput(FinishFieldsSchema, fields, 'execution');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const current = attempt === 0 && known ? undefined : await this.require(executionId);
      if (current && current.status !== 'running') {
        if (current.status === terminal) return { execution: current, finishedNow: false };
        throw new InvalidTransitionError('execution', executionId, terminal, ['running']);
      }
      const startedAt = current?.started_at ?? known?.startedAt ?? '';
      const completedAt = data.completed_at ?? toIsoUtc(this.clock());
      const elapsed = (Date.parse(completedAt) - Date.parse(startedAt)) / 1000;
      const updated = await this.table.update(
        { execution_id: executionId },
        {
          set: {
            ...data,
            error_message: data.error_message?.slice(0, MAX_ERROR_MESSAGE),
            status: terminal,
            completed_at: completedAt,
            execution_time_seconds: Number.isFinite(elapsed)
              ? Math.max(0, Math.round(elapsed * 1000) / 1000)
              : 0,
            updated_at: toIsoUtc(this.clock()),
          },
        },
        RUNNING,
      );
      if (updated) return { execution: this.parse(updated), finishedNow: true };
    }
    // Finished by someone else between our read and our write: report what it is now.
    const current = await this.require(executionId);
    if (current.status === terminal) return { execution: current, finishedNow: false };
    throw new InvalidTransitionError('execution', executionId, terminal, ['running']);
  }

  /**
   * Marks running executions aborted (e.g. those a stopped runtime left behind); the ones already
   * finished or gone are left alone. Returns the ids it aborted.
   */
  async markAborted(
    executionIds: readonly string[],
    message = 'the execution was aborted',
  ): Promise<string[]> {
    const aborted: string[] = [];
    for (const executionId of executionIds) {
      try {
        const current = await this.get(executionId);
        if (current?.status !== 'running') continue;
        await this.finish(executionId, 'aborted', { error_code: 'aborted', error_message: message });
        aborted.push(executionId);
      } catch (error) {
        if (!(error instanceof InvalidTransitionError || error instanceof NotFoundError)) throw error;
      }
    }
    return aborted;
  }

  /**
   * Records still `running` that started before `startedBefore` (a filtered Scan: the sweep's
   * periodic read; the TTL keeps the table small). Pages on through `page.cursor`.
   */
  async listRunningStartedBefore(startedBefore: string, page?: PageRequest): Promise<Page<Execution>> {
    return this.table.scanPage(page, (item) => this.parse(item), {
      expression: '#status = :running AND #started_at < :before',
      names: { '#status': 'status', '#started_at': 'started_at' },
      values: { ':running': 'running', ':before': startedBefore },
    });
  }

  private async list(
    indexName: string,
    key: Record<string, string>,
    options: { status?: ExecutionStatus; startedAtOrBefore?: string; page?: PageRequest },
  ): Promise<Page<Execution>> {
    return this.table.queryPage(
      {
        indexName,
        key,
        ...(options.startedAtOrBefore === undefined
          ? {}
          : { sortKeyAtMost: { attribute: 'started_at', value: options.startedAtOrBefore } }),
        newestFirst: true,
        ...this.statusFilter(options.status),
      },
      options.page,
      (item) => this.parse(item),
    );
  }

  private statusFilter(requested: ExecutionStatus | undefined): { filter?: Condition } {
    if (requested === undefined) return {};
    const status = parseInput(ExecutionStatusSchema, requested, 'execution', 'status');
    return {
      filter: {
        expression: '#status = :status',
        names: { '#status': 'status' },
        values: { ':status': status },
      },
    };
  }

  private async require(executionId: string): Promise<Execution> {
    const execution = await this.get(executionId);
    if (!execution) throw new NotFoundError('execution', executionId);
    return execution;
  }

  private parse(item: Item): Execution {
    return parseStored(ExecutionSchema, item, 'execution', 'execution_id');
  }
}
