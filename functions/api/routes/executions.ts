import { type Context, Hono } from 'hono';
import * as z from 'zod/mini';
import type { Account } from '../../../schemas/account';
import { IdSchema, IsoUtcTimestampSchema, ProviderTypeSchema, toIsoUtc } from '../../../schemas/common';
import {
  type Execution,
  ExecutionSchema,
  type ExecutionStatus,
  ExecutionStatusSchema,
} from '../../../schemas/execution';
import type { ScanRequest } from '../../../schemas/workflow-payloads';
import { ConflictError, DomainError, InvalidTransitionError, NotFoundError } from '../../core/errors';
import { scanExecutionName } from '../../core/execution-names';
import {
  accountIdsOfAllTenants,
  accountIdsOfTenant,
  listExecutionsOfAccounts,
  listExecutionsOfTenant,
} from '../../core/executions/executions-of-accounts';
import { deterministicId, newId } from '../../core/ids';
import { recordStartedScan, scanIdFor } from '../../core/scans/scan-service';
import { isScheduleActive } from '../../core/scheduling/schedule-status';
import {
  type ApiEnv,
  type Caller,
  canSee,
  parseOptionalJsonBody,
  parseQuery,
  parseWith,
  requireRole,
  tenantScope,
} from '../api-context';
import type { ApiServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';
import { PageCursorSchema, PageLimitSchema } from '../page-query';

/**
 * Executions (one scan run each): read one, cancel a running one, redrive a failed one, and scan
 * every active account of a tenant now. Mounted at `/api/v1`. Viewers read; operators cancel,
 * redrive and start scans. Another tenant's execution answers 404.
 *
 * Cancel: stops the workflow execution; the terminated-execution handler (the same one on AWS and
 * locally) records the run as `cancelled`, cancels the engine's scan and frees the account's lock.
 * Locally that has happened when the answer comes; on AWS it follows within seconds.
 *
 * Redrive: the failed run's slot is claimed (its execution record is the slot claim), so a redrive
 * cannot re-run that slot. It starts a NEW manual scan of the same account (and, while the schedule
 * exists, with the schedule's regions and services, counted on the schedule), with a new execution
 * id, linked both ways: the new execution shows `redrive_of` (the failed one) and the failed one
 * `redriven_by`. A failed run is redriven once (a second redrive is a 409 naming the first); a
 * failed redrive can itself be redriven. Its workflow execution is named
 * `scan-redrive-<accountId>-<time>-<nonce>`.
 */

const TAGS = ['executions'] as const;

/** Statuses a run may be redriven from (the failures; cancelled runs were stopped on purpose). */
export const REDRIVABLE_STATUSES = [
  'failed',
  'timed_out',
  'aborted',
] as const satisfies readonly ExecutionStatus[];

/** Scans started at once by POST /tenants/{id}/scans (the rest queue behind them). */
export const TENANT_SCAN_CONCURRENCY = 5;
/** Accounts started by one POST /tenants/{id}/scans; more are reached with `cursor`. */
export const TENANT_SCAN_PAGE_SIZE = 100;

const ExecutionIdParams = { execution_id: IdSchema } as const;

const HistoryQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)), 200),
  next_token: z.optional(z.string().check(z.maxLength(2048))),
  order: z._default(z.enum(['oldest_first', 'newest_first']), 'oldest_first'),
});

const HistoryResponseSchema = z.object({
  execution_id: IdSchema,
  workflow_execution_name: z.nullable(z.string()),
  events: z.array(
    z.object({
      id: z.number(),
      timestamp: z.string(),
      type: z.string(),
      stateName: z.optional(z.string()),
      input: z.optional(z.unknown()),
      output: z.optional(z.unknown()),
      error: z.optional(z.string()),
      cause: z.optional(z.string()),
    }),
  ),
  next_token: z.nullable(z.string()),
});

const WorkflowLinkSchema = z.object({
  name: z.nullable(z.string()),
  arn: z.nullable(z.string()),
  /** The Step Functions console page of the execution (AWS only). */
  console_url: z.nullable(z.string()),
});

export const ExecutionViewSchema = z.extend(ExecutionSchema, {
  workflow: WorkflowLinkSchema,
  /** The failed execution this one redrives. */
  redrive_of: z.nullable(z.string()),
  /** The execution that redrove this one. */
  redriven_by: z.nullable(z.string()),
});

export const ListExecutionsQuerySchema = z.strictObject({
  status: z.optional(ExecutionStatusSchema),
  limit: PageLimitSchema(25),
  cursor: z.optional(PageCursorSchema),
});

const QueryTimeSchema = z.pipe(
  IsoUtcTimestampSchema,
  z.transform((value) => new Date(value).toISOString()),
);

export const SearchExecutionsQuerySchema = z.extend(ListExecutionsQuerySchema, {
  /** A platform administrator's tenant; without it, every tenant. Others see their own tenant. */
  tenant_id: z.optional(IdSchema),
  account_id: z.optional(IdSchema),
  schedule_id: z.optional(IdSchema),
  started_after: z.optional(QueryTimeSchema),
  started_before: z.optional(QueryTimeSchema),
});

export const SearchExecutionsResponseSchema = z.object({
  executions: z.array(ExecutionViewSchema),
  count: z.number().check(z.int()),
  next_cursor: z.nullable(z.string()),
});

export const AccountExecutionsResponseSchema = z.object({
  account_id: z.string(),
  executions: z.array(ExecutionViewSchema),
  count: z.number().check(z.int()),
  next_cursor: z.nullable(z.string()),
});

export const TenantExecutionsResponseSchema = z.object({
  tenant_id: z.string(),
  executions: z.array(ExecutionViewSchema),
  count: z.number().check(z.int()),
  next_cursor: z.nullable(z.string()),
});

export const CancelResponseSchema = z.object({
  execution_id: z.string(),
  status: z.string(),
  cancel_requested: z.literal(true),
  message: z.string(),
});

export const RedriveResponseSchema = z.object({
  status: z.literal('redriven'),
  execution_id: z.string(),
  redrive_of: z.string(),
  scan_id: z.string(),
  workflow_execution_name: z.string(),
  execution_arn: z.string(),
  message: z.string(),
});

export const TenantScansBodySchema = z.strictObject({
  /** Only the accounts of one provider. */
  provider_type: z.optional(ProviderTypeSchema),
  /** The next_cursor of a previous answer, to start the following accounts. */
  cursor: z.optional(PageCursorSchema),
});

const StartedScanSchema = z.object({
  account_id: z.string(),
  execution_id: z.string(),
  scan_id: z.string(),
  workflow_execution_name: z.string(),
  execution_arn: z.string(),
});

export const TenantScansResponseSchema = z.object({
  tenant_id: z.string(),
  started: z.array(StartedScanSchema),
  failed: z.array(z.object({ account_id: z.string(), code: z.string(), message: z.string() })),
  count: z.number().check(z.int()),
  /** Set when the tenant has more active accounts: post again with it as `cursor`. */
  next_cursor: z.nullable(z.string()),
});

const claimOfRedrive = (executionId: string) => `redrive#${executionId}`;
const claimOfRedriveOrigin = (executionId: string) => `redrive-of#${executionId}`;

function executionIdOf(context: Context<ApiEnv>): string {
  return parseWith(IdSchema, context.req.param('execution_id'), 'path parameter execution_id');
}

interface VisibleExecution {
  execution: Execution;
  /** Null only for a legacy record whose account is gone (visible to platform admins only). */
  tenantId: string | null;
}

/** The execution when the caller may see it; NotFoundError otherwise (other tenants included). */
async function visibleExecution(
  services: ApiServices,
  caller: Caller,
  executionId: string,
): Promise<VisibleExecution> {
  const execution = await services.repositories.executions.get(executionId);
  if (!execution) throw new NotFoundError('execution', executionId);
  // Legacy records carry no tenant: their account tells.
  const tenantId =
    execution.tenant_id ??
    (await services.repositories.accounts.get(execution.account_id))?.tenant_id ??
    null;
  if (!canSee(caller, tenantId)) throw new NotFoundError('execution', executionId);
  return { execution, tenantId };
}

async function viewOf(services: ApiServices, execution: Execution) {
  const { claims } = services.repositories;
  const storedRedriveOf = typeof execution.redrive_of === 'string' ? execution.redrive_of : null;
  // Only a manual run can be a redrive, and only a failed one can have been redriven: the others
  // need no lookup (a listing of scheduled runs reads no claim at all).
  const mayBeRedrive = storedRedriveOf === null && execution.triggered_by === 'manual';
  const mayBeRedriven = (REDRIVABLE_STATUSES as readonly string[]).includes(execution.status);
  const [redriveOf, redrivenBy] = await Promise.all([
    mayBeRedrive ? claims.get(claimOfRedriveOrigin(execution.execution_id)) : undefined,
    mayBeRedriven ? claims.get(claimOfRedrive(execution.execution_id)) : undefined,
  ]);
  const arn = execution.workflow_execution_arn ?? null;
  return {
    ...execution,
    workflow: {
      name: execution.workflow_execution_name ?? null,
      arn,
      console_url: arn && services.consoleUrlFor ? services.consoleUrlFor(arn) : null,
    },
    redrive_of: storedRedriveOf ?? redriveOf?.owner ?? null,
    redriven_by: redrivenBy?.owner ?? null,
  };
}

function requireActiveAccount(account: Account | undefined, accountId: string): Account {
  if (account?.status !== 'active') {
    throw new ConflictError(
      `account ${accountId} is ${account?.status ?? 'gone'}: only an active account can be scanned`,
      'account_id',
    );
  }
  return account;
}

interface StartedScan {
  account_id: string;
  execution_id: string;
  scan_id: string;
  workflow_execution_name: string;
  execution_arn: string;
}

/**
 * Starts one scan that belongs to no schedule slot (a redrive or an API scan) under a fresh
 * execution id chosen here, so the answer can name it before the workflow writes the record.
 */
async function startUnslottedScan(
  services: ApiServices,
  request: Omit<ScanRequest, 'execution_id' | 'scheduled_time'> & { redrive_of?: string },
  nameTrigger: string,
  executionId: string = newId(),
): Promise<StartedScan> {
  const name = scanExecutionName({
    accountId: request.account_id,
    triggeredBy: nameTrigger,
    requestedAt: services.clock(),
  });
  const handle = await services.orchestrator.start({
    workflow: 'scan',
    name,
    input: { ...request, scheduled_time: null, execution_id: executionId },
  });
  // Recorded before the id is returned: the run can be followed and cancelled at once.
  await recordStartedScan(services.repositories.executions, {
    execution_id: executionId,
    request: { ...request, scheduled_time: null },
    workflow_execution_name: handle.name,
    workflow_execution_arn: handle.executionArn,
    started_at: toIsoUtc(services.clock()),
  });
  return {
    account_id: request.account_id,
    execution_id: executionId,
    scan_id: scanIdFor(executionId),
    workflow_execution_name: handle.name,
    execution_arn: handle.executionArn,
  };
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the results. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function executionRoutes(services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { executions, accounts, schedules, claims, tenants } = services.repositories;

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/executions/:execution_id',
    summary: 'One scan execution: status, progress, timings, error, workflow execution and links',
    description:
      'progress: current_step and progress_percent; timings: scheduled_time, started_at, completed_at, execution_time_seconds; error: error_code and error_message; workflow: the Step Functions execution name, ARN and (on AWS) console URL; redrive_of / redriven_by link redriven runs.',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: ExecutionIdParams,
    response: ExecutionViewSchema,
  });
  app.get('/executions/:execution_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const { execution } = await visibleExecution(services, caller, executionIdOf(context));
    return context.json(await viewOf(services, execution));
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/accounts/:account_id/executions',
    summary: "An account's executions, newest first",
    description:
      "Optionally of one status. Cursor pagination (limit 1..100, default 25; cursor = next_cursor of the previous page). Another tenant's account is a 404.",
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: { account_id: IdSchema },
    query: ListExecutionsQuerySchema,
    response: AccountExecutionsResponseSchema,
  });
  app.get('/accounts/:account_id/executions', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const accountId = parseWith(IdSchema, context.req.param('account_id'), 'path parameter account_id');
    const query = parseQuery(context, ListExecutionsQuerySchema);
    const account = await accounts.get(accountId);
    if (!account || !canSee(caller, account.tenant_id)) throw new NotFoundError('account', accountId);
    const page = await executions.listByAccount(accountId, {
      ...(query.status ? { status: query.status } : {}),
      page: { limit: query.limit, cursor: query.cursor },
    });
    return context.json({
      account_id: accountId,
      executions: await Promise.all(page.items.map((execution) => viewOf(services, execution))),
      count: page.items.length,
      next_cursor: page.next_cursor,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/tenants/:tenant_id/executions',
    summary: "A tenant's executions across its accounts, newest first",
    description:
      'Merged from every account of the tenant by started_at. Optionally of one status. Cursor pagination (limit 1..100, default 25; cursor = next_cursor of the previous page). Another tenant is a 404.',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: { tenant_id: IdSchema },
    query: ListExecutionsQuerySchema,
    response: TenantExecutionsResponseSchema,
  });
  app.get('/tenants/:tenant_id/executions', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const requested = parseWith(IdSchema, context.req.param('tenant_id'), 'path parameter tenant_id');
    const query = parseQuery(context, ListExecutionsQuerySchema);
    const tenantId = tenantScope(caller, requested);
    if (!(await tenants.get(tenantId))) throw new NotFoundError('tenant', tenantId);
    const page = await listExecutionsOfTenant({ accounts, executions }, tenantId, {
      status: query.status,
      page: { limit: query.limit, cursor: query.cursor },
    });
    return context.json({
      tenant_id: tenantId,
      executions: await Promise.all(page.items.map((execution) => viewOf(services, execution))),
      count: page.items.length,
      next_cursor: page.next_cursor,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/executions',
    summary: 'Executions across the tenants the caller may see, newest first, with filters',
    description:
      'Platform administrators see every tenant (or the one tenant_id names); everyone else their own tenant. Filters: status, account_id, schedule_id, started_after / started_before (ISO 8601 UTC). Merged from every account by started_at; cursor pagination (limit 1..100, default 25).',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    query: SearchExecutionsQuerySchema,
    response: SearchExecutionsResponseSchema,
  });
  app.get('/executions', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const query = parseQuery(context, SearchExecutionsQuerySchema);
    let accountIds: string[];
    if (query.account_id) {
      const account = await accounts.get(query.account_id);
      const inTenant = !query.tenant_id || account?.tenant_id === query.tenant_id;
      if (!account || !inTenant || !canSee(caller, account.tenant_id))
        throw new NotFoundError('account', query.account_id);
      accountIds = [account.account_id];
    } else if (caller.role === 'platform_admin' && !query.tenant_id) {
      accountIds = await accountIdsOfAllTenants({ tenants, accounts });
    } else {
      accountIds = await accountIdsOfTenant(accounts, tenantScope(caller, query.tenant_id));
    }
    const page = await listExecutionsOfAccounts(executions, accountIds, {
      status: query.status,
      scheduleId: query.schedule_id,
      startedAtOrAfter: query.started_after,
      startedAtOrBefore: query.started_before,
      page: { limit: query.limit, cursor: query.cursor },
    });
    return context.json({
      executions: await Promise.all(page.items.map((execution) => viewOf(services, execution))),
      count: page.items.length,
      next_cursor: page.next_cursor,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/executions/:execution_id/history',
    summary: "The run's workflow history: every state entered and left, retries, catches, errors",
    description:
      'Read from the orchestrator (Step Functions GetExecutionHistory on AWS, the local runtime otherwise). Workflows carry ids and references only, so the history holds no credential. Page with next_token.',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: ExecutionIdParams,
    query: HistoryQuerySchema,
    response: HistoryResponseSchema,
  });
  app.get('/executions/:execution_id/history', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const query = parseQuery(context, HistoryQuerySchema);
    const { execution } = await visibleExecution(services, caller, executionIdOf(context));
    const arn = execution.workflow_execution_arn;
    if (!arn) {
      throw new ConflictError(
        `execution ${execution.execution_id} has no workflow execution (a legacy record)`,
        'workflow_execution_arn',
      );
    }
    const page = await services.orchestrator.history(arn, {
      limit: query.limit,
      ...(query.next_token ? { nextToken: query.next_token } : {}),
      reverseOrder: query.order === 'newest_first',
    });
    return context.json({
      execution_id: execution.execution_id,
      workflow_execution_name: execution.workflow_execution_name ?? null,
      events: page.events,
      next_token: page.nextToken ?? null,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/executions/:execution_id/cancel',
    summary: 'Cancel a running execution (its workflow execution is stopped)',
    description:
      'The run is recorded as cancelled by the terminated-execution handler, which also cancels the engine scan and frees the account; status shows what is recorded when the answer is sent. A finished execution is a 409.',
    tags: TAGS,
    roles: rolesFrom('operator'),
    params: ExecutionIdParams,
    response: CancelResponseSchema,
    status: 202,
    idempotent: true,
  });
  app.post('/executions/:execution_id/cancel', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const executionId = executionIdOf(context);
    const { execution } = await visibleExecution(services, caller, executionId);
    if (execution.status !== 'running') {
      throw new InvalidTransitionError('execution', executionId, 'cancelled', ['running']);
    }
    const arn = execution.workflow_execution_arn;
    if (!arn) {
      throw new ConflictError(
        `execution ${executionId} has no workflow execution to stop (a legacy record)`,
        'workflow_execution_arn',
      );
    }
    await services.orchestrator.stop(arn, {
      error: 'ExecutionCancelled',
      cause: `cancelled through the API by ${caller.subject}`,
    });
    services.logger.info('execution cancel requested', { execution_id: executionId, by: caller.subject });
    const status = (await executions.get(executionId))?.status ?? execution.status;
    return context.json(
      {
        execution_id: executionId,
        status,
        cancel_requested: true as const,
        message:
          status === 'running'
            ? 'the workflow execution was stopped; the run is recorded as cancelled shortly'
            : `the run is ${status}`,
      },
      202,
    );
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/executions/:execution_id/redrive',
    summary: 'Redrive a failed run: start a new manual scan linked to it',
    description:
      "The failed run's slot stays claimed, so a redrive is a NEW execution (new id) of the same account, with the schedule's regions and services while the schedule exists (the schedule must be active), linked by redrive_of / redriven_by. Allowed for failed, timed_out and aborted runs, once per run (409 naming the first redrive otherwise).",
    tags: TAGS,
    roles: rolesFrom('operator'),
    params: ExecutionIdParams,
    response: RedriveResponseSchema,
    status: 202,
    idempotent: true,
  });
  app.post('/executions/:execution_id/redrive', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const executionId = executionIdOf(context);
    const { execution: failed, tenantId } = await visibleExecution(services, caller, executionId);
    if (!(REDRIVABLE_STATUSES as readonly string[]).includes(failed.status)) {
      throw new InvalidTransitionError('execution', executionId, 'redriven', REDRIVABLE_STATUSES);
    }
    const account = requireActiveAccount(await accounts.get(failed.account_id), failed.account_id);
    if (tenantId !== null && account.tenant_id !== tenantId)
      throw new NotFoundError('account', account.account_id);
    let scheduleId: string | null = null;
    if (failed.schedule_id) {
      const schedule = await schedules.get(failed.schedule_id);
      if (schedule && schedule.tenant_id === account.tenant_id) {
        if (!isScheduleActive(schedule)) {
          throw new ConflictError(
            `schedule ${schedule.schedule_id} is ${schedule.status}: resume it before redriving its run`,
            'status',
          );
        }
        scheduleId = schedule.schedule_id;
      }
    }

    // With an Idempotency-Key a racing retry gets the same id, so its scan meets the first one's record.
    const token = context.get('idempotencyToken');
    const redriveId = token ? deterministicId('scan-redrive', token) : newId();
    try {
      await claims.claim(claimOfRedrive(executionId), redriveId, { redrive_of: executionId });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const first = await claims.get(claimOfRedrive(executionId));
      throw new ConflictError(
        `execution ${executionId} was already redriven as execution ${first?.owner ?? '(unknown)'}`,
        'execution_id',
        { cause: error },
      );
    }
    let started: StartedScan;
    try {
      await claims.claim(claimOfRedriveOrigin(redriveId), executionId);
      started = await startUnslottedScan(
        services,
        {
          tenant_id: account.tenant_id,
          account_id: account.account_id,
          schedule_id: scheduleId,
          triggered_by: 'manual',
          redrive_of: executionId,
        },
        'redrive',
        redriveId,
      );
    } catch (error) {
      // Nothing started: free the failed run for another redrive.
      await Promise.all([
        claims.release(claimOfRedrive(executionId), redriveId),
        claims.release(claimOfRedriveOrigin(redriveId), executionId),
      ]).catch((cleanup: unknown) =>
        services.logger.warn('could not release the claims of a redrive that did not start', {
          execution_id: executionId,
          error: cleanup,
        }),
      );
      throw error;
    }
    services.logger.info('execution redriven', {
      execution_id: executionId,
      redrive_execution_id: redriveId,
      by: caller.subject,
    });
    return context.json(
      {
        status: 'redriven' as const,
        execution_id: started.execution_id,
        redrive_of: executionId,
        scan_id: started.scan_id,
        workflow_execution_name: started.workflow_execution_name,
        execution_arn: started.execution_arn,
        message: 'a new scan was started for the failed run',
      },
      202,
    );
  });

  /* @__PURE__ */ registerRoute({
    method: 'post',
    path: '/tenants/:tenant_id/scans',
    summary: 'Scan every active account of a tenant now',
    description: `Starts one scan per active account (optionally of one provider_type), ${TENANT_SCAN_CONCURRENCY} starts at a time, and answers with their execution ids. At most ${TENANT_SCAN_PAGE_SIZE} accounts per request: when next_cursor is set, post again with it as cursor. An account whose scan could not start is listed under failed; accounts with a scan already running are skipped by the scan itself (overlap). At most SCAN_MAX_RUNNING_PER_TENANT scans of a tenant run at once; the others wait, in the order they were started.`,
    tags: TAGS,
    roles: rolesFrom('operator'),
    params: { tenant_id: IdSchema },
    request: TenantScansBodySchema,
    response: TenantScansResponseSchema,
    status: 202,
    idempotent: true,
  });
  app.post('/tenants/:tenant_id/scans', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const requested = parseWith(IdSchema, context.req.param('tenant_id'), 'path parameter tenant_id');
    const tenantId = tenantScope(caller, requested);
    const body = await parseOptionalJsonBody(context, TenantScansBodySchema);
    const tenant = await tenants.get(tenantId);
    if (!tenant) throw new NotFoundError('tenant', tenantId);
    if (tenant.status !== 'active') {
      throw new ConflictError(
        `tenant ${tenantId} is ${tenant.status}: only an active tenant can be scanned`,
        'status',
      );
    }
    const token = context.get('idempotencyToken');
    const page = await accounts.listByTenant(tenantId, {
      status: 'active',
      ...(body.provider_type ? { provider_type: body.provider_type } : {}),
      page: { limit: TENANT_SCAN_PAGE_SIZE, cursor: body.cursor },
    });
    const outcomes = await mapConcurrently(page.items, TENANT_SCAN_CONCURRENCY, async (account) => {
      try {
        return {
          started: await startUnslottedScan(
            services,
            { tenant_id: tenantId, account_id: account.account_id, schedule_id: null, triggered_by: 'api' },
            'api',
            token ? deterministicId('scan-execution', `${token}|${account.account_id}`) : newId(),
          ),
        };
      } catch (error) {
        services.logger.warn('could not start the scan of an account', {
          tenant_id: tenantId,
          account_id: account.account_id,
          error: error instanceof DomainError ? { name: error.name, message: error.message } : error,
        });
        return {
          failed: {
            account_id: account.account_id,
            code: error instanceof DomainError ? error.code : 'internal_error',
            message: error instanceof DomainError ? error.message : 'the scan could not be started',
          },
        };
      }
    });
    const started = outcomes.flatMap((outcome) => (outcome.started ? [outcome.started] : []));
    const failed = outcomes.flatMap((outcome) => (outcome.failed ? [outcome.failed] : []));
    services.logger.info('tenant scans started', {
      tenant_id: tenantId,
      started: started.length,
      failed: failed.length,
      by: caller.subject,
    });
    return context.json(
      { tenant_id: tenantId, started, failed, count: started.length, next_cursor: page.next_cursor },
      202,
    );
  });

  return app;
}
