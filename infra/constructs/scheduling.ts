import { Aws, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { alarmedDeadLetterQueue } from './dead-letter-queue';
import type { Keys } from './keys';

export interface SchedulingProps {
  readonly namePrefix: string;
  /** The dead-letter queues are on the project's data key. */
  readonly keys: Keys;
}

/**
 * Where scan schedules live on AWS: one EventBridge Scheduler group holding one entry per
 * schedule (created at run time by the scheduling port), the role those entries assume, which
 * may only start the scan state machine (and report undeliverable runs to the DLQ), and an
 * encrypted dead-letter queue with an alarm on its depth.
 */
export class Scheduling extends Construct {
  readonly scheduleGroup: ScheduleGroup;
  readonly scheduleGroupName: string;
  readonly schedulerRole: Role;
  readonly deadLetterQueue: Queue;
  readonly deadLetterQueueAlarm: Alarm;
  readonly #keys: Keys;

  constructor(scope: Construct, id: string, props: SchedulingProps) {
    super(scope, id);
    this.scheduleGroupName = `${props.namePrefix}threat-engine-scans`;
    this.scheduleGroup = new ScheduleGroup(this, 'ScanSchedules', {
      scheduleGroupName: this.scheduleGroupName,
    });

    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler entries of the scan schedule group: starts scans only',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnEquals: {
          'aws:SourceArn': Stack.of(this).formatArn({
            service: 'scheduler',
            resource: 'schedule-group',
            resourceName: this.scheduleGroupName,
          }),
        },
      }),
    });

    this.#keys = props.keys;
    ({ queue: this.deadLetterQueue, alarm: this.deadLetterQueueAlarm } = alarmedDeadLetterQueue(
      this,
      'SchedulerDeadLetterQueue',
      {
        key: props.keys.dataKey,
        deadLettersOf:
          'the EventBridge Scheduler entries (set on each schedule at run time, so no redrive policy in this template points at it)',
        alarmDescription:
          'EventBridge Scheduler could not start scheduled scans: messages are waiting in the scheduler dead-letter queue.',
      },
    ));
  }

  /**
   * The only things scheduler entries may do: start executions of the scan state machine, and
   * (EventBridge Scheduler delivers dead letters with the schedule's role) send to the DLQ.
   */
  allowStartingScans(scan: StateMachine): void {
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [scan.stateMachineArn] }),
    );
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    this.#keys.grantQueueProducer({ role: this.schedulerRole });
  }

  /**
   * The stuck-run sweep's own schedule (default group: the scan group holds only the service's
   * scan entries, which reconcile compares with the schedules table), with a role that may only
   * invoke the sweep and dead-letter to the scheduler's queue.
   */
  scheduleSweep(sweep: IFunction, everyMinutes: number): CfnSchedule {
    const role = new Role(this, 'SweepSchedulerRole', {
      description: 'Assumed by the stuck-run sweep schedule: invokes the sweep function only',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      }),
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [sweep.functionArn] }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    this.#keys.grantQueueProducer({ role });
    return new CfnSchedule(this, 'StuckRunSweepSchedule', {
      description: 'Records scan runs still marked running whose workflow has ended or overrun',
      scheduleExpression: `rate(${everyMinutes} minutes)`,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: sweep.functionArn,
        roleArn: role.roleArn,
        input: '{}',
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      },
    });
  }
}
