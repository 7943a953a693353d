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

  it('counts only submissions that would start a validation, and answers 429 with Retry-After past the budget', async () => {
    // Prepare: refused requests of every kind spend nothing (more of them than the budget of 3).
    const refused = [];
    for (let round = 0; round < 2; round += 1) {
      refused.push(
        await harness.request('POST', '/api/v1/onboarding/aws/validate', {
          token: tenant.tokens.tenant_admin,
          json: {
            account_id: account.accountId,
            auth_method: 'access_key',
            credentials: { access_key_id: 'stolen?' },
          },
        }),
        await harness.request('POST', '/api/v1/onboarding/aws/validate', {
          token: tenant.tokens.tenant_admin,
          json: {
            account_id: 'unknown-account',
            auth_method: 'access_key',
            credentials: fakeAwsAccessKeyCredentials(),
          },
        }),
        await harness.request('POST', '/api/v1/onboarding/aws/validate-json', {
          token: tenant.tokens.tenant_admin,
          json: { account_id: account.accountId, onboarding_json: '{}' },
        }),
        await harness.request('GET', `/api/v1/accounts/${account.accountId}/credentials/validate`, {
          token: tenant.tokens.operator,
        }),
        await harness.request('POST', `/api/v1/accounts/${account.accountId}/credentials`, {
          token: tenant.tokens.tenant_admin,
          json: { credential_type: 'aws_access_key', credentials: { secret_access_key: 'x' } },
        }),
      );
    }
    // Three well-formed submissions spend the budget.
    const accepted = [];
    for (let index = 0; index < 3; index += 1) {
      const fresh = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });
      accepted.push(
        await harness.request('POST', '/api/v1/onboarding/aws/validate', {
          token: tenant.tokens.tenant_admin,
          headers: { prefer: 'respond-async' },
          json: {
            account_id: fresh.accountId,
            auth_method: 'access_key',
            credentials: fakeAwsAccessKeyCredentials(),
          },
        }),
      );
    }

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
    expect(refused.map((response) => response.status)).toEqual([
      400, 404, 400, 409, 400, 400, 404, 400, 409, 400,
    ]);
    expect(accepted.map((response) => response.status)).toEqual([202, 202, 202]);
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
