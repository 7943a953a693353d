import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WORKFLOW_FILES } from '../../workflows/definitions';
import { acknowledgeWildcardResources } from '../acknowledge-wildcard-resources';
import { stateMachineNameFor } from '../state-machine-names';
import { type Functions, PROJECT_ROOT } from './functions';

export type WorkflowName = keyof typeof WORKFLOW_FILES;

export interface WorkflowsProps {
  readonly namePrefix: string;
  readonly functions: Functions;
  readonly notificationsKey: IKey;
  readonly logRetentionDays: number;
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

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const names = Object.keys(WORKFLOW_FILES) as WorkflowName[];
    this.stateMachines = Object.fromEntries(
      names.map((name) => [name, this.#stateMachine(name, props)]),
    ) as Record<WorkflowName, StateMachine>;

    this.notificationTopic = new Topic(this, 'NotificationTopic', {
      displayName: 'Threat engine: failed executions and alarms',
      masterKey: props.notificationsKey,
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

    this.terminatedExecutionsRule = new Rule(this, 'TerminatedExecutionsRule', {
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
    // Ids and status only: the execution input and output stay out of e-mails.
    this.terminatedExecutionsRule.addTarget(
      new SnsTopic(this.notificationTopic, {
        message: RuleTargetInput.fromObject({
          message: 'A threat engine workflow execution did not succeed',
          status: EventField.fromPath('$.detail.status'),
          stateMachineArn: EventField.fromPath('$.detail.stateMachineArn'),
          executionArn: EventField.fromPath('$.detail.executionArn'),
          startedAt: EventField.fromPath('$.detail.startDate'),
          stoppedAt: EventField.fromPath('$.detail.stopDate'),
        }),
      }),
    );
    this.terminatedExecutionsRule.addTarget(
      new LambdaFunction(props.functions.terminatedExecution.fn, {
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      }),
    );
  }

  #stateMachine(name: WorkflowName, props: WorkflowsProps): StateMachine {
    const id = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    const definition = readFileSync(join(PROJECT_ROOT, WORKFLOW_FILES[name]), 'utf8');
    const tasks = definitionTokens(definition).map((token) => [token, props.functions.task(token)] as const);
    const logGroup = new LogGroup(this, `${id}StateMachineLogs`, {
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
