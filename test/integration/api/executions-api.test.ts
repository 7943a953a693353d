import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEnv, Caller } from '../../../functions/api/api-context';
import { executionRoutes } from '../../../functions/api/routes/executions';
import {
  type AccountFixture,
  ApiHarness,
  type ApiResponse,
  startTomorrow,
  type TenantFixture,
} from '../../support/api-harness';

/**
 * Executions, tenant-wide scans and scan results through real HTTP against the local runtime:
 * read, cancel (a scan held up by a slow engine), redrive (a scan the engine rejected), scan a
 * tenant now, and the scan-result reads; with tenant isolation (404), roles (403) and
 * Idempotency-Key retries.
 */

type Body = Record<string, unknown>;
type ErrorBody = {
  status: number;
  code: string;
  message: string;
  details: { field: string; message: string }[];
};

let harness: ApiHarness;
let tenant: TenantFixture;
let other: TenantFixture;
let account: AccountFixture;
let slowAccount: AccountFixture;
let pendingAccount: AccountFixture;
let scheduleId: string;
let slowScheduleId: string;
/** A completed run of `scheduleId`. */
let completedRun: Body;

const V1 = '/api/v1';
const errorOf = (response: ApiResponse<unknown>) => response.body as ErrorBody;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createSchedule(accountId: string): Promise<string> {
  const created = await harness.request<Body>('POST', `${V1}/schedules`, {
    token: tenant.tokens.tenant_admin,
    json: {
      account_id: accountId,
      name: 'Daily scan',
      schedule_expression: 'rate(1 day)',
      start_date: startTomorrow(),
    },
  });
  if (created.status !== 201) throw new Error(`${created.status} ${created.text}`);
  return created.body.schedule_id as string;
}

/** Polls GET /executions/{id} until `done` holds for the record. */
async function waitForExecution(
  executionId: string,
  done: (execution: Body) => boolean = (execution) => execution.status !== 'running',
): Promise<Body> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await harness.request<Body>('GET', `${V1}/executions/${executionId}`, {
      token: tenant.tokens.viewer,
    });
    if (response.status === 200 && done(response.body)) return response.body;
    if (response.status !== 200 && response.status !== 404)
      throw new Error(`${response.status} ${response.text}`);
    if (Date.now() > deadline) throw new Error(`execution ${executionId} not as expected: ${response.text}`);
    await sleep(25);
  }
}

async function trigger(id: string): Promise<string> {
  const response = await harness.request<Body>('POST', `${V1}/schedules/${id}/trigger`, {
    token: tenant.tokens.operator,
  });
  if (response.status !== 202) throw new Error(`${response.status} ${response.text}`);
  return response.body.execution_id as string;
}

beforeAll(async () => {
  harness = await ApiHarness.start();
  [tenant, other] = await Promise.all([harness.createTenant(), harness.createTenant()]);
  [account, slowAccount] = await Promise.all([harness.activeAccount(tenant), harness.activeAccount(tenant)]);
  pendingAccount = await harness.initAccount(tenant);
  [scheduleId, slowScheduleId] = await Promise.all([
    createSchedule(account.accountId),
    createSchedule(slowAccount.accountId),
  ]);
  completedRun = await waitForExecution(await trigger(scheduleId));
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

describe('GET /executions/{id}', () => {
  it('shows status, progress, timings and the workflow execution of a run', async () => {
    // Act
    const response = await harness.request<Body>('GET', `${V1}/executions/${completedRun.execution_id}`, {
      token: tenant.tokens.viewer,
    });

    // Assess
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      execution_id: completedRun.execution_id,
      tenant_id: tenant.tenantId,
      account_id: account.accountId,
      schedule_id: scheduleId,
      status: 'completed',
      triggered_by: 'manual',
      current_step: 'completed',
      progress_percent: 100,
      started_at: expect.any(String),
      completed_at: expect.any(String),
      execution_time_seconds: expect.any(Number),
      scan_id: expect.any(String),
      redrive_of: null,
      redriven_by: null,
    });
    const workflow = response.body.workflow as Body;
    expect(workflow.name).toMatch(/^scan-manual-/);
    expect(workflow.arn).toEqual(expect.stringContaining(workflow.name as string));
    expect(workflow.console_url).toBeNull();
  });

  it("answers 404 for an unknown id and for another tenant's run, 200 to a platform admin", async () => {
    // Act
    const unknown = await harness.request('GET', `${V1}/executions/no-such-execution`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('GET', `${V1}/executions/${completedRun.execution_id}`, {
      token: other.tokens.viewer,
    });
    const admin = await harness.request('GET', `${V1}/executions/${completedRun.execution_id}`, {
      token: harness.adminToken,
    });

    // Assess
    expect(unknown.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign).message).toContain(completedRun.execution_id as string);
    expect(admin.status).toBe(200);
  });

  it("reads back the run's workflow history, page by page, and hides another tenant's", async () => {
    // Act
    const first = await harness.request<Body>(
      'GET',
      `${V1}/executions/${completedRun.execution_id}/history?limit=5`,
      {
        token: tenant.tokens.viewer,
      },
    );
    const rest = await harness.request<Body>(
      'GET',
      `${V1}/executions/${completedRun.execution_id}/history?limit=1000&next_token=${encodeURIComponent(String(first.body.next_token))}`,
      { token: tenant.tokens.viewer },
    );
    const foreign = await harness.request('GET', `${V1}/executions/${completedRun.execution_id}/history`, {
      token: other.tokens.viewer,
    });

    // Assess
    expect(first.status, first.text).toBe(200);
    const events = [...(first.body.events as Body[]), ...(rest.body.events as Body[])];
    expect(events[0]?.type).toBe('ExecutionStarted');
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(
      events.filter((event) => String(event.type).endsWith('StateEntered')).map((event) => event.stateName),
    ).toContain('Record the scan result and release the lock');
    expect(rest.body.next_token).toBeNull();
    expect(foreign.status).toBe(404);
  });

  it('links to the console page when the target has one', async () => {
    // Prepare: the same routes over the runtime's services, with a console (as on AWS).
    const caller: Caller = { subject: 'console-user', tenantId: tenant.tenantId, role: 'viewer' };
    const app = new Hono<ApiEnv>()
      .use('*', async (context, next) => {
        context.set('caller', caller);
        await next();
      })
      .route(
        '/',
        executionRoutes({
          ...harness.runtime.services,
          consoleUrlFor: (arn) => `https://console.example.test/states/executions/details/${arn}`,
        }),
      );

    // Act
    const response = await app.request(`/executions/${completedRun.execution_id}`);

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as { workflow: Body };
    expect(body.workflow.console_url).toBe(
      `https://console.example.test/states/executions/details/${body.workflow.arn as string}`,
    );
  });
});

describe('POST /executions/{id}/cancel', () => {
  it('stops a running scan, which is recorded as cancelled; a second cancel is a 409', async () => {
    // Prepare: the engine holds the start request, so the run stays in its start step.
    harness.runtime.simulator?.failNext(1, { kind: 'slow', delayMs: 4_000 });
    const executionId = await trigger(slowScheduleId);
    await waitForExecution(executionId, (execution) => execution.status === 'running');
    while ((harness.runtime.simulator?.pendingFaults('scan') ?? 0) > 0) await sleep(10);

    // Act
    const viewer = await harness.request('POST', `${V1}/executions/${executionId}/cancel`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('POST', `${V1}/executions/${executionId}/cancel`, {
      token: other.tokens.operator,
    });
    const cancelled = await harness.request<Body>('POST', `${V1}/executions/${executionId}/cancel`, {
      token: tenant.tokens.operator,
    });
    const again = await harness.request('POST', `${V1}/executions/${executionId}/cancel`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(viewer.status).toBe(403);
    expect(foreign.status).toBe(404);
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(cancelled.body).toMatchObject({ execution_id: executionId, cancel_requested: true });
    const recorded = await waitForExecution(executionId);
    expect(recorded).toMatchObject({
      status: 'cancelled',
      error_message: expect.stringContaining('cancelled'),
    });
    expect(again.status).toBe(409);
    expect(errorOf(again).message).toContain('running');
    const account = await harness.runtime.repositories.accounts.get(slowAccount.accountId);
    expect(account?.scan_lock_owner ?? null).toBeNull();
  });

  it('answers 409 for a finished run', async () => {
    // Act
    const response = await harness.request('POST', `${V1}/executions/${completedRun.execution_id}/cancel`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(response.status).toBe(409);
    expect(errorOf(response).code).toBe('invalid_transition');
  });
});

describe('POST /executions/{id}/redrive', () => {
  it('starts a new scan linked to the failed run, once', async () => {
    // Prepare: the engine rejects the next scan (a permanent error: the run fails at once).
    const failingScheduleId = await createSchedule(account.accountId);
    harness.runtime.simulator?.failNext(1, { kind: 'http-error', status: 400 });
    const failedId = await trigger(failingScheduleId);
    const failed = await waitForExecution(failedId);
    expect(failed.status).toBe('failed');

    // Act
    const viewer = await harness.request('POST', `${V1}/executions/${failedId}/redrive`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('POST', `${V1}/executions/${failedId}/redrive`, {
      token: other.tokens.operator,
    });
    const redriven = await harness.request<Body>('POST', `${V1}/executions/${failedId}/redrive`, {
      token: tenant.tokens.operator,
    });
    const again = await harness.request('POST', `${V1}/executions/${failedId}/redrive`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(viewer.status).toBe(403);
    expect(foreign.status).toBe(404);
    expect(redriven.status, redriven.text).toBe(202);
    const redriveId = redriven.body.execution_id as string;
    expect(redriveId).not.toBe(failedId);
    expect(redriven.body).toMatchObject({
      status: 'redriven',
      redrive_of: failedId,
      workflow_execution_name: expect.stringMatching(/^scan-redrive-/),
    });
    const redrive = await waitForExecution(redriveId);
    expect(redrive).toMatchObject({
      status: 'completed',
      schedule_id: failingScheduleId,
      triggered_by: 'manual',
      redrive_of: failedId,
      scan_id: redriven.body.scan_id,
    });
    const original = await waitForExecution(failedId);
    expect(original).toMatchObject({ status: 'failed', redriven_by: redriveId });
    expect(again.status).toBe(409);
    expect(errorOf(again).message).toContain(redriveId);
    const details = await harness.request<Body>('GET', `${V1}/schedules/${failingScheduleId}`, {
      token: tenant.tokens.viewer,
    });
    expect(details.body.counters).toMatchObject({
      runs: 2,
      failures: 1,
      successes: 1,
      consecutive_failures: 0,
    });
  });

  it('answers 409 for a run that did not fail', async () => {
    // Act
    const response = await harness.request('POST', `${V1}/executions/${completedRun.execution_id}/redrive`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(response.status).toBe(409);
    expect(errorOf(response).message).toContain('failed');
  });
});

describe('POST /tenants/{id}/scans', () => {
  it('starts a scan of every active account and answers 202 with the execution ids', async () => {
    // Prepare
    const request = {
      token: tenant.tokens.operator,
      headers: { 'idempotency-key': `tenant-scan-${Date.now()}` },
    };

    // Act
    const response = await harness.request<{ started: Body[]; failed: Body[]; count: number }>(
      'POST',
      `${V1}/tenants/${tenant.tenantId}/scans`,
      request,
    );
    const retry = await harness.request<{ started: Body[] }>(
      'POST',
      `${V1}/tenants/${tenant.tenantId}/scans`,
      request,
    );

    // Assess
    expect(response.status, response.text).toBe(202);
    expect(response.body.failed).toEqual([]);
    expect(response.body.started.map((scan) => scan.account_id).sort()).toEqual(
      [account.accountId, slowAccount.accountId].sort(),
    );
    expect(response.body.started.map((scan) => scan.account_id)).not.toContain(pendingAccount.accountId);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(response.body);
    for (const scan of response.body.started) {
      const execution = await waitForExecution(scan.execution_id as string);
      expect(execution).toMatchObject({
        status: 'completed',
        account_id: scan.account_id,
        triggered_by: 'api',
        scan_id: scan.scan_id,
      });
      expect(execution.schedule_id ?? null).toBeNull();
      expect(scan.workflow_execution_name).toMatch(/^scan-api-/);
    }
  });

  it('answers 404 for another tenant, 403 to a viewer and 400 naming an unknown body field', async () => {
    // Act
    const foreign = await harness.request('POST', `${V1}/tenants/${other.tenantId}/scans`, {
      token: tenant.tokens.operator,
    });
    const viewer = await harness.request('POST', `${V1}/tenants/${tenant.tenantId}/scans`, {
      token: tenant.tokens.viewer,
    });
    const badBody = await harness.request('POST', `${V1}/tenants/${tenant.tenantId}/scans`, {
      token: tenant.tokens.operator,
      json: { provider_type: 'mainframe' },
    });

    // Assess
    expect(foreign.status).toBe(404);
    expect(viewer.status).toBe(403);
    expect(badBody.status).toBe(400);
    expect(errorOf(badBody).details.map((issue) => issue.field)).toContain('provider_type');
  });

  it('starts only the accounts of the provider asked for', async () => {
    // Act
    const response = await harness.request<{ started: Body[] }>(
      'POST',
      `${V1}/tenants/${tenant.tenantId}/scans`,
      {
        token: tenant.tokens.operator,
        json: { provider_type: 'azure' },
      },
    );

    // Assess
    expect(response.status, response.text).toBe(202);
    expect(response.body.started).toEqual([]);
  });
});

describe('GET /accounts/{id}/scan-results and GET /scan-results/{id}', () => {
  it("lists an account's scan results newest first, page by page, and reads one", async () => {
    // Act
    const first = await harness.request<{ scan_results: Body[]; next_cursor: string | null; count: number }>(
      'GET',
      `${V1}/accounts/${account.accountId}/scan-results?limit=1`,
      { token: tenant.tokens.viewer },
    );
    const all = await harness.request<{ scan_results: Body[]; next_cursor: string | null }>(
      'GET',
      `${V1}/accounts/${account.accountId}/scan-results?limit=100`,
      { token: tenant.tokens.viewer },
    );
    const one = await harness.request<Body>('GET', `${V1}/scan-results/${completedRun.scan_id}`, {
      token: tenant.tokens.viewer,
    });

    // Assess
    expect(first.status, first.text).toBe(200);
    expect(first.body.count).toBe(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const results = all.body.scan_results;
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results.every((result) => result.account_id === account.accountId)).toBe(true);
    const starts = results.map((result) => result.started_at as string);
    expect([...starts].sort().reverse()).toEqual(starts);
    expect(results.map((result) => result.scan_id)).toContain(completedRun.scan_id);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({
      scan_id: completedRun.scan_id,
      account_id: account.accountId,
      execution_id: completedRun.execution_id,
      status: 'completed',
      total_checks: expect.any(Number),
    });
  });

  it("answers 404 for unknown ids and for another tenant's results, 400 naming a bad limit", async () => {
    // Act
    const foreignList = await harness.request('GET', `${V1}/accounts/${account.accountId}/scan-results`, {
      token: other.tokens.viewer,
    });
    const unknownAccount = await harness.request('GET', `${V1}/accounts/no-such-account/scan-results`, {
      token: tenant.tokens.viewer,
    });
    const foreignResult = await harness.request('GET', `${V1}/scan-results/${completedRun.scan_id}`, {
      token: other.tokens.viewer,
    });
    const unknownResult = await harness.request('GET', `${V1}/scan-results/no-such-scan`, {
      token: tenant.tokens.viewer,
    });
    const badLimit = await harness.request(
      'GET',
      `${V1}/accounts/${account.accountId}/scan-results?limit=0`,
      {
        token: tenant.tokens.viewer,
      },
    );

    // Assess
    expect([foreignList.status, unknownAccount.status, foreignResult.status, unknownResult.status]).toEqual([
      404, 404, 404, 404,
    ]);
    expect(badLimit.status).toBe(400);
    expect(errorOf(badLimit).details.map((issue) => issue.field)).toContain('limit');
  });

  it('answers 401 without a token', async () => {
    // Act
    const response = await harness.request('GET', `${V1}/scan-results/${completedRun.scan_id}`);

    // Assess
    expect(response.status).toBe(401);
  });
});
