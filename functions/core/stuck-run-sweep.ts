import { toIsoUtc } from '../../schemas/common';
import type { Execution } from '../../schemas/execution';
import { NotFoundError } from './errors';
import type { WorkflowExecutionDescription } from './ports/orchestrator';
import { recordScanFailure } from './scans/scan-service';
import { scanWorkflowTimeoutSeconds } from './scans/scan-settings';
import { cancelEngineScan, recordTerminatedExecution } from './terminated-executions';
import type { WorkflowDependencies } from './workflow-dependencies';

/**
 * The stuck-run sweep: "no execution record stays running past its bound" on both targets.
 * Records still `running` after `minAgeSeconds` are compared with what the orchestrator says
 * about their workflow execution; the ones whose execution has ended (the recorder missed it:
 * its event was lost, it failed, the local runtime died) are recorded through the same path as
 * the terminated-execution recorder, and a run past every bound of the scan workflow is recorded
 * timed out whatever the orchestrator says. AWS runs it on a schedule; the local runtime at start.
 */
export interface StuckRunSweepOptions {
  /** Younger records are left alone: their workflow may still be recording them. */
  minAgeSeconds: number;
  /** At most this many records per sweep (the next sweep takes the rest). */
  maxRecords?: number;
}

export interface StuckRunSweepReport {
  examined: number;
  recorded: number;
  stillRunning: number;
  /** Records whose workflow could not be asked about (the next sweep tries again). */
  unresolved: number;
}

/** The slack after the scan workflow's own timeout before a run counts as overrun. */
export const OVERRUN_GRACE_SECONDS = 900;

const DEFAULT_MAX_RECORDS = 200;

export type SweepDependencies = WorkflowDependencies & {
  orchestrator: { describe(executionArn: string): Promise<WorkflowExecutionDescription> };
};

export async function sweepStuckRuns(
  deps: SweepDependencies,
  options: StuckRunSweepOptions,
): Promise<StuckRunSweepReport> {
  const now = deps.clock();
  const startedBefore = toIsoUtc(new Date(now.getTime() - options.minAgeSeconds * 1000));
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  const overrunSeconds = scanWorkflowTimeoutSeconds(deps.settings) + OVERRUN_GRACE_SECONDS;
  const report: StuckRunSweepReport = { examined: 0, recorded: 0, stillRunning: 0, unresolved: 0 };

  let cursor: string | undefined;
  do {
    const page = await deps.executions.listRunningStartedBefore(startedBefore, {
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    for (const execution of page.items) {
      if (report.examined >= maxRecords) return report;
      report.examined += 1;
      const outcome = await settle(deps, execution, now, overrunSeconds).catch((error: unknown) => {
        deps.logger.warn('could not settle a running execution record', {
          execution_id: execution.execution_id,
          error,
        });
        return 'unresolved' as const;
      });
      report[outcome] += 1;
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  if (report.recorded > 0 || report.unresolved > 0) deps.logger.info('stuck-run sweep', { ...report });
  return report;
}

async function settle(
  deps: SweepDependencies,
  execution: Execution,
  now: Date,
  overrunSeconds: number,
): Promise<'recorded' | 'stillRunning'> {
  const log = deps.logger.child({ execution_id: execution.execution_id });
  const description = execution.workflow_execution_arn
    ? await deps.orchestrator.describe(execution.workflow_execution_arn).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      })
    : undefined;
  const ageSeconds = (now.getTime() - Date.parse(execution.started_at)) / 1000;

  if (description?.status === 'RUNNING') {
    if (ageSeconds <= overrunSeconds) return 'stillRunning';
    await recordAndCancel(deps, execution, {
      status: 'timed_out',
      errorCode: 'run_overran',
      errorMessage: `the run was still going ${Math.round(ageSeconds)} seconds after it started, past every bound of the scan workflow`,
    });
    log.warn('recorded an overrunning scan as timed out');
    return 'recorded';
  }

  if (description && description.status !== 'SUCCEEDED') {
    // The recorder's path, with what the orchestrator says (idempotent if the recorder ran meanwhile).
    await recordTerminatedExecution(deps, {
      workflow: 'scan',
      executionArn: description.executionArn,
      name: description.name,
      status: description.status,
      input: (description.input ?? {}) as Record<string, unknown>,
      ...(description.error ? { error: description.error } : {}),
      ...(description.cause ? { cause: description.cause } : {}),
    });
  }
  // Succeeded without completing the record, the workflow is gone, or the recorder matched
  // another record: this record is settled here.
  const current = await deps.executions.get(execution.execution_id);
  if (current?.status === 'running') {
    await recordAndCancel(deps, execution, {
      status: 'failed',
      errorCode: description ? 'workflow_ended_unrecorded' : 'workflow_missing',
      errorMessage: description
        ? `the workflow execution ended ${description.status.toLowerCase().replace('_', ' ')} without recording this run`
        : 'no workflow execution of this run exists any more',
    });
  }
  log.info('settled a stuck run', { workflow_status: description?.status ?? 'missing' });
  return 'recorded';
}

async function recordAndCancel(
  deps: SweepDependencies,
  execution: Execution,
  outcome: { status: 'failed' | 'timed_out'; errorCode: string; errorMessage: string },
): Promise<void> {
  await recordScanFailure(deps, { executionId: execution.execution_id, ...outcome });
  await cancelEngineScan(deps, execution, deps.logger);
}
