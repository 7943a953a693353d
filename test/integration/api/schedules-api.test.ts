import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccountFixture,
  ApiHarness,
  type ApiResponse,
  startTomorrow,
  type TenantFixture,
} from '../../support/api-harness';

/**
 * The schedules routes through real HTTP against the local runtime (dynalite, the ASL runtime, the
 * engine simulator, the local scheduler): legacy and new endpoints, validation naming fields,
 * tenant isolation (404), roles (403), Idempotency-Key retries, trigger and pause.
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
let otherAccount: AccountFixture;

const V1 = '/api/v1';
const fieldsOf = (response: ApiResponse<unknown>) =>
  (response.body as ErrorBody).details.map((issue) => issue.field);

async function createSchedule(
  body: Body = {},
  token = tenant.tokens.tenant_admin,
): Promise<ApiResponse<Body>> {
  return harness.request<Body>('POST', `${V1}/schedules`, {
    token,
    json: {
      account_id: account.accountId,
      name: 'Hourly scan',
      schedule_expression: 'rate(1 hour)',
      ...body,
    },
  });
}

/** Creates a schedule; without an explicit expression one that does not fire while the test runs. */
async function createdId(body: Body = {}): Promise<string> {
  const quiet = 'schedule_expression' in body ? {} : { start_date: startTomorrow() };
  const created = await createSchedule({ ...quiet, ...body });
  expect(created.status, created.text).toBe(201);
  return created.body.schedule_id as string;
}

/** Polls GET /executions/{id} until the record exists and has finished. */
async function waitForFinishedExecution(executionId: string, token: string): Promise<Body> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await harness.request<Body>('GET', `${V1}/executions/${executionId}`, { token });
    if (response.status === 200 && response.body.status !== 'running') return response.body;
    if (response.status !== 200 && response.status !== 404)
      throw new Error(`${response.status} ${response.text}`);
    if (Date.now() > deadline) throw new Error(`execution ${executionId} did not finish: ${response.text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls a schedule's runs until there are `count`; returns the newest id. */
async function waitForRuns(path: string, count: number): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await harness.request<{ executions: Body[] }>('GET', path, {
      token: tenant.tokens.viewer,
    });
    if (response.status !== 200) throw new Error(`${response.status} ${response.text}`);
    const [newest] = response.body.executions;
    if (response.body.executions.length >= count && newest) return newest.execution_id as string;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} runs under ${path}: ${response.text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  harness = await ApiHarness.start();
  [tenant, other] = await Promise.all([harness.createTenant(), harness.createTenant()]);
  [account, otherAccount] = await Promise.all([harness.activeAccount(tenant), harness.activeAccount(other)]);
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

describe('POST /schedules', () => {
  it('creates a schedule and answers 201 with its id, next run and status', async () => {
    // Act
    const response = await createSchedule({ timezone: 'Asia/Kolkata' });

    // Assess
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      tenant_id: tenant.tenantId,
      account_id: account.accountId,
      name: 'Hourly scan',
      status: 'created',
      schedule_status: 'active',
      enabled: true,
      interval_seconds: 3600,
      schedule_type: 'interval',
      schedule_expression: 'rate(1 hour)',
      timezone: 'Asia/Kolkata',
    });
    expect(response.body.schedule_id).toEqual(expect.any(String));
    expect(Date.parse(response.body.next_run_at as string)).toBeGreaterThan(Date.now());
    expect(response.headers.get('location')).toBe(`${V1}/schedules/${response.body.schedule_id}`);
  });

  it('accepts the legacy body (tenant_id, schedule_type cron, five-field cron_expression)', async () => {
    // Act
    const response = await createSchedule({
      tenant_id: tenant.tenantId,
      schedule_expression: undefined,
      schedule_type: 'cron',
      cron_expression: '0 2 * * *',
    });

    // Assess
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({ schedule_type: 'cron', schedule_expression: 'cron(0 2 * * ? *)' });
  });

  it.each([
    ['an invalid expression', { schedule_expression: 'cron(99 * * * ? *)' }, 'schedule_expression'],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    [
      'an end before the start',
      { start_date: '2031-01-02T00:00:00Z', end_date: '2031-01-01T00:00:00Z' },
      'end_date',
    ],
    ['a missing name', { name: undefined }, 'name'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
  ])('answers 400 naming the field for %s', async (_case, body, field) => {
    // Act
    const response = await createSchedule(body);

    // Assess
    expect(response.status, response.text).toBe(400);
    expect((response.body as unknown as ErrorBody).code).toBe('validation_failed');
    expect(fieldsOf(response)).toContain(field);
  });

  it("answers 404 for another tenant's account or tenant_id", async () => {
    // Act
    const foreignAccount = await createSchedule({ account_id: otherAccount.accountId });
    const foreignTenant = await createSchedule({ tenant_id: other.tenantId });

    // Assess
    expect(foreignAccount.status, foreignAccount.text).toBe(404);
    expect(foreignTenant.status, foreignTenant.text).toBe(404);
  });

  it.each(['operator', 'viewer'] as const)('answers 403 to a %s', async (role) => {
    // Act
    const response = await createSchedule({}, tenant.tokens[role]);

    // Assess
    expect(response.status, response.text).toBe(403);
  });

  it('creates one schedule for a retried request with the same Idempotency-Key', async () => {
    // Prepare
    const request = {
      token: tenant.tokens.tenant_admin,
      headers: { 'idempotency-key': `create-${Date.now()}` },
      json: {
        account_id: account.accountId,
        name: 'Idempotent schedule',
        schedule_expression: 'rate(2 hours)',
      },
    };

    // Act
    const first = await harness.request<Body>('POST', `${V1}/schedules`, request);
    const retry = await harness.request<Body>('POST', `${V1}/schedules`, request);
    const changed = await harness.request<Body>('POST', `${V1}/schedules`, {
      ...request,
      json: { ...request.json, name: 'Another schedule' },
    });

    // Assess
    expect(first.status, first.text).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.schedule_id).toBe(first.body.schedule_id);
    expect(changed.status).toBe(409);
    expect(fieldsOf(changed).concat((changed.body as unknown as ErrorBody).message)).toEqual(
      expect.arrayContaining([expect.stringContaining('Idempotency-Key')]),
    );
    const listed = await harness.request<{ schedules: Body[] }>('GET', `${V1}/schedules?limit=100`, {
      token: tenant.tokens.viewer,
    });
    expect(listed.body.schedules.filter((schedule) => schedule.name === 'Idempotent schedule')).toHaveLength(
      1,
    );
  });
});

describe('GET /schedules', () => {
  it("lists one account's schedules page by page, with a status filter", async () => {
    // Prepare
    const fresh = await harness.activeAccount(tenant);
    const ids: string[] = [];
    for (const name of ['First', 'Second', 'Third']) {
      ids.push(await createdId({ account_id: fresh.accountId, name }));
    }
    const paused = await harness.request('POST', `${V1}/schedules/${ids[0]}/pause`, {
      token: tenant.tokens.operator,
    });
    expect(paused.status, paused.text).toBe(200);
    const path = `${V1}/schedules?account_id=${fresh.accountId}`;

    // Act
    const first = await harness.request<{ schedules: Body[]; next_cursor: string | null; count: number }>(
      'GET',
      `${path}&limit=2`,
      { token: tenant.tokens.viewer },
    );
    const second = await harness.request<{ schedules: Body[]; next_cursor: string | null }>(
      'GET',
      `${path}&limit=2&cursor=${first.body.next_cursor}`,
      { token: tenant.tokens.viewer },
    );
    const onlyPaused = await harness.request<{ schedules: Body[] }>('GET', `${path}&status=paused`, {
      token: tenant.tokens.viewer,
    });

    // Assess
    expect(first.status, first.text).toBe(200);
    expect(first.body.count).toBe(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    expect(second.body.next_cursor).toBeNull();
    const seen = [...first.body.schedules, ...second.body.schedules].map((schedule) => schedule.schedule_id);
    expect(seen.sort()).toEqual([...ids].sort());
    expect(onlyPaused.body.schedules.map((schedule) => schedule.schedule_id)).toEqual([ids[0]]);
  });

  it('answers 404 to a tenant user naming another tenant, and shows a platform admin the tenant it names', async () => {
    // Prepare
    const foreignId = await (async () => {
      const created = await harness.request<Body>('POST', `${V1}/schedules`, {
        token: other.tokens.tenant_admin,
        json: { account_id: otherAccount.accountId, name: 'Foreign', schedule_expression: 'rate(1 day)' },
      });
      expect(created.status, created.text).toBe(201);
      return created.body.schedule_id;
    })();

    // Act
    const crossTenant = await harness.request('GET', `${V1}/schedules?tenant_id=${other.tenantId}`, {
      token: tenant.tokens.viewer,
    });
    const crossAccount = await harness.request(
      'GET',
      `${V1}/schedules?account_id=${otherAccount.accountId}`,
      {
        token: tenant.tokens.viewer,
      },
    );
    const admin = await harness.request<{ schedules: Body[] }>(
      'GET',
      `${V1}/schedules?tenant_id=${other.tenantId}`,
      {
        token: harness.adminToken,
      },
    );
    const adminWithoutTenant = await harness.request('GET', `${V1}/schedules`, { token: harness.adminToken });
    const own = await harness.request<{ schedules: Body[] }>('GET', `${V1}/schedules?limit=100`, {
      token: tenant.tokens.viewer,
    });

    // Assess
    expect(crossTenant.status).toBe(404);
    expect(crossAccount.status).toBe(404);
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body.schedules.map((schedule) => schedule.schedule_id)).toContain(foreignId);
    expect(adminWithoutTenant.status).toBe(400);
    expect(fieldsOf(adminWithoutTenant)).toContain('tenant_id');
    expect(own.body.schedules.every((schedule) => schedule.tenant_id === tenant.tenantId)).toBe(true);
  });

  it('answers 400 naming the field for a bad status, limit or cursor', async () => {
    // Act
    const status = await harness.request('GET', `${V1}/schedules?status=sleeping`, {
      token: tenant.tokens.viewer,
    });
    const limit = await harness.request('GET', `${V1}/schedules?limit=1000`, { token: tenant.tokens.viewer });
    const cursor = await harness.request('GET', `${V1}/schedules?cursor=not-a-cursor`, {
      token: tenant.tokens.viewer,
    });

    // Assess
    expect([status.status, limit.status, cursor.status]).toEqual([400, 400, 400]);
    expect(fieldsOf(status)).toContain('status');
    expect(fieldsOf(limit)).toContain('limit');
    expect(fieldsOf(cursor)).toContain('cursor');
  });
});

describe('GET /schedules/{id}', () => {
  it('shows the next fire times, the recent runs and the counters', async () => {
    // Prepare
    const scheduleId = await createdId({
      schedule_expression: 'cron(0 6 * * ? *)',
      timezone: 'Europe/Berlin',
    });

    // Act
    const response = await harness.request<Body>('GET', `${V1}/schedules/${scheduleId}?fire_times=3`, {
      token: tenant.tokens.viewer,
    });

    // Assess
    expect(response.status, response.text).toBe(200);
    const times = response.body.next_fire_times as string[];
    expect(times).toHaveLength(3);
    for (const time of times) {
      const hour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit' }).format(
        new Date(time),
      );
      expect(hour).toBe('06');
    }
    expect(response.body.next_run_at).toBe(times[0]);
    expect(response.body.recent_runs).toEqual([]);
    expect(response.body.counters).toEqual({
      runs: 0,
      successes: 0,
      failures: 0,
      skipped: 0,
      missed: 0,
      consecutive_failures: 0,
    });
  });

  it("answers 404 for an unknown id and for another tenant's schedule, and 200 to a platform admin", async () => {
    // Prepare
    const scheduleId = await createdId();

    // Act
    const unknown = await harness.request('GET', `${V1}/schedules/no-such-schedule`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('GET', `${V1}/schedules/${scheduleId}`, {
      token: other.tokens.viewer,
    });
    const admin = await harness.request<Body>('GET', `${V1}/schedules/${scheduleId}`, {
      token: harness.adminToken,
    });

    // Assess
    expect(unknown.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect((foreign.body as unknown as ErrorBody).message).toContain(scheduleId);
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body.schedule_id).toBe(scheduleId);
  });
});

describe('PUT /schedules/{id}', () => {
  it('changes the definition and recomputes the next run', async () => {
    // Prepare
    const scheduleId = await createdId();

    // Act
    const response = await harness.request<Body>('PUT', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.tenant_admin,
      json: { name: 'Nightly', preset: 'daily', regions: ['eu-west-1'] },
    });

    // Assess
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ name: 'Nightly', schedule_type: 'cron', regions: ['eu-west-1'] });
    expect(response.body.schedule_expression).toMatch(/^cron\(/);
    const details = await harness.request<Body>('GET', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.viewer,
    });
    expect(details.body.next_run_at).toBe((details.body.next_fire_times as string[])[0]);
  });

  it('answers 400 naming the field, 403 to an operator and 404 to another tenant', async () => {
    // Prepare
    const scheduleId = await createdId();

    // Act
    const invalid = await harness.request('PUT', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.tenant_admin,
      json: { timezone: 'Nowhere/Atlantis' },
    });
    const empty = await harness.request('PUT', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.tenant_admin,
      json: {},
    });
    const operator = await harness.request('PUT', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.operator,
      json: { name: 'Renamed' },
    });
    const foreign = await harness.request('PUT', `${V1}/schedules/${scheduleId}`, {
      token: other.tokens.tenant_admin,
      json: { name: 'Renamed' },
    });

    // Assess
    expect(invalid.status).toBe(400);
    expect(fieldsOf(invalid)).toContain('timezone');
    expect(empty.status).toBe(400);
    expect(operator.status).toBe(403);
    expect(foreign.status).toBe(404);
  });
});

describe('DELETE /schedules/{id}', () => {
  it('deletes the schedule and its scheduler entry', async () => {
    // Prepare
    const scheduleId = await createdId();
    expect(harness.runtime.scheduler.pendingSlot(scheduleId)).toBeDefined();

    // Act
    const operator = await harness.request('DELETE', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.operator,
    });
    const foreign = await harness.request('DELETE', `${V1}/schedules/${scheduleId}`, {
      token: other.tokens.tenant_admin,
    });
    const deleted = await harness.request<Body>('DELETE', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.tenant_admin,
    });
    const again = await harness.request('DELETE', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.tenant_admin,
    });

    // Assess
    expect(operator.status).toBe(403);
    expect(foreign.status).toBe(404);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toMatchObject({ schedule_id: scheduleId, deleted: true });
    expect(again.status).toBe(404);
    expect(harness.runtime.scheduler.pendingSlot(scheduleId)).toBeUndefined();
    const read = await harness.request('GET', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.viewer,
    });
    expect(read.status).toBe(404);
  });
});

describe('POST /schedules/{id}/trigger', () => {
  it('answers at once with the execution id; the run shows up under the schedule and completes', async () => {
    // Prepare
    const scheduleId = await createdId({ regions: ['us-east-1'] });

    // Act
    const triggered = await harness.request<Body>('POST', `${V1}/schedules/${scheduleId}/trigger`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(triggered.status, triggered.text).toBe(202);
    expect(triggered.body).toMatchObject({
      status: 'triggered',
      schedule_id: scheduleId,
      already_started: false,
      execution_id: expect.any(String),
      scan_id: expect.any(String),
      workflow_execution_name: expect.stringMatching(/^scan-manual-/),
    });
    const executionId = triggered.body.execution_id as string;
    const execution = await waitForFinishedExecution(executionId, tenant.tokens.viewer);
    expect(execution).toMatchObject({
      status: 'completed',
      schedule_id: scheduleId,
      triggered_by: 'manual',
      scan_id: triggered.body.scan_id,
    });

    const runs = await harness.request<{ executions: Body[] }>(
      'GET',
      `${V1}/schedules/${scheduleId}/executions`,
      {
        token: tenant.tokens.viewer,
      },
    );
    expect(runs.body.executions.map((run) => run.execution_id)).toEqual([executionId]);
    const details = await harness.request<Body>('GET', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.viewer,
    });
    expect((details.body.recent_runs as Body[]).map((run) => run.execution_id)).toEqual([executionId]);
    expect(details.body.counters).toMatchObject({ runs: 1, successes: 1, failures: 0 });
    const scan = await harness.request<Body>('GET', `${V1}/scan-results/${triggered.body.scan_id}`, {
      token: tenant.tokens.viewer,
    });
    expect(scan.status, scan.text).toBe(200);
    expect(scan.body).toMatchObject({
      status: 'completed',
      schedule_id: scheduleId,
      execution_id: executionId,
    });
  });

  it('starts a run per trigger (same minute too), deduplicates retries by Idempotency-Key, and can cancel a run at once', async () => {
    // Prepare
    const scheduleId = await createdId();
    const trigger = (headers: Record<string, string> = {}) =>
      harness.request<Body>('POST', `${V1}/schedules/${scheduleId}/trigger`, {
        token: tenant.tokens.operator,
        headers,
      });

    // Act
    const first = await trigger();
    const cancel = await harness.request<Body>('POST', `${V1}/executions/${first.body.execution_id}/cancel`, {
      token: tenant.tokens.operator,
    });
    const second = await trigger({ 'Idempotency-Key': 'trigger-once-1' });
    const retry = await trigger({ 'Idempotency-Key': 'trigger-once-1' });

    // Assess
    expect(first.status, first.text).toBe(202);
    expect(cancel.status, cancel.text).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.execution_id).not.toBe(first.body.execution_id);
    expect(second.body.already_started).toBe(false);
    expect(retry.body.execution_id).toBe(second.body.execution_id);
  });

  it('answers 403 to a viewer, 404 to another tenant and 409 for a paused schedule', async () => {
    // Prepare
    const scheduleId = await createdId();
    const pausedId = await createdId();
    await harness.request('POST', `${V1}/schedules/${pausedId}/pause`, { token: tenant.tokens.operator });

    // Act
    const viewer = await harness.request('POST', `${V1}/schedules/${scheduleId}/trigger`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('POST', `${V1}/schedules/${scheduleId}/trigger`, {
      token: other.tokens.operator,
    });
    const paused = await harness.request('POST', `${V1}/schedules/${pausedId}/trigger`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(viewer.status).toBe(403);
    expect(foreign.status).toBe(404);
    expect(paused.status).toBe(409);
    expect((paused.body as unknown as ErrorBody).message).toContain('paused');
    const runs = await harness.request<{ executions: Body[] }>(
      'GET',
      `${V1}/schedules/${scheduleId}/executions`,
      {
        token: tenant.tokens.viewer,
      },
    );
    expect(runs.body.executions).toEqual([]);
  });
});

describe('GET /schedules/{id}/executions', () => {
  it('answers executions with total, pages by the legacy offset (bounded) and by cursor', async () => {
    // Prepare: five finished runs recorded a minute apart (newest first is run-4 … run-0).
    const scheduleId = await createdId();
    const path = `${V1}/schedules/${scheduleId}/executions`;
    const ids = Array.from({ length: 5 }, (_, index) => `run-${scheduleId}-${index}`);
    for (const [index, executionId] of ids.entries()) {
      await harness.runtime.repositories.executions.create({
        execution_id: executionId,
        schedule_id: scheduleId,
        account_id: account.accountId,
        tenant_id: tenant.tenantId,
        started_at: new Date(Date.UTC(2026, 0, 3, 10, index)).toISOString(),
        status: 'completed',
        triggered_by: 'scheduler',
      });
    }
    const newestFirst = [...ids].reverse();
    type Runs = { executions: { execution_id: string }[]; total: number; next_cursor: string | null };

    // Act
    const legacy = await harness.request<Runs>('GET', `${path}?limit=50&offset=0`, {
      token: tenant.tokens.viewer,
    });
    const second = await harness.request<Runs>('GET', `${path}?limit=2&offset=2`, {
      token: tenant.tokens.viewer,
    });
    const pastTheEnd = await harness.request<Runs>('GET', `${path}?offset=10`, {
      token: tenant.tokens.viewer,
    });
    const afterCursor = await harness.request<Runs>(
      'GET',
      `${path}?limit=2&cursor=${second.body.next_cursor ?? ''}`,
      { token: tenant.tokens.viewer },
    );
    const tooFar = await harness.request('GET', `${path}?offset=1001`, { token: tenant.tokens.viewer });
    const both = await harness.request('GET', `${path}?offset=2&cursor=${second.body.next_cursor ?? ''}`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('GET', path, { token: other.tokens.viewer });

    // Assess
    expect(legacy.status, legacy.text).toBe(200);
    expect(legacy.body.executions.map((run) => run.execution_id)).toEqual(newestFirst);
    expect(legacy.body).toMatchObject({ schedule_id: scheduleId, total: 5, count: 5, next_cursor: null });
    expect(second.body.executions.map((run) => run.execution_id)).toEqual(newestFirst.slice(2, 4));
    expect(second.body.total).toBe(5);
    expect(pastTheEnd.body).toMatchObject({ executions: [], total: 5, next_cursor: null });
    expect(afterCursor.body.executions.map((run) => run.execution_id)).toEqual(newestFirst.slice(4));
    expect(tooFar.status).toBe(400);
    expect(fieldsOf(tooFar)).toContain('offset');
    expect(both.status).toBe(400);
    expect(fieldsOf(both)).toContain('offset');
    expect(foreign.status).toBe(404);
  });
});

describe('POST /schedules/{id}/pause and /resume', () => {
  it('fires while active; once paused it stops firing, records who and why, and resumes from now', async () => {
    // Prepare
    const scheduleId = await createdId({ schedule_expression: 'rate(1 minute)' });
    const { scheduler } = harness.runtime;
    const runsPath = `${V1}/schedules/${scheduleId}/executions`;
    const armed = scheduler.pendingSlot(scheduleId);
    if (!armed) throw new Error('the schedule has no scheduler entry');
    await scheduler.advanceTo(armed.fireAt);
    await scheduler.idle();
    const firstRun = await waitForRuns(runsPath, 1);
    await waitForFinishedExecution(firstRun, tenant.tokens.viewer);

    // Act
    const paused = await harness.request<Body>('POST', `${V1}/schedules/${scheduleId}/pause`, {
      token: tenant.tokens.operator,
      json: { note: 'maintenance window' },
    });
    await scheduler.advanceTo(new Date(armed.fireAt.getTime() + 5 * 60_000));
    await scheduler.idle();

    // Assess
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body).toMatchObject({
      status: 'paused',
      enabled: false,
      pause_note: 'maintenance window',
    });
    expect(paused.body.paused_by).toEqual(expect.any(String));
    expect(scheduler.pendingSlot(scheduleId)).toBeUndefined();
    const details = await harness.request<Body>('GET', `${V1}/schedules/${scheduleId}`, {
      token: tenant.tokens.viewer,
    });
    expect(details.body.next_fire_times).toEqual([]);
    const runs = await harness.request<{ executions: Body[] }>('GET', runsPath, {
      token: tenant.tokens.viewer,
    });
    expect(runs.body.executions.map((run) => run.execution_id)).toEqual([firstRun]);

    // Act
    const resumed = await harness.request<Body>('POST', `${V1}/schedules/${scheduleId}/resume`, {
      token: tenant.tokens.operator,
    });

    // Assess
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'active', enabled: true });
    expect(resumed.body.pause_note).toBeUndefined();
    expect(Date.parse(resumed.body.next_run_at as string)).toBeGreaterThan(Date.now());
    expect(scheduler.pendingSlot(scheduleId)).toBeDefined();
  });

  it('records the caller subject as who paused', async () => {
    // Prepare
    const scheduleId = await createdId();
    const token = await harness.token('operator', tenant.tenantId, 'ops-person-7');

    // Act
    const paused = await harness.request<Body>('POST', `${V1}/schedules/${scheduleId}/pause`, { token });

    // Assess
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.paused_by).toBe('ops-person-7');
  });

  it('answers 403 to a viewer, 404 to another tenant and 400 naming a bad note', async () => {
    // Prepare
    const scheduleId = await createdId();

    // Act
    const viewer = await harness.request('POST', `${V1}/schedules/${scheduleId}/pause`, {
      token: tenant.tokens.viewer,
    });
    const foreign = await harness.request('POST', `${V1}/schedules/${scheduleId}/resume`, {
      token: other.tokens.operator,
    });
    const badNote = await harness.request('POST', `${V1}/schedules/${scheduleId}/pause`, {
      token: tenant.tokens.operator,
      json: { note: 'x'.repeat(2000) },
    });

    // Assess
    expect(viewer.status).toBe(403);
    expect(foreign.status).toBe(404);
    expect(badNote.status).toBe(400);
    expect(fieldsOf(badNote)).toContain('note');
  });
});

describe('POST /scheduler/reconcile', () => {
  it('reports drift between the table and the scheduler, repairs it, and refuses tenant users', async () => {
    // Prepare: a schedule whose scheduler entry went missing
    const created = await createSchedule({ name: 'Drifted' });
    const scheduleId = created.body.schedule_id as string;
    await harness.runtime.scheduler.remove(scheduleId);

    // Act
    const dryRun = await harness.request<Body>('POST', `${V1}/scheduler/reconcile`, {
      token: harness.adminToken,
      json: { dry_run: true },
    });
    const stillMissing = harness.runtime.scheduler.pendingSlot(scheduleId);
    const repaired = await harness.request<Body>('POST', `${V1}/scheduler/reconcile`, {
      token: harness.adminToken,
    });
    const again = await harness.request<Body>('POST', `${V1}/scheduler/reconcile`, {
      token: harness.adminToken,
    });
    const forbidden = await harness.request('POST', `${V1}/scheduler/reconcile`, {
      token: tenant.tokens.tenant_admin,
    });

    // Assess
    expect(dryRun.status, dryRun.text).toBe(200);
    expect(dryRun.body).toMatchObject({ dry_run: true });
    expect((dryRun.body.created as Body[]).map((change) => change.schedule_id)).toContain(scheduleId);
    expect(stillMissing).toBeUndefined();
    expect(repaired.status).toBe(200);
    expect((repaired.body.created as Body[]).map((change) => change.schedule_id)).toContain(scheduleId);
    expect(harness.runtime.scheduler.pendingSlot(scheduleId)).toBeDefined();
    expect(again.body).toMatchObject({ created: [], updated: [], deleted: [] });
    expect(forbidden.status).toBe(403);
  });
});

describe('GET /openapi.json', () => {
  it('documents every schedule, execution and scan-result route with its roles', async () => {
    // Act
    const response = await harness.request<{
      paths: Record<string, Record<string, { 'x-roles': string[] }>>;
    }>('GET', `${V1}/openapi.json`);

    // Assess
    expect(response.status).toBe(200);
    const { paths } = response.body;
    const documented = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented).toEqual(
      expect.arrayContaining([
        'POST /schedules',
        'GET /schedules',
        'GET /schedules/{schedule_id}',
        'PUT /schedules/{schedule_id}',
        'DELETE /schedules/{schedule_id}',
        'POST /schedules/{schedule_id}/trigger',
        'GET /schedules/{schedule_id}/executions',
        'POST /schedules/{schedule_id}/pause',
        'POST /schedules/{schedule_id}/resume',
        'GET /executions/{execution_id}',
        'POST /executions/{execution_id}/cancel',
        'POST /executions/{execution_id}/redrive',
        'POST /tenants/{tenant_id}/scans',
        'GET /accounts/{account_id}/scan-results',
        'GET /scan-results/{scan_id}',
      ]),
    );
    expect(paths['/schedules']?.post?.['x-roles']).toEqual(['tenant_admin', 'platform_admin']);
    expect(paths['/schedules/{schedule_id}/trigger']?.post?.['x-roles']).toContain('operator');
    expect(paths['/schedules/{schedule_id}']?.get?.['x-roles']).toContain('viewer');
  });
});
