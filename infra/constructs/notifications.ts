import { CfnParameter, Duration, SecretValue, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  ApiDestination,
  Authorization,
  Connection,
  EventBus,
  EventField,
  HttpMethod,
  Rule,
  RuleTargetInput,
} from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DOMAIN_EVENT_SOURCE, type NotificationChannelKind } from '../../schemas/domain-event';
import { alarmedDeadLetterQueue } from './dead-letter-queue';
import type { Keys } from './keys';

export interface NotificationsProps {
  readonly namePrefix: string;
  readonly keys: Keys;
  readonly email: readonly string[];
  readonly slack: boolean;
  readonly webhookUrl?: string;
  /** The operators' topic (alarms): receives the `operations` channel. */
  readonly operationsTopic: Topic;
}

/** What a rule sends to a human: the sentence, the reason and the links, nothing else. */
const HUMAN_MESSAGE = {
  summary: EventField.fromPath('$.detail.summary'),
  event_type: EventField.fromPath('$.detail.event_type'),
  reason: EventField.fromPath('$.detail.reason'),
  links: EventField.fromPath('$.detail.links'),
  tenant_id: EventField.fromPath('$.detail.tenant_id'),
  account_id: EventField.fromPath('$.detail.account_id'),
  execution_id: EventField.fromPath('$.detail.execution_id'),
};

/**
 * Notifications as domain events: the bus the tasks publish to, and one rule per channel kind
 * routing on the event's `channels` (e-mail through an encrypted SNS topic, Slack and a generic
 * webhook through EventBridge API destinations, `operations` to the operators' topic). Every
 * target retries for a day and dead-letters to an encrypted queue with an alarm.
 */
export class Notifications extends Construct {
  readonly bus: EventBus;
  readonly rules: Partial<Record<NotificationChannelKind, Rule>>;
  readonly deadLetterQueue: Queue;
  readonly deadLetterQueueAlarm: Alarm;
  readonly emailTopic: Topic | undefined;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const busName = `${props.namePrefix}threat-engine-events`;
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: busName,
      description: 'Threat engine domain events: scan outcomes, credential rejections, automatic pauses',
    });
    ({ queue: this.deadLetterQueue, alarm: this.deadLetterQueueAlarm } = alarmedDeadLetterQueue(
      this,
      'DeliveryDeadLetterQueue',
      {
        key: props.keys.dataKey,
        deadLettersOf: 'the notification rules targets (SNS, API destinations)',
        alarmDescription:
          'Notifications could not be delivered: events are waiting in the delivery dead-letter queue.',
      },
    ));
    const delivery = {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
    };
    const rules: Partial<Record<NotificationChannelKind, Rule>> = {};
    const ruleNames: string[] = [];
    const ruleFor = (kind: NotificationChannelKind, description: string) => {
      // Named, so the data key's policy names the rules without referencing them.
      const ruleName = `${props.namePrefix}threat-engine-notify-${kind}`;
      ruleNames.push(ruleName);
      const rule = new Rule(this, `${kind.charAt(0).toUpperCase()}${kind.slice(1)}ChannelRule`, {
        ruleName,
        eventBus: this.bus,
        description,
        eventPattern: { source: [DOMAIN_EVENT_SOURCE], detail: { channels: [kind] } },
      });
      rules[kind] = rule;
      return rule;
    };

    ruleFor('operations', 'Executions that ended outside their own states, to the operators').addTarget(
      new SnsTopic(props.operationsTopic, {
        message: RuleTargetInput.fromObject(HUMAN_MESSAGE),
        ...delivery,
      }),
    );

    if (props.email.length > 0) {
      this.emailTopic = new Topic(this, 'EmailTopic', {
        displayName: 'Threat engine notifications',
        masterKey: props.keys.notificationsKey as IKey,
        enforceSSL: true,
      });
      for (const address of props.email) this.emailTopic.addSubscription(new EmailSubscription(address));
      ruleFor('email', 'Notifications of schedules whose channels name email').addTarget(
        new SnsTopic(this.emailTopic, { message: RuleTargetInput.fromObject(HUMAN_MESSAGE), ...delivery }),
      );
    }

    // API destinations need a connection with an authorization; Slack webhooks carry their secret
    // in the URL, so their connection only sends a fixed, non-secret source header.
    if (props.slack) {
      const url = new CfnParameter(this, 'SlackWebhookUrl', {
        type: 'String',
        noEcho: true,
        description:
          'Slack incoming webhook URL for threat engine notifications (a secret: never in the template)',
        allowedPattern: '^https://hooks\\.slack\\.com/\\S+$',
      });
      const connection = new Connection(this, 'SlackConnection', {
        description: 'Slack incoming webhook (the secret is the URL itself)',
        authorization: Authorization.apiKey(
          'X-Threat-Engine-Source',
          SecretValue.unsafePlainText('threat-engine'),
        ),
      });
      const destination = new ApiDestination(this, 'SlackDestination', {
        connection,
        endpoint: url.valueAsString,
        httpMethod: HttpMethod.POST,
        rateLimitPerSecond: 1,
        description: 'Slack channel of the threat engine notifications',
      });
      ruleFor('slack', 'Notifications of schedules whose channels name slack').addTarget(
        new ApiDestinationTarget(destination, {
          event: RuleTargetInput.fromObject({ text: EventField.fromPath('$.detail.summary') }),
          ...delivery,
        }),
      );
    }

    if (props.webhookUrl) {
      const apiKey = new CfnParameter(this, 'WebhookApiKey', {
        type: 'String',
        noEcho: true,
        minLength: 16,
        description: 'API key the generic notification webhook expects in its x-api-key header',
      });
      const connection = new Connection(this, 'WebhookConnection', {
        description: 'Generic notification webhook (API key in x-api-key)',
        authorization: Authorization.apiKey('x-api-key', SecretValue.cfnParameter(apiKey)),
      });
      const destination = new ApiDestination(this, 'WebhookDestination', {
        connection,
        endpoint: props.webhookUrl,
        httpMethod: HttpMethod.POST,
        rateLimitPerSecond: 10,
        description: 'Generic webhook of the threat engine notifications (the whole event as JSON)',
      });
      ruleFor('webhook', 'Notifications of schedules whose channels name webhook').addTarget(
        new ApiDestinationTarget(destination, { ...delivery }),
      );
    }
    this.rules = rules;

    // EventBridge delivers dead letters of these rules only (the data key's policy names them).
    props.keys.grantQueueProducer({
      service: 'events.amazonaws.com',
      sourceArns: ruleNames.map((ruleName) =>
        Stack.of(this).formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: `${busName}/${ruleName}`,
        }),
      ),
    });
  }
}
