import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
  type ProviderValidator,
} from '../../../functions/core/ports/provider-validator';
import { createProviderValidator } from '../../../functions/providers/provider-validator-registry';
import { fakeAwsAccessKeyCredentials, fakeOciUserPrincipalCredentials } from '../../fixtures/credentials';
import { ApiHarness, TEST_PLATFORM_ACCOUNT, type TenantFixture, unique } from '../../support/api-harness';

/**
 * The legacy UI contract (UI_TEAM_HANDOVER.md of the legacy service): each example request of the
 * document, sent as its JavaScript snippets send it (same method, path, query and body, JSON
 * content type) plus `Authorization: Bearer <token>`, answers the fields the UI reads with their
 * JSON types. Validation runs with THREAT_ENGINE_VALIDATE_OFFLINE semantics (the structural checks
 * and the offline validator), except where a test steers the validator to refuse or to hang.
 */

type Body = Record<string, unknown>;

/** The offline validator, unless the next calls were told to refuse (with a reason) or to hang. */
class SteeredValidator implements ProviderValidator {
  readonly #offline = createProviderValidator({ offline: true });
  readonly #steps: Array<{ reject: string } | { hang: Promise<void> }> = [];

  refuseNext(message: string): void {
    this.#steps.push({ reject: message });
  }

  hangNext(): () => void {
    let release = () => {};
    this.#steps.push({ hang: new Promise<void>((resolve) => (release = resolve)) });
    return () => release();
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    const step = this.#steps.shift();
    if (step && 'reject' in step) throw new CredentialValidationError('invalid_credentials', step.reject);
    if (step && 'hang' in step) await step.hang;
    return this.#offline.validate(credentialType, credentials, context);
  }
}

const DOC_ACCOUNT = '123456789012';
const DOC_ROLE_ARN = `arn:aws:iam::${DOC_ACCOUNT}:role/ThreatEngineComplianceRole`;

let harness: ApiHarness;
let validator: SteeredValidator;
let tenant: TenantFixture;
let other: TenantFixture;

/** A request as the document's snippets make it, with the bearer token added. */
function legacy<T = Body>(method: string, path: string, body?: unknown, token = tenant.tokens.tenant_admin) {
  return harness.request<T>(method, path, {
    token,
    ...(body === undefined ? {} : { json: body }),
  });
}

/** Steps 2 and 3 of the document: init, then the template. */
async function initRoleAccount(name = unique('Production Account')) {
  const init = await legacy<{ account_id: string; external_id: string }>(
    'POST',
    '/api/v1/onboarding/aws/init',
    {
      tenant_id: tenant.tenantId,
      account_name: name,
      auth_method: 'iam_role',
    },
  );
  expect(init.status, init.text).toBe(201);
  return init.body;
}

async function activeAccessKeyAccount(): Promise<string> {
  const init = await legacy<{ account_id: string }>('POST', '/api/v1/onboarding/aws/init', {
    tenant_id: tenant.tenantId,
    account_name: unique('Dev Account'),
    auth_method: 'access_key',
  });
  const validated = await legacy('POST', '/api/v1/onboarding/aws/validate', {
    account_id: init.body.account_id,
    auth_method: 'access_key',
    credentials: fakeAwsAccessKeyCredentials(),
  });
  expect(validated.status, validated.text).toBe(200);
  return init.body.account_id;
}

beforeAll(async () => {
  validator = new SteeredValidator();
  harness = await ApiHarness.start({ validator });
  tenant = await harness.createTenant();
  other = await harness.createTenant();
}, 60_000);
afterAll(async () => {
  await harness?.close();
});

describe('1. GET /api/v1/health', () => {
  it('answers status healthy, dynamodb and secrets_manager connected, and the version, without a token', async () => {
    const response = await harness.request('GET', '/api/v1/health');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'healthy',
      dynamodb: 'connected',
      secrets_manager: 'connected',
      version: expect.any(String),
    });
  });
});

describe('2. GET /api/v1/onboarding/{provider}/methods', () => {
  it('lists method, name, description, requires and cloudformation_supported for every provider', async () => {
    const providers = ['aws', 'azure', 'gcp', 'alicloud', 'oci', 'ibm'];
    const answers = await Promise.all(
      providers.map((provider) =>
        legacy<{ provider: string; methods: Body[] }>('GET', `/api/v1/onboarding/${provider}/methods`),
      ),
    );

    for (const [index, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.body.provider).toBe(providers[index]);
      for (const method of answer.body.methods) {
        expect(method).toMatchObject({
          method: expect.any(String),
          name: expect.any(String),
          description: expect.any(String),
          requires: expect.any(Array),
          cloudformation_supported: expect.any(Boolean),
        });
      }
    }
    expect(answers[0]?.body.methods).toMatchObject([
      {
        method: 'iam_role',
        name: expect.stringContaining('(Recommended)'),
        requires: ['role_arn', 'external_id', 'account_number'],
        cloudformation_supported: true,
      },
      {
        method: 'access_key',
        requires: ['access_key_id', 'secret_access_key'],
        cloudformation_supported: false,
      },
    ]);
  });
});

describe('3. POST /api/v1/onboarding/{provider}/init', () => {
  it('answers account_id, provider, auth_method, account_name, external_id and the template URL', async () => {
    const response = await legacy('POST', '/api/v1/onboarding/aws/init', {
      tenant_id: tenant.tenantId,
      account_name: 'Production Account',
      auth_method: 'iam_role',
    });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      account_id: expect.any(String),
      provider: 'aws',
      auth_method: 'iam_role',
      account_name: 'Production Account',
      external_id: expect.stringMatching(/^threat-engine-[0-9a-f]{16}$/),
    });
    expect(response.body).toHaveProperty('onboarding_id');
    expect(response.body.cloudformation_template_url).toBe(
      `/api/v1/onboarding/aws/cloudformation-template?external_id=${response.body.external_id}`,
    );
  });

  it('defaults auth_method to iam_role for AWS, as the test flow of the document relies on', async () => {
    const response = await legacy('POST', '/api/v1/onboarding/aws/init', {
      tenant_id: tenant.tenantId,
      account_name: 'Test Account',
    });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ auth_method: 'iam_role', external_id: expect.any(String) });
  });

  it("answers 404 for another tenant's tenant_id, as for one that does not exist", async () => {
    const response = await legacy('POST', '/api/v1/onboarding/aws/init', {
      tenant_id: other.tenantId,
      account_name: 'Production Account',
    });

    expect(response.status).toBe(404);
    expect(response.body.detail).toEqual(expect.any(String));
  });
});

describe('4. GET /api/v1/onboarding/aws/cloudformation-template', () => {
  it('answers the template as a YAML string, the external id and the platform account', async () => {
    const init = await initRoleAccount();

    const response = await legacy<{ template: string; external_id: string; platform_account_id: string }>(
      'GET',
      `/api/v1/onboarding/aws/cloudformation-template?external_id=${init.external_id}`,
    );

    expect(response.status).toBe(200);
    expect(response.body.template).toMatch(/^AWSTemplateFormatVersion: ["']?2010-09-09/);
    expect(parseYaml(response.body.template)).toMatchObject({
      Parameters: { ExternalId: { Default: init.external_id } },
      Outputs: { OnboardingJson: expect.any(Object) },
    });
    expect(response.body).toMatchObject({
      external_id: init.external_id,
      platform_account_id: TEST_PLATFORM_ACCOUNT,
    });
  });
});

describe('5. POST /api/v1/onboarding/{provider}/validate', () => {
  it('AWS IAM role example: answers 200 {success, message, account_id, account_number} once the workflow succeeded', async () => {
    const init = await initRoleAccount();

    const response = await legacy('POST', '/api/v1/onboarding/aws/validate', {
      account_id: init.account_id,
      auth_method: 'iam_role',
      credentials: { role_arn: DOC_ROLE_ARN, external_id: init.external_id, account_number: DOC_ACCOUNT },
    });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      success: true,
      message: 'Account successfully onboarded and validated',
      account_id: init.account_id,
      account_number: DOC_ACCOUNT,
      status: 'active',
    });
    expect(response.text).not.toContain(init.external_id);
  });

  it('AWS access key example (with account_number): answers 200 with that account number', async () => {
    const init = await legacy<{ account_id: string }>('POST', '/api/v1/onboarding/aws/init', {
      tenant_id: tenant.tenantId,
      account_name: 'Dev Account',
      auth_method: 'access_key',
    });
    const credentials = { ...fakeAwsAccessKeyCredentials(), account_number: DOC_ACCOUNT };

    const response = await legacy('POST', '/api/v1/onboarding/aws/validate', {
      account_id: init.body.account_id,
      auth_method: 'access_key',
      credentials,
    });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ success: true, account_number: DOC_ACCOUNT });
    expect(response.text).not.toContain(credentials.secret_access_key);
  });

  it("answers 400 {detail: {message, errors}} carrying the workflow's own reason when the provider refuses", async () => {
    const init = await legacy<{ account_id: string }>('POST', '/api/v1/onboarding/oci/init', {
      tenant_id: tenant.tenantId,
      account_name: unique('OCI tenancy'),
    });
    validator.refuseNext('OCI did not accept the API signing key: the fingerprint does not match the key');
    const credentials = fakeOciUserPrincipalCredentials();

    const response = await legacy<{ detail: { message: string; errors: string[] } } & Body>(
      'POST',
      '/api/v1/onboarding/oci/validate',
      { account_id: init.body.account_id, auth_method: 'user_principal', credentials },
    );
    const account = await legacy('GET', `/api/v1/onboarding/accounts/${init.body.account_id}`);

    expect(response.status, response.text).toBe(400);
    expect(response.body.detail.message).toContain('the fingerprint does not match the key');
    expect(response.body.detail.errors).toEqual([
      'OCI did not accept the API signing key: the fingerprint does not match the key',
    ]);
    expect(response.body).toMatchObject({ success: false, code: 'invalid_credentials', status: 400 });
    expect(response.text).not.toContain(String(credentials.private_key).slice(40, 80));
    expect(account.body).toMatchObject({ onboarding_status: 'failed' });
  });

  it('answers the 202 with execution_id and status_url at once to Prefer: respond-async', async () => {
    const init = await initRoleAccount();

    const response = await harness.request('POST', '/api/v1/onboarding/aws/validate', {
      token: tenant.tokens.tenant_admin,
      headers: { prefer: 'respond-async' },
      json: {
        account_id: init.account_id,
        auth_method: 'iam_role',
        credentials: { role_arn: DOC_ROLE_ARN, external_id: init.external_id, account_number: DOC_ACCOUNT },
      },
    });

    expect(response.status).toBe(202);
    expect(response.headers.get('preference-applied')).toBe('respond-async');
    expect(response.body).toMatchObject({
      execution_id: expect.stringMatching(/^onboard-/),
      status: 'accepted',
    });
    expect(response.headers.get('location')).toBe(response.body.status_url as string);
    await harness.waitForExecution(String(response.body.execution_id), tenant.tokens.viewer);
  });

  it('keeps the external-id check: an id other than the one issued is a 400 naming credentials.external_id', async () => {
    const init = await initRoleAccount();

    const response = await legacy<{ detail: { message: string; errors: string[] } }>(
      'POST',
      '/api/v1/onboarding/aws/validate',
      {
        account_id: init.account_id,
        auth_method: 'iam_role',
        credentials: {
          role_arn: DOC_ROLE_ARN,
          external_id: 'threat-engine-abc123',
          account_number: DOC_ACCOUNT,
        },
      },
    );

    expect(response.status).toBe(400);
    expect(response.body.detail.errors.join(' ')).toContain('credentials.external_id');
  });
});

describe('6. POST /api/v1/onboarding/aws/validate-json', () => {
  it.each([
    [
      'the document form {account_id, role_arn, external_id}',
      (externalId: string) => ({
        account_id: DOC_ACCOUNT,
        role_arn: DOC_ROLE_ARN,
        external_id: externalId,
      }),
    ],
    [
      "the template's OnboardingJson output",
      (externalId: string) => ({
        role_arn: DOC_ROLE_ARN,
        external_id: externalId,
        account_number: DOC_ACCOUNT,
      }),
    ],
    [
      'the PascalCase {AccountId, RoleArn, ExternalId}',
      (externalId: string) => ({
        AccountId: DOC_ACCOUNT,
        RoleArn: DOC_ROLE_ARN,
        ExternalId: externalId,
      }),
    ],
    [
      'that JSON as a string',
      (externalId: string) =>
        JSON.stringify({ account_id: DOC_ACCOUNT, role_arn: DOC_ROLE_ARN, external_id: externalId }),
    ],
    [
      "the stack's Outputs list",
      (externalId: string) => [
        { OutputKey: 'RoleArn', OutputValue: DOC_ROLE_ARN },
        { OutputKey: 'ExternalId', OutputValue: externalId },
      ],
    ],
  ])('onboards with %s and answers 200 {success, account_number}', async (_form, onboardingJson) => {
    const init = await initRoleAccount();

    const response = await legacy('POST', '/api/v1/onboarding/aws/validate-json', {
      account_id: init.account_id,
      onboarding_json: onboardingJson(init.external_id),
    });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      success: true,
      account_id: init.account_id,
      account_number: DOC_ACCOUNT,
    });
  });

  it('answers 400 naming an unknown field of onboarding_json', async () => {
    const init = await initRoleAccount();

    const response = await legacy('POST', '/api/v1/onboarding/aws/validate-json', {
      account_id: init.account_id,
      onboarding_json: {
        account_id: DOC_ACCOUNT,
        role_arn: DOC_ROLE_ARN,
        external_id: init.external_id,
        secret: 'x',
      },
    });

    expect(response.status).toBe(400);
    expect(response.body.details).toEqual([{ field: 'onboarding_json.secret', message: expect.any(String) }]);
  });
});

describe('7-9. accounts', () => {
  it('7. lists accounts under `accounts` with the fields the UI shows (and filters by provider_type)', async () => {
    const accountId = await activeAccessKeyAccount();

    const all = await legacy<{ accounts: Body[] }>(
      'GET',
      `/api/v1/onboarding/accounts?tenant_id=${tenant.tenantId}`,
    );
    const aws = await legacy<{ accounts: Body[] }>(
      'GET',
      `/api/v1/onboarding/accounts?tenant_id=${tenant.tenantId}&provider_type=aws&limit=100`,
    );

    expect(all.status).toBe(200);
    expect(all.body.accounts.length).toBeGreaterThan(0);
    expect(all.body).toHaveProperty('next_cursor');
    const listed = aws.body.accounts.find((account) => account.account_id === accountId);
    expect(listed).toMatchObject({
      account_id: accountId,
      account_name: expect.any(String),
      account_number: expect.any(String),
      provider_type: 'aws',
      status: 'active',
      onboarding_status: 'completed',
      created_at: expect.any(String),
    });
    expect(aws.body.accounts.every((account) => account.provider_type === 'aws')).toBe(true);
  });

  it('8. answers the account details the document shows', async () => {
    const accountId = await activeAccessKeyAccount();

    const response = await legacy('GET', `/api/v1/onboarding/accounts/${accountId}`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      account_id: accountId,
      account_name: expect.any(String),
      account_number: expect.any(String),
      provider_type: 'aws',
      status: 'active',
      onboarding_status: 'completed',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      last_validated_at: expect.any(String),
    });
  });

  it('9. DELETE answers {status: "deleted", account_id}; 404 answers a string detail', async () => {
    const accountId = await activeAccessKeyAccount();

    const deleted = await legacy('DELETE', `/api/v1/onboarding/accounts/${accountId}`);
    const unknown = await legacy('GET', '/api/v1/onboarding/accounts/no-such-account');

    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'deleted', account_id: accountId });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toEqual(expect.stringContaining('no-such-account'));
  });
});

describe('10-12. credentials', () => {
  it('10. stores role credentials ({credential_type, credentials}) and answers 200 {success}', async () => {
    const init = await initRoleAccount();

    const response = await legacy('POST', `/api/v1/accounts/${init.account_id}/credentials`, {
      credential_type: 'aws_iam_role',
      credentials: { role_arn: DOC_ROLE_ARN, external_id: init.external_id, account_number: DOC_ACCOUNT },
    });

    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      success: true,
      account_id: init.account_id,
      account_number: DOC_ACCOUNT,
    });
  });

  it('11. re-validates: 200 {success: true, message, errors: []}; a refusal answers success false with errors', async () => {
    const accountId = await activeAccessKeyAccount();

    const valid = await legacy('GET', `/api/v1/accounts/${accountId}/credentials/validate`);
    validator.refuseNext('AWS did not accept the access key (InvalidClientTokenId)');
    const refused = await legacy<{ success: boolean; errors: string[]; detail: { errors: string[] } }>(
      'GET',
      `/api/v1/accounts/${accountId}/credentials/validate`,
    );
    const account = await legacy('GET', `/api/v1/onboarding/accounts/${accountId}`);

    expect(valid.status).toBe(200);
    expect(valid.body).toMatchObject({ success: true, message: expect.any(String), errors: [] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      success: false,
      message: expect.stringContaining('InvalidClientTokenId'),
      errors: ['AWS did not accept the access key (InvalidClientTokenId)'],
    });
    expect(refused.body.detail.errors).toEqual(refused.body.errors);
    expect(account.body).toMatchObject({ status: 'error' });
  });

  it('12. DELETE answers {status: "deleted", account_id} and returns the account to pending', async () => {
    const accountId = await activeAccessKeyAccount();

    const deleted = await legacy('DELETE', `/api/v1/accounts/${accountId}/credentials`);
    const account = await legacy('GET', `/api/v1/onboarding/accounts/${accountId}`);

    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'deleted', account_id: accountId });
    expect(account.body).toMatchObject({ status: 'pending' });
  });
});

describe('13-19. schedules', () => {
  let accountId: string;
  beforeAll(async () => {
    accountId = await activeAccessKeyAccount();
  });

  const documentSchedule = () => ({
    tenant_id: tenant.tenantId,
    account_id: accountId,
    name: 'Daily Compliance Scan',
    description: 'Runs every day at 2 AM',
    schedule_type: 'cron',
    cron_expression: '0 2 * * *',
    timezone: 'UTC',
    regions: ['us-east-1', 'us-west-2'],
    notify_on_failure: true,
  });

  it('13. creates the example schedule: 201 {schedule_id, name, next_run_at, status: "created"}', async () => {
    const response = await legacy('POST', '/api/v1/schedules', documentSchedule());

    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      schedule_id: expect.any(String),
      name: 'Daily Compliance Scan',
      next_run_at: expect.any(String),
      status: 'created',
      enabled: true,
    });
  });

  it('13. takes an interval schedule (interval_seconds, also as form text) and the notification_channels object', async () => {
    const response = await legacy('POST', '/api/v1/schedules', {
      tenant_id: tenant.tenantId,
      account_id: accountId,
      name: 'Hourly',
      schedule_type: 'interval',
      interval_seconds: '3600',
      timezone: 'UTC',
      notification_channels: { email: ['secops@example.com'], slack: 'https://hooks.example.com/x' },
    });
    const details = await legacy('GET', `/api/v1/schedules/${String(response.body.schedule_id)}`);

    expect(response.status, response.text).toBe(201);
    expect(details.body).toMatchObject({
      schedule_type: 'interval',
      interval_seconds: 3600,
      notification_channels: { email: ['secops@example.com'], slack: 'https://hooks.example.com/x' },
    });
  });

  it('14-16. lists (status filters), reads and updates: PUT {enabled} and {status} pause and resume', async () => {
    const created = await legacy<{ schedule_id: string }>('POST', '/api/v1/schedules', documentSchedule());
    const id = created.body.schedule_id;
    const ofTenant = () =>
      legacy<{ schedules: Body[] }>('GET', `/api/v1/schedules?tenant_id=${tenant.tenantId}&limit=100`);

    const listed = await ofTenant();
    const details = await legacy('GET', `/api/v1/schedules/${id}`);
    const paused = await legacy('PUT', `/api/v1/schedules/${id}`, { enabled: false });
    const pausedList = await legacy<{ schedules: Body[] }>(
      'GET',
      `/api/v1/schedules?tenant_id=${tenant.tenantId}&status=paused&limit=100`,
    );
    const resumed = await legacy('PUT', `/api/v1/schedules/${id}`, { status: 'active' });
    const renamed = await legacy('PUT', `/api/v1/schedules/${id}`, {
      name: 'Renamed scan',
      regions: ['eu-west-1'],
    });
    const broken = await legacy<{ schedule_id: string }>('POST', '/api/v1/schedules', documentSchedule());
    await harness.runtime.repositories.schedules.recordRunOutcome(broken.body.schedule_id, 'failure');
    const failing = await legacy<{ schedules: Body[] }>(
      'GET',
      `/api/v1/schedules?tenant_id=${tenant.tenantId}&status=error`,
    );
    const contradictory = await legacy('PUT', `/api/v1/schedules/${id}`, { enabled: true, status: 'paused' });

    const row = listed.body.schedules.find((schedule) => schedule.schedule_id === id);
    expect(row).toMatchObject({
      schedule_id: id,
      name: 'Daily Compliance Scan',
      account_id: accountId,
      schedule_type: 'cron',
      cron_expression: '0 2 * * *',
      status: 'active',
      enabled: true,
      last_run_at: null,
      next_run_at: expect.any(String),
      run_count: 0,
    });
    expect(details.body).toMatchObject({
      schedule_id: id,
      tenant_id: tenant.tenantId,
      description: 'Runs every day at 2 AM',
      interval_seconds: 0,
      timezone: 'UTC',
      regions: ['us-east-1', 'us-west-2'],
      services: [],
      exclude_services: [],
      enabled: true,
      success_count: 0,
      failure_count: 0,
    });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body).toMatchObject({ status: 'updated', schedule_status: 'paused', enabled: false });
    expect(pausedList.body.schedules.map((schedule) => schedule.schedule_id)).toContain(id);
    expect(resumed.body).toMatchObject({ schedule_status: 'active', enabled: true });
    expect(renamed.body).toMatchObject({ name: 'Renamed scan', regions: ['eu-west-1'], enabled: true });
    expect(failing.status).toBe(200);
    expect(failing.body.schedules.map((schedule) => schedule.schedule_id)).toEqual([broken.body.schedule_id]);
    expect(contradictory.status).toBe(400);
  });

  it('17-19. triggers ({status: "triggered", scan_id, message}), pages executions with total, deletes', async () => {
    const created = await legacy<{ schedule_id: string }>('POST', '/api/v1/schedules', documentSchedule());
    const id = created.body.schedule_id;

    const triggered = await legacy('POST', `/api/v1/schedules/${id}/trigger`);
    const executions = await runsOf(id, 1);
    const offsetPage = await legacy<{ executions: Body[]; total: number }>(
      'GET',
      `/api/v1/schedules/${id}/executions?limit=50&offset=1`,
    );
    const deleted = await legacy('DELETE', `/api/v1/schedules/${id}`);

    expect(triggered.status).toBeLessThan(300);
    expect(triggered.body).toMatchObject({
      status: 'triggered',
      scan_id: expect.any(String),
      message: expect.any(String),
      execution_id: expect.any(String),
    });
    expect(executions.total).toBe(1);
    expect(executions.executions[0]).toMatchObject({
      execution_id: triggered.body.execution_id,
      started_at: expect.any(String),
      status: 'completed',
      total_checks: expect.any(Number),
      passed_checks: expect.any(Number),
      failed_checks: expect.any(Number),
      execution_time_seconds: expect.any(Number),
      triggered_by: 'manual',
    });
    expect(executions.executions[0]).toHaveProperty('completed_at');
    expect(offsetPage.body).toMatchObject({ executions: [], total: 1 });
    expect(deleted.body).toMatchObject({ status: 'deleted', schedule_id: id });
  });
});

/** GET /schedules/{id}/executions until `count` runs have finished. */
async function runsOf(scheduleId: string, count: number): Promise<{ executions: Body[]; total: number }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await legacy<{ executions: Body[]; total: number }>(
      'GET',
      `/api/v1/schedules/${scheduleId}/executions`,
    );
    const finished = response.body.executions.filter((run) => run.status !== 'running');
    if (finished.length >= count) return response.body;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} finished runs: ${response.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('errors and documentation', () => {
  it('answers a 400 with {status, code, message, details} and the legacy detail {message, errors}', async () => {
    const response = await legacy<Body & { detail: { message: string; errors: string[] } }>(
      'POST',
      '/api/v1/onboarding/aws/init',
      { tenant_id: tenant.tenantId },
    );

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      status: 400,
      code: 'validation_failed',
      message: expect.any(String),
    });
    expect(response.body.details).toEqual([{ field: 'account_name', message: expect.any(String) }]);
    expect(response.body.detail).toEqual({
      message: response.body.message,
      errors: [expect.stringMatching(/^account_name: /)],
    });
  });

  it('serves /docs (Swagger UI from the installed package) and /openapi.json at the root, without a token', async () => {
    const page = await harness.request('GET', '/docs');
    const script = await harness.request('GET', '/docs/swagger-ui-bundle.js');
    const css = await harness.request('GET', '/docs/swagger-ui.css');
    const initializer = await harness.request('GET', '/docs/swagger-initializer.js');
    const document = await harness.request<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/openapi.json',
    );

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('/docs/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(script.status).toBe(200);
    expect(script.text).toContain('SwaggerUIBundle');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(initializer.text).toContain("url: '/openapi.json'");
    expect(document.status).toBe(200);
    expect(document.body.paths).toHaveProperty('/onboarding/{provider}/validate');
  });
});

describe('the "Done when" flow of the document, end to end', () => {
  it('methods → init → template → validate-json → accounts → schedule create/list/update/trigger/executions → deletes', async () => {
    // Step 1-2: methods, init.
    const methods = await legacy<{ methods: Body[] }>('GET', '/api/v1/onboarding/aws/methods');
    const init = await legacy<{ account_id: string; external_id: string }>(
      'POST',
      '/api/v1/onboarding/aws/init',
      {
        tenant_id: tenant.tenantId,
        account_name: 'Production Account',
        auth_method: 'iam_role',
      },
    );
    // Step 3: the template, whose OnboardingJson the user copies after deploying it.
    const template = await legacy<{ template: string }>(
      'GET',
      `/api/v1/onboarding/aws/cloudformation-template?external_id=${init.body.external_id}`,
    );
    const outputs = parseYaml(template.body.template) as { Outputs: { OnboardingJson: unknown } };
    // Step 6: validate-json with the CloudFormation output.
    const validated = await legacy('POST', '/api/v1/onboarding/aws/validate-json', {
      account_id: init.body.account_id,
      onboarding_json: {
        account_id: DOC_ACCOUNT,
        role_arn: DOC_ROLE_ARN,
        external_id: init.body.external_id,
      },
    });
    const accounts = await legacy<{ accounts: Body[] }>(
      'GET',
      `/api/v1/onboarding/accounts?tenant_id=${tenant.tenantId}&limit=100`,
    );
    // Schedules: create, list, update(enabled), trigger, executions.
    const schedule = await legacy<{ schedule_id: string }>('POST', '/api/v1/schedules', {
      tenant_id: tenant.tenantId,
      account_id: init.body.account_id,
      name: 'Daily Compliance Scan',
      schedule_type: 'cron',
      cron_expression: '0 2 * * *',
      timezone: 'UTC',
    });
    const schedules = await legacy<{ schedules: Body[] }>(
      'GET',
      `/api/v1/schedules?tenant_id=${tenant.tenantId}&limit=100`,
    );
    const disabled = await legacy('PUT', `/api/v1/schedules/${schedule.body.schedule_id}`, {
      enabled: false,
    });
    const enabled = await legacy('PUT', `/api/v1/schedules/${schedule.body.schedule_id}`, { enabled: true });
    const triggered = await legacy('POST', `/api/v1/schedules/${schedule.body.schedule_id}/trigger`);
    const executions = await runsOf(schedule.body.schedule_id, 1);
    // Deletes.
    const scheduleDeleted = await legacy('DELETE', `/api/v1/schedules/${schedule.body.schedule_id}`);
    const credentialsDeleted = await legacy('DELETE', `/api/v1/accounts/${init.body.account_id}/credentials`);
    const accountDeleted = await legacy('DELETE', `/api/v1/onboarding/accounts/${init.body.account_id}`);

    expect(methods.body.methods[0]).toMatchObject({ method: 'iam_role', cloudformation_supported: true });
    expect(init.status).toBe(201);
    expect(outputs.Outputs.OnboardingJson).toBeDefined();
    expect(validated.status, validated.text).toBe(200);
    expect(validated.body).toMatchObject({ success: true, account_number: DOC_ACCOUNT });
    expect(
      accounts.body.accounts.find((account) => account.account_id === init.body.account_id),
    ).toMatchObject({
      status: 'active',
      onboarding_status: 'completed',
      account_number: DOC_ACCOUNT,
    });
    expect(schedule.status).toBe(201);
    expect(schedules.body.schedules.map((row) => row.schedule_id)).toContain(schedule.body.schedule_id);
    expect(disabled.body).toMatchObject({ enabled: false, schedule_status: 'paused' });
    expect(enabled.body).toMatchObject({ enabled: true, schedule_status: 'active' });
    expect(triggered.body).toMatchObject({ status: 'triggered', scan_id: expect.any(String) });
    expect(executions).toMatchObject({ total: 1, executions: [{ status: 'completed' }] });
    expect(scheduleDeleted.body).toMatchObject({ status: 'deleted' });
    expect(credentialsDeleted.body).toMatchObject({ status: 'deleted', account_status: 'pending' });
    expect(accountDeleted.body).toMatchObject({ status: 'deleted', account_id: init.body.account_id });
  });
});

describe('the wait for the workflow', () => {
  let slow: ApiHarness;
  let slowValidator: SteeredValidator;
  beforeAll(async () => {
    slowValidator = new SteeredValidator();
    slow = await ApiHarness.start({ validator: slowValidator, env: { API_VALIDATION_WAIT_SECONDS: '1' } });
  }, 60_000);
  afterAll(async () => {
    await slow?.close();
  });

  it('gives up at its deadline and answers 202 with execution_id and status_url', async () => {
    // Prepare
    const slowTenant = await slow.createTenant();
    const account = await slow.initAccount(slowTenant, 'aws', { auth_method: 'access_key' });
    const release = slowValidator.hangNext();

    // Act
    const response = await slow.request('POST', '/api/v1/onboarding/aws/validate', {
      token: slowTenant.tokens.tenant_admin,
      json: {
        account_id: account.accountId,
        auth_method: 'access_key',
        credentials: fakeAwsAccessKeyCredentials(),
      },
    });
    release();
    const outcome = await slow.waitForExecution(String(response.body.execution_id), slowTenant.tokens.viewer);

    // Assess
    expect(response.status, response.text).toBe(202);
    expect(response.body).toMatchObject({
      execution_id: expect.stringMatching(/^onboard-/),
      status_url: expect.stringMatching(/^\/api\/v1\/onboarding\/executions\/onboard-/),
      status: 'accepted',
    });
    expect(outcome.status).toBe('SUCCEEDED');
  });
});
