import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../functions/core/errors';
import type { WorkflowExecutionDescription } from '../../../functions/core/ports/orchestrator';
import { scanWorkflowTimeoutSeconds } from '../../../functions/core/scans/scan-settings';
import { OVERRUN_GRACE_SECONDS, sweepStuckRuns } from '../../../functions/core/stuck-run-sweep';
import { WorkflowHarness } from '../../support/workflow-harness';

const HOUR_MS = 3600 * 1000;

describe('Function: sweepStuckRuns', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start();
  });
  afterAll(async () => {
    await harness.close();
  });

  /** A scan record still `running`, as a lost recorder event or a dead runtime leaves it. */
  async function runningRecord(options: { startedHoursAgo: number; workflowExecutionArn?: string }) {
    const { tenant, account } = await harness.activeAccount('aws');
    const { execution } = await harness.repositories.executions.create({
      account_id: account.account_id,
      tenant_id: tenant.tenant_id,
      provider_type: 'aws',
      triggered_by: 'api',
      started_at: new Date(Date.now() - options.startedHoursAgo * HOUR_MS).toISOString(),
      workflow_execution_name: `stuck-${Math.random().toString(36).slice(2, 10)}`,
      ...(options.workflowExecutionArn ? { workflow_execution_arn: options.workflowExecutionArn } : {}),
    });
    await harness.repositories.accounts.acquireScanLock(account.account_id, execution.execution_id, 900);
    return { tenant, account, execution };
  }

  const statusOf = async (executionId: string) => harness.repositories.executions.get(executionId);

  it('records a run whose workflow ended (here: succeeded without completing it) and frees its account', async () => {
    // Prepare: a real execution that has ended, and a record of it still running
    const { tenant, account } = await harness.activeAccount('aws');
    const { description } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api',
    });
    const stuck = await runningRecord({ startedHoursAgo: 2, workflowExecutionArn: description.executionArn });

    // Act
    const report = await sweepStuckRuns(
      { ...harness.dependencies, orchestrator: harness.workflows },
      { minAgeSeconds: 900 },
    );

    // Assess
    expect(report.recorded).toBeGreaterThanOrEqual(1);
    expect(await statusOf(stuck.execution.execution_id)).toMatchObject({
      status: 'failed',
      error_code: 'workflow_ended_unrecorded',
    });
    expect(
      await harness.repositories.accounts.acquireScanLock(stuck.account.account_id, 'next-run', 900),
    ).toBe(true);
  });

  it('records, through the recorder path, a run whose workflow timed out without the recorder hearing of it', async () => {
    // Prepare
    const arn = `arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:timed-out-${Date.now()}`;
    const stuck = await runningRecord({ startedHoursAgo: 7, workflowExecutionArn: arn });
    const orchestrator = {
      describe: async (executionArn: string): Promise<WorkflowExecutionDescription> => {
        if (executionArn !== arn) throw new NotFoundError('workflow execution', executionArn);
        return {
          workflow: 'scan',
          name: arn.slice(arn.lastIndexOf(':') + 1),
          executionArn: arn,
          status: 'TIMED_OUT',
          startedAt: stuck.execution.started_at,
          input: {
            tenant_id: stuck.tenant.tenant_id,
            account_id: stuck.account.account_id,
            triggered_by: 'api',
            execution_id: stuck.execution.execution_id,
          },
        };
      },
    };

    // Act
    await sweepStuckRuns({ ...harness.dependencies, orchestrator }, { minAgeSeconds: 900 });

    // Assess
    expect(await statusOf(stuck.execution.execution_id)).toMatchObject({
      status: 'timed_out',
      error_code: 'workflow_timed_out',
    });
  });

  it('records a run whose workflow execution no longer exists', async () => {
    // Prepare
    const stuck = await runningRecord({
      startedHoursAgo: 3,
      workflowExecutionArn: 'arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:gone',
    });

    // Act
    await sweepStuckRuns(
      { ...harness.dependencies, orchestrator: harness.workflows },
      { minAgeSeconds: 900 },
    );

    // Assess
    expect(await statusOf(stuck.execution.execution_id)).toMatchObject({
      status: 'failed',
      error_code: 'workflow_missing',
    });
  });

  it('leaves young records and runs still within their bounds alone, and times out a run past every bound', async () => {
    // Prepare
    const overrunHours =
      (scanWorkflowTimeoutSeconds(harness.dependencies.settings) + OVERRUN_GRACE_SECONDS) / 3600 + 1;
    const arn = (name: string) =>
      `arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:${name}`;
    const young = await runningRecord({
      startedHoursAgo: 0,
      workflowExecutionArn: arn(`young-${Date.now()}`),
    });
    const within = await runningRecord({
      startedHoursAgo: 1,
      workflowExecutionArn: arn(`within-${Date.now()}`),
    });
    const overrun = await runningRecord({
      startedHoursAgo: overrunHours,
      workflowExecutionArn: arn(`overrun-${Date.now()}`),
    });
    const stillRunning = {
      describe: async (executionArn: string): Promise<WorkflowExecutionDescription> => ({
        workflow: 'scan',
        name: executionArn.slice(executionArn.lastIndexOf(':') + 1),
        executionArn,
        status: 'RUNNING',
        startedAt: new Date().toISOString(),
        input: {},
      }),
    };

    // Act
    await sweepStuckRuns(
      {
        ...harness.dependencies,
        orchestrator: stillRunning,
      },
      { minAgeSeconds: 900 },
    );

    // Assess
    expect((await statusOf(young.execution.execution_id))?.status).toBe('running');
    expect((await statusOf(overrun.execution.execution_id))?.status).toBe('timed_out');
    expect((await statusOf(overrun.execution.execution_id))?.error_code).toBe('run_overran');
    expect((await statusOf(within.execution.execution_id))?.status).toBe('running');
  });
});
