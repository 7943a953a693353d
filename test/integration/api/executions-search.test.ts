import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../functions/core/ids';
import { ApiHarness, type TenantFixture } from '../../support/api-harness';

/**
 * GET /api/v1/executions (the console's Runs page) through real HTTP against the local runtime:
 * every tenant for a platform admin, one tenant otherwise, the filters (status, account, schedule,
 * start time), tenant isolation (404) and bad input (400 naming the field). Runs are written
 * straight through the execution repository at known times.
 */

type Listing = { executions: Array<Record<string, unknown>>; count: number; next_cursor: string | null };

const V1 = '/api/v1';
let harness: ApiHarness;
let tenant: TenantFixture;
let other: TenantFixture;
let accountId: string;
let otherAccountId: string;
const scheduleId = newId();

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 9, minute)).toISOString();
const search = (query: string, token = harness.adminToken) =>
  harness.request<Listing>('GET', `${V1}/executions${query}`, { token });
const idsOf = (listing: Listing) => listing.executions.map((execution) => execution.execution_id);

beforeAll(async () => {
  harness = await ApiHarness.start();
  [tenant, other] = await Promise.all([harness.createTenant(), harness.createTenant()]);
  const [account, otherAccount] = await Promise.all([
    harness.activeAccount(tenant),
    harness.activeAccount(other),
  ]);
  accountId = account.accountId;
  otherAccountId = otherAccount.accountId;
  const { executions } = harness.runtime.repositories;
  const write = (id: string, account: string, tenantId: string, minute: number, extra = {}) =>
    executions.create({
      execution_id: id,
      account_id: account,
      tenant_id: tenantId,
      started_at: at(minute),
      status: 'completed',
      ...extra,
    });
  await write('a1', accountId, tenant.tenantId, 1);
  await write('a2', accountId, tenant.tenantId, 2, { schedule_id: scheduleId, status: 'failed' });
  await write('a3', accountId, tenant.tenantId, 3, { schedule_id: scheduleId });
  await write('b1', otherAccountId, other.tenantId, 4);
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

describe('GET /api/v1/executions', () => {
  it('lists every tenant for a platform admin and only its own tenant for anyone else, newest first', async () => {
    // Act
    const [all, own, named] = await Promise.all([
      search('?started_before=2026-11-01T10:00:00Z'),
      search('', tenant.tokens.viewer),
      search(`?tenant_id=${other.tenantId}&started_before=2026-11-01T10:00:00Z`),
    ]);

    // Assess
    expect(idsOf(all.body)).toEqual(['b1', 'a3', 'a2', 'a1']);
    expect(idsOf(own.body)).toEqual(['a3', 'a2', 'a1']);
    expect(idsOf(named.body)).toEqual(['b1']);
  });

  it('filters by status, account, schedule and start time, and pages with the cursor', async () => {
    // Act
    const [failed, ofSchedule, window, ofAccount, firstPage] = await Promise.all([
      search('?status=failed', tenant.tokens.viewer),
      search(`?schedule_id=${scheduleId}`, tenant.tokens.viewer),
      search('?started_after=2026-11-01T09:02:00Z&started_before=2026-11-01T09:03:30Z'),
      search(`?account_id=${otherAccountId}`),
      search('?limit=2', tenant.tokens.viewer),
    ]);
    const secondPage = await search(
      `?limit=2&cursor=${encodeURIComponent(String(firstPage.body.next_cursor))}`,
      tenant.tokens.viewer,
    );

    // Assess
    expect(idsOf(failed.body)).toEqual(['a2']);
    expect(idsOf(ofSchedule.body)).toEqual(['a3', 'a2']);
    expect(idsOf(window.body)).toEqual(['a3', 'a2']);
    expect(idsOf(ofAccount.body)).toEqual(['b1']);
    expect([...idsOf(firstPage.body), ...idsOf(secondPage.body)]).toEqual(['a3', 'a2', 'a1']);
    expect(secondPage.body.next_cursor).toBeNull();
  });

  it("answers 404 for another tenant's account or tenant, and 400 naming a malformed field", async () => {
    // Act
    const [foreignAccount, foreignTenant, badTime, unknownField] = await Promise.all([
      search(`?account_id=${otherAccountId}`, tenant.tokens.viewer),
      search(`?tenant_id=${other.tenantId}`, tenant.tokens.viewer),
      search('?started_after=yesterday', tenant.tokens.viewer),
      search('?colour=red', tenant.tokens.viewer),
    ]);

    // Assess
    expect([foreignAccount.status, foreignTenant.status]).toEqual([404, 404]);
    expect(badTime.status).toBe(400);
    expect(badTime.text).toContain('started_after');
    expect(unknownField.status).toBe(400);
    expect(unknownField.text).toContain('colour');
  });
});
