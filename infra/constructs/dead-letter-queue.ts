import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface AlarmedDeadLetterQueueProps {
  /** The key its messages are encrypted with (the project's data key). */
  key: IKey;
  /** Whose dead letters these are, for the cdk-nag acknowledgement (a DLQ needs no DLQ). */
  deadLettersOf: string;
  /** What the alarm tells the operator when a message waits in the queue. */
  alarmDescription: string;
}

/**
 * An encrypted dead-letter queue (14 days, TLS only) with an alarm on the first message waiting in
 * it: `<id>` and `<id>Depth` in `scope`.
 */
export function alarmedDeadLetterQueue(
  scope: Construct,
  id: string,
  props: AlarmedDeadLetterQueueProps,
): { queue: Queue; alarm: Alarm } {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${props.deadLettersOf}; a DLQ of a DLQ would only move the same messages, and its depth alarms.`,
  });
  const alarm = new Alarm(scope, `${id}Depth`, {
    alarmDescription: props.alarmDescription,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  return { queue, alarm };
}
