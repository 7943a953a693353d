import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiServices, SchedulingServices } from '../../functions/api/api-services';
import { loadApiSettings } from '../../functions/api/api-settings';
import { createApp } from '../../functions/api/app';
import { createSchedulingApp } from '../../functions/api/scheduling-app';
import { silentLogger } from '../../functions/core/logger';
import { scanWorkflowTimeoutSeconds } from '../../functions/core/scans/scan-settings';
import {
  EXECUTION_TERMINATED_TASK,
  SERVICE_TASKS,
  STUCK_RUN_SWEEP_TASK,
  TASKS,
  type TaskDefinition,
} from '../../functions/tasks/task-catalog';
import { flattenCfnReference } from '../../infra/acknowledge-wildcard-resources';
import { PUBLIC_CONSOLE_ROUTES, PUBLIC_ROUTES } from '../../infra/constructs/api';
import {
  API_ACCESS,
  PROJECT_ROOT,
  SCHEDULING_API_ACCESS,
  SECRET_ACTIONS,
} from '../../infra/constructs/functions';
import { TERMINATED_STATUSES } from '../../infra/constructs/workflows';
import { apiRoutesOf, matchRoute } from '../../rehearsal/api-gateway-events';
import { TABLE_NAME_VARIABLES } from '../../schemas/config';
import { TABLE_DEFINITIONS, type TableLogicalName } from '../../schemas/tables';
import { WORKFLOW_FILES } from '../../workflows/definitions';
import {
  asArray,
  type CfnResource,
  functionIdByDescription,
  type IamStatement,
  identityStatements,
  propertyOf,
  resourcesOfType,
  roleOfFunction,
  type SynthesizedApp,
  synthesizeApp,
} from './synthesize-app';

/**
 * The only actions granted on Resource "*", each because AWS offers no resource-level
 * permission for it: X-Ray tracing (functions and state machines), the API health check's
 * ListSecrets, the reconcile endpoint's ListSchedules, and the CloudWatch Logs delivery calls Step
 * Functions logging makes.
 */
const ACTIONS_ALLOWED_ON_ANY_RESOURCE = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'secretsmanager:ListSecrets',
  'scheduler:ListSchedules',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // Only for functions placed in the engine VPC (the AWSLambdaVPCAccessExecutionRole actions).
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
]);

const SECRET_PATTERN =
  'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:threat-engine/account/*';
const SCHEDULE_PATTERN =
  'arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/threat-engine-scans/*';
const CUSTOMER_ROLES_PATTERN = 'arn:<AWS::Partition>:iam::*:role/*';
const EXECUTIONS_PATTERN =
  /^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<Workflows(Onboarding|Validation|Scan)StateMachine[0-9A-F]{8}\.Name>:\*$/;

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'];

let synthesized: SynthesizedApp;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  synthesized = synthesizeApp();
  resources = synthesized.resources;
});

const actionsOf = (statement: IamStatement) => asArray(statement.Action);
const resourcesOf = (statement: IamStatement) => asArray(statement.Resource).map(flattenCfnReference);
const statementsOfRole = (role: string) =>
  identityStatements(resources)
    .filter((entry) => entry.roles.includes(role))
    .map((entry) => entry.statement);
const tableLogicalId = (name: TableLogicalName) => {
  const found = resourcesOfType(resources, 'AWS::DynamoDB::Table').find(
    ([, table]) =>
      table.Properties?.TableName === TABLE_DEFINITIONS.find((t) => t.logicalName === name)?.defaultName,
  );
  if (!found) throw new Error(`no table ${name}`);
  return found[0];
};
const stateMachineId = (name: string) => {
  const found = resourcesOfType(resources, 'AWS::StepFunctions::StateMachine').find(
    ([, machine]) => machine.Properties?.StateMachineName === `threat-engine-${name}`,
  );
  if (!found) throw new Error(`no state machine ${name}`);
  return found[0];
};
/** Table access of a role, read back from its statements: table → {reads, writes}. */
const tableAccessOfRole = (role: string) => {
  const access = new Map<string, { reads: boolean; writes: boolean }>();
  for (const statement of statementsOfRole(role)) {
    for (const resource of resourcesOf(statement)) {
      const match = /^<(Data\w+Table[0-9A-F]{8})\.Arn>$/.exec(resource);
      if (!match) continue;
      const entry = access.get(match[1] as string) ?? { reads: false, writes: false };
      entry.reads ||= actionsOf(statement).some((action) => READ_ACTIONS.includes(action));
      entry.writes ||= actionsOf(statement).some((action) => WRITE_ACTIONS.includes(action));
      access.set(match[1] as string, entry);
    }
  }
  return access;
};

describe('Stack: ThreatEngine (dev context of cdk.json)', () => {
  describe('cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged finding, error or warning', () => {
      // Assess
      const violations = synthesized.nagReport.violations.map(
        (violation) =>
          `${violation.ruleName} at ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(violations).toEqual([]);
      expect(synthesized.nagReport.success).toBe(true);
    });

    it('acknowledges nothing on the app or the stack (no blanket suppression), each with a specific reason', () => {
      // Prepare
      const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
      const onScope = (scope: { node: { metadata: { type: string }[] } }) =>
        scope.node.metadata.filter((entry) => entry.type === key);
      const all = synthesized.stack.node
        .findAll()
        .flatMap((construct) => construct.node.metadata.filter((entry) => entry.type === key))
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>));

      // Assess
      expect(onScope(synthesized.app)).toEqual([]);
      expect(onScope(synthesized.stack)).toEqual([]);
      expect(all.length).toBeGreaterThan(0);
      for (const [id, reason] of all) {
        expect(id).toMatch(/AwsSolutions-(IAM5\[Resource::.+\]|SF1|SQS3|APIG4)$/);
        expect(reason.length, `reason of ${id}`).toBeGreaterThan(60);
      }
    });

    it('leaves no CDK error or warning annotation', () => {
      // Prepare
      const annotations = synthesized.stack.node
        .findAll()
        .flatMap((construct) =>
          construct.node.metadata
            .filter((entry) => entry.type === 'aws:cdk:error' || entry.type === 'aws:cdk:warning')
            .map((entry) => `${construct.node.path}: ${String(entry.data)}`),
        );

      // Assess
      expect(annotations).toEqual([]);
    });
  });

  describe('Data', () => {
    it('creates every table of the shared definitions with its keys and indexes', () => {
      // Prepare
      const tables = resourcesOfType(resources, 'AWS::DynamoDB::Table');

      // Assess
      expect(tables).toHaveLength(TABLE_DEFINITIONS.length);
      for (const definition of TABLE_DEFINITIONS) {
        synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: definition.defaultName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: definition.partitionKey.name, KeyType: 'HASH' }],
          ...(definition.globalSecondaryIndexes.length > 0
            ? {
                GlobalSecondaryIndexes: Match.arrayEquals(
                  definition.globalSecondaryIndexes.map((index) =>
                    Match.objectEquals({
                      IndexName: index.indexName,
                      KeySchema: [
                        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
                      ],
                      Projection: { ProjectionType: 'ALL' },
                    }),
                  ),
                ),
              }
            : {}),
          ...(definition.timeToLiveAttribute
            ? { TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true } }
            : {}),
        });
      }
    });

    it('protects every table: point-in-time recovery, deletion protection, retained on delete', () => {
      for (const [id, table] of resourcesOfType(resources, 'AWS::DynamoDB::Table')) {
        // Assess
        expect(table.Properties?.PointInTimeRecoverySpecification, id).toEqual({
          PointInTimeRecoveryEnabled: true,
        });
        expect(table.Properties?.DeletionProtectionEnabled, id).toBe(true);
        expect(table.DeletionPolicy, id).toBe('Retain');
        expect(table.UpdateReplacePolicy, id).toBe('Retain');
      }
    });
  });

  describe('Keys', () => {
    it('rotates the secrets key yearly under alias/threat-engine-secrets', () => {
      // Assess
      const [[keyId, key]] = resourcesOfType(resources, 'AWS::KMS::Key').filter(([id]) =>
        id.startsWith('KeysSecretsKey'),
      ) as [[string, CfnResource]];
      expect(key.Properties).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 365 });
      expect(key.DeletionPolicy).toBe('Retain');
      synthesized.template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/threat-engine-secrets',
        TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
      for (const [, other] of resourcesOfType(resources, 'AWS::KMS::Key')) {
        expect(other.Properties?.EnableKeyRotation).toBe(true);
      }
    });

    it('lets only the functions that read or stage secrets use the secrets key, through Secrets Manager', () => {
      // Prepare
      const [[, key]] = resourcesOfType(resources, 'AWS::KMS::Key').filter(([id]) =>
        id.startsWith('KeysSecretsKey'),
      ) as [[string, CfnResource]];
      const statements = propertyOf<{ Statement: IamStatement[] }>(key, 'KeyPolicy').Statement;
      const users = statements.filter((statement) =>
        actionsOf(statement).some((action) => /Decrypt|Encrypt|GenerateDataKey/.test(action)),
      );
      const principals = users.flatMap((statement) =>
        asArray((statement.Principal as { AWS: unknown }).AWS).map(flattenCfnReference),
      );
      const expectedRoles = [...TASKS, EXECUTION_TERMINATED_TASK]
        .filter((task: TaskDefinition) => task.secrets === 'read' || task.secrets === 'stage')
        .map((task) => functionIdByDescription(resources, task.description))
        .concat(functionIdByDescription(resources, API_ACCESS.description))
        .map((functionId) => `<${roleOfFunction(resources, functionId)}.Arn>`);

      // Assess
      expect(statements.flatMap(actionsOf)).not.toContain('kms:*');
      expect(principals.sort()).toEqual(expectedRoles.sort());
      for (const statement of users) {
        expect(Object.keys(statement.Condition?.StringEquals ?? {})).toContain('kms:ViaService');
        expect(
          flattenCfnReference(statement.Condition?.StringLike?.['kms:EncryptionContext:SecretARN']),
        ).toBe(SECRET_PATTERN);
      }
    });
  });

  describe('IAM', () => {
    it('grants no "*" or "service:*" action in any identity policy', () => {
      for (const { policy, statement } of identityStatements(resources)) {
        for (const action of actionsOf(statement)) {
          // Assess
          expect(action, policy).not.toBe('*');
          expect(action, policy).not.toMatch(/^[a-z0-9-]+:\*$/);
        }
      }
    });

    it('grants Resource "*" only for the actions AWS offers no resource-level permission for', () => {
      for (const { policy, statement } of identityStatements(resources)) {
        if (!resourcesOf(statement).includes('*')) continue;
        // Assess
        for (const action of actionsOf(statement)) {
          expect(ACTIONS_ALLOWED_ON_ANY_RESOURCE.has(action), `${policy}: ${action} on "*"`).toBe(true);
        }
      }
    });

    it('uses wildcards in resources only for run-time names: secrets, schedules, executions, customer roles', () => {
      for (const { policy, statement } of identityStatements(resources)) {
        for (const resource of resourcesOf(statement)) {
          if (resource === '*' || !resource.includes('*')) continue;
          // Assess
          expect(
            resource === SECRET_PATTERN ||
              resource === SCHEDULE_PATTERN ||
              resource === CUSTOMER_ROLES_PATTERN ||
              EXECUTIONS_PATTERN.test(resource),
            `${policy}: ${resource}`,
          ).toBe(true);
        }
      }
    });

    it('limits every secret grant to the {prefix}/account/* name pattern, ListSecrets to the API', () => {
      // Prepare
      const apiRole = roleOfFunction(resources, functionIdByDescription(resources, API_ACCESS.description));

      for (const { policy, roles, statement } of identityStatements(resources)) {
        const secretActions = actionsOf(statement).filter((action) => action.startsWith('secretsmanager:'));
        if (secretActions.length === 0) continue;
        // Assess
        if (secretActions.includes('secretsmanager:ListSecrets')) {
          expect(roles, policy).toEqual([apiRole]);
          expect(resourcesOf(statement)).toEqual(['*']);
          expect(secretActions).toEqual(['secretsmanager:ListSecrets']);
        } else {
          expect(resourcesOf(statement), policy).toEqual([SECRET_PATTERN]);
        }
      }
    });

    it('gives each task exactly the tables, indexes and secret actions of the catalog', () => {
      for (const task of [...TASKS, ...SERVICE_TASKS] as TaskDefinition[]) {
        // Prepare
        const role = roleOfFunction(resources, functionIdByDescription(resources, task.description));
        const statements = statementsOfRole(role);
        const expected = new Map(
          Object.entries(task.tables).map(([name, access]) => [
            tableLogicalId(name as TableLogicalName),
            { reads: access !== 'write', writes: access !== 'read' },
          ]),
        );
        const secretActions = statements
          .flatMap(actionsOf)
          .filter((action) => action.startsWith('secretsmanager:'))
          .sort();
        const indexResources = statements
          .flatMap(resourcesOf)
          .filter((resource) => resource.includes('/index/'));

        // Assess
        expect(tableAccessOfRole(role), task.token).toEqual(expected);
        expect(secretActions, task.token).toEqual(
          task.secrets === 'none' ? [] : [...SECRET_ACTIONS[task.secrets]].sort(),
        );
        for (const resource of indexResources) {
          expect(resource, task.token).toMatch(/^<Data\w+Table[0-9A-F]{8}\.Arn>\/index\/[a-z-]+-index$/);
        }
        expect(statements.flatMap(actionsOf).includes('sts:AssumeRole'), task.token).toBe(
          task.callsProviders,
        );
        expect(statements.flatMap(actionsOf).includes('scheduler:CreateSchedule'), task.token).toBe(
          task.managesSchedules,
        );
        expect(
          statements.flatMap(actionsOf).filter((action) => action.startsWith('states:')),
          task.token,
        ).toEqual(task.describesExecutions ? ['states:DescribeExecution'] : []);
        expect(statements.flatMap(actionsOf).includes('events:PutEvents'), task.token).toBe(
          task.publishesEvents,
        );
      }
    });

    it('lets the scheduler role only start the scan state machine (and dead-letter to its queue)', () => {
      // Prepare
      const [[roleId, role]] = resourcesOfType(resources, 'AWS::IAM::Role').filter(([, candidate]) =>
        JSON.stringify(candidate.Properties?.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      ) as [[string, CfnResource]];
      const statements = statementsOfRole(roleId);
      const queue = resourcesOfType(resources, 'AWS::SQS::Queue')[0]?.[0];

      // Assess
      expect(JSON.stringify(role.Properties?.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
      expect(
        statements.map((statement) => ({ actions: actionsOf(statement), resources: resourcesOf(statement) })),
      ).toEqual([
        { actions: ['states:StartExecution'], resources: [`<${stateMachineId('scan')}>`] },
        { actions: ['sqs:SendMessage'], resources: [`<${queue}.Arn>`] },
      ]);
    });
  });

  describe('Functions', () => {
    it('runs every function on ARM64, a current Node.js runtime, with tracing, source maps and its own log group', () => {
      // Prepare
      const functions = resourcesOfType(resources, 'AWS::Lambda::Function');
      const retention = resourcesOfType(resources, 'AWS::Logs::LogGroup').map(
        ([, group]) => group.Properties?.RetentionInDays,
      );

      // Assess
      // The tasks, the API and the scheduling API.
      expect(functions).toHaveLength(TASKS.length + SERVICE_TASKS.length + 2);
      for (const [id, fn] of functions) {
        expect(fn.Properties?.Architectures, id).toEqual(['arm64']);
        expect(fn.Properties?.Runtime, id).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
        expect(fn.Properties?.TracingConfig, id).toEqual({ Mode: 'Active' });
        expect(propertyOf<{ LogGroup: { Ref: string } }>(fn, 'LoggingConfig').LogGroup.Ref, id).toMatch(
          /LogGroup/,
        );
        const variables = propertyOf<{ Variables: Record<string, unknown> }>(fn, 'Environment').Variables;
        expect(variables.NODE_OPTIONS, id).toBe('--enable-source-maps');
        expect(variables.POWERTOOLS_SERVICE_NAME, id).toMatch(/^threat-engine-/);
        expect(variables).not.toHaveProperty('AWS_REGION');
        for (const variable of [
          ...Object.values(TABLE_NAME_VARIABLES),
          'SECRETS_MANAGER_PREFIX',
          'SECRETS_MANAGER_KMS_KEY_ID',
          'LOG_LEVEL',
        ]) {
          expect(variables, `${id} ${variable}`).toHaveProperty(variable);
        }
      }
      expect(retention.every((days) => days === 90)).toBe(true);
    });

    it('gives both API functions the state machine ARNs and the OIDC settings, the scheduler settings only to the scheduling API', () => {
      // Prepare
      const variablesOf = (description: string) =>
        propertyOf<{ Variables: Record<string, unknown> }>(
          resources[functionIdByDescription(resources, description)] as CfnResource,
          'Environment',
        ).Variables;
      const api = variablesOf(API_ACCESS.description);
      const schedulingApi = variablesOf(SCHEDULING_API_ACCESS.description);

      // Assess
      for (const variables of [api, schedulingApi]) {
        expect(variables).toMatchObject({
          ONBOARDING_STATE_MACHINE_ARN: { Ref: stateMachineId('onboarding') },
          VALIDATION_STATE_MACHINE_ARN: { Ref: stateMachineId('validation') },
          OIDC_ISSUER: { Ref: 'OidcIssuer' },
          OIDC_AUDIENCE: { Ref: 'OidcAudience' },
        });
        // Built from the state machine's fixed name (the scan tasks can't reference it: a cycle).
        expect(JSON.stringify(variables.SCAN_STATE_MACHINE_ARN)).toContain(
          ':stateMachine:threat-engine-scan',
        );
      }
      expect(schedulingApi).toMatchObject({
        SCHEDULE_GROUP_NAME: 'threat-engine-scans',
        SCHEDULER_ROLE_ARN: expect.anything(),
        SCHEDULER_DLQ_ARN: expect.anything(),
      });
      expect(Object.keys(api)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^SCHEDULE(R)?_/)]));
    });

    it('grants EventBridge Scheduler and the scheduler role to the scheduling API and the schedule-managing tasks, never to the API function', () => {
      // Prepare
      const apiRole = roleOfFunction(resources, functionIdByDescription(resources, API_ACCESS.description));
      const schedulingRole = roleOfFunction(
        resources,
        functionIdByDescription(resources, SCHEDULING_API_ACCESS.description),
      );
      const schedulerGrantees = new Set(
        identityStatements(resources)
          .filter(({ statement }) =>
            actionsOf(statement).some(
              (action) => action.startsWith('scheduler:') || action === 'iam:PassRole',
            ),
          )
          .flatMap(({ roles }) => roles),
      );

      // Assess
      expect(statementsOfRole(apiRole).flatMap(actionsOf)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^scheduler:|^iam:PassRole$/)]),
      );
      expect(statementsOfRole(schedulingRole).flatMap(actionsOf)).toEqual(
        expect.arrayContaining(['scheduler:UpdateSchedule', 'scheduler:ListSchedules', 'iam:PassRole']),
      );
      const managingTasks = [...TASKS, ...SERVICE_TASKS].filter((task) => task.managesSchedules);
      expect([...schedulerGrantees].sort()).toEqual(
        [
          schedulingRole,
          ...managingTasks.map((task) =>
            roleOfFunction(resources, functionIdByDescription(resources, task.description)),
          ),
        ].sort(),
      );
    });

    it('lets the tasks that count scan runs manage scheduler entries (auto-pause, one-time completion)', () => {
      for (const description of [
        'Claim a scan slot, apply the overlap policy and lock the account',
        'Record a finished scan and release the account lock',
        'Record a failed scan and release the account lock',
      ]) {
        const task = resources[functionIdByDescription(resources, description)] as CfnResource;
        const variables = propertyOf<{ Variables: Record<string, unknown> }>(task, 'Environment').Variables;
        expect(Object.keys(variables), description).toEqual(
          expect.arrayContaining(['SCAN_STATE_MACHINE_ARN', 'SCHEDULE_GROUP_NAME', 'SCHEDULER_ROLE_ARN']),
        );
      }
    });
  });

  describe('Workflows', () => {
    it.each(Object.entries(WORKFLOW_FILES))(
      'deploys the %s definition exactly as in workflows/, each token resolved to its catalog function',
      (name, file) => {
        // Prepare
        const machine = resources[stateMachineId(name)] as CfnResource;
        const substitutions = machine.Properties?.DefinitionSubstitutions as Record<
          string,
          { 'Fn::GetAtt': [string, string] }
        >;
        const actual = propertyOf<string>(machine, 'DefinitionString').replace(
          /\$\{(\w+)\}/g,
          (_, token: string) =>
            `function:${substitutions[token]?.['Fn::GetAtt'][0] ?? `unresolved ${token}`}`,
        );
        const expected = readFileSync(join(PROJECT_ROOT, file), 'utf8').replace(
          /\$\{(\w+)\}/g,
          (_, token: string) => {
            const task = TASKS.find((candidate) => candidate.token === token);
            return `function:${task ? functionIdByDescription(resources, task.description) : `unknown ${token}`}`;
          },
        );
        // The scan machine alone gets its TimeoutSeconds, derived from the scan bounds (cdk.json defaults).
        const derived =
          name === 'scan'
            ? {
                TimeoutSeconds: scanWorkflowTimeoutSeconds({
                  maxScanSeconds: 14_400,
                  maxBufferedWaitSeconds: 3600,
                }),
              }
            : {};

        // Assess
        expect(JSON.parse(actual)).toEqual({ ...JSON.parse(expected), ...derived });
        expect(Object.values(substitutions).every((value) => value['Fn::GetAtt'][1] === 'Arn')).toBe(true);
        expect(machine.Properties).toMatchObject({
          StateMachineType: 'STANDARD',
          TracingConfiguration: { Enabled: true },
          LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
        });
      },
    );

    it('lets each state machine invoke only the functions its definition names', () => {
      for (const name of Object.keys(WORKFLOW_FILES)) {
        // Prepare
        const machine = resources[stateMachineId(name)] as CfnResource;
        const role = propertyOf<{ 'Fn::GetAtt': [string, string] }>(machine, 'RoleArn')['Fn::GetAtt'][0];
        const invoked = statementsOfRole(role)
          .filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'))
          .flatMap(resourcesOf);
        const named = Object.values(
          machine.Properties?.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>,
        ).map((value) => `<${value['Fn::GetAtt'][0]}.Arn>`);

        // Assess
        expect(invoked.sort(), name).toEqual([...new Set(named)].sort());
      }
    });

    it('routes FAILED / TIMED_OUT / ABORTED executions of the three machines to the recorder, with retries and a DLQ', () => {
      // Prepare
      const [[, rule]] = resourcesOfType(resources, 'AWS::Events::Rule').filter(
        ([, candidate]) => candidate.Properties?.Name === 'threat-engine-terminated-executions',
      ) as [[string, CfnResource]];
      const targetList = propertyOf<Record<string, unknown>[]>(rule, 'Targets');
      const targets = targetList.map((target) => flattenCfnReference(target.Arn));

      // Assess
      expect(rule.Properties?.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: [...TERMINATED_STATUSES],
          stateMachineArn: Object.keys(WORKFLOW_FILES).map((name) => ({ Ref: stateMachineId(name) })),
        },
      });
      expect(targets).toEqual([
        `<${functionIdByDescription(resources, EXECUTION_TERMINATED_TASK.description)}.Arn>`,
      ]);
      expect(targetList[0]).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21_600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [expect.stringMatching(/^WorkflowsRecorderDeadLetterQueue/), 'Arn'] },
        },
      });
      synthesized.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    });
  });

  describe('Scheduling and API', () => {
    it('creates the schedule group and an encrypted, TLS-only dead-letter queue', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', {
        Name: 'threat-engine-scans',
      });
      for (const [id, queue] of resourcesOfType(resources, 'AWS::SQS::Queue')) {
        expect(flattenCfnReference(queue.Properties?.KmsMasterKeyId), id).toMatch(
          /^<KeysDataKey[0-9A-F]{8}\.Arn>$/,
        );
      }
      synthesized.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('puts every route behind the JWT authorizer except what the app serves publicly (health, GET /, the API description, the console page, assets and sign-in settings)', () => {
      // Prepare
      const routes = resourcesOfType(resources, 'AWS::ApiGatewayV2::Route').map(
        ([, route]) => route.Properties,
      );

      // Assess
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        JwtConfiguration: { Issuer: { Ref: 'OidcIssuer' }, Audience: Match.anyValue() },
      });
      expect(routes.length).toBeGreaterThan(1);
      for (const route of routes) {
        const isPublic = [...PUBLIC_ROUTES, ...PUBLIC_CONSOLE_ROUTES].some(
          (publicRoute) => route?.RouteKey === `${publicRoute.method} ${publicRoute.path}`,
        );
        expect(route?.AuthorizationType, String(route?.RouteKey)).toBe(isPublic ? 'NONE' : 'JWT');
      }
      expect(
        routes
          .filter((route) => route?.AuthorizationType === 'NONE')
          .map((route) => route?.RouteKey)
          .sort(),
      ).toEqual(
        [
          'GET /',
          'GET /api/v1/health',
          'GET /api/v1/openapi.json',
          'GET /docs',
          'GET /docs/{asset}',
          'GET /openapi.json',
          'HEAD /api/v1/health',
          ...PUBLIC_CONSOLE_ROUTES.map((route) => `${route.method} ${route.path}`),
        ].sort(),
      );
    });

    it('gives the scheduling API only the tables its routes use', () => {
      // Prepare
      const role = roleOfFunction(
        resources,
        functionIdByDescription(resources, SCHEDULING_API_ACCESS.description),
      );

      // Assess
      expect(Object.fromEntries(tableAccessOfRole(role))).toEqual(
        Object.fromEntries(
          Object.keys(SCHEDULING_API_ACCESS.tables).map((name) => [
            tableLogicalId(name as TableLogicalName),
            { reads: true, writes: true },
          ]),
        ),
      );
    });

    it('sends every route of each app to the function serving that app: the scheduling routes to the scheduling API, all others to the API', () => {
      // Prepare: the routes both apps mount (built as the OpenAPI generator builds them: the route
      // factories keep the services for their handlers, never run here).
      const services = { repositories: {}, settings: loadApiSettings({}) } as unknown as ApiServices &
        SchedulingServices;
      const mounted = (app: { routes: { method: string; path: string }[] }) =>
        app.routes
          .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
          .map((route) => ({
            method: route.method,
            // A concrete request path: each `:name{pattern}` parameter becomes one segment.
            path: route.path.replace(/:[A-Za-z_][A-Za-z0-9_]*(\{[^}]*\})?/g, 'x1'),
          }));
      const apiRoutes = mounted(
        createApp({ logger: silentLogger, healthChecks: [], target: 'test', version: 'test', services }),
      );
      const schedulingRoutes = mounted(createSchedulingApp({ logger: silentLogger, services }));
      const gatewayRoutes = apiRoutesOf(resources);
      const functionReached = (method: string, path: string) => {
        const route = matchRoute(gatewayRoutes, method, path);
        const uri = route?.integrationId
          ? resources[route.integrationId]?.Properties?.IntegrationUri
          : undefined;
        return (uri as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
      };

      // Assess
      expect(schedulingRoutes.length).toBeGreaterThan(10);
      expect(apiRoutes.length).toBeGreaterThan(30);
      for (const { method, path } of schedulingRoutes) {
        expect(functionReached(method, path), `${method} ${path}`).toBe(
          functionIdByDescription(resources, SCHEDULING_API_ACCESS.description),
        );
      }
      for (const { method, path } of apiRoutes) {
        expect(functionReached(method, path), `${method} ${path}`).toBe(
          functionIdByDescription(resources, API_ACCESS.description),
        );
      }
    });

    it('throttles the stage and writes access logs', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      });
    });
  });

  describe('Operations', () => {
    it('alarms on timed-out executions, API errors and DLQ depths, notifying the topic', () => {
      // Prepare
      const alarms = resourcesOfType(resources, 'AWS::CloudWatch::Alarm').map(
        ([, alarm]) => alarm.Properties ?? {},
      );
      const topic = resourcesOfType(resources, 'AWS::SNS::Topic')[0]?.[0];
      const metricNames = alarms.flatMap((alarm) =>
        alarm.MetricName
          ? [alarm.MetricName]
          : (alarm.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[]).flatMap((metric) =>
              metric.MetricStat ? [metric.MetricStat.Metric.MetricName] : [],
            ),
      );
      const count = (name: string) => metricNames.filter((metric) => metric === name).length;

      // Assess
      // Expected failures end in their Fail state, recorded and notified as domain events: no alarm.
      expect(count('ExecutionsFailed')).toBe(0);
      expect(count('ExecutionsTimedOut')).toBe(Object.keys(WORKFLOW_FILES).length);
      // Per-function alarms only with -c operationalAlarms=all (small-deployment.test.ts).
      expect(count('Errors')).toBe(0);
      expect(count('Throttles')).toBe(0);
      // Scheduler, recorder and notification-delivery dead letters.
      expect(count('ApproximateNumberOfMessagesVisible')).toBe(3);
      expect(count('5xx')).toBe(1);
      for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      synthesized.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });

    it('outputs the API URL and the state machine ARNs', () => {
      // Prepare
      const outputs = Object.keys(synthesized.template.toJSON().Outputs as Record<string, unknown>);

      // Assess
      expect(outputs).toEqual(
        expect.arrayContaining([
          'ApiUrl',
          'OnboardingStateMachineArn',
          'ValidationStateMachineArn',
          'ScanStateMachineArn',
        ]),
      );
    });
  });

  describe('Production hardening', () => {
    const deployedTasks = () =>
      Object.keys(WORKFLOW_FILES).flatMap((name) => {
        const machine = resources[stateMachineId(name)] as CfnResource;
        const definition = JSON.parse(propertyOf<string>(machine, 'DefinitionString')) as {
          States: Record<
            string,
            { Type: string; Resource?: string; TimeoutSeconds?: number; Retry?: Retrier[] }
          >;
        };
        return Object.entries(definition.States)
          .filter(([, state]) => state.Type === 'Task')
          .map(([stateName, state]) => ({ machine: name, stateName, state }));
      });
    interface Retrier {
      ErrorEquals: string[];
      IntervalSeconds?: number;
      MaxAttempts?: number;
      BackoffRate?: number;
      MaxDelaySeconds?: number;
      JitterStrategy?: string;
    }
    /** The longest a retrier may keep retrying (every wait at its cap, before jitter). */
    const retryWindowSeconds = (retrier: Retrier) =>
      Array.from({ length: retrier.MaxAttempts ?? 3 }, (_, attempt) =>
        Math.min(
          (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt,
          retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY,
        ),
      ).reduce((sum, wait) => sum + wait, 0);

    it('retries every Lambda service error AWS lists on every Task, Lambda.Unknown wherever a rerun is safe', () => {
      for (const { machine, stateName, state } of deployedTasks()) {
        // Prepare
        const errors = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
        const where = `${machine}: ${stateName}`;

        // Assess
        for (const error of [
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.ClientExecutionTimeoutException',
          'Lambda.TooManyRequestsException',
        ]) {
          expect(errors, where).toContain(error);
        }
        // Starting a scan twice would start two engine scans: that task alone is not rerun blind.
        const startsEngineScan = String(state.Resource).includes('StartScanFunction');
        expect(errors.includes('Lambda.Unknown'), where).toBe(!startsEngineScan);
      }
    });

    it('keeps retrying throttled invocations with full jitter for minutes, enough for a thousand schedules firing together', () => {
      for (const { machine, stateName, state } of deployedTasks()) {
        // Prepare
        const throttling = (state.Retry ?? []).find((retrier) =>
          retrier.ErrorEquals.includes('Lambda.TooManyRequestsException'),
        ) as Retrier;

        // Assess
        expect(throttling.JitterStrategy, `${machine}: ${stateName}`).toBe('FULL');
        expect(retryWindowSeconds(throttling), `${machine}: ${stateName}`).toBeGreaterThanOrEqual(300);
      }
    });

    it('gives every Task state more time than its function, so the function (bounded by its remaining time) ends first', () => {
      for (const { machine, stateName, state } of deployedTasks()) {
        // Prepare
        const substitutions = propertyOf<Record<string, { 'Fn::GetAtt': [string, string] }>>(
          resources[stateMachineId(machine)],
          'DefinitionSubstitutions',
        );
        const token = String(state.Resource).replace(/^\$\{|\}$/g, '');
        const functionId = substitutions[token]?.['Fn::GetAtt'][0] ?? `unresolved ${token}`;
        const timeout = propertyOf<number>(resources[functionId], 'Timeout');

        // Assess
        expect(state.TimeoutSeconds, `${machine}: ${stateName}`).toBeGreaterThan(timeout);
      }
    });

    it('derives the scan state machine timeout from the one scan bound the tasks are given', () => {
      // Prepare
      const scan = JSON.parse(propertyOf<string>(resources[stateMachineId('scan')], 'DefinitionString')) as {
        TimeoutSeconds: number;
      };
      const poll = resources[functionIdByDescription(resources, "Poll the engine for a scan's status")];
      const variables = propertyOf<{ Variables: Record<string, unknown> }>(poll, 'Environment').Variables;

      // Assess
      expect(variables.SCAN_MAX_SECONDS).toBe('14400');
      expect(variables.SCAN_BUFFER_MAX_WAIT_SECONDS).toBe('3600');
      expect(scan.TimeoutSeconds).toBe(
        scanWorkflowTimeoutSeconds({ maxScanSeconds: 14_400, maxBufferedWaitSeconds: 3600 }),
      );
    });

    it('encrypts every created table and every queue with the data key, whose policy allows only DynamoDB and SQS use', () => {
      // Prepare
      const [[keyId, key]] = resourcesOfType(resources, 'AWS::KMS::Key').filter(([id]) =>
        id.startsWith('KeysDataKey'),
      ) as [[string, CfnResource]];
      const statements = propertyOf<{ Statement: IamStatement[] }>(key, 'KeyPolicy').Statement;
      const users = statements.filter((statement) =>
        actionsOf(statement).some((action) => /Decrypt|Encrypt|GenerateDataKey/.test(action)),
      );
      const tableRoles = new Set(
        users
          .filter(
            (statement) =>
              statement.Condition?.StringEquals?.['kms:EncryptionContext:aws:dynamodb:tableName'],
          )
          .flatMap((statement) =>
            asArray((statement.Principal as { AWS: unknown }).AWS).map(flattenCfnReference),
          ),
      );

      // Assess
      for (const [id, table] of resourcesOfType(resources, 'AWS::DynamoDB::Table')) {
        expect(table.Properties?.SSESpecification, id).toEqual({
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
        });
      }
      expect(statements.flatMap(actionsOf)).not.toContain('kms:*');
      for (const statement of users) {
        const via = flattenCfnReference(statement.Condition?.StringEquals?.['kms:ViaService']);
        expect(via).toMatch(/^(dynamodb|sqs)\.<AWS::Region>\.amazonaws\.com$/);
        const service = (statement.Principal as { Service?: string }).Service;
        if (service) {
          expect(service).toBe('events.amazonaws.com');
          expect(statement.Condition?.ArnLike?.['aws:SourceArn']).toBeDefined();
        }
      }
      // Every function that reads or writes tables, and only through DynamoDB for its own tables.
      expect(tableRoles.size).toBe(TASKS.filter((task) => Object.keys(task.tables).length > 0).length + 4);
    });

    it('puts the state machine log groups under /aws/vendedlogs/states/', () => {
      for (const name of Object.keys(WORKFLOW_FILES)) {
        // Assess
        synthesized.template.hasResourceProperties('AWS::Logs::LogGroup', {
          LogGroupName: `/aws/vendedlogs/states/threat-engine-${name}`,
        });
      }
    });

    it('runs the stuck-run sweep on a schedule, with retries and a DLQ, under a role that may only invoke it', () => {
      // Prepare
      const sweep = functionIdByDescription(resources, STUCK_RUN_SWEEP_TASK.description);
      const [[, schedule]] = resourcesOfType(resources, 'AWS::Scheduler::Schedule') as [
        [string, CfnResource],
      ];
      const target = propertyOf<Record<string, unknown>>(schedule, 'Target');
      const roleId = (target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

      // Assess
      expect(schedule.Properties?.ScheduleExpression).toBe('rate(15 minutes)');
      expect(flattenCfnReference(target.Arn)).toBe(`<${sweep}.Arn>`);
      expect(target).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 3 },
        DeadLetterConfig: expect.anything(),
      });
      expect(
        statementsOfRole(roleId).map((statement) => ({
          actions: actionsOf(statement),
          resources: resourcesOf(statement),
        })),
      ).toEqual([
        { actions: ['lambda:InvokeFunction'], resources: [`<${sweep}.Arn>`] },
        {
          actions: ['sqs:SendMessage'],
          resources: [expect.stringMatching(/^<SchedulingSchedulerDeadLetterQueue/)],
        },
      ]);
    });

    it("creates the domain-event bus, routes the operations channel to the operators' topic, and tells the publishers where it is", () => {
      // Prepare
      const [[busId]] = resourcesOfType(resources, 'AWS::Events::EventBus') as [[string, CfnResource]];
      const operations = resourcesOfType(resources, 'AWS::Events::Rule').find(
        ([, rule]) => rule.Properties?.Name === 'threat-engine-notify-operations',
      )?.[1];
      const topic = resourcesOfType(resources, 'AWS::SNS::Topic')[0]?.[0];

      // Assess
      expect(operations?.Properties?.EventPattern).toEqual({
        source: ['threat-engine.orchestrator'],
        detail: { channels: ['operations'] },
      });
      expect(flattenCfnReference(operations?.Properties?.EventBusName)).toBe(`<${busId}>`);
      expect(
        propertyOf<{ Arn: unknown }[]>(operations, 'Targets').map((t) => flattenCfnReference(t.Arn)),
      ).toEqual([`<${topic}>`]);
      for (const task of [...TASKS, ...SERVICE_TASKS] as TaskDefinition[]) {
        const fn = resources[functionIdByDescription(resources, task.description)];
        const variables = propertyOf<{ Variables: Record<string, unknown> }>(fn, 'Environment').Variables;
        expect('EVENT_BUS_NAME' in variables, task.token).toBe(task.publishesEvents);
        expect('CONSOLE_BASE_URL' in variables, task.token).toBe(task.publishesEvents);
      }
    });
  });

  describe('Template hygiene', () => {
    it('contains no account id and nothing that looks like a credential', () => {
      // Prepare
      const text = JSON.stringify(synthesized.template.toJSON());

      // Assess
      expect(text).not.toMatch(/(?<![\w.])\d{12}(?![\w])/);
      expect(text).not.toMatch(/AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}/);
      expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text).not.toMatch(
        /"(SecretString|SecretAccessKey|secret_access_key|client_secret|api_key|password)"/i,
      );
      expect(text).not.toMatch(/postgresql:\/\/|CREDENTIAL_ENCRYPTION_KEY|DATABASE_URL/);
    });
  });
});
