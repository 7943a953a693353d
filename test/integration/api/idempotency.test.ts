import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsAccessKeyCredentials } from '../../fixtures/credentials';
import { ApiHarness, type TenantFixture, unique } from '../../support/api-harness';

describe('Idempotency-Key', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
  });
  afterAll(async () => {
    await harness?.close();
  });

  const accountsOf = async (fixture: TenantFixture) =>
    (
      await harness.request<{ accounts: { account_name: string }[] }>(
        'GET',
        '/api/v1/onboarding/accounts?limit=100',
        {
          token: fixture.tokens.viewer,
        },
      )
    ).body.accounts;

  it('creates exactly one resource when identical requests race', async () => {
    // Prepare
    const name = unique('Raced');
    const request = {
      token: tenant.tokens.tenant_admin,
      json: { account_name: name },
      headers: { 'idempotency-key': `race-${Date.now()}` },
    };

    // Act
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => harness.request('POST', '/api/v1/onboarding/aws/init', request)),
    );

    // Assess
    const created = responses.filter((response) => response.status === 201);
    const busy = responses.filter((response) => response.status === 409);
    expect(created.length + busy.length).toBe(responses.length);
    expect(new Set(created.map((response) => response.body.account_id)).size).toBe(1);
    for (const response of busy)
      expect(response.body.details).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
    expect((await accountsOf(tenant)).filter((account) => account.account_name === name)).toHaveLength(1);
  });

  it('forgets a key whose request failed, so a corrected retry succeeds', async () => {
    const key = `fix-${Date.now()}`;

    const failed = await harness.request('POST', '/api/v1/onboarding/aws/init', {
      token: tenant.tokens.tenant_admin,
      json: { account_name: '' },
      headers: { 'idempotency-key': key },
    });
    const corrected = await harness.request('POST', '/api/v1/onboarding/aws/init', {
      token: tenant.tokens.tenant_admin,
      json: { account_name: 'Corrected' },
      headers: { 'idempotency-key': key },
    });

    expect(failed.status).toBe(400);
    expect(corrected.status).toBe(201);
    expect(corrected.headers.get('idempotent-replayed')).toBeNull();
  });

  it('scopes keys per tenant', async () => {
    const second = await harness.createTenant();
    const key = `shared-${Date.now()}`;

    const mine = await harness.request('POST', '/api/v1/onboarding/aws/init', {
      token: tenant.tokens.tenant_admin,
      json: { account_name: 'Same key' },
      headers: { 'idempotency-key': key },
    });
    const theirs = await harness.request('POST', '/api/v1/onboarding/aws/init', {
      token: second.tokens.tenant_admin,
      json: { account_name: 'Same key' },
      headers: { 'idempotency-key': key },
    });

    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.body.account_id).not.toBe(mine.body.account_id);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });

  it('replays the synchronous answer with its Location, and stages the credentials once', async () => {
    // Prepare
    const account = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });
    const request = {
      token: tenant.tokens.tenant_admin,
      json: { credential_type: 'aws_access_key', credentials: fakeAwsAccessKeyCredentials() },
      headers: { 'idempotency-key': `credentials-${account.accountId}` },
    };

    // Act
    const first = await harness.request<{ execution_id: string }>(
      'POST',
      `/api/v1/accounts/${account.accountId}/credentials`,
      request,
    );
    await harness.waitForExecution(first.body.execution_id, tenant.tokens.viewer);
    const described = await harness.runtime.secretStore.describe(account.accountId);
    const second = await harness.request(
      'POST',
      `/api/v1/accounts/${account.accountId}/credentials`,
      request,
    );

    // Assess
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await harness.runtime.secretStore.describe(account.accountId)).toEqual(described);
  });

  it('answers 409 naming Idempotency-Key for the same key on another path', async () => {
    const key = `path-${Date.now()}`;

    await harness.request('POST', '/api/v1/onboarding/aws/init', {
      token: tenant.tokens.tenant_admin,
      json: { account_name: 'Path one' },
      headers: { 'idempotency-key': key },
    });
    const reused = await harness.request('POST', '/api/v1/onboarding/gcp/init', {
      token: tenant.tokens.tenant_admin,
      json: { account_name: 'Path one' },
      headers: { 'idempotency-key': key },
    });

    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ code: 'conflict', details: [{ field: 'Idempotency-Key' }] });
  });
});
