import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimScan } from '../../../functions/core/scans/scan-service';
import { statesEntered, WorkflowHarness } from '../../support/workflow-harness';

describe('Workflow: scan (asynchronous engine)', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start({ engineMode: 'async', runningPolls: 2 });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('polls the engine with growing waits until it ends, then records the summary', async () => {
    // Prepare
    const { tenant, account } = await harness.activeAccount('gcp');

    // Act
    const { description, history } = await harness.runScan({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api',
    });

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    const states = statesEntered(history);
    expect(states.filter((state) => state === "Poll the engine for the scan's status")).toHaveLength(3);
    expect(states.filter((state) => state === 'Wait before polling the engine')).toHaveLength(3);
    const waits = history
      .filter((event) => event.type === 'WaitStateEntered')
      .map((event) => (event.input as { engine: { wait_seconds: number } }).engine.wait_seconds);
    expect(waits).toEqual([1, 2, 4]);
    const execution = (await harness.repositories.executions.listByAccount(account.account_id)).items[0];
    expect(execution).toMatchObject({ status: 'completed', progress_percent: 100 });
    expect(execution?.engine_scan_id).toBeDefined();
    const scan = await harness.repositories.scanResults.get(execution?.scan_id ?? '');
    expect(scan).toMatchObject({
      status: 'completed',
      provider_type: 'gcp',
      engine_scan_id: execution?.engine_scan_id,
    });
  });

  it('skips a scan of an account that another running scan holds (overlap policy: skip)', async () => {
    // Prepare: the first scan holds the lock while the engine runs
    const { tenant, account } = await harness.activeAccount('aws');
    const request = {
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      triggered_by: 'api' as const,
    };
    const first = await harness.startScan(request, `overlap-a-${account.account_id}`);
    await waitFor(
      async () => (await harness.repositories.accounts.get(account.account_id))?.scan_lock_owner != null,
    );

    // Act
    const second = await harness.runScan(request, `overlap-b-${account.account_id}`);
    const firstDone = await harness.workflows.waitForCompletion(first.executionArn, 20_000);

    // Assess
    expect((second.description.output as { claim: { outcome: string } }).claim.outcome).toBe(
      'skipped_overlap',
    );
    expect(firstDone.status).toBe('SUCCEEDED');
    const statuses = (await harness.repositories.executions.listByAccount(account.account_id)).items.map(
      (execution) => `${execution.status}:${execution.error_code ?? ''}`,
    );
    expect(statuses.sort()).toEqual(['completed:', 'skipped:overlap_skipped']);
  });

  it('records cancellation when a running scan is stopped, cancels the engine scan and frees the lock', async () => {
    // Prepare
    const slow = await WorkflowHarness.start({ engineMode: 'async', runningPolls: 1000 });
    try {
      const { tenant, account } = await slow.activeAccount('aws');
      const handle = await slow.startScan({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        triggered_by: 'api',
      });
      await waitFor(async () => {
        const execution = (await slow.repositories.executions.listByAccount(account.account_id)).items[0];
        return execution?.current_step === 'engine_running';
      });

      // Act
      await slow.workflows.stop(handle.executionArn, { cause: 'stopped by an operator' });
      const description = await slow.workflows.waitForCompletion(handle.executionArn, 10_000);

      // Assess
      expect(description.status).toBe('ABORTED');
      await waitFor(async () => {
        const execution = (await slow.repositories.executions.listByAccount(account.account_id)).items[0];
        return execution?.status !== 'running';
      });
      const execution = (await slow.repositories.executions.listByAccount(account.account_id)).items[0];
      expect(execution).toMatchObject({ status: 'cancelled', error_code: 'workflow_aborted' });
      expect(
        (await slow.repositories.accounts.get(account.account_id))?.scan_lock_owner ?? undefined,
      ).toBeUndefined();
      expect(slow.simulator.counters.cancellations).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('records a scan the runtime stopped under as aborted (not cancelled) and frees the lock', async () => {
    // Prepare
    const slow = await WorkflowHarness.start({ engineMode: 'async', runningPolls: 1000 });
    try {
      const { tenant, account } = await slow.activeAccount('aws');
      await slow.startScan({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        triggered_by: 'api',
      });
      await waitFor(async () => {
        const execution = (await slow.repositories.executions.listByAccount(account.account_id)).items[0];
        return execution?.current_step === 'engine_running';
      });

      // Act: the runtime shuts down with the scan still running
      await slow.workflows.close({ gracePeriodMs: 50 });

      // Assess
      const execution = (await slow.repositories.executions.listByAccount(account.account_id)).items[0];
      expect(execution).toMatchObject({ status: 'aborted', error_code: 'runtime_stopped' });
      expect(
        (await slow.repositories.accounts.get(account.account_id))?.scan_lock_owner ?? undefined,
      ).toBeUndefined();
    } finally {
      await slow.close();
    }
  });

  it('gives up a scan that runs past its deadline and records it as timed out', async () => {
    // Prepare
    const slow = await WorkflowHarness.start({
      engineMode: 'async',
      runningPolls: 1000,
      settings: { maxScanSeconds: 1 },
    });
    try {
      const { tenant, account } = await slow.activeAccount('azure');

      // Act
      const { description, history } = await slow.runScan({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        triggered_by: 'api',
      });

      // Assess
      expect(description.status).toBe('FAILED');
      expect(description.error).toBe('ScanTimedOutError');
      expect(statesEntered(history)).toContain('Record the failed scan and release the lock');
      const execution = (await slow.repositories.executions.listByAccount(account.account_id)).items[0];
      expect(execution).toMatchObject({ status: 'timed_out', error_code: 'scan_timed_out' });
      const scan = await slow.repositories.scanResults.get(execution?.scan_id ?? '');
      expect(scan?.status).toBe('timed_out');
      expect(slow.simulator.counters.cancellations).toBe(1);
      expect(
        (await slow.repositories.accounts.get(account.account_id))?.scan_lock_owner ?? undefined,
      ).toBeUndefined();
    } finally {
      await slow.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met in time');
}

describe('Workflow: scan (overlap policy buffer_one)', () => {
  it('lets one run wait behind the running scan and then scan, and skips a third', async () => {
    // Prepare: an engine slow enough that the first scan is still running when the others start
    const harness = await WorkflowHarness.start({ engineMode: 'async', runningPolls: 4 });
    try {
      const { tenant, account } = await harness.activeAccount('aws');
      const schedule = await harness.repositories.schedules.create({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        name: 'Buffered',
        schedule_type: 'cron',
        schedule_expression: 'cron(0 * * * ? *)',
        status: 'active',
        enabled: 'true',
        overlap_policy: 'buffer_one',
      });
      const slot = (hour: string) => ({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        schedule_id: schedule.schedule_id,
        scheduled_time: `2026-11-23T${hour}:00:00Z`,
        triggered_by: 'scheduler' as const,
      });
      const first = await harness.startScan(slot('01'));
      await waitFor(
        async () => (await harness.repositories.accounts.get(account.account_id))?.scan_lock_owner != null,
      );

      // Act
      const second = await harness.startScan(slot('02'));
      await waitFor(
        async () => (await harness.repositories.accounts.get(account.account_id))?.scan_buffer_owner != null,
      );
      const third = await harness.runScan(slot('03'));
      const [firstDone, secondDone] = await Promise.all([
        harness.workflows.waitForCompletion(first.executionArn, 30_000),
        harness.workflows.waitForCompletion(second.executionArn, 30_000),
      ]);

      // Assess
      expect(firstDone.status).toBe('SUCCEEDED');
      expect(secondDone.status).toBe('SUCCEEDED');
      expect((third.description.output as { claim: { outcome: string } }).claim.outcome).toBe(
        'skipped_overlap',
      );
      const secondHistory = await harness.history(second.executionArn);
      expect(statesEntered(secondHistory)).toContain('Wait for the running scan of this account');
      expect(statesEntered(secondHistory).at(-1)).toBe('Record the scan result and release the lock');
      const runs = (await harness.repositories.executions.listBySchedule(schedule.schedule_id)).items;
      expect(runs.map((run) => run.status).sort()).toEqual(['completed', 'completed', 'skipped']);
      const after = await harness.repositories.accounts.get(account.account_id);
      expect(after?.scan_lock_owner ?? undefined).toBeUndefined();
      expect(after?.scan_buffer_owner ?? undefined).toBeUndefined();
      expect(await harness.repositories.schedules.get(schedule.schedule_id)).toMatchObject({
        run_count: 2,
        success_count: 2,
        skipped_count: 1,
      });
    } finally {
      await harness.close();
    }
  });
});

describe('Function: claimScan (the buffered wait has its own bound)', () => {
  it('gives up a run that waited behind a running scan longer than SCAN_BUFFER_MAX_WAIT_SECONDS, freeing its waiting place', async () => {
    // Prepare: a scan holds the account; a scheduled run takes the waiting place
    const harness = await WorkflowHarness.start({ settings: { maxBufferedWaitSeconds: 600 } });
    try {
      const { tenant, account } = await harness.activeAccount('aws');
      const schedule = await harness.repositories.schedules.create({
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        name: 'Buffered',
        schedule_type: 'cron',
        schedule_expression: 'cron(0 * * * ? *)',
        status: 'active',
        enabled: 'true',
        overlap_policy: 'buffer_one',
      });
      await harness.repositories.accounts.acquireScanLock(account.account_id, 'the-running-scan', 86_400);
      const input = {
        request: {
          tenant_id: tenant.tenant_id,
          account_id: account.account_id,
          schedule_id: schedule.schedule_id,
          scheduled_time: '2026-11-23T02:00:00Z',
          triggered_by: 'scheduler' as const,
        },
        workflow_execution_name: 'buffered-run',
        workflow_execution_arn:
          'arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:buffered-run',
      };
      const first = await claimScan(harness.dependencies, input);
      const later = (seconds: number) => ({
        ...harness.dependencies,
        clock: () => new Date(Date.now() + seconds * 1000),
      });

      // Act
      const withinBound = await claimScan(later(300), input);
      const pastBound = await claimScan(later(601), input);

      // Assess
      expect(first.outcome).toBe('buffered');
      expect(withinBound.outcome).toBe('buffered');
      expect(pastBound.outcome).toBe('skipped_overlap');
      expect(await harness.repositories.executions.get(pastBound.execution_id)).toMatchObject({
        status: 'skipped',
        error_code: 'buffer_wait_exceeded',
      });
      expect(
        (await harness.repositories.accounts.get(account.account_id))?.scan_buffer_owner ?? null,
      ).toBeNull();
    } finally {
      await harness.close();
    }
  });
});
