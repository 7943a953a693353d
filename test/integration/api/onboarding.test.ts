import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  FAKE_AWS_ACCOUNT,
  fakeAwsAccessKeyCredentials,
  fakeAwsIamRoleCredentials,
  fakeAzureServicePrincipalCredentials,
} from '../../fixtures/credentials';
import { ApiHarness, TEST_PLATFORM_ACCOUNT, type TenantFixture, unique } from '../../support/api-harness';

interface Statement {
  Effect: string;
  Action: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

describe('Onboarding API', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
    other = await harness.createTenant();
  });
  afterAll(async () => {
    await harness?.close();
  });

  describe('GET /onboarding/{provider}/methods', () => {
    it('lists the auth methods and their fields, without schema internals', async () => {
      // Act
      const response = await harness.request<{ provider: string; methods: Record<string, unknown>[] }>(
        'GET',
        '/api/v1/onboarding/aws/methods',
        { token: tenant.tokens.viewer },
      );

      // Assess
      expect(response.status).toBe(200);
      expect(response.body.provider).toBe('aws');
      expect(response.body.methods.map((method) => method.auth_method)).toEqual(['iam_role', 'access_key']);
      expect(response.body.methods[0]).toMatchObject({
        credential_type: 'aws_iam_role',
        recommended: true,
        required_fields: ['role_arn', 'external_id', 'account_number'],
      });
      expect(response.body.methods[1]).toMatchObject({
        optional_fields: ['session_token', 'account_number'],
      });
      expect(response.text).not.toMatch(/_zod|"schema"|"def"/);
    });

    it('answers 400 naming provider for an unknown provider', async () => {
      const response = await harness.request('GET', '/api/v1/onboarding/digitalocean/methods', {
        token: tenant.tokens.viewer,
      });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'validation_failed', details: [{ field: 'provider' }] });
    });
  });

  describe('POST /onboarding/{provider}/init', () => {
    it('creates a pending AWS account with a stored external id and a template link', async () => {
      // Act
      const response = await harness.request<Record<string, string | null>>(
        'POST',
        '/api/v1/onboarding/aws/init',
        {
          token: tenant.tokens.tenant_admin,
          json: { account_name: 'Production' },
        },
      );

      // Assess
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        provider: 'aws',
        auth_method: 'iam_role',
        account_name: 'Production',
        tenant_id: tenant.tenantId,
        status: 'pending',
        onboarding_status: 'pending',
        onboarding_id: null,
        validate_url: '/api/v1/onboarding/aws/validate-json',
      });
      expect(response.body.external_id).toMatch(/^threat-engine-[0-9a-f]{16}$/);
      expect(response.body.cloudformation_template_url).toBe(
        `/api/v1/onboarding/aws/cloudformation-template?external_id=${response.body.external_id}`,
      );
      const stored = await harness.runtime.repositories.accounts.get(response.body.account_id as string);
      expect(stored?.external_id).toBe(response.body.external_id);
      expect(response.headers.get('location')).toBe(
        `/api/v1/onboarding/accounts/${response.body.account_id}`,
      );
    });

    it('issues no external id for providers without role onboarding', async () => {
      const response = await harness.request('POST', '/api/v1/onboarding/azure/init', {
        token: tenant.tokens.tenant_admin,
        json: { account_name: 'Subscription' },
      });

      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ auth_method: 'service_principal', external_id: null });
      expect(response.body).not.toHaveProperty('cloudformation_template_url');
    });

    it.each([
      [{ account_name: 'X', auth_method: 'service_principal' }, 'auth_method'],
      [{ account_name: 'X', credentials: { secret: 'no' } }, 'credentials'],
      [{}, 'account_name'],
      [{ account_name: '' }, 'account_name'],
      [{ account_name: 'bad\u0000name' }, 'account_name'],
    ])('answers 400 naming the field for %j and writes nothing', async (body, field) => {
      // Prepare
      const before = await harness.itemCounts();

      // Act
      const response = await harness.request('POST', '/api/v1/onboarding/aws/init', {
        token: tenant.tokens.tenant_admin,
        json: body,
      });

      // Assess
      expect(response.status).toBe(400);
      expect((response.body.details as { field: string }[]).map((issue) => issue.field)).toContain(field);
      expect(await harness.itemCounts()).toEqual(before);
    });

    it('lets a platform admin act on a named tenant, and asks for one otherwise', async () => {
      const withTenant = await harness.request('POST', '/api/v1/onboarding/gcp/init', {
        token: harness.adminToken,
        json: { tenant_id: tenant.tenantId, account_name: 'Project' },
      });
      const withoutTenant = await harness.request('POST', '/api/v1/onboarding/gcp/init', {
        token: harness.adminToken,
        json: { account_name: 'Project' },
      });
      const unknownTenant = await harness.request('POST', '/api/v1/onboarding/gcp/init', {
        token: harness.adminToken,
        json: { tenant_id: 'no-such-tenant', account_name: 'Project' },
      });

      expect(withTenant.status).toBe(201);
      expect(withTenant.body.tenant_id).toBe(tenant.tenantId);
      expect(withoutTenant.status).toBe(400);
      expect(withoutTenant.body.details).toEqual([{ field: 'tenant_id', message: expect.any(String) }]);
      expect(unknownTenant.status).toBe(404);
    });

    it('answers 404 when a tenant admin names another tenant', async () => {
      const response = await harness.request('POST', '/api/v1/onboarding/aws/init', {
        token: tenant.tokens.tenant_admin,
        json: { tenant_id: other.tenantId, account_name: 'Sneaky' },
      });

      expect(response.status).toBe(404);
    });

    it.each(['operator', 'viewer'] as const)('answers 403 to a %s', async (role) => {
      const response = await harness.request('POST', '/api/v1/onboarding/aws/init', {
        token: tenant.tokens[role],
        json: { account_name: 'Nope' },
      });

      expect(response.status).toBe(403);
      expect(response.body.code).toBe('forbidden');
    });

    it('replays the first answer to a retry with the same Idempotency-Key and creates one account', async () => {
      // Prepare
      const fresh = await harness.createTenant();
      const request = {
        token: fresh.tokens.tenant_admin,
        json: { account_name: 'Retried' },
        headers: { 'idempotency-key': 'init-retry-1' },
      };

      // Act
      const first = await harness.request('POST', '/api/v1/onboarding/aws/init', request);
      const second = await harness.request('POST', '/api/v1/onboarding/aws/init', request);
      const listed = await harness.request<{ accounts: unknown[] }>('GET', '/api/v1/onboarding/accounts', {
        token: fresh.tokens.viewer,
      });

      // Assess
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(listed.body.accounts).toHaveLength(1);
    });
  });

  describe('GET /onboarding/aws/cloudformation-template', () => {
    it('returns a least-privilege role trusting the platform account on the external id', async () => {
      // Prepare
      const account = await harness.initAccount(tenant, 'aws');

      // Act
      const response = await harness.request<{
        template: string;
        template_object: {
          Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
          Outputs: Record<string, unknown>;
          Parameters: Record<string, { Default: string }>;
        };
        external_id: string;
        platform_account_id: string;
        account_id: string;
      }>('GET', `/api/v1/onboarding/aws/cloudformation-template?external_id=${account.externalId}`, {
        token: tenant.tokens.viewer,
      });

      // Assess
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        external_id: account.externalId,
        platform_account_id: TEST_PLATFORM_ACCOUNT,
        account_id: account.accountId,
      });
      const template = response.body.template_object;
      expect(parseYaml(response.body.template)).toEqual(template);
      const resources = Object.values(template.Resources);
      expect(resources.map((resource) => resource.Type)).toEqual(['AWS::IAM::Role']);
      const role = resources[0]?.Properties as {
        AssumeRolePolicyDocument: { Statement: Statement[] };
        ManagedPolicyArns: { 'Fn::Sub': string }[];
        Policies?: unknown;
      };
      const [trust] = role.AssumeRolePolicyDocument.Statement;
      expect(trust).toMatchObject({
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
      });
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the CloudFormation Fn::Sub placeholder
      expect(JSON.stringify(trust?.Principal)).toContain('${ThreatEngineAccountId}');
      expect(template.Parameters.ThreatEngineAccountId?.Default).toBe(TEST_PLATFORM_ACCOUNT);
      expect(template.Parameters.ExternalId?.Default).toBe(account.externalId);
      expect(role.ManagedPolicyArns.map((arn) => arn['Fn::Sub'].split('/').pop())).toEqual([
        'SecurityAudit',
        'ReadOnlyAccess',
      ]);
      expect(role.Policies).toBeUndefined();
      expect(JSON.stringify(template)).not.toMatch(/"Action":\s*"\*"|"\*:\*"/);
      expect(Object.keys(template.Outputs).sort()).toEqual(['ExternalId', 'OnboardingJson', 'RoleArn']);
    });

    it.each([
      ['threat-engine-XYZ', 400],
      ['../../etc/passwd', 400],
      ['threat-engine-0000000000000000', 404],
    ])('answers %s with %i', async (externalId, status) => {
      const response = await harness.request(
        'GET',
        `/api/v1/onboarding/aws/cloudformation-template?external_id=${encodeURIComponent(externalId)}`,
        { token: tenant.tokens.viewer },
      );

      expect(response.status).toBe(status);
      if (status === 400)
        expect(response.body.details).toEqual([{ field: 'external_id', message: expect.any(String) }]);
    });

    it("answers 404 for another tenant's external id", async () => {
      const account = await harness.initAccount(other, 'aws');

      const response = await harness.request(
        'GET',
        `/api/v1/onboarding/aws/cloudformation-template?external_id=${account.externalId}`,
        { token: tenant.tokens.tenant_admin },
      );

      expect(response.status).toBe(404);
    });
  });

  describe('POST /onboarding/{provider}/validate', () => {
    it('stages the credentials, waits for the workflow and answers 200 once it activated the account (offline)', async () => {
      // Prepare
      const account = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });

      // Act
      const response = await harness.request<{ execution_id: string; status_url: string; success: boolean }>(
        'POST',
        '/api/v1/onboarding/aws/validate',
        {
          token: tenant.tokens.tenant_admin,
          json: {
            account_id: account.accountId,
            auth_method: 'access_key',
            credentials: fakeAwsAccessKeyCredentials(),
          },
        },
      );
      const outcome = await harness.waitForExecution(response.body.execution_id, tenant.tokens.viewer);
      const detail = await harness.request('GET', `/api/v1/onboarding/accounts/${account.accountId}`, {
        token: tenant.tokens.viewer,
      });

      // Assess
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ success: true, account_id: account.accountId, status: 'active' });
      expect(response.body.execution_id).toMatch(/^onboard-/);
      expect(response.headers.get('location')).toBe(response.body.status_url);
      expect(outcome).toMatchObject({
        status: 'SUCCEEDED',
        error: null,
        account: { status: 'active', onboarding_status: 'completed', validated_offline: true },
      });
      expect(detail.body).toMatchObject({
        status: 'active',
        validated_offline: true,
        onboarding_execution_id: response.body.execution_id,
        credentials: { current: true, pending: false, scheduled_deletion_at: null },
      });
    });

    it('answers 400 naming provider when the path names another provider than the account', async () => {
      const account = await harness.initAccount(tenant, 'azure');

      const response = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: account.accountId,
          auth_method: 'access_key',
          credentials: fakeAwsAccessKeyCredentials(),
        },
      });

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        { field: 'provider', message: 'must be azure for this account' },
      ]);
    });

    it('answers 400 naming each bad credential field, without echoing values, and stages nothing', async () => {
      // Prepare
      const account = await harness.initAccount(tenant, 'azure');
      const credentials = fakeAzureServicePrincipalCredentials({ client_id: 'not-a-guid-canary-771' });

      // Act
      const response = await harness.request('POST', '/api/v1/onboarding/azure/validate', {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: account.accountId,
          auth_method: 'service_principal',
          credentials: { ...credentials, extra_field: 'x' },
        },
      });

      // Assess
      expect(response.status).toBe(400);
      const fields = (response.body.details as { field: string }[]).map((issue) => issue.field);
      expect(fields).toEqual(expect.arrayContaining(['credentials.client_id', 'credentials']));
      expect(response.text).not.toContain('not-a-guid-canary-771');
      expect(await harness.runtime.secretStore.describe(account.accountId)).toBeUndefined();
    });

    it('answers 400 naming auth_method when the provider has no such method', async () => {
      const account = await harness.initAccount(tenant, 'azure');

      const response = await harness.request('POST', '/api/v1/onboarding/azure/validate', {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: account.accountId,
          auth_method: 'iam_role',
          credentials: fakeAwsIamRoleCredentials(),
        },
      });

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        { field: 'auth_method', message: expect.stringContaining('service_principal') },
      ]);
    });

    it('refuses role credentials whose external id is not the one issued', async () => {
      const account = await harness.initAccount(tenant, 'aws');

      const response = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: account.accountId,
          auth_method: 'iam_role',
          credentials: fakeAwsIamRoleCredentials({ external_id: 'threat-engine-ffffffffffffffff' }),
        },
      });

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        { field: 'credentials.external_id', message: 'must be the external id issued at init' },
      ]);
    });

    it('answers 404 for an unknown account and 403 to an operator', async () => {
      const unknown = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: 'no-such-account',
          auth_method: 'access_key',
          credentials: fakeAwsAccessKeyCredentials(),
        },
      });
      const operator = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
        token: tenant.tokens.operator,
        json: {
          account_id: 'no-such-account',
          auth_method: 'access_key',
          credentials: fakeAwsAccessKeyCredentials(),
        },
      });

      expect(unknown.status).toBe(404);
      expect(operator.status).toBe(403);
    });

    it('starts one onboarding for a retried submission with the same Idempotency-Key', async () => {
      // Prepare
      const account = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });
      const request = {
        token: tenant.tokens.tenant_admin,
        json: {
          account_id: account.accountId,
          auth_method: 'access_key',
          credentials: fakeAwsAccessKeyCredentials(),
        },
        headers: { 'idempotency-key': `validate-${account.accountId}` },
      };

      // Act
      const first = await harness.request<{ execution_id: string }>(
        'POST',
        '/api/v1/onboarding/aws/validate',
        request,
      );
      const second = await harness.request<{ execution_id: string }>(
        'POST',
        '/api/v1/onboarding/aws/validate',
        request,
      );
      const changed = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
        ...request,
        json: {
          ...request.json,
          credentials: fakeAwsAccessKeyCredentials({ secret_access_key: 'Y'.repeat(40) }),
        },
      });
      await harness.waitForExecution(first.body.execution_id, tenant.tokens.viewer);
      const executions = await harness.runtime.workflows.list({ workflow: 'onboarding', limit: 100 });

      // Assess
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(changed.status).toBe(409);
      expect(changed.body.details).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
      expect(
        executions.executions.filter((execution) => execution.name.includes(account.accountId)),
      ).toHaveLength(1);
    });
  });

  describe('POST /onboarding/aws/validate-json', () => {
    it("onboards with the template's OnboardingJson output (JSON text)", async () => {
      // Prepare
      const account = await harness.initAccount(tenant, 'aws');
      const onboardingJson = JSON.stringify(
        fakeAwsIamRoleCredentials({ external_id: account.externalId as string }),
      );

      // Act
      const response = await harness.request<{ execution_id: string }>(
        'POST',
        '/api/v1/onboarding/aws/validate-json',
        {
          token: tenant.tokens.tenant_admin,
          json: { account_id: account.accountId, onboarding_json: onboardingJson },
        },
      );
      const outcome = await harness.waitForExecution(response.body.execution_id, tenant.tokens.viewer);

      // Assess
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ success: true, account_number: FAKE_AWS_ACCOUNT });
      expect(outcome.status).toBe('SUCCEEDED');
      expect(outcome.account).toMatchObject({ status: 'active', account_number: FAKE_AWS_ACCOUNT });
    });

    it.each([
      ['azure', { onboarding_json: {} }, 'provider'],
      ['aws', { onboarding_json: '{not json' }, 'onboarding_json'],
      ['aws', { onboarding_json: { role_arn: 'arn:aws:iam::1:role/x' } }, 'onboarding_json.role_arn'],
    ])('answers 400 for %s %j naming %s', async (provider, body, field) => {
      const account = await harness.initAccount(tenant, 'aws');

      const response = await harness.request('POST', `/api/v1/onboarding/${provider}/validate-json`, {
        token: tenant.tokens.tenant_admin,
        json: { account_id: account.accountId, ...body },
      });

      expect(response.status).toBe(400);
      expect((response.body.details as { field: string }[]).map((issue) => issue.field)).toContain(field);
    });
  });

  describe('GET /onboarding/executions/{execution_id}', () => {
    it('answers 404 for an unknown execution and 400 for a malformed id', async () => {
      const unknown = await harness.request(
        'GET',
        '/api/v1/onboarding/executions/onboard-nothing-here-12345678',
        {
          token: tenant.tokens.viewer,
        },
      );
      const malformed = await harness.request('GET', '/api/v1/onboarding/executions/scan-abc', {
        token: tenant.tokens.viewer,
      });

      expect(unknown.status).toBe(404);
      expect(malformed.status).toBe(400);
      expect(malformed.body.details).toEqual([{ field: 'execution_id', message: expect.any(String) }]);
    });
  });

  describe('GET /onboarding/accounts', () => {
    it("lists the tenant's accounts with filters and cursor pagination", async () => {
      // Prepare
      const fresh = await harness.createTenant();
      const active = await harness.activeAccount(fresh, 'aws');
      await harness.initAccount(fresh, 'aws');
      await harness.initAccount(fresh, 'gcp');

      // Act
      const all = await harness.request<{ accounts: { account_id: string }[] }>(
        'GET',
        '/api/v1/onboarding/accounts',
        {
          token: fresh.tokens.viewer,
        },
      );
      const aws = await harness.request<{ accounts: unknown[] }>(
        'GET',
        '/api/v1/onboarding/accounts?provider_type=aws',
        {
          token: fresh.tokens.viewer,
        },
      );
      const activeOnly = await harness.request<{ accounts: { account_id: string }[] }>(
        'GET',
        '/api/v1/onboarding/accounts?status=active',
        { token: fresh.tokens.viewer },
      );
      const pages: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { accounts: { account_id: string }[]; next_cursor: string | null } } =
          await harness.request(
            'GET',
            `/api/v1/onboarding/accounts?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
            { token: fresh.tokens.viewer },
          );
        pages.push(...page.body.accounts.map((item) => item.account_id));
        cursor = page.body.next_cursor;
      } while (cursor);

      // Assess
      expect(all.status).toBe(200);
      expect(all.body.accounts).toHaveLength(3);
      expect(aws.body.accounts).toHaveLength(2);
      expect(activeOnly.body.accounts.map((item) => item.account_id)).toEqual([active.accountId]);
      expect(pages.sort()).toEqual(all.body.accounts.map((item) => item.account_id).sort());
      expect(all.text).not.toMatch(/secret_name|scan_lock/);
    });

    it.each([
      ['status=deleted', 'status'],
      ['provider_type=vmware', 'provider_type'],
      ['limit=0', 'limit'],
      ['cursor=%21%21', 'cursor'],
      ['surprise=1', 'surprise'],
    ])('answers 400 for ?%s naming %s', async (query, field) => {
      const response = await harness.request('GET', `/api/v1/onboarding/accounts?${query}`, {
        token: tenant.tokens.viewer,
      });

      expect(response.status).toBe(400);
      expect((response.body.details as { field: string }[]).map((issue) => issue.field).join(' ')).toContain(
        field,
      );
    });

    it('asks a platform admin to name the tenant', async () => {
      const response = await harness.request('GET', '/api/v1/onboarding/accounts', {
        token: harness.adminToken,
      });
      const named = await harness.request('GET', `/api/v1/onboarding/accounts?tenant_id=${tenant.tenantId}`, {
        token: harness.adminToken,
      });

      expect(response.status).toBe(400);
      expect(named.status).toBe(200);
    });
  });

  describe('DELETE /onboarding/accounts/{account_id}', () => {
    it('disables the account, pauses its schedules, schedules the secret deletion; onboarding again restores it', async () => {
      // Prepare
      const account = await harness.activeAccount(tenant, 'aws');
      const schedule = await harness.runtime.services.scheduleService.create(tenant.tenantId, {
        account_id: account.accountId,
        name: unique('Nightly'),
        schedule_expression: 'rate(1 day)',
      });

      // Act
      const deleted = await harness.request<{ secret_deletion_date: string; paused_schedule_ids: string[] }>(
        'DELETE',
        `/api/v1/onboarding/accounts/${account.accountId}`,
        { token: tenant.tokens.tenant_admin },
      );
      const again = await harness.request('DELETE', `/api/v1/onboarding/accounts/${account.accountId}`, {
        token: tenant.tokens.tenant_admin,
      });
      const pausedSchedule = await harness.runtime.repositories.schedules.get(schedule.schedule_id);
      const afterDelete = await harness.request('GET', `/api/v1/onboarding/accounts/${account.accountId}`, {
        token: tenant.tokens.viewer,
      });
      const revalidate = await harness.request(
        'GET',
        `/api/v1/accounts/${account.accountId}/credentials/validate`,
        {
          token: tenant.tokens.operator,
        },
      );
      const reonboarded = await harness.submitAndWait(account);
      const restored = await harness.request('GET', `/api/v1/onboarding/accounts/${account.accountId}`, {
        token: tenant.tokens.viewer,
      });

      // Assess
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({
        status: 'deleted',
        account_id: account.accountId,
        account_status: 'disabled',
        paused_schedule_ids: [schedule.schedule_id],
      });
      expect(Date.parse(deleted.body.secret_deletion_date)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        account_status: 'disabled',
        secret_deletion_date: deleted.body.secret_deletion_date,
      });
      expect(pausedSchedule).toMatchObject({ status: 'paused', enabled: 'false' });
      expect(afterDelete.body).toMatchObject({
        status: 'disabled',
        credentials: { current: false, scheduled_deletion_at: deleted.body.secret_deletion_date },
      });
      expect(revalidate.status).toBe(409);
      expect(reonboarded.status.status).toBe('SUCCEEDED');
      expect(restored.body).toMatchObject({
        status: 'active',
        credentials: { current: true, scheduled_deletion_at: null },
      });
    });

    it('answers 403 to an operator and 404 for an unknown account', async () => {
      const operator = await harness.request('DELETE', '/api/v1/onboarding/accounts/whatever', {
        token: tenant.tokens.operator,
      });
      const unknown = await harness.request('DELETE', '/api/v1/onboarding/accounts/no-such-account', {
        token: tenant.tokens.tenant_admin,
      });

      expect(operator.status).toBe(403);
      expect(unknown.status).toBe(404);
    });
  });

  describe('/accounts/{account_id}/credentials', () => {
    it('replaces, re-validates and deletes credentials; no answer ever holds them', async () => {
      // Prepare
      const account = await harness.activeAccount(tenant, 'aws');
      const replacement = fakeAwsAccessKeyCredentials({
        secret_access_key: 'CanaryReplacementSecret/'.padEnd(40, 'z'),
      });

      // Act
      const replaced = await harness.request<{ execution_id: string }>(
        'POST',
        `/api/v1/accounts/${account.accountId}/credentials`,
        {
          token: tenant.tokens.tenant_admin,
          json: {
            credential_type: 'aws_access_key',
            credentials: replacement,
            expires_at: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      );
      const replacedOutcome = await harness.waitForExecution(
        replaced.body.execution_id,
        tenant.tokens.viewer,
      );
      const validation = await harness.request<{ execution_id: string }>(
        'GET',
        `/api/v1/accounts/${account.accountId}/credentials/validate`,
        { token: tenant.tokens.operator },
      );
      const validationOutcome = await harness.waitForExecution(
        validation.body.execution_id,
        tenant.tokens.viewer,
      );
      const deleted = await harness.request<{ deletion_date: string }>(
        'DELETE',
        `/api/v1/accounts/${account.accountId}/credentials`,
        { token: tenant.tokens.tenant_admin },
      );
      const deletedAgain = await harness.request(
        'DELETE',
        `/api/v1/accounts/${account.accountId}/credentials`,
        {
          token: tenant.tokens.tenant_admin,
        },
      );
      const afterDeletion = await harness.request('GET', `/api/v1/onboarding/accounts/${account.accountId}`, {
        token: tenant.tokens.viewer,
      });
      const validateWithout = await harness.request(
        'GET',
        `/api/v1/accounts/${account.accountId}/credentials/validate`,
        {
          token: tenant.tokens.operator,
        },
      );

      // Assess
      expect(replaced.status).toBe(200);
      expect(replacedOutcome.status).toBe('SUCCEEDED');
      expect(validation.status).toBe(200);
      expect(validation.body).toMatchObject({ success: true, message: 'Credentials are valid' });
      expect(validation.body.execution_id).toMatch(/^validate-/);
      expect(validationOutcome).toMatchObject({ workflow: 'validation', status: 'SUCCEEDED' });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({
        status: 'deleted',
        account_id: account.accountId,
        account_status: 'pending',
      });
      expect(afterDeletion.body).toMatchObject({ status: 'pending' });
      expect(deletedAgain.body).toMatchObject({ deletion_date: deleted.body.deletion_date });
      expect(validateWithout.status).toBe(409);
      expect(validateWithout.body.details).toEqual([{ field: 'credentials', message: expect.any(String) }]);
      for (const response of [replaced, validation, deleted]) {
        expect(response.text).not.toContain('CanaryReplacementSecret');
      }
    });

    it.each([
      [
        { credential_type: 'aws_access_key', credentials: {}, expires_at: '2001-01-01T00:00:00Z' },
        'expires_at',
      ],
      [
        { credential_type: 'azure_service_principal', credentials: fakeAzureServicePrincipalCredentials() },
        'credential_type',
      ],
      [{ credential_type: 'aws_access_key', credentials: 'AKIA' }, 'credentials'],
      [
        {
          credential_type: 'aws_access_key',
          credentials: fakeAwsAccessKeyCredentials(),
          expires_at: 'tomorrow',
        },
        'expires_at',
      ],
    ])('answers 400 for %j naming %s', async (body, field) => {
      const account = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });

      const response = await harness.request('POST', `/api/v1/accounts/${account.accountId}/credentials`, {
        token: tenant.tokens.tenant_admin,
        json: body,
      });

      expect(response.status).toBe(400);
      expect((response.body.details as { field: string }[]).map((issue) => issue.field)).toContain(field);
    });

    it('answers 404 when deleting credentials of an account that holds none, and 403 to roles below', async () => {
      const account = await harness.initAccount(tenant, 'aws');

      const none = await harness.request('DELETE', `/api/v1/accounts/${account.accountId}/credentials`, {
        token: tenant.tokens.tenant_admin,
      });
      const viewerValidate = await harness.request(
        'GET',
        `/api/v1/accounts/${account.accountId}/credentials/validate`,
        {
          token: tenant.tokens.viewer,
        },
      );
      const operatorPost = await harness.request(
        'POST',
        `/api/v1/accounts/${account.accountId}/credentials`,
        {
          token: tenant.tokens.operator,
          json: { credential_type: 'aws_access_key', credentials: fakeAwsAccessKeyCredentials() },
        },
      );

      expect(none.status).toBe(404);
      expect(viewerValidate.status).toBe(403);
      expect(operatorPost.status).toBe(403);
    });
  });
});
