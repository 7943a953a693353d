import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type ScanSettings, withScanWorkflowTimeout } from '../../functions/core/scans/scan-settings';
import { WORKFLOW_FILES } from '../../workflows/definitions';
import { acknowledgeWildcardResources } from '../acknowledge-wildcard-resources';
import { stateMachineNameFor } from '../state-machine-names';
import { alarmedDeadLetterQueue } from './dead-letter-queue';
import { type Functions, PROJECT_ROOT } from './functions';
import type { Keys } from './keys';

export type WorkflowName = keyof typeof WORKFLOW_FILES;

export interface WorkflowsProps {
  readonly namePrefix: string;
  readonly functions: Functions;
  readonly keys: Keys;
  readonly logRetentionDays: number;
  /** The bounds of a scan run: the scan state machine's TimeoutSeconds is derived from them. */
  readonly scanBounds: Pick<ScanSettings, 'maxScanSeconds' | 'maxBufferedWaitSeconds'>;
}

/** Statuses after which an execution may have ended without its own states recording it. */
export const TERMINATED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** The `${Token}` placeholders of a definition, in order of first appearance. */
export function definitionTokens(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((match) => match[1] as string))];
}

/**
 * The state machines, from the same `workflows/*.asl.json` files the local runtime runs, with
 * each `${Token}` substituted by the ARN of the catalog's function. Standard workflows (scans
 * outlive Express's five minutes), logging errors without execution data, X-Ray tracing. An
 * EventBridge rule sends executions that end FAILED / TIMED_OUT / ABORTED to the notification
 * topic and to the function that records them.
 */
export class Workflows extends Construct {
  readonly stateMachines: Readonly<Record<WorkflowName, StateMachine>>;
  readonly notificationTopic: Topic;
  readonly terminatedExecutionsRule: Rule;
  readonly recorderDeadLetterQueue: Queue;
  readonly recorderDeadLetterQueueAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const names = Object.keys(WORKFLOW_FILES) as WorkflowName[];
    this.stateMachines = Object.fromEntries(
      names.map((name) => [name, this.#stateMachine(name, props)]),
    ) as Record<WorkflowName, StateMachine>;

    this.notificationTopic = new Topic(this, 'NotificationTopic', {
      displayName: 'Threat engine: failed executions and alarms',
      masterKey: props.keys.notificationsKey,
      enforceSSL: true,
    });
    this.notificationTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.notificationTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    // Named, so the data key's policy can name its ARN without referencing it (that would be a
    // cycle: rule → state machines → functions → tables → key).
    const terminatedRuleName = `${props.namePrefix}threat-engine-terminated-executions`;
    this.terminatedExecutionsRule = new Rule(this, 'TerminatedExecutionsRule', {
      ruleName: terminatedRuleName,
      description: 'Executions of the threat engine state machines that ended FAILED, TIMED_OUT or ABORTED',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...TERMINATED_STATUSES],
          stateMachineArn: names.map((name) => this.stateMachines[name].stateMachineArn),
        },
      },
    });
    // The recorder notifies operators itself (only when it had to record something), so the
    // failures the workflows record and notify as domain events do not reach them twice.
    ({ queue: this.recorderDeadLetterQueue, alarm: this.recorderDeadLetterQueueAlarm } =
      alarmedDeadLetterQueue(this, 'RecorderDeadLetterQueue', {
        key: props.keys.dataKey,
        deadLettersOf: 'the terminated-executions rule target (the recorder)',
        alarmDescription:
          'Terminated executions could not be recorded (the recorder failed for six hours); the stuck-run sweep will record them, but look at the recorder.',
      }));
    this.terminatedExecutionsRule.addTarget(
      new LambdaFunction(props.functions.terminatedExecution.fn, {
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.recorderDeadLetterQueue,
      }),
    );
    props.keys.grantQueueProducer({
      service: 'events.amazonaws.com',
      sourceArns: [
        Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: terminatedRuleName }),
      ],
    });
  }

  #stateMachine(name: WorkflowName, props: WorkflowsProps): StateMachine {
    const id = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    const text = readFileSync(join(PROJECT_ROOT, WORKFLOW_FILES[name]), 'utf8');
    // The scan machine's timeout follows the scan bounds (the same derivation the local runtime uses).
    const definition =
      name === 'scan'
        ? `${JSON.stringify(withScanWorkflowTimeout(JSON.parse(text) as object, props.scanBounds), null, 2)}\n`
        : text;
    const tasks = definitionTokens(definition).map((token) => [token, props.functions.task(token)] as const);
    // Under /aws/vendedlogs/: Step Functions log delivery uses it without growing the account's
    // CloudWatch Logs resource policy past its size limit.
    const logGroup = new LogGroup(this, `${id}StateMachineLogs`, {
      logGroupName: `/aws/vendedlogs/states/${stateMachineNameFor(props.namePrefix, name)}`,
      retention: props.logRetentionDays as RetentionDays,
    });
    const stateMachine = new StateMachine(this, `${id}StateMachine`, {
      stateMachineName: stateMachineNameFor(props.namePrefix, name),
      stateMachineType: StateMachineType.STANDARD,
      // The file's text, so the template shows (and `cdk diff` compares) the definition itself;
      // CloudFormation substitutes the function ARNs.
      definitionBody: DefinitionBody.fromString(definition),
      definitionSubstitutions: Object.fromEntries(tasks.map(([token, task]) => [token, task.fn.functionArn])),
      logs: { destination: logGroup, level: LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: true,
    });
    // The definition invokes these functions by unqualified ARN, and nothing else.
    stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [...new Set(tasks.map(([, task]) => task.fn.functionArn))],
      }),
    );
    acknowledgeWildcardResources(
      stateMachine.role,
      ['*'],
      'Logging to CloudWatch Logs needs logs:CreateLogDelivery/GetLogDelivery/UpdateLogDelivery/DeleteLogDelivery/ListLogDeliveries/PutResourcePolicy/DescribeResourcePolicies/DescribeLogGroups, and X-Ray tracing xray:PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets; none supports resource-level permissions (AWS requires Resource "*").',
    );
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Logs ERROR events only, without execution data: inputs carry account and tenant ids and secret version references, and full event logging of long polling scans would cost more than it tells; every execution is recorded in the executions table and failures reach the notification topic.',
    });
    return stateMachine;
  }
}
