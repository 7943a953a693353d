import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../functions/api/api-context';
import { fakeAwsAccessKeyCredentials, fakeAwsIamRoleCredentials } from '../../fixtures/credentials';
import { type AccountFixture, ApiHarness, type TenantFixture } from '../../support/api-harness';

/**
 * A table-driven matrix over every tenant, onboarding and credential endpoint: another tenant's
 * users, whatever their role, never read, change or learn of tenant A's resources. Ids of other
 * tenants answer exactly like ids that do not exist (404, same message shape), never 403; and
 * nothing of tenant A changes.
 */

interface Victim {
  tenant: TenantFixture;
  active: AccountFixture;
  role: AccountFixture;
  onboardingExecutionId: string;
  validationExecutionId: string;
}

interface MatrixCase {
  name: string;
  method: string;
  path: (victim: Victim) => string;
  body?: (victim: Victim) => unknown;
  /** The role of the intruding tenant's user (default tenant_admin, the strongest tenant role). */
  role?: Exclude<Role, 'platform_admin'>;
  /** 404 for anything that names a resource; 403 only where the role may never act (no lookup happens). */
  expected: 404 | 403;
}

const CASES: MatrixCase[] = [
  {
    name: 'read the tenant',
    method: 'GET',
    path: (v) => `/api/v1/tenants/${v.tenant.tenantId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'rename the tenant',
    method: 'PATCH',
    path: (v) => `/api/v1/tenants/${v.tenant.tenantId}`,
    body: () => ({ description: 'pwned' }),
    expected: 403,
  },
  {
    name: 'disable the tenant',
    method: 'DELETE',
    path: (v) => `/api/v1/tenants/${v.tenant.tenantId}`,
    expected: 403,
  },
  {
    name: 'list its accounts',
    method: 'GET',
    path: (v) => `/api/v1/onboarding/accounts?tenant_id=${v.tenant.tenantId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'read an account',
    method: 'GET',
    path: (v) => `/api/v1/onboarding/accounts/${v.active.accountId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'read an account naming its tenant',
    method: 'GET',
    path: (v) => `/api/v1/onboarding/accounts/${v.active.accountId}?tenant_id=${v.tenant.tenantId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'disable an account',
    method: 'DELETE',
    path: (v) => `/api/v1/onboarding/accounts/${v.active.accountId}`,
    expected: 404,
  },
  {
    name: 'read an onboarding execution',
    method: 'GET',
    path: (v) => `/api/v1/onboarding/executions/${v.onboardingExecutionId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'read a validation execution',
    method: 'GET',
    path: (v) => `/api/v1/onboarding/executions/${v.validationExecutionId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'read the CloudFormation template of its external id',
    method: 'GET',
    path: (v) => `/api/v1/onboarding/aws/cloudformation-template?external_id=${v.role.externalId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'read the template naming its tenant',
    method: 'GET',
    path: (v) =>
      `/api/v1/onboarding/aws/cloudformation-template?external_id=${v.role.externalId}&tenant_id=${v.tenant.tenantId}`,
    role: 'viewer',
    expected: 404,
  },
  {
    name: 'create an account in it',
    method: 'POST',
    path: () => '/api/v1/onboarding/aws/init',
    body: (v) => ({ tenant_id: v.tenant.tenantId, account_name: 'Planted' }),
    expected: 404,
  },
  {
    name: 'submit credentials for an account',
    method: 'POST',
    path: () => '/api/v1/onboarding/aws/validate',
    body: (v) => ({
      account_id: v.active.accountId,
      auth_method: 'access_key',
      credentials: fakeAwsAccessKeyCredentials(),
    }),
    expected: 404,
  },
  {
    name: 'submit credentials naming its tenant',
    method: 'POST',
    path: () => '/api/v1/onboarding/aws/validate',
    body: (v) => ({
      tenant_id: v.tenant.tenantId,
      account_id: v.active.accountId,
      auth_method: 'access_key',
      credentials: fakeAwsAccessKeyCredentials(),
    }),
    expected: 404,
  },
  {
    name: 'submit an OnboardingJson for its role account',
    method: 'POST',
    path: () => '/api/v1/onboarding/aws/validate-json',
    body: (v) => ({
      account_id: v.role.accountId,
      onboarding_json: fakeAwsIamRoleCredentials({ external_id: v.role.externalId as string }),
    }),
    expected: 404,
  },
  {
    name: 'replace the credentials of an account',
    method: 'POST',
    path: (v) => `/api/v1/accounts/${v.active.accountId}/credentials`,
    body: () => ({ credential_type: 'aws_access_key', credentials: fakeAwsAccessKeyCredentials() }),
    expected: 404,
  },
  {
    name: 'validate the credentials of an account',
    method: 'GET',
    path: (v) => `/api/v1/accounts/${v.active.accountId}/credentials/validate`,
    role: 'operator',
    expected: 404,
  },
  {
    name: 'delete the credentials of an account',
    method: 'DELETE',
    path: (v) => `/api/v1/accounts/${v.active.accountId}/credentials`,
    expected: 404,
  },
];

/** The ids of tenant A that appear in a path or body, swapped for ids that do not exist anywhere. */
function withUnknownIds(victim: Victim): Victim {
  return {
    tenant: { ...victim.tenant, tenantId: 'tenant-that-does-not-exist' },
    active: { ...victim.active, accountId: 'account-that-does-not-exist' },
    role: {
      ...victim.role,
      accountId: 'role-account-that-does-not-exist',
      externalId: 'threat-engine-0000000000000000',
    },
    onboardingExecutionId: 'onboard-account-that-does-not-exist-0000000000000000',
    validationExecutionId: 'validate-account-that-does-not-exist-20260101T000000Z-abcdef',
  };
}

describe('Cross-tenant isolation', () => {
  let harness: ApiHarness;
  let victim: Victim;
  let intruder: TenantFixture;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    const tenant = await harness.createTenant();
    intruder = await harness.createTenant();
    const active = await harness.activeAccount(tenant, 'aws');
    const role = await harness.initAccount(tenant, 'aws');
    const account = await harness.runtime.repositories.accounts.get(active.accountId);
    const validation = await harness.request<{ execution_id: string }>(
      'GET',
      `/api/v1/accounts/${active.accountId}/credentials/validate`,
      { token: tenant.tokens.operator },
    );
    await harness.waitForExecution(validation.body.execution_id, tenant.tokens.viewer);
    victim = {
      tenant,
      active,
      role,
      onboardingExecutionId: `onboard-${active.accountId}-${(account?.onboarding_id ?? '').replaceAll('-', '').slice(0, 16)}`,
      validationExecutionId: validation.body.execution_id,
    };
    // The fixture ids must be real for the owner, or the matrix proves nothing.
    const ownerRead = await harness.request(
      'GET',
      `/api/v1/onboarding/executions/${victim.onboardingExecutionId}`,
      {
        token: tenant.tokens.viewer,
      },
    );
    if (ownerRead.status !== 200) throw new Error(`fixture execution id is wrong: ${ownerRead.text}`);
  });
  afterAll(async () => {
    await harness?.close();
  });

  const send = (testCase: MatrixCase, target: Victim, token: string) =>
    harness.request(testCase.method, testCase.path(target), {
      token,
      ...(testCase.body ? { json: testCase.body(target) } : {}),
    });

  it.each(CASES)('another tenant cannot $name', async (testCase) => {
    // Prepare
    const token = intruder.tokens[testCase.role ?? 'tenant_admin'];
    const accountBefore = await harness.runtime.repositories.accounts.get(victim.active.accountId);
    const secretBefore = await harness.runtime.secretStore.describe(victim.active.accountId);
    const tenantBefore = await harness.runtime.repositories.tenants.get(victim.tenant.tenantId);

    // Act
    const response = await send(testCase, victim, token);
    const unknown = await send(testCase, withUnknownIds(victim), token);

    // Assess
    expect(response.status).toBe(testCase.expected);
    expect(unknown.status).toBe(testCase.expected);
    expect(response.body.code).toBe(unknown.body.code);
    const blank = (text: string) =>
      [
        victim.onboardingExecutionId,
        victim.validationExecutionId,
        victim.tenant.tenantId,
        victim.active.accountId,
        victim.role.accountId,
        victim.role.externalId as string,
      ]
        .reduce((current, id) => current.replaceAll(id, '<id>'), text)
        .replace(/(onboard|validate)-[\w-]+|[\w-]+-that-does-not-exist[\w-]*|threat-engine-0{16}/g, '<id>');
    expect(blank(String(response.body.message))).toBe(blank(String(unknown.body.message)));
    expect(await harness.runtime.repositories.accounts.get(victim.active.accountId)).toEqual(accountBefore);
    expect(await harness.runtime.secretStore.describe(victim.active.accountId)).toEqual(secretBefore);
    expect(await harness.runtime.repositories.tenants.get(victim.tenant.tenantId)).toEqual(tenantBefore);
  });

  it('creates nothing in the victim tenant across the whole matrix', async () => {
    const listed = await harness.request<{ accounts: { account_id: string }[] }>(
      'GET',
      '/api/v1/onboarding/accounts',
      {
        token: victim.tenant.tokens.viewer,
      },
    );

    expect(listed.body.accounts.map((item) => item.account_id).sort()).toEqual(
      [victim.active.accountId, victim.role.accountId].sort(),
    );
  });

  it('lets a platform admin reach every one of those resources', async () => {
    const reads = await Promise.all([
      harness.request('GET', `/api/v1/tenants/${victim.tenant.tenantId}`, { token: harness.adminToken }),
      harness.request('GET', `/api/v1/onboarding/accounts/${victim.active.accountId}`, {
        token: harness.adminToken,
      }),
      harness.request('GET', `/api/v1/onboarding/executions/${victim.validationExecutionId}`, {
        token: harness.adminToken,
      }),
      harness.request(
        'GET',
        `/api/v1/onboarding/aws/cloudformation-template?external_id=${victim.role.externalId}&tenant_id=${victim.tenant.tenantId}`,
        { token: harness.adminToken },
      ),
    ]);

    expect(reads.map((response) => response.status)).toEqual([200, 200, 200, 200]);
  });
});
