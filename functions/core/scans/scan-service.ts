import { type ProviderType, toIsoUtc } from '../../../schemas/common';
import type { Execution, ExecutionStatus } from '../../../schemas/execution';
import type { ScanType } from '../../../schemas/scan-result';
import type {
  ClaimScanInput,
  ClaimScanOutput,
  EngineState,
  EngineStepInput,
  FailScanInput,
  ScanContext,
  ScanRequest,
  StartScanInput,
} from '../../../schemas/workflow-payloads';
import { DomainError, NotFoundError } from '../errors';
import { deterministicId } from '../ids';
import { publishScanOutcome } from '../notifications/domain-events';
import type { ExecutionRepository } from '../repositories/execution-repository';
import { type RunOutcomeDependencies, recordOutcomeAndAutoPause } from '../scheduling/run-outcome';
import { describeFailure } from '../task-failure';
import type { WorkflowDependencies } from '../workflow-dependencies';
import { nextPollWaitSeconds } from './scan-settings';

/** What the scan steps use: the workflow dependencies without the provider validator. */
export type ScanDependencies = Omit<WorkflowDependencies, 'validator'>;

/** A scan that ran past its deadline (the workflow records it as timed out). */
export class ScanTimedOutError extends DomainError {
  override readonly name = 'ScanTimedOutError';
  readonly code = 'dependency_unavailable';
  constructor(
    readonly executionId: string,
    readonly seconds: number,
  ) {
    super(`the scan was still running after ${seconds} seconds and was given up`);
  }
}

/** The engine reported the scan itself failed or was cancelled. */
export class EngineScanFailedError extends DomainError {
  override readonly name = 'EngineScanFailedError';
  readonly code = 'dependency_unavailable';
  constructor(message: string) {
    super(message);
  }
}

/** Counting a run on its schedule may pause it (consecutive failures) or end it (one-time). */
function runOutcomeDependencies(deps: ScanDependencies): RunOutcomeDependencies {
  return {
    schedules: deps.schedules,
    scheduler: deps.scheduler,
    clock: deps.clock,
    logger: deps.logger,
    settings: { autoPauseAfterFailuresDefault: deps.settings.autoPauseAfterFailures },
  };
}

/** One slot of a schedule: its scheduled time truncated to the minute. */
export function scanSlotOf(scheduledTime: string): string {
  return `${scheduledTime.slice(0, 16)}Z`;
}

/**
 * The execution record's id: one per (schedule, slot) so duplicate starts meet on one record;
 * one per workflow execution otherwise (the API may also choose it up front).
 */
export function executionIdFor(request: ScanRequest, workflowExecutionName: string): string {
  if (request.execution_id) return request.execution_id;
  if (request.schedule_id && request.scheduled_time) {
    return deterministicId('scan-execution', `${request.schedule_id}|${scanSlotOf(request.scheduled_time)}`);
  }
  return deterministicId('scan-execution', workflowExecutionName);
}

/**
 * Writes the record of a scan just started by a client (manual trigger, redrive, tenant fan-out)
 * before its id is returned, so the run can be followed and cancelled at once; the claim task
 * then finds it as its own (same workflow execution ARN). A no-op when the claim came first.
 */
export async function recordStartedScan(
  executions: Pick<ExecutionRepository, 'create'>,
  started: {
    execution_id: string;
    request: Pick<
      ScanRequest,
      'tenant_id' | 'account_id' | 'schedule_id' | 'triggered_by' | 'scheduled_time'
    >;
    provider_type?: ProviderType | undefined;
    workflow_execution_name: string;
    workflow_execution_arn: string;
    started_at: string;
  },
): Promise<void> {
  await executions.create({
    execution_id: started.execution_id,
    schedule_id: started.request.schedule_id ?? null,
    account_id: started.request.account_id,
    tenant_id: started.request.tenant_id,
    ...(started.provider_type ? { provider_type: started.provider_type } : {}),
    started_at: started.started_at,
    status: 'running',
    triggered_by: started.request.triggered_by,
    scheduled_time: started.request.scheduled_time ?? null,
    workflow_execution_name: started.workflow_execution_name,
    workflow_execution_arn: started.workflow_execution_arn,
    current_step: 'starting',
    progress_percent: 0,
  });
}

/** Scan results are one per execution. */
export function scanIdFor(executionId: string): string {
  return deterministicId('scan-result', executionId);
}

const scanTypeOf = (triggeredBy: ScanRequest['triggered_by']): ScanType =>
  triggeredBy === 'scheduler' ? 'scheduled' : triggeredBy === 'manual' ? 'manual' : 'on_demand';

/**
 * Claims the slot (a conditional create of the execution record), checks the account and schedule
 * are active and takes the account's scan lock. Everything that ends the run here is recorded.
 */
export async function claimScan(deps: ScanDependencies, input: ClaimScanInput): Promise<ClaimScanOutput> {
  const { request } = input;
  const executionId = executionIdFor(request, input.workflow_execution_name);
  const now = toIsoUtc(deps.clock());
  const log = deps.logger.child({ execution_id: executionId, account_id: request.account_id });

  const [account, schedule] = await Promise.all([
    deps.accounts.get(request.account_id),
    request.schedule_id ? deps.schedules.get(request.schedule_id) : Promise.resolve(undefined),
  ]);
  if (!account || account.tenant_id !== request.tenant_id)
    throw new NotFoundError('account', request.account_id);
  if (request.schedule_id && (!schedule || schedule.account_id !== account.account_id)) {
    throw new NotFoundError('schedule', request.schedule_id);
  }

  const { created, execution } = await deps.executions.create({
    execution_id: executionId,
    schedule_id: request.schedule_id ?? null,
    account_id: account.account_id,
    tenant_id: account.tenant_id,
    provider_type: account.provider_type,
    started_at: now,
    status: 'running',
    triggered_by: request.triggered_by,
    scheduled_time: request.scheduled_time ?? null,
    workflow_execution_name: input.workflow_execution_name,
    workflow_execution_arn: input.workflow_execution_arn,
    current_step: 'claimed',
    progress_percent: 0,
  });
  // A retry of this very task, or a buffered run coming back, finds its own record and carries
  // on from the checks below. Anyone else is a duplicate start of the slot.
  const ownRecord =
    !created &&
    execution.workflow_execution_arn === input.workflow_execution_arn &&
    execution.status === 'running';
  if (!created && !ownRecord) {
    log.info('duplicate scan start ignored', { existing_status: execution.status });
    return { outcome: 'duplicate', execution_id: executionId };
  }

  if (account.status !== 'active') {
    await finishWithoutScan(
      deps,
      execution,
      'skipped',
      'account_not_active',
      `the account is ${account.status}`,
    );
    return { outcome: 'account_not_active', execution_id: executionId };
  }
  if (schedule && (schedule.status !== 'active' || schedule.enabled !== 'true')) {
    await finishWithoutScan(
      deps,
      execution,
      'skipped',
      'schedule_not_active',
      `the schedule is ${schedule.status}`,
    );
    return { outcome: 'schedule_not_active', execution_id: executionId };
  }

  const locked = await deps.accounts.acquireScanLock(
    account.account_id,
    executionId,
    deps.settings.lockLeaseSeconds,
  );
  const waitedSeconds = (deps.clock().getTime() - Date.parse(execution.started_at)) / 1000;
  /** Ends the run as skipped because of the account's running scan, counted on its schedule. */
  const skipOverlap = async (errorCode: string, reason: string): Promise<ClaimScanOutput> => {
    await finishWithoutScan(deps, execution, 'skipped', errorCode, reason);
    if (schedule)
      await recordOutcomeAndAutoPause(runOutcomeDependencies(deps), schedule.schedule_id, 'skipped', {
        last_run_at: now,
      });
    return { outcome: 'skipped_overlap', execution_id: executionId };
  };
  /** The workflow waits and claims again; the run shows what it waits for. */
  const waitAndClaimAgain = async (
    outcome: 'buffered' | 'queued',
    step: 'waiting_for_running_scan' | 'waiting_for_tenant_scans',
  ): Promise<ClaimScanOutput> => {
    if (execution.current_step !== step) {
      await deps.executions.recordProgress(executionId, { current_step: step, progress_percent: 0 });
    }
    return { outcome, execution_id: executionId, wait_seconds: deps.settings.waitingRecheckSeconds };
  };
  if (
    !locked &&
    execution.current_step === 'waiting_for_running_scan' &&
    waitedSeconds > deps.settings.maxBufferedWaitSeconds
  ) {
    return skipOverlap(
      'buffer_wait_exceeded',
      `the scan of this account still running after this run waited ${deps.settings.maxBufferedWaitSeconds} seconds for it`,
    );
  }
  if (!locked && schedule?.overlap_policy === 'buffer_one') {
    // One run may wait behind the running scan; the workflow waits and claims again.
    const buffered = await deps.accounts.acquireScanBuffer(
      account.account_id,
      executionId,
      deps.settings.lockLeaseSeconds * 2,
    );
    if (buffered) return waitAndClaimAgain('buffered', 'waiting_for_running_scan');
  }
  if (locked && ownRecord && execution.current_step === 'waiting_for_running_scan') {
    await deps.accounts.releaseScanBuffer(account.account_id, executionId);
  }
  if (!locked) {
    return skipOverlap(
      'overlap_skipped',
      `another scan of this account is running (overlap policy: ${schedule?.overlap_policy === 'buffer_one' ? 'buffer one, and one run already waits' : 'skip'})`,
    );
  }
  const bound = deps.settings.maxRunningScansPerTenant;
  if (bound > 0 && deps.tenantScanSlots) {
    // The account is locked for this run meanwhile, so a later run of it cannot go first either.
    const slot = await deps.tenantScanSlots.acquire(account.tenant_id, executionId, bound, {
      runLeaseSeconds: deps.settings.maxScanSeconds + deps.settings.lockLeaseSeconds,
      waitLeaseSeconds: Math.max(60, deps.settings.waitingRecheckSeconds * 6),
    });
    if (!slot.admitted) return waitAndClaimAgain('queued', 'waiting_for_tenant_scans');
  }
  // The engine is chosen by provider: an account without one cannot be scanned.
  if (!account.provider_type) throw new NotFoundError('account', account.account_id);
  return {
    outcome: 'claimed',
    execution_id: executionId,
    scan: {
      tenant_id: account.tenant_id,
      account_id: account.account_id,
      provider_type: account.provider_type,
      account_number: account.account_number ?? null,
      account_name: account.account_name,
      schedule_id: schedule?.schedule_id ?? null,
      triggered_by: execution.triggered_by,
      started_at: execution.started_at,
      regions: schedule?.regions ?? [],
      services: schedule?.services ?? [],
      exclude_services: schedule?.exclude_services ?? [],
    },
  };
}

async function finishWithoutScan(
  deps: ScanDependencies,
  execution: Execution,
  status: ExecutionStatus,
  code: string,
  message: string,
): Promise<void> {
  await deps.executions.finish(execution.execution_id, status, { error_code: code, error_message: message });
  // A buffered run that ends here gives its waiting place back (a no-op for the others).
  if (execution.current_step === 'waiting_for_running_scan') {
    await deps.accounts.releaseScanBuffer(execution.account_id, execution.execution_id);
  }
}

/** Sends the scan to the provider's engine; the credentials exist only inside this call. */
export async function startScan(deps: ScanDependencies, input: StartScanInput): Promise<EngineState> {
  const [scan, secret] = await Promise.all([
    input.scan ?? scanContextFromRecords(deps, input.execution_id, input.account_id),
    deps.secretStore.read(input.account_id),
  ]);
  const accountNumber = input.validation?.account_number ?? scan.account_number;
  if (!accountNumber) throw new NotFoundError('account', input.account_id);

  const startedAt = toIsoUtc(deps.clock());
  const outcome = await deps.engine.startScan({
    provider: scan.provider_type,
    accountNumber,
    credentials: secret.credentials,
    regions: scan.regions,
    services: scan.services,
    excludeServices: scan.exclude_services,
    requestId: input.execution_id,
  });

  if (outcome.kind === 'completed') {
    const { scan_id, ...counts } = outcome.summary;
    await deps.executions.recordProgress(input.execution_id, {
      current_step: 'engine_completed',
      progress_percent: 90,
      engine_scan_id: scan_id,
    });
    return {
      status: 'completed',
      engine_scan_id: scan_id,
      started_at: startedAt,
      polls: 0,
      wait_seconds: 1,
      summary: counts,
    };
  }
  await deps.executions.recordProgress(input.execution_id, {
    current_step: 'engine_running',
    progress_percent: 10,
    engine_scan_id: outcome.scanId,
  });
  return {
    status: 'running',
    engine_scan_id: outcome.scanId,
    started_at: startedAt,
    polls: 0,
    wait_seconds: nextPollWaitSeconds(deps.settings, 0),
  };
}

/** One poll of an asynchronous engine: progress, lock renewal, deadline, and the summary at the end. */
export async function pollScan(deps: ScanDependencies, input: EngineStepInput): Promise<EngineState> {
  const { engine } = input;
  const account = await deps.accounts.get(input.account_id);
  if (!account?.provider_type) throw new NotFoundError('account', input.account_id);
  const status = await deps.engine.getStatus(account.provider_type, engine.engine_scan_id);
  const polls = engine.polls + 1;

  if (status.status === 'completed') {
    const { scan_id: _scanId, ...summary } = await deps.engine.getSummary(
      account.provider_type,
      engine.engine_scan_id,
    );
    return { ...engine, status: 'completed', polls, summary };
  }
  if (status.status === 'failed' || status.status === 'cancelled') {
    throw new EngineScanFailedError(
      `the engine reported the scan ${status.status}${status.message ? `: ${status.message.slice(0, 200)}` : ''}`,
    );
  }

  const elapsedSeconds = (deps.clock().getTime() - Date.parse(engine.started_at)) / 1000;
  if (elapsedSeconds > deps.settings.maxScanSeconds) {
    await deps.engine.cancel(account.provider_type, engine.engine_scan_id).catch((error: unknown) => {
      deps.logger.warn('could not cancel a timed-out scan on the engine', {
        execution_id: input.execution_id,
        error,
      });
    });
    throw new ScanTimedOutError(input.execution_id, deps.settings.maxScanSeconds);
  }

  await Promise.all([
    deps.accounts.renewScanLock(account.account_id, input.execution_id, deps.settings.lockLeaseSeconds),
    deps.executions.recordProgress(input.execution_id, {
      current_step: 'engine_running',
      progress_percent: Math.max(10, Math.min(89, Math.round(status.progress ?? 10))),
      engine_scan_id: engine.engine_scan_id,
    }),
  ]);
  return { ...engine, status: 'running', polls, wait_seconds: nextPollWaitSeconds(deps.settings, polls) };
}

/** Writes the scan-result metadata, completes the execution, counts the success, frees the lock. */
export async function completeScan(
  deps: ScanDependencies,
  input: EngineStepInput,
): Promise<{ scan_id: string }> {
  const execution = input.scan
    ? { ...input.scan, execution_id: input.execution_id }
    : await requireExecution(deps, input.execution_id);
  const summary = input.engine.summary ?? {
    total_checks: 0,
    passed_checks: 0,
    failed_checks: 0,
    error_checks: 0,
  };
  const completedAt = toIsoUtc(deps.clock());
  const scanId = scanIdFor(execution.execution_id);

  await deps.scanResults.create({
    scan_id: scanId,
    account_id: execution.account_id,
    tenant_id: execution.tenant_id,
    provider_type: execution.provider_type ?? 'aws',
    scan_type: scanTypeOf(execution.triggered_by),
    started_at: input.engine.started_at,
    completed_at: completedAt,
    status: 'completed',
    ...summary,
    execution_id: execution.execution_id,
    schedule_id: execution.schedule_id ?? null,
    engine_scan_id: input.engine.engine_scan_id,
    metadata: { engine_polls: input.engine.polls },
  });
  // The account is free before the run reads as completed: a scan asked for on seeing it is not skipped.
  await Promise.all([
    deps.accounts.releaseScanLock(execution.account_id, execution.execution_id),
    releaseTenantSlot(deps, execution),
  ]);
  const { finishedNow } = await deps.executions.finishOnce(
    execution.execution_id,
    'completed',
    {
      scan_id: scanId,
      engine_scan_id: input.engine.engine_scan_id,
      total_checks: summary.total_checks,
      passed_checks: summary.passed_checks,
      failed_checks: summary.failed_checks,
      current_step: 'completed',
      progress_percent: 100,
    },
    { startedAt: execution.started_at },
  );
  // A retry of this step after the run was completed counts and announces nothing a second time.
  if (!finishedNow) return { scan_id: scanId };
  const outcome = execution.schedule_id
    ? await recordOutcomeAndAutoPause(runOutcomeDependencies(deps), execution.schedule_id, 'success', {
        last_run_at: execution.started_at,
      })
    : undefined;
  await publishScanOutcome(
    deps,
    execution,
    { status: 'completed' },
    {
      ...(outcome ? { schedule: outcome.schedule } : {}),
      accountName: input.scan?.account_name,
    },
  );
  return { scan_id: scanId };
}

/**
 * Records a failed run: the execution (created here when the claim itself failed), a failed scan
 * result when the engine had started, the schedule's failure counters, and frees the lock.
 */
export async function failScan(
  deps: ScanDependencies,
  input: FailScanInput,
): Promise<{ status: ExecutionStatus }> {
  const { request } = input;
  const failure = describeFailure(request.failure);
  const status: ExecutionStatus = failure.error_name === 'ScanTimedOutError' ? 'timed_out' : 'failed';
  const executionId =
    request.claim?.execution_id ??
    (request.account_id && request.tenant_id && request.triggered_by
      ? executionIdFor(
          {
            tenant_id: request.tenant_id,
            account_id: request.account_id,
            schedule_id: request.schedule_id ?? null,
            scheduled_time: request.scheduled_time ?? null,
            triggered_by: request.triggered_by as ScanRequest['triggered_by'],
            execution_id: request.execution_id ?? null,
          },
          input.workflow_execution_name,
        )
      : deterministicId('scan-execution', input.workflow_execution_name));
  await recordScanFailure(deps, {
    executionId,
    status,
    errorCode: failure.error_code,
    errorMessage: failure.error_message,
    credentialsRejected: failure.error_name === 'CredentialValidationError',
    engine: request.engine,
    fallback: {
      account_id: request.account_id ?? 'unknown',
      schedule_id: request.schedule_id ?? null,
      triggered_by: request.triggered_by,
      workflow_execution_name: input.workflow_execution_name,
    },
  });
  return { status };
}

export interface ScanFailureRecord {
  executionId: string;
  status: ExecutionStatus;
  errorCode: string;
  errorMessage: string;
  /** The provider refused the credentials (notified as such). */
  credentialsRejected?: boolean;
  engine?: EngineState | undefined;
  /** Used to create the record when the run failed before its claim wrote one. */
  fallback?: {
    account_id: string;
    schedule_id: string | null;
    triggered_by?: string | undefined;
    workflow_execution_name: string;
  };
}

/** Shared by the failure state and the terminated-execution handler (timeouts, aborts). */
export async function recordScanFailure(deps: ScanDependencies, record: ScanFailureRecord): Promise<void> {
  const now = toIsoUtc(deps.clock());
  let execution = await deps.executions.get(record.executionId);
  if (!execution && record.fallback) {
    const created = await deps.executions.create({
      execution_id: record.executionId,
      account_id: record.fallback.account_id,
      schedule_id: record.fallback.schedule_id,
      started_at: now,
      status: 'running',
      triggered_by:
        record.fallback.triggered_by === 'manual' || record.fallback.triggered_by === 'api'
          ? record.fallback.triggered_by
          : 'scheduler',
      workflow_execution_name: record.fallback.workflow_execution_name,
    });
    execution = created.execution;
  }
  if (!execution) return;
  if (execution.status !== 'running') return; // Already recorded (a retry of this step, or a duplicate).

  const engineScanId = record.engine?.engine_scan_id ?? execution.engine_scan_id ?? null;
  const scanId = engineScanId ? scanIdFor(execution.execution_id) : null;
  if (scanId && execution.provider_type) {
    await deps.scanResults.create({
      scan_id: scanId,
      account_id: execution.account_id,
      tenant_id: execution.tenant_id,
      provider_type: execution.provider_type,
      scan_type: scanTypeOf(execution.triggered_by),
      started_at: record.engine?.started_at ?? execution.started_at,
      completed_at: now,
      status:
        record.status === 'timed_out' ? 'timed_out' : record.status === 'cancelled' ? 'cancelled' : 'failed',
      total_checks: 0,
      passed_checks: 0,
      failed_checks: 0,
      error_checks: 0,
      execution_id: execution.execution_id,
      schedule_id: execution.schedule_id ?? null,
      engine_scan_id: engineScanId,
      metadata: { error_code: record.errorCode },
    });
  }
  // The account is free before the run reads as ended: a scan asked for on seeing it is not skipped.
  await Promise.all([
    deps.accounts.releaseScanLock(execution.account_id, execution.execution_id),
    deps.accounts.releaseScanBuffer(execution.account_id, execution.execution_id),
    releaseTenantSlot(deps, execution),
  ]);
  await deps.executions.finish(execution.execution_id, record.status, {
    error_code: record.errorCode,
    error_message: record.errorMessage,
    ...(scanId ? { scan_id: scanId } : {}),
  });
  const outcome = execution.schedule_id
    ? await recordOutcomeAndAutoPause(runOutcomeDependencies(deps), execution.schedule_id, 'failure', {
        last_run_at: execution.started_at,
      })
    : undefined;
  await publishScanOutcome(
    deps,
    execution,
    {
      status: record.status,
      reason: { code: record.errorCode, message: record.errorMessage },
      credentialsRejected: record.credentialsRejected ?? false,
      schedulePaused:
        outcome?.auto_paused && outcome.counters
          ? { consecutiveFailures: outcome.counters.consecutive_failures }
          : undefined,
    },
    outcome ? { schedule: outcome.schedule } : {},
  );
}

/** Frees the run's place among the tenant's running (or waiting) scans, when they are bounded. */
function releaseTenantSlot(
  deps: ScanDependencies,
  execution: Pick<Execution, 'tenant_id' | 'execution_id'>,
): Promise<void> {
  if (deps.settings.maxRunningScansPerTenant <= 0 || !deps.tenantScanSlots || !execution.tenant_id)
    return Promise.resolve();
  return deps.tenantScanSlots.release(execution.tenant_id, execution.execution_id);
}

/** For inputs without the claim's context (executions started before the claim carried it). */
async function scanContextFromRecords(
  deps: ScanDependencies,
  executionId: string,
  accountId: string,
): Promise<ScanContext> {
  const [execution, account] = await Promise.all([
    requireExecution(deps, executionId),
    deps.accounts.get(accountId),
  ]);
  if (!account?.provider_type) throw new NotFoundError('account', accountId);
  const schedule = execution.schedule_id ? await deps.schedules.get(execution.schedule_id) : undefined;
  return {
    tenant_id: execution.tenant_id ?? account.tenant_id,
    account_id: account.account_id,
    provider_type: account.provider_type,
    account_number: account.account_number ?? null,
    schedule_id: execution.schedule_id ?? null,
    triggered_by: execution.triggered_by,
    started_at: execution.started_at,
    regions: schedule?.regions ?? [],
    services: schedule?.services ?? [],
    exclude_services: schedule?.exclude_services ?? [],
  };
}

async function requireExecution(deps: ScanDependencies, executionId: string): Promise<Execution> {
  const execution = await deps.executions.get(executionId);
  if (!execution) throw new NotFoundError('execution', executionId);
  return execution;
}
