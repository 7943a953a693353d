import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  type IRole,
  PolicyDocument,
  PolicyStatement,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface KeysProps {
  readonly namePrefix: string;
  /** ARN of an existing key that already encrypts the secrets (legacy); none is created then. */
  readonly existingSecretsKeyArn?: string;
  /** ARN pattern of the secrets this service manages (`…:secret:{prefix}/account/*`). */
  readonly secretArnPattern: string;
}

/** How a function uses the secrets key: reading secrets, or also writing new versions. */
export type SecretsKeyUse = 'decrypt' | 'encryptDecrypt';

/**
 * Administration without use: the account (through IAM) may manage, rotate, tag and delete the
 * keys, but no principal may encrypt or decrypt with them unless the key policy names it.
 */
const KEY_ADMINISTRATION_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** Secrets Manager encrypts with GenerateDataKey, never Encrypt (the deploy rehearsal checks both). */
const KEY_USE_ACTIONS: Record<SecretsKeyUse, string[]> = {
  decrypt: ['kms:Decrypt'],
  encryptDecrypt: ['kms:Decrypt', 'kms:GenerateDataKey'],
};

/** What DynamoDB needs from the caller's permissions on a table's key (checked every few minutes). */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

function administeredKeyPolicy(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'KeyAdministrationThroughIam',
        principals: [new AccountRootPrincipal()],
        actions: KEY_ADMINISTRATION_ACTIONS,
        resources: ['*'],
      }),
    ],
  });
}

/**
 * The customer-managed keys: one for the credentials in Secrets Manager (alias
 * `alias/threat-engine-secrets`, yearly rotation, usable only by the functions granted here and
 * only through Secrets Manager for the service's own secrets), one for the notification topic.
 */
export class Keys extends Construct {
  readonly secretsKey: IKey;
  readonly notificationsKey: Key;
  /** Encrypts the tables this stack creates and its dead-letter queues. */
  readonly dataKey: Key;
  readonly #createdSecretsKey: Key | undefined;
  readonly #secretArnPattern: string;
  #describeForTables: PolicyStatement | undefined;

  constructor(scope: Construct, id: string, props: KeysProps) {
    super(scope, id);
    this.#secretArnPattern = props.secretArnPattern;
    if (props.existingSecretsKeyArn) {
      this.secretsKey = Key.fromKeyArn(this, 'SecretsKey', props.existingSecretsKeyArn);
    } else {
      this.#createdSecretsKey = new Key(this, 'SecretsKey', {
        description: 'Encrypts cloud-account credentials stored in Secrets Manager by the threat engine',
        alias: `alias/${props.namePrefix}threat-engine-secrets`,
        enableKeyRotation: true,
        rotationPeriod: Duration.days(365),
        policy: administeredKeyPolicy(),
        removalPolicy: RemovalPolicy.RETAIN,
        pendingWindow: Duration.days(30),
      });
      this.secretsKey = this.#createdSecretsKey;
    }

    this.notificationsKey = new Key(this, 'NotificationsKey', {
      description: 'Encrypts the threat engine notification topic (failed executions and alarms)',
      alias: `alias/${props.namePrefix}threat-engine-notifications`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      policy: administeredKeyPolicy(),
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.dataKey = new Key(this, 'DataKey', {
      description: 'Encrypts the threat engine tables (those this stack creates) and its dead-letter queues',
      alias: `alias/${props.namePrefix}threat-engine-data`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      policy: administeredKeyPolicy(),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // Creating a table on the key: CloudFormation (the deploying principal) lets DynamoDB create
    // its grant; nothing else may create grants.
    this.dataKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DynamoDbTableGrantsThroughIam',
        principals: [new AccountRootPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com` },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      }),
    );

    // CloudWatch alarms publish to the encrypted topic; the EventBridge rule's SNS target adds
    // its own statement for events.amazonaws.com.
    this.notificationsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
  }

  /**
   * Lets `role` read and write the items of `tableNames` (created tables, on the data key): through
   * DynamoDB only, and only for those tables (encryption context `aws:dynamodb:tableName`).
   */
  grantTableUse(role: IRole, tableNames: readonly string[]): void {
    if (tableNames.length === 0) return;
    this.dataKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [role],
        actions: TABLE_KEY_ACTIONS,
        resources: ['*'],
        conditions: {
          StringEquals: {
            'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com`,
            'kms:EncryptionContext:aws:dynamodb:tableName': [...tableNames],
          },
        },
      }),
    );
    // DescribeKey carries no encryption context: one statement for every table user.
    if (!this.#describeForTables) {
      this.#describeForTables = new PolicyStatement({
        sid: 'TableUsersDescribeKeyThroughDynamoDb',
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com` } },
      });
      this.#describeForTables.addPrincipals(role);
      this.dataKey.addToResourcePolicy(this.#describeForTables);
    } else {
      this.#describeForTables.addPrincipals(role);
    }
  }

  /**
   * Lets a producer send to a dead-letter queue on the data key: a role (through SQS) or a
   * service principal delivering for one source (EventBridge rules, Scheduler schedules).
   */
  grantQueueProducer(producer: { role: IRole } | { service: string; sourceArns: readonly string[] }): void {
    const statement = new PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
    });
    if ('role' in producer) {
      statement.addPrincipals(producer.role);
    } else {
      statement.addPrincipals(new ServicePrincipal(producer.service));
      statement.addCondition('ArnLike', { 'aws:SourceArn': [...producer.sourceArns] });
    }
    this.dataKey.addToResourcePolicy(statement);
  }

  /**
   * Lets `role` use the secrets key through Secrets Manager, for the service's secrets only
   * (encryption context SecretARN under the prefix). A created key names the role in its policy;
   * an existing key is granted through the role's IAM policy (its key policy must allow IAM).
   */
  grantSecretsKey(role: IRole, use: SecretsKeyUse): void {
    const statement = new PolicyStatement({
      actions: KEY_USE_ACTIONS[use],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:SecretARN': this.#secretArnPattern },
      },
    });
    if (this.#createdSecretsKey) {
      statement.addPrincipals(role);
      statement.addResources('*');
      this.#createdSecretsKey.addToResourcePolicy(statement);
    } else {
      statement.addResources(this.secretsKey.keyArn);
      role.addToPrincipalPolicy(statement);
    }
  }
}
