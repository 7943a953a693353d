import type { RecordedAwsCall } from './recorded-call';

/** One request IAM authorizes: who, what, on which resource, with which condition keys. */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  /** Which resource policy applies besides the identity policies (by resource ARN). */
  resourcePolicy?: 'kms-key' | 'lambda-function' | 'sns-topic';
  /** For a request AWS makes on the caller's behalf: the call that caused it. */
  via?: string;
  /** Why a recorded call needs no evaluation (e.g. made with a customer's credentials). */
  notEvaluated?: string;
}

export interface SecretLookup {
  /** The secret's ARN, key and tags, or undefined when no such secret exists (yet). */
  facts(
    secretId: string,
  ): { arn: string; kmsKeyId: string | undefined; tags: Record<string, string> } | undefined;
}

export interface Deployment {
  region: string;
  account: string;
  partition: string;
  secrets: SecretLookup;
  /** Key ids and aliases → key ARNs (a secret names its key by ARN, id or alias). */
  keyArnOf(keyId: string): string | undefined;
  /** The customer-managed key a table is encrypted with (undefined: an AWS owned key). */
  tableKeyArnOf(table: string): string | undefined;
}

const SERVICE_PREFIX: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  DynamoDBDocumentClient: 'dynamodb',
  SecretsManagerClient: 'secretsmanager',
  SFNClient: 'states',
  SchedulerClient: 'scheduler',
  STSClient: 'sts',
  EventBridgeClient: 'events',
  SNSClient: 'sns',
};

/**
 * Secrets Manager uses the secret's KMS key as the caller, through the service: Decrypt to read
 * a value; GenerateDataKey and Decrypt to write one (what AWS documents a caller needs on a
 * customer managed key for CreateSecret and PutSecretValue).
 */
const SECRET_KEY_USE: Record<string, string[]> = {
  GetSecretValue: ['kms:Decrypt'],
  PutSecretValue: ['kms:GenerateDataKey', 'kms:Decrypt'],
  CreateSecret: ['kms:GenerateDataKey', 'kms:Decrypt'],
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function tagContext(prefix: string, tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`${prefix}/${key}`, value]));
}

function dynamoDbRequests(call: RecordedAwsCall, deployment: Deployment): IamRequest[] {
  const tableArn = (table: string, index?: string) =>
    `arn:${deployment.partition}:dynamodb:${deployment.region}:${deployment.account}:table/${table}${index ? `/index/${index}` : ''}`;
  const input = call.input;
  if (call.operation === 'BatchGetItem' || call.operation === 'BatchWriteItem') {
    return Object.keys((input.RequestItems as object | undefined) ?? {}).map((table) => ({
      action: `dynamodb:${call.operation}`,
      resource: tableArn(table),
      context: {},
    }));
  }
  if (call.operation === 'TransactWriteItems' || call.operation === 'TransactGetItems') {
    const items = (input.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? [];
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, detail]) => ({
        action: `dynamodb:${kind === 'Get' ? 'GetItem' : kind === 'Update' ? 'UpdateItem' : kind === 'Delete' ? 'DeleteItem' : kind === 'Put' ? 'PutItem' : 'ConditionCheckItem'}`,
        resource: tableArn(detail.TableName ?? ''),
        context: {},
        via: `dynamodb:${call.operation}`,
      })),
    );
  }
  const table = text(input.TableName) ?? '';
  return [
    { action: `dynamodb:${call.operation}`, resource: tableArn(table, text(input.IndexName)), context: {} },
  ];
}

/**
 * DynamoDB uses a table's customer-managed key as the caller, through the service: Decrypt of the
 * table key (cached for minutes, so not on every call; evaluated for every call here) and
 * DescribeKey (which carries no encryption context).
 */
function tableKeyRequests(requests: IamRequest[], deployment: Deployment): IamRequest[] {
  const tables = new Set(requests.flatMap((request) => /:table\/([^/]+)/.exec(request.resource)?.[1] ?? []));
  return [...tables].flatMap((table): IamRequest[] => {
    const keyArn = deployment.tableKeyArnOf(table);
    if (!keyArn) return [];
    const via = {
      'kms:ViaService': `dynamodb.${deployment.region}.amazonaws.com`,
      'kms:CallerAccount': deployment.account,
    };
    return [
      {
        action: 'kms:Decrypt',
        resource: keyArn,
        context: {
          ...via,
          'kms:EncryptionContext:aws:dynamodb:tableName': table,
          'kms:EncryptionContext:aws:dynamodb:subscriberId': deployment.account,
        },
        resourcePolicy: 'kms-key',
        via: 'dynamodb (table key)',
      },
      {
        action: 'kms:DescribeKey',
        resource: keyArn,
        context: via,
        resourcePolicy: 'kms-key',
        via: 'dynamodb (table key)',
      },
    ];
  });
}

function secretsManagerRequests(call: RecordedAwsCall, deployment: Deployment): IamRequest[] {
  const { input } = call;
  if (call.operation === 'ListSecrets')
    return [{ action: 'secretsmanager:ListSecrets', resource: '*', context: {} }];
  const secretId = text(input.SecretId) ?? text(input.Name) ?? '';
  const facts = deployment.secrets.facts(secretId);
  const arn =
    facts?.arn ??
    text(call.output?.ARN) ??
    (secretId.startsWith('arn:')
      ? secretId
      : `arn:${deployment.partition}:secretsmanager:${deployment.region}:${deployment.account}:secret:${secretId}-AbCdEf`);
  const context: Record<string, string | string[]> = {};
  if (facts) {
    Object.assign(
      context,
      tagContext('aws:ResourceTag', facts.tags),
      tagContext('secretsmanager:ResourceTag', facts.tags),
    );
  }
  if (call.operation === 'CreateSecret') {
    const tags = Object.fromEntries(
      ((input.Tags as { Key?: string; Value?: string }[] | undefined) ?? []).flatMap((tag) =>
        tag.Key ? [[tag.Key, tag.Value ?? '']] : [],
      ),
    );
    Object.assign(context, tagContext('aws:RequestTag', tags));
    if (Object.keys(tags).length > 0) context['aws:TagKeys'] = Object.keys(tags);
    if (text(input.KmsKeyId)) context['secretsmanager:KmsKeyId'] = text(input.KmsKeyId) as string;
    context['secretsmanager:Name'] = secretId;
  }
  if (call.operation === 'UpdateSecretVersionStage' && text(input.VersionStage)) {
    context['secretsmanager:VersionStage'] = text(input.VersionStage) as string;
  }
  const requests: IamRequest[] = [{ action: `secretsmanager:${call.operation}`, resource: arn, context }];
  if (call.operation === 'CreateSecret' && Array.isArray(input.Tags) && input.Tags.length > 0) {
    // Creating a secret with tags is also authorized as TagResource on it.
    requests.push({
      action: 'secretsmanager:TagResource',
      resource: arn,
      context: Object.fromEntries(
        Object.entries(context).filter(([key]) => key.startsWith('aws:') || key.includes('ResourceTag/')),
      ),
      via: 'secretsmanager:CreateSecret',
    });
  }
  const keyId = facts?.kmsKeyId ?? text(input.KmsKeyId);
  // A secret without a key of its own uses aws/secretsmanager, whose key policy AWS manages.
  const keyArn = keyId ? deployment.keyArnOf(keyId) : undefined;
  for (const action of SECRET_KEY_USE[call.operation] ?? []) {
    const encryptsValue = call.operation !== 'CreateSecret' || input.SecretString === true;
    if (!encryptsValue) continue;
    requests.push({
      action,
      resource:
        keyArn ??
        `arn:${deployment.partition}:kms:${deployment.region}:${deployment.account}:alias/aws/secretsmanager`,
      context: {
        'kms:ViaService': `secretsmanager.${deployment.region}.amazonaws.com`,
        'kms:CallerAccount': deployment.account,
        'kms:EncryptionContext:SecretARN': arn,
        'kms:EncryptionContextKeys': ['SecretARN', 'SecretVersionId'],
      },
      resourcePolicy: 'kms-key',
      via: `secretsmanager:${call.operation}`,
    });
  }
  return requests;
}

function stepFunctionsRequests(call: RecordedAwsCall): IamRequest[] {
  const resource = text(call.input.executionArn) ?? text(call.input.stateMachineArn) ?? '*';
  return [{ action: `states:${call.operation}`, resource, context: {} }];
}

function schedulerRequests(call: RecordedAwsCall, deployment: Deployment): IamRequest[] {
  if (call.operation === 'ListSchedules')
    return [{ action: 'scheduler:ListSchedules', resource: '*', context: {} }];
  const group = text(call.input.GroupName) ?? 'default';
  const requests: IamRequest[] = [
    {
      action: `scheduler:${call.operation}`,
      resource: `arn:${deployment.partition}:scheduler:${deployment.region}:${deployment.account}:schedule/${group}/${text(call.input.Name) ?? ''}`,
      context: {},
    },
  ];
  const target = call.input.Target as { RoleArn?: string } | undefined;
  if ((call.operation === 'CreateSchedule' || call.operation === 'UpdateSchedule') && target?.RoleArn) {
    requests.push({
      action: 'iam:PassRole',
      resource: target.RoleArn,
      context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      via: `scheduler:${call.operation}`,
    });
  }
  return requests;
}

function stsRequests(call: RecordedAwsCall, platformKeyId: string): IamRequest[] {
  if (call.accessKeyId !== platformKeyId) {
    return [
      {
        action: `sts:${call.operation}`,
        resource: '*',
        context: {},
        notEvaluated:
          "made with the customer's temporary credentials (their role's policies apply, not this stack's)",
      },
    ];
  }
  if (call.operation === 'GetCallerIdentity') {
    return [
      { action: 'sts:GetCallerIdentity', resource: '*', context: {}, notEvaluated: 'needs no permission' },
    ];
  }
  const context: Record<string, string> = {};
  if (text(call.input.ExternalId)) context['sts:ExternalId'] = text(call.input.ExternalId) as string;
  return [{ action: `sts:${call.operation}`, resource: text(call.input.RoleArn) ?? '*', context }];
}

function eventBridgeRequests(call: RecordedAwsCall, deployment: Deployment): IamRequest[] {
  if (call.operation !== 'PutEvents')
    return [{ action: `events:${call.operation}`, resource: '*', context: {} }];
  const entries =
    (call.input.Entries as { EventBusName?: string; Source?: string; DetailType?: string }[]) ?? [];
  return entries.map((entry) => {
    const bus = entry.EventBusName ?? 'default';
    return {
      action: 'events:PutEvents',
      resource: bus.startsWith('arn:')
        ? bus
        : `arn:${deployment.partition}:events:${deployment.region}:${deployment.account}:event-bus/${bus}`,
      context: {
        ...(entry.Source ? { 'events:source': entry.Source } : {}),
        ...(entry.DetailType ? { 'events:detail-type': entry.DetailType } : {}),
      },
    };
  });
}

/** The IAM requests one recorded SDK call makes (several for batches, and KMS or PassRole on the side). */
export function iamRequestsFor(
  call: RecordedAwsCall,
  deployment: Deployment,
  platformKeyId: string,
): IamRequest[] {
  const prefix = SERVICE_PREFIX[call.client];
  switch (prefix) {
    case 'dynamodb': {
      const requests = dynamoDbRequests(call, deployment);
      return [...requests, ...tableKeyRequests(requests, deployment)];
    }
    case 'secretsmanager':
      return secretsManagerRequests(call, deployment);
    case 'states':
      return stepFunctionsRequests(call);
    case 'scheduler':
      return schedulerRequests(call, deployment);
    case 'sts':
      return stsRequests(call, platformKeyId);
    case 'events':
      return eventBridgeRequests(call, deployment);
    default:
      // Evaluated as `unknown:<Operation>` on `*`: denied, so a new client cannot go unchecked.
      return [{ action: `${prefix ?? 'unknown'}:${call.operation}`, resource: '*', context: {} }];
  }
}
