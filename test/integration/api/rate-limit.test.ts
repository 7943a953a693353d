import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsAccessKeyCredentials } from '../../fixtures/credentials';
import { type AccountFixture, ApiHarness, type TenantFixture } from '../../support/api-harness';

describe('Validation rate limit', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let other: TenantFixture;
  let account: AccountFixture;

  beforeAll(async () => {
    harness = await ApiHarness.start({
      env: { API_VALIDATION_RATE_LIMIT: '3', API_VALIDATION_RATE_WINDOW_SECONDS: '3600' },
    });
    tenant = await harness.createTenant();
    other = await harness.createTenant();
    account = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('answers 429 with Retry-After once the tenant spent its budget, across every validation endpoint', async () => {
    // Prepare: three calls of three kinds spend the budget of 3 (refused ones count too).
    const spent = [
      await harness.request('POST', '/api/v1/onboarding/aws/validate', {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: account.accountId,
          auth_method: 'access_key',
          credentials: { access_key_id: 'stolen?' },
        },
      }),
      await harness.request('POST', '/api/v1/onboarding/aws/validate-json', {
        token: tenant.tokens.tenant_admin,
        json: { account_id: account.accountId, onboarding_json: '{}' },
      }),
      await harness.request('GET', `/api/v1/accounts/${account.accountId}/credentials/validate`, {
        token: tenant.tokens.operator,
      }),
    ];

    // Act
    const limited = await harness.request('POST', `/api/v1/accounts/${account.accountId}/credentials`, {
      token: tenant.tokens.tenant_admin,
      json: { credential_type: 'aws_access_key', credentials: fakeAwsAccessKeyCredentials() },
    });
    const otherTenant = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
      token: other.tokens.tenant_admin,
      json: {
        account_id: 'unknown-account',
        auth_method: 'access_key',
        credentials: fakeAwsAccessKeyCredentials(),
      },
    });
    const notCounted = await harness.request('POST', '/api/v1/onboarding/aws/init', {
      token: tenant.tokens.tenant_admin,
      json: { account_name: 'Still allowed' },
    });

    // Assess
    expect(spent.map((response) => response.status)).toEqual([400, 400, 409]);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ status: 429, code: 'rate_limited' });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await harness.runtime.secretStore.describe(account.accountId)).toBeUndefined();
    expect(otherTenant.status).toBe(404);
    expect(notCounted.status).toBe(201);
  });
});
