import type { Execution, ExecutionStatus } from '../../schemas/execution';
import {
  type ExecutionTerminated,
  OnboardingRequestSchema,
  ScanRequestSchema,
  ValidationRequestSchema,
} from '../../schemas/workflow-payloads';
import { deterministicId } from './ids';
import type { Logger } from './logger';
import { publishUnrecordedEnd } from './notifications/domain-events';
import { failOnboarding, recordValidationFailure } from './onboarding/onboarding-service';
import { RUNTIME_STOPPED_ERROR } from './ports/orchestrator';
import { executionIdFor, recordScanFailure } from './scans/scan-service';
import { describeFailure } from './task-failure';
import type { WorkflowDependencies } from './workflow-dependencies';

const SCAN_STATUS: Record<ExecutionTerminated['status'], ExecutionStatus> = {
  FAILED: 'failed',
  TIMED_OUT: 'timed_out',
  ABORTED: 'cancelled',
};

const CODE: Record<ExecutionTerminated['status'], string> = {
  FAILED: 'workflow_failed',
  TIMED_OUT: 'workflow_timed_out',
  ABORTED: 'workflow_aborted',
};

/**
 * The backstop that keeps "nothing left running" true when an execution ends outside its own
 * states (execution timeout, a stop request, the local runtime dying, an unhandled failure).
 * Idempotent: records that are already terminal are left as they are.
 */
export async function recordTerminatedExecution(
  deps: WorkflowDependencies,
  event: ExecutionTerminated,
): Promise<{ recorded: boolean }> {
  const failure =
    event.status === 'FAILED' && event.error
      ? describeFailure({ Error: event.error, Cause: event.cause ?? '' })
      : {
          error_code: CODE[event.status],
          error_message:
            event.cause?.slice(0, 300) ||
            `the workflow execution ended ${event.status.toLowerCase().replace('_', ' ')}`,
        };
  const log = deps.logger.child({
    workflow: event.workflow,
    workflow_execution_name: event.name,
    status: event.status,
  });

  // The runtime itself went away (local: stopped or crashed mid-run): aborted, not cancelled.
  const runtimeStopped = event.status === 'ABORTED' && event.error === RUNTIME_STOPPED_ERROR;
  if (runtimeStopped) failure.error_code = 'runtime_stopped';
  // A stop request (a cancel through the API) is expected: operators hear of the other endings.
  const tellOperators = (ended: Parameters<typeof publishUnrecordedEnd>[1]) =>
    event.status === 'ABORTED' && !runtimeStopped ? Promise.resolve() : publishUnrecordedEnd(deps, ended);

  if (event.workflow === 'scan') {
    const request = ScanRequestSchema.safeParse(event.input);
    const executionId = request.success
      ? executionIdFor(request.data, event.name)
      : deterministicId('scan-execution', event.name);
    const execution = await deps.executions.get(executionId);
    if (execution?.status !== 'running') return { recorded: false };
    // Record first: a hanging engine must not keep the record running (the cancel is bounded
    // by this invocation's time and may fail; the record never waits for it).
    await recordScanFailure(deps, {
      executionId,
      status: runtimeStopped ? 'aborted' : SCAN_STATUS[event.status],
      errorCode: failure.error_code,
      errorMessage: failure.error_message,
    });
    log.info('recorded a terminated scan execution', { execution_id: executionId });
    await tellOperators({
      workflow: event.workflow,
      workflowExecutionName: event.name,
      status: event.status,
      accountId: execution.account_id,
      tenantId: execution.tenant_id ?? null,
      executionId,
      reason: { code: failure.error_code, message: failure.error_message },
    });
    await cancelEngineScan(deps, execution, log);
    return { recorded: true };
  }

  if (event.workflow === 'onboarding') {
    const request = OnboardingRequestSchema.safeParse(event.input);
    if (!request.success) return { recorded: false };
    const account = await deps.accounts.get(request.data.account_id);
    if (
      account?.onboarding_status !== 'in_progress' ||
      account.onboarding_id !== request.data.onboarding_id
    ) {
      return { recorded: false };
    }
    await failOnboarding(deps, {
      account_id: request.data.account_id,
      onboarding_id: request.data.onboarding_id,
      secret_version_id: request.data.secret_version_id,
      failure: { Error: failure.error_code, Cause: `[${failure.error_code}] ${failure.error_message}` },
    });
    await tellOperators({
      workflow: event.workflow,
      workflowExecutionName: event.name,
      status: event.status,
      accountId: request.data.account_id,
      tenantId: request.data.tenant_id ?? null,
      executionId: null,
      reason: { code: failure.error_code, message: failure.error_message },
    });
    return { recorded: true };
  }

  const request = ValidationRequestSchema.safeParse(event.input);
  if (!request.success) return { recorded: false };
  await recordValidationFailure(deps, {
    account_id: request.data.account_id,
    failure: { Error: failure.error_code, Cause: `[${failure.error_code}] ${failure.error_message}` },
  });
  return { recorded: true };
}

/** Best effort: asks the engine to stop a scan whose workflow has ended; never throws. */
export async function cancelEngineScan(
  deps: Pick<WorkflowDependencies, 'engine'>,
  execution: Pick<Execution, 'engine_scan_id' | 'provider_type'>,
  log: Logger,
): Promise<void> {
  if (!execution.engine_scan_id || !execution.provider_type) return;
  await deps.engine.cancel(execution.provider_type, execution.engine_scan_id).catch((error: unknown) => {
    log.warn('could not cancel the engine scan of a terminated execution', { error });
  });
}
