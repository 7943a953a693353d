import { describe, expect, it } from 'vitest';
import { type Deployment, iamRequestsFor } from '../../../rehearsal/iam-requests';
import type { RecordedAwsCall } from '../../../rehearsal/recorded-call';
import { redact } from '../../../rehearsal/recorded-call';
import { globMatches } from '../../../rehearsal/unused-grants';

const KEY_ARN = 'arn:aws:kms:ap-south-1:123456789012:key/11111111-2222-4333-8444-555555555555';
const SECRET_ARN = 'arn:aws:secretsmanager:ap-south-1:123456789012:secret:threat-engine/account/a-1-AbCdEf';

const deployment: Deployment = {
  region: 'ap-south-1',
  account: '123456789012',
  partition: 'aws',
  secrets: {
    facts: (secretId) =>
      secretId === 'threat-engine/account/a-1'
        ? { arn: SECRET_ARN, kmsKeyId: KEY_ARN, tags: { 'managed-by': 'threat-engine' } }
        : undefined,
  },
  keyArnOf: (keyId) => (keyId === KEY_ARN ? KEY_ARN : undefined),
  tableKeyArnOf: (table) => (table === 'encrypted' ? KEY_ARN : undefined),
};

const call = (
  client: string,
  operation: string,
  input: Record<string, unknown>,
  accessKeyId = 'ASIAFN',
): RecordedAwsCall => ({
  client,
  operation,
  input,
  accessKeyId,
});

describe('Function: iamRequestsFor', () => {
  it('names the index a DynamoDB query reads', () => {
    const [request] = iamRequestsFor(
      call('DynamoDBClient', 'Query', {
        TableName: 'threat-engine-accounts',
        IndexName: 'tenant-accounts-index',
      }),
      deployment,
      'ASIAFN',
    );

    expect(request).toEqual({
      action: 'dynamodb:Query',
      resource:
        'arn:aws:dynamodb:ap-south-1:123456789012:table/threat-engine-accounts/index/tenant-accounts-index',
      context: {},
    });
  });

  it("adds the table key's use by DynamoDB for a table on a customer-managed key", () => {
    const requests = iamRequestsFor(
      call('DynamoDBClient', 'GetItem', { TableName: 'encrypted' }),
      deployment,
      'ASIAFN',
    );

    expect(requests.map((request) => request.action)).toEqual([
      'dynamodb:GetItem',
      'kms:Decrypt',
      'kms:DescribeKey',
    ]);
    expect(requests[1]?.context).toMatchObject({
      'kms:ViaService': 'dynamodb.ap-south-1.amazonaws.com',
      'kms:EncryptionContext:aws:dynamodb:tableName': 'encrypted',
    });
  });

  it('makes one request per table of a batch and per item of a transaction', () => {
    const batch = iamRequestsFor(
      call('DynamoDBClient', 'BatchWriteItem', { RequestItems: { a: [], b: [] } }),
      deployment,
      'ASIAFN',
    );
    const transaction = iamRequestsFor(
      call('DynamoDBClient', 'TransactWriteItems', {
        TransactItems: [{ Put: { TableName: 'a' } }, { ConditionCheck: { TableName: 'b' } }],
      }),
      deployment,
      'ASIAFN',
    );

    expect(batch.map((request) => request.resource.split('/')[1])).toEqual(['a', 'b']);
    expect(transaction.map((request) => request.action)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:ConditionCheckItem',
    ]);
  });

  it("adds the KMS decrypt Secrets Manager makes as the caller, with the secret's ARN as encryption context", () => {
    const requests = iamRequestsFor(
      call('SecretsManagerClient', 'GetSecretValue', { SecretId: 'threat-engine/account/a-1' }),
      deployment,
      'ASIAFN',
    );

    expect(requests).toEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        resource: SECRET_ARN,
        context: {
          'aws:ResourceTag/managed-by': 'threat-engine',
          'secretsmanager:ResourceTag/managed-by': 'threat-engine',
        },
      },
      expect.objectContaining({
        action: 'kms:Decrypt',
        resource: KEY_ARN,
        resourcePolicy: 'kms-key',
        context: expect.objectContaining({
          'kms:ViaService': 'secretsmanager.ap-south-1.amazonaws.com',
          'kms:EncryptionContext:SecretARN': SECRET_ARN,
        }),
      }),
    ]);
  });

  it('adds iam:PassRole for the role a schedule entry targets with', () => {
    const requests = iamRequestsFor(
      call('SchedulerClient', 'CreateSchedule', {
        Name: 'te-1',
        GroupName: 'threat-engine-scans',
        Target: { RoleArn: 'arn:aws:iam::123456789012:role/scheduler' },
      }),
      deployment,
      'ASIAFN',
    );

    expect(requests.map((request) => [request.action, request.resource, request.context])).toEqual([
      [
        'scheduler:CreateSchedule',
        'arn:aws:scheduler:ap-south-1:123456789012:schedule/threat-engine-scans/te-1',
        {},
      ],
      [
        'iam:PassRole',
        'arn:aws:iam::123456789012:role/scheduler',
        { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      ],
    ]);
  });

  it("does not evaluate an STS call made with a customer's credentials, and keeps the external id of AssumeRole", () => {
    const [customer] = iamRequestsFor(
      call('STSClient', 'GetCallerIdentity', {}, 'ASIACUSTOMER'),
      deployment,
      'ASIAFN',
    );
    const [assume] = iamRequestsFor(
      call('STSClient', 'AssumeRole', { RoleArn: 'arn:aws:iam::111122223333:role/r', ExternalId: 'x-1' }),
      deployment,
      'ASIAFN',
    );

    expect(customer?.notEvaluated).toMatch(/customer/);
    expect(assume).toEqual({
      action: 'sts:AssumeRole',
      resource: 'arn:aws:iam::111122223333:role/r',
      context: { 'sts:ExternalId': 'x-1' },
    });
  });

  it('evaluates a client it does not know as unknown on *, so it cannot go unchecked', () => {
    const [request] = iamRequestsFor(call('S3Client', 'GetObject', {}), deployment, 'ASIAFN');

    expect(request).toEqual({ action: 'unknown:GetObject', resource: '*', context: {} });
  });
});

describe('Function: redact', () => {
  it('keeps no credential value or stored item of a call, only that they were there', () => {
    const redacted = redact({ SecretId: 's', SecretString: '{"secret_access_key":"x"}', Item: { a: 1 } });

    expect(redacted).toEqual({ SecretId: 's', SecretString: true, Item: true });
  });
});

describe('Function: globMatches', () => {
  it.each([
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b', true],
    ['arn:aws:s3:::bucket/?', 'arn:aws:s3:::bucket/ab', false],
    ['dynamodb:get*', 'dynamodb:GetItem', true],
    ['table/a.b', 'table/aXb', false],
  ])('matches %s against %s: %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value, pattern.startsWith('dynamodb'))).toBe(expected);
  });
});
