import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ServiceFunction } from './functions';
import type { WorkflowName } from './workflows';

export interface OperationsProps {
  readonly envName: string;
  readonly stateMachines: Readonly<Record<WorkflowName, StateMachine>>;
  readonly functions: readonly ServiceFunction[];
  /** The API functions: any error there is unexpected (the apps answer errors themselves). */
  readonly apiFunctions: readonly ServiceFunction[];
  readonly httpApi: HttpApi;
  readonly apiUrl: string;
  readonly deadLetterQueueAlarm: Alarm;
  /** More alarms that notify the topic (the recorder's and the notifications' dead letters). */
  readonly otherAlarms?: readonly Alarm[];
  readonly notificationTopic: Topic;
  readonly alarmEmail?: string;
  readonly scheduleGroupName: string;
  /** `essential`: no per-function error and throttle alarms (the failed-execution ones remain). */
  readonly operationalAlarms?: 'all' | 'essential';
  /** Whether to create the dashboard ($3 a month beyond the free three). */
  readonly dashboard?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Operations: alarms (failed executions per state machine, function errors and throttles, API
 * server errors, scheduler DLQ depth) notifying the topic, a dashboard, and the outputs clients
 * and operators need.
 */
export class Operations extends Construct {
  readonly alarms: readonly Alarm[];
  readonly dashboard: Dashboard | undefined;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const alarms: Alarm[] = [props.deadLetterQueueAlarm, ...(props.otherAlarms ?? [])];
    const machines = Object.entries(props.stateMachines) as [WorkflowName, StateMachine][];

    for (const [name, machine] of machines) {
      // A FAILED execution is an expected failure its Fail state recorded (and notified as a
      // domain event), ABORTED is a cancel; a timeout is what operators must hear about (the
      // recorder tells them, through the bus, about any execution that ended unrecorded).
      alarms.push(
        new Alarm(this, `${pascal(name)}ExecutionsTimedOut`, {
          alarmDescription: `Executions of the ${name} state machine timed out (see the executions table and the state machine's log group).`,
          metric: machine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    // Two alarms per function are most of the alarm bill; a failing task also fails its
    // execution, which the state machine alarms report.
    const perFunctionAlarms = props.operationalAlarms !== 'essential' ? props.functions : [];
    for (const { name, fn } of perFunctionAlarms) {
      // Tasks throw typed errors on purpose (the workflows catch them); a burst is what matters.
      const errorThreshold = props.apiFunctions.some((api) => api.fn === fn) ? 1 : 5;
      alarms.push(
        new Alarm(this, `${name}Errors`, {
          alarmDescription: `${name} raised ${errorThreshold === 1 ? 'an error' : `${errorThreshold} or more errors`} in five minutes.`,
          metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          threshold: errorThreshold,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        new Alarm(this, `${name}Throttles`, {
          alarmDescription: `${name} was throttled (account or reserved concurrency exhausted).`,
          metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    alarms.push(
      new Alarm(this, 'ApiServerErrors', {
        alarmDescription: 'The API answered 5xx to five or more requests in five minutes.',
        metric: props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const notify = new SnsAction(props.notificationTopic);
    for (const alarm of alarms) alarm.addAlarmAction(notify);
    this.alarms = alarms;
    if (props.alarmEmail) props.notificationTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    this.dashboard = props.dashboard === false ? undefined : this.#dashboard(props, machines);
    this.#outputs(props, machines);
  }

  #dashboard(props: OperationsProps, machines: [WorkflowName, StateMachine][]): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `threat-engine-${props.envName}`,
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# Threat engine (${props.envName})\nWorkflows, functions, API and scheduler dead letters. Alarms notify the notification topic.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      ...machines.map(
        ([name, machine]) =>
          new GraphWidget({
            title: `${name} executions`,
            width: 8,
            left: [
              machine.metricStarted({ period: FIVE_MINUTES }),
              machine.metricSucceeded({ period: FIVE_MINUTES }),
              machine.metricFailed({ period: FIVE_MINUTES }),
              machine.metricTimedOut({ period: FIVE_MINUTES }),
              machine.metricAborted({ period: FIVE_MINUTES }),
            ],
          }),
      ),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        width: 8,
        left: props.functions.map(({ name, fn }) => fn.metricErrors({ period: FIVE_MINUTES, label: name })),
      }),
      new GraphWidget({
        title: 'Function throttles',
        width: 8,
        left: props.functions.map(({ name, fn }) =>
          fn.metricThrottles({ period: FIVE_MINUTES, label: name }),
        ),
      }),
      new GraphWidget({
        title: 'Function duration (p95)',
        width: 8,
        left: props.functions.map(({ name, fn }) =>
          fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p95', label: name }),
        ),
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        width: 12,
        left: [
          props.httpApi.metricCount({ period: FIVE_MINUTES }),
          props.httpApi.metricClientError({ period: FIVE_MINUTES }),
          props.httpApi.metricServerError({ period: FIVE_MINUTES }),
        ],
        right: [props.httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p95' })],
      }),
      new GraphWidget({
        title: 'Scheduler dead letters',
        width: 12,
        left: [props.deadLetterQueueAlarm.metric],
      }),
    );

    return dashboard;
  }

  #outputs(props: OperationsProps, machines: [WorkflowName, StateMachine][]): void {
    const stack = Stack.of(this);
    new CfnOutput(stack, 'ApiUrl', {
      value: props.apiUrl,
      description: 'Base URL of the API (append /api/v1/...)',
    });
    for (const [name, machine] of machines) {
      new CfnOutput(stack, `${pascal(name)}StateMachineArn`, {
        value: machine.stateMachineArn,
        description: `ARN of the ${name} state machine`,
      });
    }
    new CfnOutput(stack, 'NotificationTopicArn', {
      value: props.notificationTopic.topicArn,
      description: 'Failed executions and alarms are published here (subscribe operators to it)',
    });
    new CfnOutput(stack, 'ScheduleGroupName', {
      value: props.scheduleGroupName,
      description: 'EventBridge Scheduler group holding one entry per scan schedule',
    });
  }
}

function pascal(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
