import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRequest, type RequestPrincipal, StackPolicies } from '../../../rehearsal/policy-evaluation';
import { rehearsedFunctionsOf } from '../../../rehearsal/rehearsed-functions';
import { type ResolvedTemplate, synthesizeAndResolve } from '../../../rehearsal/resolved-template';

let template: ResolvedTemplate;
let policies: StackPolicies;
let keyArn: string;
let ruleArn: string;

const ACCOUNTS_TABLE = 'arn:aws:dynamodb:ap-south-1:123456789012:table/threat-engine-accounts';
const SECRET = 'arn:aws:secretsmanager:ap-south-1:123456789012:secret:threat-engine/account/a-1-AbCdEf';
const VIA_SECRETS_MANAGER = 'secretsmanager.ap-south-1.amazonaws.com';

function principalOf(label: string): RequestPrincipal {
  const fn = rehearsedFunctionsOf(template).find((candidate) => candidate.label === label);
  if (!fn) throw new Error(`no function ${label}`);
  return { name: fn.label, arn: fn.sessionArn, roleLogicalId: fn.roleLogicalId };
}

const physicalOf = (prefix: string, attribute = 'Arn') => {
  const found = Object.entries(template.physical).find(([id]) => id.startsWith(prefix));
  if (!found) throw new Error(`no resource ${prefix}`);
  return String(found[1].attributes[attribute]);
};

beforeAll(() => {
  template = synthesizeAndResolve();
  policies = new StackPolicies(template.resources, template.physical);
  keyArn = physicalOf('KeysSecretsKey');
  ruleArn = physicalOf('WorkflowsTerminatedExecutionsRule');
});

describe('Function: evaluateRequest (the template resolved for 123456789012 / ap-south-1)', () => {
  it('allows what a role is granted and denies a write its table access level does not give', async () => {
    // Prepare
    const startScan = principalOf('FunctionsStartScanFunction');

    // Act
    const read = await evaluateRequest(
      { action: 'dynamodb:GetItem', resource: ACCOUNTS_TABLE, context: {} },
      startScan,
      policies,
      template.account,
    );
    const write = await evaluateRequest(
      { action: 'dynamodb:PutItem', resource: ACCOUNTS_TABLE, context: {} },
      startScan,
      policies,
      template.account,
    );

    // Assess
    expect(read.verdict).toBe('Allowed');
    expect(write.verdict).toBe('ImplicitlyDenied');
  });

  it('allows kms:Decrypt through Secrets Manager for a secret under the prefix, by the key policy', async () => {
    const verdict = await evaluateRequest(
      {
        action: 'kms:Decrypt',
        resource: keyArn,
        resourcePolicy: 'kms-key',
        context: { 'kms:ViaService': VIA_SECRETS_MANAGER, 'kms:EncryptionContext:SecretARN': SECRET },
      },
      principalOf('FunctionsStartScanFunction'),
      policies,
      template.account,
    );

    expect(verdict.verdict).toBe('Allowed');
  });

  it.each([
    ['without kms:ViaService', { 'kms:EncryptionContext:SecretARN': SECRET }, 'FunctionsStartScanFunction'],
    [
      'for a secret outside the prefix',
      {
        'kms:ViaService': VIA_SECRETS_MANAGER,
        'kms:EncryptionContext:SecretARN':
          'arn:aws:secretsmanager:ap-south-1:123456789012:secret:other/x-AbCdEf',
      },
      'FunctionsStartScanFunction',
    ],
    [
      'for a role the key policy does not name',
      { 'kms:ViaService': VIA_SECRETS_MANAGER, 'kms:EncryptionContext:SecretARN': SECRET },
      'FunctionsClaimScanFunction',
    ],
  ])('denies kms:Decrypt %s', async (_case, context, label) => {
    const verdict = await evaluateRequest(
      { action: 'kms:Decrypt', resource: keyArn, resourcePolicy: 'kms-key', context },
      principalOf(label),
      policies,
      template.account,
    );

    expect(verdict.verdict).toBe('ImplicitlyDenied');
  });

  it('denies kms use of a key the template holds no policy for', async () => {
    const verdict = await evaluateRequest(
      {
        action: 'kms:Decrypt',
        resource: 'arn:aws:kms:ap-south-1:123456789012:alias/aws/secretsmanager',
        resourcePolicy: 'kms-key',
        context: { 'kms:ViaService': VIA_SECRETS_MANAGER },
      },
      principalOf('FunctionsStartScanFunction'),
      policies,
      template.account,
    );

    expect(verdict).toMatchObject({
      verdict: 'ImplicitlyDenied',
      detail: expect.stringContaining('no key policy'),
    });
  });

  it('denies passing the scheduler role to any service but Scheduler, and to the API function at all', async () => {
    const schedulerRole = physicalOf('SchedulingSchedulerRole');
    const request = (service: string) => ({
      action: 'iam:PassRole',
      resource: schedulerRole,
      context: { 'iam:PassedToService': service },
    });
    const schedulingApi = principalOf('FunctionsSchedulingApiFunction');
    const api = principalOf('FunctionsApiFunction');

    expect(
      (await evaluateRequest(request('scheduler.amazonaws.com'), schedulingApi, policies, template.account))
        .verdict,
    ).toBe('Allowed');
    expect(
      (await evaluateRequest(request('lambda.amazonaws.com'), schedulingApi, policies, template.account))
        .verdict,
    ).toBe('ImplicitlyDenied');
    expect(
      (await evaluateRequest(request('scheduler.amazonaws.com'), api, policies, template.account)).verdict,
    ).toBe('ImplicitlyDenied');
  });

  it("lets only the terminated-executions rule invoke the recorder, by the function's permission", async () => {
    const recorder = rehearsedFunctionsOf(template).find(
      (fn) => fn.label === 'FunctionsRecordTerminatedExecutionFunction',
    );
    const request = (sourceArn: string) => ({
      action: 'lambda:InvokeFunction',
      resource: String(recorder?.arn),
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': template.account },
      resourcePolicy: 'lambda-function' as const,
    });
    const events = { name: 'events.amazonaws.com', arn: 'events.amazonaws.com' };

    expect((await evaluateRequest(request(ruleArn), events, policies, template.account)).verdict).toBe(
      'Allowed',
    );
    expect(
      (await evaluateRequest(request(`${ruleArn}-other`), events, policies, template.account)).verdict,
    ).toBe('ImplicitlyDenied');
  });

  it('reports a request marked not evaluated without asking the simulator', async () => {
    const verdict = await evaluateRequest(
      { action: 'sts:GetCallerIdentity', resource: '*', context: {}, notEvaluated: 'needs no permission' },
      principalOf('FunctionsStartScanFunction'),
      policies,
      template.account,
    );

    expect(verdict).toEqual({ verdict: 'NotEvaluated', detail: 'needs no permission' });
  });
});
