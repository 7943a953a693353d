import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialValidationError } from '../../../functions/core/ports/provider-validator';
import {
  FAKE_AWS_ACCOUNT,
  fakeAwsAccessKeyCredentials,
  fakeAwsIamRoleCredentials,
} from '../../fixtures/credentials';
import { statesEntered, WorkflowHarness } from '../../support/workflow-harness';

describe('Workflow: onboarding', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('verifies staged credentials, promotes them and records the account as onboarded', async () => {
    // Prepare
    const { tenant, account } = await harness.createAccount('aws');

    // Act
    const { description, history, submitted } = await harness.onboard(tenant.tenant_id, account.account_id, {
      credential_type: 'aws_iam_role',
      credentials: fakeAwsIamRoleCredentials(),
    });

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(statesEntered(history)).toEqual([
      'Verify the staged credentials with the cloud provider',
      'Promote the verified credentials to current',
      'Record the account as onboarded',
      'Was a first schedule requested?',
      'Account onboarded',
    ]);
    const onboarded = await harness.repositories.accounts.get(account.account_id);
    expect(onboarded).toMatchObject({
      status: 'active',
      onboarding_status: 'completed',
      onboarding_id: submitted.onboarding_id,
      account_number: FAKE_AWS_ACCOUNT,
      secret_name: `threat-engine/account/${account.account_id}`,
    });
    expect(onboarded?.last_validated_at).toMatch(/Z$/);
    const current = await harness.secretStore.read(account.account_id);
    expect(current.versionId).toBe(submitted.secret_version_id);
    expect(description.input).not.toHaveProperty('credentials');
  });

  it("creates the account's first schedule through the scheduling port when asked", async () => {
    // Prepare
    const { tenant, account } = await harness.createAccount('aws');

    // Act
    const { description, history } = await harness.onboard(
      tenant.tenant_id,
      account.account_id,
      { credential_type: 'aws_iam_role', credentials: fakeAwsIamRoleCredentials() },
      { firstSchedule: { name: 'Daily', preset: 'daily', timezone: 'Asia/Kolkata' } },
    );

    // Assess
    expect(description.status).toBe('SUCCEEDED');
    expect(statesEntered(history)).toContain("Create the account's first schedule");
    const schedules = await harness.repositories.schedules.listByAccount(account.account_id);
    expect(schedules.items).toHaveLength(1);
    expect(schedules.items[0]).toMatchObject({
      name: 'Daily',
      schedule_expression: 'cron(0 0 * * ? *)',
      timezone: 'Asia/Kolkata',
      status: 'active',
      enabled: 'true',
    });
    expect(harness.scheduler.entries.has(schedules.items[0]?.schedule_id ?? '')).toBe(true);
  });

  it('keeps the account onboarded when its first schedule is invalid, and says why in the history', async () => {
    const { tenant, account } = await harness.createAccount('aws');

    const { description, history } = await harness.onboard(
      tenant.tenant_id,
      account.account_id,
      { credential_type: 'aws_iam_role', credentials: fakeAwsIamRoleCredentials() },
      { firstSchedule: { name: 'Broken', schedule_expression: 'cron(99 * * * ? *)' } },
    );

    expect(description.status).toBe('SUCCEEDED');
    expect(statesEntered(history)).toContain('Account onboarded without its first schedule');
    expect((await harness.repositories.accounts.get(account.account_id))?.status).toBe('active');
    expect((await harness.repositories.schedules.listByAccount(account.account_id)).items).toHaveLength(0);
  });

  it('records why onboarding failed and discards the staged credentials', async () => {
    // Prepare
    const { tenant, account } = await harness.createAccount('aws');
    harness.validator.rejectNext('invalid_credentials');

    // Act
    const { description, history } = await harness.onboard(tenant.tenant_id, account.account_id, {
      credential_type: 'aws_access_key',
      credentials: fakeAwsAccessKeyCredentials(),
    });

    // Assess
    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('CredentialValidationError');
    expect(statesEntered(history)).toContain('Record why onboarding failed');
    expect(statesEntered(history)).not.toContain('Promote the verified credentials to current');
    expect(await harness.repositories.accounts.get(account.account_id)).toMatchObject({
      status: 'error',
      onboarding_status: 'failed',
      onboarding_error_code: 'invalid_credentials',
    });
    expect((await harness.secretStore.describe(account.account_id))?.pendingVersionId).toBeUndefined();
    await expect(harness.secretStore.read(account.account_id)).rejects.toThrow();
  });

  it('keeps working credentials and the active status when new credentials fail validation', async () => {
    // Prepare
    const { tenant, account } = await harness.activeAccount('aws');
    const working = await harness.secretStore.read(account.account_id);
    harness.validator.rejectNext('access_denied');

    // Act
    const { description } = await harness.onboard(tenant.tenant_id, account.account_id, {
      credential_type: 'aws_access_key',
      credentials: fakeAwsAccessKeyCredentials({
        secret_access_key: 'AnotherFakeSecretKeyForTestsOnly/'.padEnd(40, 'y'),
      }),
    });

    // Assess
    expect(description.status).toBe('FAILED');
    expect(await harness.repositories.accounts.get(account.account_id)).toMatchObject({
      status: 'active',
      onboarding_status: 'failed',
      onboarding_error_code: 'access_denied',
    });
    expect((await harness.secretStore.read(account.account_id)).versionId).toBe(working.versionId);
  });

  it('reports a clear "not supported yet" when no live check exists for the credential type', async () => {
    const { tenant, account } = await harness.createAccount('aws');
    harness.validator.rejectNext('not_supported');

    const { description } = await harness.onboard(tenant.tenant_id, account.account_id, {
      credential_type: 'aws_access_key',
      credentials: fakeAwsAccessKeyCredentials(),
    });

    expect(description.status).toBe('FAILED');
    expect(await harness.repositories.accounts.get(account.account_id)).toMatchObject({
      onboarding_status: 'failed',
      onboarding_error_code: 'not_supported',
    });
  });

  it('answers a retried submission with the same onboarding, version and execution', async () => {
    const { tenant, account } = await harness.createAccount('aws');
    const credentials = {
      credential_type: 'aws_iam_role' as const,
      credentials: fakeAwsIamRoleCredentials(),
    };

    const first = await harness.onboard(tenant.tenant_id, account.account_id, credentials, {
      requestToken: 'retry-1',
    });
    const second = await harness.onboard(tenant.tenant_id, account.account_id, credentials, {
      requestToken: 'retry-1',
    });

    expect(second.submitted.onboarding_id).toBe(first.submitted.onboarding_id);
    expect(second.submitted.secret_version_id).toBe(first.submitted.secret_version_id);
    expect(second.submitted.execution.executionArn).toBe(first.submitted.execution.executionArn);
    expect(second.submitted.execution.alreadyStarted).toBe(true);
  });

  it('refuses malformed credentials before anything is staged, naming the field', async () => {
    const { tenant, account } = await harness.createAccount('aws');

    await expect(
      harness.onboard(tenant.tenant_id, account.account_id, {
        credential_type: 'aws_iam_role',
        credentials: { ...fakeAwsIamRoleCredentials(), role_arn: 'arn:aws:iam::12:role/x', extra: 'field' },
      }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      issues: expect.arrayContaining([expect.objectContaining({ field: 'credentials.role_arn' })]),
    });
    expect(await harness.secretStore.describe(account.account_id)).toBeUndefined();
    expect((await harness.repositories.accounts.get(account.account_id))?.onboarding_status).toBe('pending');
  });

  it('is a typed error a workflow never retries', () => {
    expect(new CredentialValidationError('invalid_credentials', 'x').permanent).toBe(true);
    expect(new CredentialValidationError('provider_unreachable', 'x').permanent).toBe(false);
  });
});

describe('Workflow: validation', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await WorkflowHarness.start();
  });
  afterAll(async () => {
    await harness.close();
  });

  async function runValidation(tenantId: string, accountId: string) {
    const handle = await harness.workflows.start({
      workflow: 'validation',
      name: `validate-${accountId}-${Date.now()}`,
      input: { tenant_id: tenantId, account_id: accountId, triggered_by: 'api' },
    });
    return harness.workflows.waitForCompletion(handle.executionArn, 10_000);
  }

  it('re-checks stored credentials and records the validation time', async () => {
    const { tenant, account } = await harness.activeAccount('aws');
    const before = account.last_validated_at;
    await new Promise((resolve) => setTimeout(resolve, 5));

    const description = await runValidation(tenant.tenant_id, account.account_id);

    expect(description.status).toBe('SUCCEEDED');
    const after = await harness.repositories.accounts.get(account.account_id);
    expect(after?.status).toBe('active');
    expect(Date.parse(after?.last_validated_at ?? '')).toBeGreaterThan(Date.parse(before ?? ''));
  });

  it('records a rejected validation on the account', async () => {
    const { tenant, account } = await harness.activeAccount('aws');
    harness.validator.rejectNext('expired');

    const description = await runValidation(tenant.tenant_id, account.account_id);

    expect(description.status).toBe('FAILED');
    expect(await harness.repositories.accounts.get(account.account_id)).toMatchObject({
      status: 'error',
      validation_error_code: 'expired',
    });
  });

  it('leaves the account status alone when the provider cannot be reached', async () => {
    const { tenant, account } = await harness.activeAccount('aws');
    harness.validator.rejectNext('provider_unreachable');

    const description = await runValidation(tenant.tenant_id, account.account_id);

    expect(description.status).toBe('FAILED');
    expect((await harness.repositories.accounts.get(account.account_id))?.status).toBe('active');
  });
});
