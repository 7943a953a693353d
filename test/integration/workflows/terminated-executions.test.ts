import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTerminatedExecution } from '../../../functions/core/terminated-executions';
import type { DomainEvent } from '../../../schemas/domain-event';
import { ExecutionTerminatedEventSchema } from '../../../schemas/workflow-payloads';
import { fakeAwsIamRoleCredentials } from '../../fixtures/credentials';
import { WorkflowHarness } from '../../support/workflow-harness';

/** What the EventBridge rule delivers on AWS when an execution ends without its states recording it. */
function eventBridgeEvent(workflow: string, name: string, status: string, input: unknown) {
  return {
    version: '0',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    detail: {
      executionArn: `arn:aws:states:ap-south-1:111122223333:execution:threat-engine-${workflow}:${name}`,
      stateMachineArn: `arn:aws:states:ap-south-1:111122223333:stateMachine:threat-engine-${workflow}`,
      name,
      status,
      input: JSON.stringify(input),
      error: null,
      cause: null,
    },
  };
}

describe('Function: recordTerminatedExecution', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('reads the EventBridge execution-status event AWS sends', () => {
    const event = ExecutionTerminatedEventSchema.parse(
      eventBridgeEvent('onboarding', 'onboard-a-1', 'TIMED_OUT', { account_id: 'a-1' }),
    );

    expect(event).toMatchObject({
      workflow: 'onboarding',
      name: 'onboard-a-1',
      status: 'TIMED_OUT',
      input: { account_id: 'a-1' },
    });
  });

  it('fails an onboarding that timed out, discarding its staged credentials, and is idempotent', async () => {
    // Prepare: an onboarding left in progress with staged credentials
    const { tenant, account } = await harness.createAccount('aws');
    const requestToken = 'timed-out-onboarding';
    const staged = await harness.secretStore.stage(
      account.account_id,
      {
        credential_type: 'aws_iam_role',
        credentials: fakeAwsIamRoleCredentials(),
        account_id: account.account_id,
        created_at: new Date().toISOString(),
        expires_at: null,
      },
      requestToken,
    );
    await harness.repositories.accounts.beginOnboarding(account.account_id, 'onboarding-1');
    const input = {
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      onboarding_id: 'onboarding-1',
      secret_version_id: staged.versionId,
      first_schedule: null,
    };
    const event = ExecutionTerminatedEventSchema.parse(
      eventBridgeEvent('onboarding', 'onboard-x', 'TIMED_OUT', input),
    );

    // Act
    const first = await recordTerminatedExecution(harness.dependencies, event);
    const again = await recordTerminatedExecution(harness.dependencies, event);

    // Assess
    expect(first.recorded).toBe(true);
    expect(again.recorded).toBe(false);
    expect(await harness.repositories.accounts.get(account.account_id)).toMatchObject({
      onboarding_status: 'failed',
      onboarding_error_code: 'workflow_timed_out',
    });
    expect((await harness.secretStore.describe(account.account_id))?.pendingVersionId).toBeUndefined();
  });

  it('leaves a scan that its own states already recorded as it is', async () => {
    const { tenant, account } = await harness.activeAccount('aws');
    const request = {
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api' as const,
    };
    const { description } = await harness.runScan(request, 'scan-already-recorded');

    const result = await recordTerminatedExecution(
      harness.dependencies,
      ExecutionTerminatedEventSchema.parse(eventBridgeEvent('scan', description.name, 'ABORTED', request)),
    );

    expect(result.recorded).toBe(false);
    expect((await harness.repositories.executions.listByAccount(account.account_id)).items[0]?.status).toBe(
      'completed',
    );
  });

  it('records a timed-out scan before asking its engine to cancel, so a hanging engine cannot keep it running', async () => {
    // Prepare: a scan the engine is running, whose workflow then timed out
    const { tenant, account } = await harness.activeAccount('aws');
    const executions = harness.repositories.executions;
    const { execution } = await executions.create({
      account_id: account.account_id,
      tenant_id: tenant.tenant_id,
      provider_type: 'aws',
      triggered_by: 'api',
      workflow_execution_name: 'scan-engine-hangs',
    });
    await executions.recordProgress(execution.execution_id, {
      current_step: 'engine_running',
      progress_percent: 40,
      engine_scan_id: 'engine-scan-7',
    });
    const statusWhenCancelled: string[] = [];
    const engine = harness.dependencies.engine;
    const hangingOnCancel = {
      startScan: engine.startScan.bind(engine),
      getStatus: engine.getStatus.bind(engine),
      getSummary: engine.getSummary.bind(engine),
      cancel: async () => {
        statusWhenCancelled.push((await executions.get(execution.execution_id))?.status ?? 'missing');
        throw new Error('the engine did not answer the cancel request');
      },
    };
    const event = ExecutionTerminatedEventSchema.parse(
      eventBridgeEvent('scan', 'scan-engine-hangs', 'TIMED_OUT', {
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        triggered_by: 'api',
        execution_id: execution.execution_id,
      }),
    );

    const published: DomainEvent[] = [];
    const events = { publish: async (batch: readonly DomainEvent[]) => void published.push(...batch) };

    // Act
    const result = await recordTerminatedExecution(
      { ...harness.dependencies, engine: hangingOnCancel, events },
      event,
    );

    // Assess
    expect(result.recorded).toBe(true);
    expect(statusWhenCancelled).toEqual(['timed_out']);
    // The run's own (unscheduled: unrouted) failure, and the operators' notice of an unrecorded end.
    expect(published.map((entry) => [entry.event_type, entry.channels])).toEqual([
      ['scan.failed', []],
      ['workflow.ended_unrecorded', ['operations']],
    ]);
    expect(await executions.get(execution.execution_id)).toMatchObject({
      status: 'timed_out',
      error_code: 'workflow_timed_out',
    });
  });

  it('records a cancelled scan (a stop request) without telling the operators', async () => {
    // Prepare
    const { tenant, account } = await harness.activeAccount('aws');
    const { execution } = await harness.repositories.executions.create({
      account_id: account.account_id,
      tenant_id: tenant.tenant_id,
      provider_type: 'aws',
      triggered_by: 'api',
      workflow_execution_name: 'scan-cancelled',
    });
    const published: DomainEvent[] = [];
    const events = { publish: async (batch: readonly DomainEvent[]) => void published.push(...batch) };
    const event = ExecutionTerminatedEventSchema.parse(
      eventBridgeEvent('scan', 'scan-cancelled', 'ABORTED', {
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        triggered_by: 'api',
        execution_id: execution.execution_id,
      }),
    );

    // Act
    await recordTerminatedExecution({ ...harness.dependencies, events }, event);

    // Assess
    expect((await harness.repositories.executions.get(execution.execution_id))?.status).toBe('cancelled');
    expect(published.map((entry) => entry.event_type)).toEqual(['scan.cancelled']);
  });
});
