import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimScan, completeScan, startScan } from '../../../functions/core/scans/scan-service';
import { statesEntered, WorkflowHarness } from '../../support/workflow-harness';

describe('Workflow: scan (synchronous engine)', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start({ engineMode: 'sync' });
  });
  afterAll(async () => {
    await harness.close();
  });

  async function scheduledAccount() {
    const { tenant, account } = await harness.activeAccount('aws');
    const schedule = await harness.repositories.schedules.create({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      name: 'Nightly',
      schedule_type: 'cron',
      cron_expression: '0 2 * * *',
      schedule_expression: 'cron(0 2 * * ? *)',
      status: 'active',
      enabled: 'true',
      services: ['iam', 's3'],
    });
    return { tenant, account, schedule };
  }

  /** A scheduled run of a fresh account claimed by its first step alone, outside any workflow. */
  async function claimedScheduledRun(name: string, scheduledTime: string) {
    const { tenant, account, schedule } = await scheduledAccount();
    const claim = await claimScan(harness.dependencies, {
      request: {
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        schedule_id: schedule.schedule_id,
        scheduled_time: scheduledTime,
        triggered_by: 'scheduler',
      },
      workflow_execution_name: name,
      workflow_execution_arn: `arn:aws:states:ap-south-1:000000000000:execution:scan:${name}`,
    });
    return { account, schedule, claim };
  }

  it('runs the happy path: records the execution, the scan result and the schedule counters, and frees the lock', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount();

    // Act
    const { description, history } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      schedule_id: schedule.schedule_id,
      scheduled_time: '2026-11-23T02:00:00Z',
      triggered_by: 'scheduler',
    });

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(statesEntered(history)).toEqual([
      'Claim the scan slot and lock the account',
      'Was the scan slot claimed?',
      "Validate the account's stored credentials",
      "Start the scan on the provider's engine",
      'Has the engine finished the scan?',
      'Record the scan result and release the lock',
    ]);
    const page = await harness.repositories.executions.listBySchedule(schedule.schedule_id);
    expect(page.items).toHaveLength(1);
    const execution = page.items[0];
    expect(execution).toMatchObject({
      status: 'completed',
      triggered_by: 'scheduler',
      scheduled_time: '2026-11-23T02:00:00.000Z',
      workflow_execution_name: description.name,
      progress_percent: 100,
    });
    expect(execution?.total_checks).toBeGreaterThan(0);
    const scanResult = await harness.repositories.scanResults.get(execution?.scan_id ?? '');
    expect(scanResult).toMatchObject({
      status: 'completed',
      account_id: account.account_id,
      scan_type: 'scheduled',
      total_checks: execution?.total_checks,
      passed_checks: execution?.passed_checks,
      failed_checks: execution?.failed_checks,
    });
    expect(await harness.repositories.schedules.get(schedule.schedule_id)).toMatchObject({
      run_count: 1,
      success_count: 1,
      failure_count: 0,
    });
    const after = await harness.repositories.accounts.get(account.account_id);
    expect(after?.scan_lock_owner ?? undefined).toBeUndefined();
    expect(after?.last_validated_at).toBeDefined();
  });

  it('ends a second start of the same schedule slot as a recorded duplicate with no side effects', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount();
    const request = {
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      schedule_id: schedule.schedule_id,
      scheduled_time: '2026-11-23T03:00:00Z',
      triggered_by: 'scheduler' as const,
    };
    const scansBefore = harness.simulator.scansStarted;

    // Act: two differently named starts of one slot (a manual trigger racing the timer)
    const [first, second] = await Promise.all([
      harness.runScan(request, `dup-a-${schedule.schedule_id}`),
      harness.runScan(
        { ...request, scheduled_time: '2026-11-23T03:00:30Z' },
        `dup-b-${schedule.schedule_id}`,
      ),
    ]);

    // Assess
    expect(harness.simulator.scansStarted - scansBefore).toBe(1);
    const outcomes = [first, second].map(
      (run) => (run.description.output as { claim: { outcome: string } }).claim.outcome,
    );
    expect(outcomes.sort()).toEqual(['claimed', 'duplicate']);
    const duplicate = [first, second].find(
      (run) => (run.description.output as { claim: { outcome: string } }).claim.outcome === 'duplicate',
    );
    expect(duplicate?.description.status).toBe('SUCCEEDED');
    expect(statesEntered(duplicate?.history ?? [])).toContain('Scan was not needed');
    expect((await harness.repositories.executions.listBySchedule(schedule.schedule_id)).items).toHaveLength(
      1,
    );
    expect(await harness.repositories.schedules.get(schedule.schedule_id)).toMatchObject({ run_count: 1 });
  });

  it('treats a repeated start with the same name and input as the same execution', async () => {
    const { tenant, account } = await harness.activeAccount('aws');
    const request = {
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api' as const,
    };

    const first = await harness.startScan(request, `same-name-${account.account_id}`);
    const second = await harness.startScan(request, `same-name-${account.account_id}`);

    expect(second.alreadyStarted).toBe(true);
    expect(second.executionArn).toBe(first.executionArn);
    await harness.workflows.waitForCompletion(first.executionArn, 10_000);
  });

  it('retries an engine 5xx and then succeeds', async () => {
    // Prepare
    const { tenant, account } = await harness.activeAccount('aws');
    harness.simulator.failNext(1, { kind: 'http-error', status: 503 });

    // Act
    const { description, history } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api',
    });

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    const retried = history.filter((event) => event.type === 'StateRetried');
    expect(retried.map((event) => event.stateName)).toEqual(["Start the scan on the provider's engine"]);
    const failures = history.filter((event) => event.type === 'TaskFailed');
    expect(failures.map((event) => event.error)).toEqual(['EngineUnavailableError']);
    const execution = (await harness.repositories.executions.listByAccount(account.account_id)).items[0];
    expect(execution?.status).toBe('completed');
  });

  it('records a failure with its code when the engine stays down, and frees the lock', async () => {
    // Prepare
    const { tenant, account } = await harness.activeAccount('aws');
    harness.simulator.failNext(10, { kind: 'http-error', status: 503 });

    // Act
    const { description, history } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'manual',
    });
    harness.simulator.reset();

    // Assess
    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('EngineUnavailableError');
    expect(history.filter((event) => event.type === 'StateRetried')).toHaveLength(3);
    expect(statesEntered(history).slice(-1)).toEqual(['Scan failed']);
    const execution = (await harness.repositories.executions.listByAccount(account.account_id)).items[0];
    expect(execution).toMatchObject({ status: 'failed', error_code: 'engine_unavailable' });
    expect(execution?.completed_at).toBeDefined();
    expect(
      (await harness.repositories.accounts.get(account.account_id))?.scan_lock_owner ?? undefined,
    ).toBeUndefined();
  });

  it('pauses a schedule after its configured number of consecutive failed runs', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount();
    await harness.repositories.schedules.update(schedule.schedule_id, { auto_pause_after_failures: 2 });
    harness.simulator.failNext(20, { kind: 'http-error', status: 500 });

    // Act
    for (const minute of ['10', '11']) {
      await harness.runScan({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        schedule_id: schedule.schedule_id,
        scheduled_time: `2026-11-23T05:${minute}:00Z`,
        triggered_by: 'scheduler',
      });
    }
    harness.simulator.reset();

    // Assess
    const paused = await harness.repositories.schedules.get(schedule.schedule_id);
    expect(paused).toMatchObject({
      status: 'paused',
      paused_by: 'system',
      failure_count: 2,
      consecutive_failures: 2,
    });
    expect(harness.scheduler.entries.get(schedule.schedule_id)?.status).toBe('paused');
  });

  it('fails before the engine runs when the provider rejects the stored credentials', async () => {
    // Prepare
    const { tenant, account } = await harness.activeAccount('aws');
    harness.validator.rejectNext('expired');
    const scansBefore = harness.simulator.scansStarted;

    // Act
    const { description, history } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api',
    });

    // Assess
    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('CredentialValidationError');
    expect(statesEntered(history)).not.toContain("Start the scan on the provider's engine");
    expect(history.some((event) => event.type === 'StateRetried')).toBe(false);
    expect(harness.simulator.scansStarted).toBe(scansBefore);
    const execution = (await harness.repositories.executions.listByAccount(account.account_id)).items[0];
    expect(execution).toMatchObject({ status: 'failed', error_code: 'expired' });
    expect(await harness.repositories.accounts.get(account.account_id)).toMatchObject({
      status: 'error',
      validation_error_code: 'expired',
    });
  });

  it('skips a scan of an account that is not active and records why', async () => {
    const { tenant, account } = await harness.createAccount('aws');

    const { description } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api',
    });

    expect(description.status).toBe('SUCCEEDED');
    const execution = (await harness.repositories.executions.listByAccount(account.account_id)).items[0];
    expect(execution).toMatchObject({ status: 'skipped', error_code: 'account_not_active' });
  });

  it('records a failed run when the account belongs to another tenant (ids from another tenant are unknown)', async () => {
    const { account } = await harness.activeAccount('aws');
    const { tenant: otherTenant } = await harness.createAccount('aws');

    const { description } = await harness.runScan({
      tenant_id: otherTenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api',
    });

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('NotFoundError');
  });

  it("carries the claim's context to the later steps, and runs them on the records without it (inputs of older executions)", async () => {
    // Prepare
    const { account, schedule, claim } = await claimedScheduledRun('without-context', '2026-11-24T02:00:00Z');

    // Act: the inputs the definitions gave these steps before the claim carried its context.
    const engine = await startScan(harness.dependencies, {
      execution_id: claim.execution_id,
      account_id: account.account_id,
    });
    const result = await completeScan(harness.dependencies, {
      execution_id: claim.execution_id,
      account_id: account.account_id,
      engine,
    });

    // Assess
    expect(claim).toMatchObject({
      outcome: 'claimed',
      scan: { provider_type: 'aws', schedule_id: schedule.schedule_id, services: ['iam', 's3'] },
    });
    expect(engine.status).toBe('completed');
    expect(await harness.repositories.executions.get(claim.execution_id)).toMatchObject({
      status: 'completed',
      scan_id: result.scan_id,
    });
    expect((await harness.repositories.scanResults.get(result.scan_id))?.schedule_id).toBe(
      schedule.schedule_id,
    );
    expect(
      (await harness.repositories.accounts.get(account.account_id))?.scan_lock_owner ?? undefined,
    ).toBeUndefined();
  });

  it('counts a run once when its completion step is retried after it had completed the run', async () => {
    // Prepare: a scheduled run claimed and scanned, then its last step run twice (a Lambda retry
    // after the first attempt's answer was lost)
    const { account, schedule, claim } = await claimedScheduledRun(
      'retried-completion',
      '2026-11-25T02:00:00Z',
    );
    const engine = await startScan(harness.dependencies, {
      execution_id: claim.execution_id,
      account_id: account.account_id,
    });
    const step = { execution_id: claim.execution_id, account_id: account.account_id, engine };

    // Act
    const first = await completeScan(harness.dependencies, step);
    const retried = await completeScan(harness.dependencies, step);

    // Assess
    expect(retried).toEqual(first);
    expect(await harness.repositories.schedules.get(schedule.schedule_id)).toMatchObject({
      run_count: 1,
      success_count: 1,
    });
    expect(await harness.repositories.executions.get(claim.execution_id)).toMatchObject({
      status: 'completed',
    });
  });
});
