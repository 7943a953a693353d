import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  DOMAIN_EVENT_DETAIL_TYPES,
  DOMAIN_EVENT_SOURCE,
  type DomainEvent,
} from '../../../schemas/domain-event';
import { DependencyUnavailableError } from '../../core/errors';
import { type DomainEventPublisher, withConsoleBase } from '../../core/ports/event-publisher';
import { instrumented } from './aws-client-instrumentation';

export interface EventBridgeEventPublisherOptions {
  client: EventBridgeClient;
  eventBusName: string;
  /** Makes the events' console links absolute. */
  consoleBaseUrl?: string | undefined;
}

/** PutEvents takes at most ten entries per call. */
const MAX_ENTRIES = 10;

/**
 * Domain events to the stack's EventBridge bus (`source` threat-engine.orchestrator, the event's
 * detail type), where one rule per channel kind routes them (SNS e-mail, Slack and webhook API
 * destinations, the operators' topic).
 */
export class EventBridgeEventPublisher implements DomainEventPublisher {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;
  readonly #consoleBaseUrl: string | undefined;

  constructor(options: EventBridgeEventPublisherOptions) {
    this.#client = options.client;
    this.#eventBusName = options.eventBusName;
    this.#consoleBaseUrl = options.consoleBaseUrl;
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (let index = 0; index < events.length; index += MAX_ENTRIES) {
      const entries: PutEventsRequestEntry[] = events.slice(index, index + MAX_ENTRIES).map((event) => ({
        EventBusName: this.#eventBusName,
        Source: DOMAIN_EVENT_SOURCE,
        DetailType: DOMAIN_EVENT_DETAIL_TYPES[event.event_type],
        Time: new Date(event.occurred_at),
        Detail: JSON.stringify(withConsoleBase(event, this.#consoleBaseUrl)),
      }));
      const answer = await this.#client.send(new PutEventsCommand({ Entries: entries }));
      if ((answer.FailedEntryCount ?? 0) > 0) {
        const codes = [...new Set((answer.Entries ?? []).flatMap((entry) => entry.ErrorCode ?? []))];
        throw new DependencyUnavailableError(
          'eventbridge',
          `EventBridge refused ${answer.FailedEntryCount} of ${entries.length} events (${codes.join(', ') || 'no code'})`,
        );
      }
    }
  }
}

/** The AWS publisher when the stack set EVENT_BUS_NAME (the tasks that publish); otherwise none. */
export function eventBridgePublisherFrom(config: {
  AWS_REGION: string;
  EVENT_BUS_NAME?: string | undefined;
  CONSOLE_BASE_URL?: string | undefined;
}): EventBridgeEventPublisher | undefined {
  if (!config.EVENT_BUS_NAME) return undefined;
  return new EventBridgeEventPublisher({
    client: instrumented(new EventBridgeClient({ region: config.AWS_REGION })),
    eventBusName: config.EVENT_BUS_NAME,
    consoleBaseUrl: config.CONSOLE_BASE_URL,
  });
}
