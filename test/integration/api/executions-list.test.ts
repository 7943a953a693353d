import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccountFixture,
  ApiHarness,
  type ApiResponse,
  type TenantFixture,
} from '../../support/api-harness';

/**
 * GET /accounts/{id}/executions and GET /tenants/{id}/executions through real HTTP against the
 * local runtime: real scans (one failed by the engine simulator), the execution view of
 * GET /executions/{id}, status filter, cursor pages, tenant isolation (404) and bad input (400).
 */

type Body = Record<string, unknown>;
type Listing = { executions: Body[]; count: number; next_cursor: string | null };

let harness: ApiHarness;
let tenant: TenantFixture;
let other: TenantFixture;
let first: AccountFixture;
let second: AccountFixture;
let otherAccount: AccountFixture;
/** Every run of `tenant`, as GET /executions/{id} shows it. */
let runs: Body[];

const V1 = '/api/v1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForEnd(executionId: string, token: string): Promise<Body> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await harness.request<Body>('GET', `${V1}/executions/${executionId}`, { token });
    if (response.status === 200 && response.body.status !== 'running') return response.body;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still running: ${response.text}`);
    await sleep(25);
  }
}

/** Scans every active account of the tenant now and waits for the runs to end. */
async function scanTenant(fixture: TenantFixture): Promise<string[]> {
  const response = await harness.request<{ started: { execution_id: string }[] }>(
    'POST',
    `${V1}/tenants/${fixture.tenantId}/scans`,
    { token: fixture.tokens.operator },
  );
  if (response.status !== 202) throw new Error(`${response.status} ${response.text}`);
  const ids = response.body.started.map((started) => started.execution_id);
  for (const id of ids) await waitForEnd(id, fixture.tokens.viewer);
  return ids;
}

const list = (path: string, token: string) => harness.request<Listing>('GET', `${V1}${path}`, { token });

async function allPages(path: string, token: string): Promise<Body[][]> {
  const pages: Body[][] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response: ApiResponse<Listing> = await list(
      cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path,
      token,
    );
    expect(response.status).toBe(200);
    pages.push(response.body.executions);
    cursor = response.body.next_cursor;
  } while (cursor);
  return pages;
}

const newestFirst = (a: Body, b: Body) =>
  String(b.started_at).localeCompare(String(a.started_at)) ||
  String(b.execution_id).localeCompare(String(a.execution_id));

beforeAll(async () => {
  harness = await ApiHarness.start();
  [tenant, other] = await Promise.all([harness.createTenant(), harness.createTenant()]);
  [first, second, otherAccount] = await Promise.all([
    harness.activeAccount(tenant),
    harness.activeAccount(tenant),
    harness.activeAccount(other),
  ]);
  const ids = [...(await scanTenant(tenant)), ...(await scanTenant(other))];
  harness.runtime.simulator?.failNext(1, { kind: 'http-error', status: 400 });
  ids.push(...(await scanTenant(tenant)));
  ids.push(...(await scanTenant(tenant)));
  const views = await Promise.all(
    ids.map(
      async (id) =>
        (await harness.request<Body>('GET', `${V1}/executions/${id}`, { token: harness.adminToken })).body,
    ),
  );
  runs = views.filter((view) => view.tenant_id === tenant.tenantId).sort(newestFirst);
}, 90_000);

afterAll(async () => {
  await harness?.close();
});

describe('GET /accounts/{id}/executions', () => {
  it("lists the account's runs newest first, each as GET /executions/{id} shows it", async () => {
    // Act
    const response = await list(`/accounts/${first.accountId}/executions`, tenant.tokens.viewer);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      account_id: first.accountId,
      executions: runs.filter((run) => run.account_id === first.accountId),
      count: 3,
      next_cursor: null,
    });
  });

  it('pages with limit and cursor, and filters by status', async () => {
    // Act
    const pages = await allPages(`/accounts/${second.accountId}/executions?limit=2`, tenant.tokens.viewer);
    const failed = await list(`/accounts/${first.accountId}/executions?status=failed`, tenant.tokens.viewer);
    const failedOfSecond = await list(
      `/accounts/${second.accountId}/executions?status=failed`,
      tenant.tokens.viewer,
    );

    // Assess
    expect(pages.map((page) => page.length)).toEqual([2, 1]);
    expect(pages.flat()).toEqual(runs.filter((run) => run.account_id === second.accountId));
    const failures = [...failed.body.executions, ...failedOfSecond.body.executions];
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ status: 'failed' });
  });

  it("answers 404 for another tenant's account and for an unknown one, 200 to a platform admin", async () => {
    // Act
    const foreign = await list(`/accounts/${otherAccount.accountId}/executions`, tenant.tokens.viewer);
    const unknown = await list(
      '/accounts/00000000-0000-4000-8000-000000000000/executions',
      tenant.tokens.viewer,
    );
    const admin = await list(`/accounts/${otherAccount.accountId}/executions`, harness.adminToken);

    // Assess
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(admin.status).toBe(200);
    expect(admin.body.executions).toHaveLength(1);
  });

  it('answers 400 naming a bad status, limit or cursor', async () => {
    // Act
    const answers = await Promise.all(
      ['status=done', 'limit=0', 'cursor=bm9wZQ', 'colour=red'].map((query) =>
        harness.request<{ details: { field: string }[] }>(
          'GET',
          `${V1}/accounts/${first.accountId}/executions?${query}`,
          { token: tenant.tokens.viewer },
        ),
      ),
    );

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400]);
    expect(answers.map((answer) => answer.body.details[0]?.field)).toEqual([
      'status',
      'limit',
      'cursor',
      'colour',
    ]);
  });
});

describe('GET /tenants/{id}/executions', () => {
  it("merges the runs of every account of the tenant newest first, and no other tenant's", async () => {
    // Act
    const response = await list(`/tenants/${tenant.tenantId}/executions`, tenant.tokens.viewer);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      tenant_id: tenant.tenantId,
      executions: runs,
      count: 6,
      next_cursor: null,
    });
  });

  it.each([1, 4])('pages of %i together hold every run once, in order', async (limit) => {
    // Act
    const pages = await allPages(
      `/tenants/${tenant.tenantId}/executions?limit=${limit}`,
      tenant.tokens.viewer,
    );

    // Assess
    expect(pages.flat()).toEqual(runs);
    expect(pages).toHaveLength(Math.ceil(6 / limit));
  });

  it('filters by status', async () => {
    // Act
    const response = await list(
      `/tenants/${tenant.tenantId}/executions?status=failed`,
      tenant.tokens.operator,
    );

    // Assess
    expect(response.body.executions).toEqual(runs.filter((run) => run.status === 'failed'));
    expect(response.body.executions).toHaveLength(1);
  });

  it('answers 404 for another tenant and an unknown one, 400 for a cursor of another listing', async () => {
    // Act
    const foreign = await list(`/tenants/${other.tenantId}/executions`, tenant.tokens.viewer);
    const unknown = await list(
      '/tenants/00000000-0000-4000-8000-000000000000/executions',
      harness.adminToken,
    );
    const accountPage = await list(`/accounts/${first.accountId}/executions?limit=1`, tenant.tokens.viewer);
    const mixed = await list(
      `/tenants/${tenant.tenantId}/executions?cursor=${accountPage.body.next_cursor}`,
      tenant.tokens.viewer,
    );

    // Assess
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(mixed.status).toBe(400);
  });

  it('answers 401 without a token', async () => {
    // Act
    const response = await harness.request('GET', `${V1}/tenants/${tenant.tenantId}/executions`);

    // Assess
    expect(response.status).toBe(401);
  });
});
