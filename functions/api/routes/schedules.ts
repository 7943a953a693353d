import { type Context, Hono } from 'hono';
import * as z from 'zod/mini';
import { described, IdSchema } from '../../../schemas/common';
import { type Execution, ExecutionSchema, ExecutionStatusSchema } from '../../../schemas/execution';
import {
  CreateScheduleInputSchema,
  PauseScheduleInputSchema,
  ResumeScheduleInputSchema,
  type Schedule,
  ScheduleSchema,
  ScheduleStatusSchema,
  UpdateScheduleInputSchema,
} from '../../../schemas/schedule';
import { NotFoundError } from '../../core/errors';
import { MAX_OFFSET, type PageRequest, readPageAtOffset } from '../../core/repositories/pagination';
import { scanIdFor } from '../../core/scans/scan-service';
import {
  type ApiEnv,
  type Caller,
  lookupScope,
  parseJsonBody,
  parseOptionalJsonBody,
  parseQuery,
  parseWith,
  requireRole,
  tenantScope,
} from '../api-context';
import type { SchedulingServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';
import { PageCursorSchema, PageLimitSchema } from '../page-query';

/**
 * Schedules (legacy endpoints plus pause, resume and the richer GET), mounted at `/api/v1`.
 * Viewers read; operators trigger, pause and resume; tenant admins create, change and delete.
 * Another tenant's schedule answers 404. Every operation is ScheduleService's; this module parses,
 * authorizes and shapes the answer.
 *
 * Pagination: `limit` (1..100) and `cursor` (the `next_cursor` of the previous page). The legacy
 * `offset` of GET /schedules/{id}/executions still works up to MAX_OFFSET (it walks the listing by
 * cursor); past that, or together with a cursor, it is a 400 naming `offset`.
 */

const TAGS = ['schedules'] as const;

const ScheduleIdParams = { schedule_id: IdSchema } as const;
const BodyObjectSchema = z.record(z.string(), z.unknown());

const OFFSET_MESSAGE = `must be a whole number from 0 to ${MAX_OFFSET} (pass next_cursor as cursor to go further)`;
const LegacyOffsetSchema = z.coerce
  .number({ message: OFFSET_MESSAGE })
  .check(z.int(OFFSET_MESSAGE), z.gte(0, OFFSET_MESSAGE), z.lte(MAX_OFFSET, OFFSET_MESSAGE));

export const ListSchedulesQuerySchema = z.object({
  tenant_id: z.optional(IdSchema),
  account_id: z.optional(IdSchema),
  /** A status, or `error` (legacy): the schedules whose latest run failed. */
  status: z.optional(
    z.enum([...ScheduleStatusSchema.options, 'error'], {
      error: `expected one of ${[...ScheduleStatusSchema.options, 'error'].join(', ')}`,
    }),
  ),
  limit: PageLimitSchema(25),
  cursor: z.optional(PageCursorSchema),
});

export const GetScheduleQuerySchema = z.object({
  /** How many upcoming fire times to show (default 5). */
  fire_times: z.optional(
    z.coerce.number().check(z.int('must be a whole number'), z.gte(0), z.lte(50, 'must be 0 to 50')),
  ),
  /** How many recent runs to show (default 10). */
  recent_runs: z.optional(
    z.coerce.number().check(z.int('must be a whole number'), z.gte(0), z.lte(100, 'must be 0 to 100')),
  ),
});

export const ListRunsQuerySchema = z
  .object({
    status: z.optional(ExecutionStatusSchema),
    limit: PageLimitSchema(50),
    cursor: z.optional(PageCursorSchema),
    offset: z.optional(LegacyOffsetSchema),
  })
  .check(
    z.refine((query) => query.cursor === undefined || !query.offset, {
      path: ['offset'],
      message: 'cannot be combined with cursor: send one of them',
    }),
  );

const CountersSchema = z.object({
  runs: z.number(),
  successes: z.number(),
  failures: z.number(),
  skipped: z.number(),
  missed: z.number(),
  consecutive_failures: z.number(),
});

/**
 * A schedule as every route answers it: `enabled` a JSON boolean (the table keeps the legacy
 * string, a GSI key), the legacy fields present (null when unset; interval_seconds 0 unless the
 * schedule runs at an interval, as the legacy answered).
 */
export const ScheduleViewSchema = z.extend(ScheduleSchema, {
  enabled: z.boolean(),
  interval_seconds: z.number().check(z.int()),
});
export type ScheduleView = Omit<Schedule, 'enabled' | 'interval_seconds'> & {
  enabled: boolean;
  interval_seconds: number;
};

const RATE_UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3_600, day: 86_400 };

export function scheduleView(schedule: Schedule): ScheduleView {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(schedule.schedule_expression ?? '');
  const rateSeconds = rate ? Number(rate[1]) * (RATE_UNIT_SECONDS[rate[2] as string] ?? 0) : 0;
  return {
    description: null,
    cron_expression: null,
    last_run_at: null,
    next_run_at: null,
    ...schedule,
    interval_seconds: schedule.interval_seconds ?? rateSeconds,
    enabled: schedule.enabled === 'true',
  };
}

/** The legacy fields of a run, null when unset (the legacy answered them all). */
function executionView(execution: Execution) {
  return {
    completed_at: null,
    total_checks: null,
    passed_checks: null,
    failed_checks: null,
    execution_time_seconds: null,
    ...execution,
  };
}

export const ScheduleDetailsResponseSchema = z.extend(ScheduleViewSchema, {
  next_fire_times: z.array(z.string()),
  recent_runs: z.array(ExecutionSchema),
  counters: CountersSchema,
  timing_error: z.optional(z.string()),
});

export const ScheduleListResponseSchema = z.object({
  schedules: z.array(ScheduleViewSchema),
  count: z.number().check(z.int()),
  next_cursor: z.nullable(z.string()),
});

export const ScheduleRunsResponseSchema = z.object({
  schedule_id: z.string(),
  executions: z.array(ExecutionSchema),
  count: described(z.number().check(z.int()), 'executions on this page'),
  total: described(
    z.number().check(z.int()),
    'executions of the schedule (of the status filter, when given)',
  ),
  next_cursor: z.nullable(z.string()),
});

export const TriggerResponseSchema = z.object({
  status: z.literal('triggered'),
  schedule_id: z.string(),
  execution_id: z.string(),
  /** The id the scan result will have once the scan finishes (legacy clients read `scan_id`). */
  scan_id: z.string(),
  workflow_execution_name: z.string(),
  execution_arn: z.nullable(z.string()),
  scheduled_time: z.string(),
  already_started: z.boolean(),
  message: z.string(),
});

/** What POST and PUT answer: the schedule, with the legacy outcome word in `status`. */
export const ScheduleWrittenResponseSchema = z.extend(ScheduleViewSchema, {
  status: described(
    z.enum(['created', 'updated']),
    "the legacy outcome word; the schedule's own status is schedule_status",
  ),
  schedule_status: ScheduleStatusSchema,
});

export const DeleteScheduleResponseSchema = z.object({
  status: z.literal('deleted'),
  schedule_id: z.string(),
  deleted: z.literal(true),
  message: z.string(),
});

function written(schedule: Schedule, outcome: 'created' | 'updated') {
  return { ...scheduleView(schedule), status: outcome, schedule_status: schedule.status };
}

/**
 * The legacy way to pause and resume through PUT: `enabled` (boolean) or `status` (active or
 * paused), agreeing when both are given. `disabled` is not something a PUT sets.
 */
const ActivationFieldsSchema = z.object({
  enabled: z.optional(z.boolean({ error: 'expected true or false' })),
  status: z.optional(
    z.enum(['active', 'paused'], { error: 'expected active or paused (DELETE the schedule to remove it)' }),
  ),
});
const ActivationSchema = z.pipe(
  ActivationFieldsSchema.check(
    z.refine(
      (value) =>
        !(value.enabled !== undefined && value.status && value.enabled !== (value.status === 'active')),
      {
        path: ['status'],
        message: 'contradicts enabled: send one of them, or make them agree',
      },
    ),
  ),
  z.transform((value) => ({
    active: value.status ? value.status === 'active' : value.enabled,
  })),
);

/** The PUT body as documented: the definition fields plus the legacy enabled/status. */
const UpdateScheduleRequestSchema = z.object({
  ...UpdateScheduleInputSchema.def.in.shape,
  ...ActivationFieldsSchema.shape,
});

function scheduleIdOf(context: Context<ApiEnv>): string {
  return parseWith(IdSchema, context.req.param('schedule_id'), 'path parameter schedule_id');
}

/**
 * The tenant a schedule-id request acts on: the caller's own tenant; for a platform admin the
 * `tenant_id` it names, else the schedule's own tenant (so an admin can open any schedule by id).
 */
async function tenantOfSchedule(
  services: SchedulingServices,
  caller: Caller,
  scheduleId: string,
  requested?: string,
): Promise<string> {
  const scope = lookupScope(caller, requested);
  if (scope !== null) return scope;
  const schedule = await services.repositories.schedules.get(scheduleId);
  if (!schedule) throw new NotFoundError('schedule', scheduleId);
  return schedule.tenant_id;
}

/** The tenant of an account (for a platform admin listing one account's schedules). */
async function tenantOfAccount(services: SchedulingServices, accountId: string): Promise<string> {
  const account = await services.repositories.accounts.get(accountId);
  if (!account) throw new NotFoundError('account', accountId);
  return account.tenant_id;
}

const ReconcileRequestSchema = z.strictObject({ dry_run: z._default(z.boolean(), false) });

const ReconcileChangeSchema = z.object({
  entry_name: z.string(),
  schedule_id: z.optional(z.string()),
  differences: z.optional(z.array(z.string())),
});

const ReconcileResponseSchema = z.object({
  created: z.array(ReconcileChangeSchema),
  updated: z.array(ReconcileChangeSchema),
  deleted: z.array(ReconcileChangeSchema),
  unchanged: z.number(),
  expired: z.array(z.string()),
  failed: z.array(z.object({ schedule_id: z.string(), entry_name: z.string(), error: z.string() })),
  dry_run: z.boolean(),
});

export function scheduleRoutes(services: SchedulingServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const schedules = services.scheduleService;

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/scheduler/reconcile',
    summary: 'Compare the scheduler entries with the schedules table and repair drift (platform admins)',
    description:
      'Missing entries are created, orphaned ones deleted, different ones updated (EventBridge Scheduler on AWS, the local scheduler otherwise). With dry_run nothing changes; the report says what would.',
    tags: ['schedules'],
    roles: rolesFrom('platform_admin'),
    request: ReconcileRequestSchema,
    response: ReconcileResponseSchema,
  });
  app.post('/scheduler/reconcile', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'platform_admin');
    const body = await parseOptionalJsonBody(context, ReconcileRequestSchema);
    const report = await services.scheduler.reconcile(services.repositories.schedules.listAllForStartup(), {
      dryRun: body.dry_run,
    });
    services.logger.info('scheduler reconciled', {
      by: caller.subject,
      dry_run: body.dry_run,
      created: report.created.length,
      updated: report.updated.length,
      deleted: report.deleted.length,
    });
    return context.json(report);
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/schedules',
    summary: 'Create a schedule for an active account',
    description:
      "Legacy fields (schedule_type with cron_expression, interval_seconds or next_run_at) or schedule_expression (cron(6 fields), rate(n unit), at(yyyy-mm-ddThh:mm:ss)) or a preset; IANA timezone; start_date/end_date; flexible window; overlap policy; auto-pause after N consecutive failures. Daylight saving follows EventBridge Scheduler: a wall time skipped in spring does not run, a repeated one in autumn runs once. tenant_id may be left out (it is the caller's); platform admins name it.",
    tags: TAGS,
    roles: rolesFrom('tenant_admin'),
    request: CreateScheduleInputSchema,
    response: ScheduleWrittenResponseSchema,
    status: 201,
    idempotent: true,
  });
  app.post('/schedules', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const body = await parseJsonBody(context, BodyObjectSchema);
    const requested = typeof body.tenant_id === 'string' ? body.tenant_id : undefined;
    const tenantId = tenantScope(caller, requested);
    const schedule = await schedules.create(tenantId, body, {
      idempotencyKey: context.get('idempotencyToken'),
      by: caller.subject,
    });
    context.header('Location', `/api/v1/schedules/${encodeURIComponent(schedule.schedule_id)}`);
    return context.json(written(schedule, 'created'), 201);
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/schedules',
    summary: "List the tenant's schedules (optionally one account's, optionally of one status)",
    description:
      'Cursor pagination: pass next_cursor back as cursor. Platform admins name tenant_id (or an account_id).',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    query: ListSchedulesQuerySchema,
    response: ScheduleListResponseSchema,
  });
  app.get('/schedules', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const query = parseQuery(context, ListSchedulesQuerySchema);
    const tenantId =
      caller.role === 'platform_admin' && !query.tenant_id && query.account_id
        ? await tenantOfAccount(services, query.account_id)
        : tenantScope(caller, query.tenant_id);
    const page = await schedules.list(tenantId, {
      account_id: query.account_id,
      ...(query.status === 'error' ? { failing: true } : { status: query.status }),
      page: { limit: query.limit, cursor: query.cursor },
    });
    return context.json({
      schedules: page.items.map(scheduleView),
      count: page.items.length,
      next_cursor: page.next_cursor,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/schedules/:schedule_id',
    summary: 'One schedule with its next fire times, recent runs and run counters',
    description:
      'counters: runs, successes, failures, skipped (by the overlap policy), missed (while the scheduler was stopped), consecutive_failures. next_fire_times is empty while the schedule is paused or disabled.',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: ScheduleIdParams,
    query: GetScheduleQuerySchema,
    response: ScheduleDetailsResponseSchema,
  });
  app.get('/schedules/:schedule_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const scheduleId = scheduleIdOf(context);
    const query = parseQuery(context, GetScheduleQuerySchema);
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    const details = await schedules.get(tenantId, scheduleId, {
      ...(query.fire_times !== undefined ? { fireTimes: query.fire_times } : {}),
      ...(query.recent_runs !== undefined ? { recentRuns: query.recent_runs } : {}),
    });
    return context.json({ ...details, ...scheduleView(details) });
  });

  /* @__PURE__ */ registerRoute({
    method: 'put',
    path: '/schedules/:schedule_id',
    summary: 'Change a schedule (any definition field; null clears an optional one)',
    description:
      'A change of timing (expression, preset, legacy fields, timezone, dates) is checked again and next_run_at recomputed. The account and tenant of a schedule never change. The legacy `enabled: true|false` or `status: active|paused` resume or pause it (as POST /resume and /pause).',
    tags: TAGS,
    roles: rolesFrom('tenant_admin'),
    params: ScheduleIdParams,
    request: UpdateScheduleRequestSchema,
    response: ScheduleWrittenResponseSchema,
  });
  app.put('/schedules/:schedule_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const scheduleId = scheduleIdOf(context);
    const { enabled, status, ...changes } = await parseJsonBody(context, BodyObjectSchema);
    const wanted = parseWith(ActivationSchema, { enabled, status }, 'request body');
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    let schedule: Schedule | undefined;
    if (Object.keys(changes).length > 0 || wanted.active === undefined) {
      schedule = await schedules.update(tenantId, scheduleId, changes, { by: caller.subject });
    }
    if (wanted.active === true)
      schedule = await schedules.resume(tenantId, scheduleId, { by: caller.subject });
    if (wanted.active === false)
      schedule = await schedules.pause(tenantId, scheduleId, { by: caller.subject });
    return context.json(written(schedule as Schedule, 'updated'));
  });

  /* @__PURE__ */ registerRoute({
    method: 'delete',
    path: '/schedules/:schedule_id',
    summary: 'Delete a schedule and its scheduler entry (its executions stay as history)',
    tags: TAGS,
    roles: rolesFrom('tenant_admin'),
    params: ScheduleIdParams,
    response: DeleteScheduleResponseSchema,
  });
  app.delete('/schedules/:schedule_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const scheduleId = scheduleIdOf(context);
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    await schedules.delete(tenantId, scheduleId, { by: caller.subject });
    return context.json({
      status: 'deleted' as const,
      schedule_id: scheduleId,
      deleted: true as const,
      message: 'schedule deleted',
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/schedules/:schedule_id/trigger',
    summary: 'Start a scan of the schedule now (answers at once with the execution id)',
    description:
      "Every trigger is its own run (never merged with a scheduler slot or an earlier trigger), subject to the schedule's overlap policy; a retry with the same Idempotency-Key meets the first one's run. The run can be followed (GET /executions/{execution_id}) and cancelled from the moment its id is returned. scan_id is the id the scan result will have.",
    tags: TAGS,
    roles: rolesFrom('operator'),
    params: ScheduleIdParams,
    response: TriggerResponseSchema,
    status: 202,
    idempotent: true,
  });
  app.post('/schedules/:schedule_id/trigger', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const scheduleId = scheduleIdOf(context);
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    const result = await schedules.trigger(tenantId, scheduleId, {
      by: caller.subject,
      requestToken: context.get('idempotencyToken'),
    });
    return context.json(
      {
        status: 'triggered' as const,
        schedule_id: scheduleId,
        execution_id: result.execution_id,
        scan_id: scanIdFor(result.execution_id),
        workflow_execution_name: result.workflow_execution_name,
        execution_arn: result.execution_arn,
        scheduled_time: result.scheduled_time,
        already_started: result.already_started,
        message: result.already_started
          ? 'this request was already handled: its scan was started then, no second scan was started'
          : 'scan started',
      },
      202,
    );
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/schedules/:schedule_id/executions',
    summary: "The schedule's runs, newest first",
    description: `Cursor pagination (limit 1..100, default 50; cursor = next_cursor of the previous page). The legacy offset (0..${MAX_OFFSET}) still works, not together with cursor. total counts the schedule's executions (of the status filter).`,
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: ScheduleIdParams,
    query: ListRunsQuerySchema,
    response: ScheduleRunsResponseSchema,
  });
  app.get('/schedules/:schedule_id/executions', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const scheduleId = scheduleIdOf(context);
    const query = parseQuery(context, ListRunsQuerySchema);
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    const readPageOf = (page: PageRequest) =>
      schedules.listRuns(tenantId, scheduleId, { status: query.status, page });
    const page = query.offset
      ? await readPageAtOffset(query.offset, query.limit, readPageOf)
      : await readPageOf({ limit: query.limit, cursor: query.cursor });
    const total = await services.repositories.executions.countBySchedule(scheduleId, {
      status: query.status,
    });
    return context.json({
      schedule_id: scheduleId,
      executions: page.items.map(executionView),
      count: page.items.length,
      total: total.count,
      next_cursor: page.next_cursor,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/schedules/:schedule_id/pause',
    summary: 'Pause a schedule (its scheduler entry is disabled); records who and the note',
    description: 'The body is optional. Pausing a paused schedule returns it unchanged.',
    tags: TAGS,
    roles: rolesFrom('operator'),
    params: ScheduleIdParams,
    request: PauseScheduleInputSchema,
    response: ScheduleViewSchema,
    idempotent: true,
  });
  app.post('/schedules/:schedule_id/pause', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const scheduleId = scheduleIdOf(context);
    const body = await parseOptionalJsonBody(context, PauseScheduleInputSchema);
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    const schedule = await schedules.pause(tenantId, scheduleId, { note: body.note, by: caller.subject });
    return context.json(scheduleView(schedule));
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/schedules/:schedule_id/resume',
    summary: 'Resume a paused schedule (next run from now; slots passed while paused are not run)',
    description:
      'The body is optional. A schedule that would never fire again (a past at() or end_date) is a 409.',
    tags: TAGS,
    roles: rolesFrom('operator'),
    params: ScheduleIdParams,
    request: ResumeScheduleInputSchema,
    response: ScheduleViewSchema,
    idempotent: true,
  });
  app.post('/schedules/:schedule_id/resume', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const scheduleId = scheduleIdOf(context);
    const body = await parseOptionalJsonBody(context, ResumeScheduleInputSchema);
    const tenantId = await tenantOfSchedule(services, caller, scheduleId);
    const schedule = await schedules.resume(tenantId, scheduleId, { note: body.note, by: caller.subject });
    return context.json(scheduleView(schedule));
  });

  return app;
}
