import type { Logger } from '../functions/core/logger';
import { type DomainEventPublisher, withConsoleBase } from '../functions/core/ports/event-publisher';
import { timeoutSignal } from '../functions/core/time-budget';
import {
  DOMAIN_EVENT_DETAIL_TYPES,
  DOMAIN_EVENT_SOURCE,
  type DomainEvent,
  type NotificationChannelKind,
} from '../schemas/domain-event';

export interface LocalEventBusOptions {
  logger: Logger;
  /** A Slack incoming webhook (THREAT_ENGINE_SLACK_WEBHOOK_URL): gets `{text}` like the stack's rule sends. */
  slackWebhookUrl?: string | undefined;
  /** A generic webhook (THREAT_ENGINE_WEBHOOK_URL): gets the whole event, shaped as EventBridge delivers it. */
  webhookUrl?: string | undefined;
  /** The console's base URL (the local server's), read when an event is published. */
  consoleBaseUrl?: () => string | undefined;
  fetch?: typeof fetch;
  /** Per delivery. Default 5 s. */
  timeoutMs?: number;
}

/**
 * The local stand-in for the stack's bus and rules: every domain event goes to the log, and to
 * the webhook channels it names when they are configured (e-mail and the operators' topic have no
 * local destination besides the log). A delivery that fails is logged, never thrown.
 */
export class LocalEventBus implements DomainEventPublisher {
  readonly #options: LocalEventBusOptions;
  readonly #fetch: typeof fetch;

  constructor(options: LocalEventBusOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (const published of events) {
      const event = withConsoleBase(published, this.#options.consoleBaseUrl?.());
      this.#options.logger.info('domain event', { event });
      const deliveries: Promise<void>[] = [];
      if (event.channels.includes('slack') && this.#options.slackWebhookUrl) {
        deliveries.push(this.#deliver('slack', this.#options.slackWebhookUrl, { text: event.summary }));
      }
      if (event.channels.includes('webhook') && this.#options.webhookUrl) {
        deliveries.push(
          this.#deliver('webhook', this.#options.webhookUrl, {
            version: '0',
            source: DOMAIN_EVENT_SOURCE,
            'detail-type': DOMAIN_EVENT_DETAIL_TYPES[event.event_type],
            time: event.occurred_at,
            detail: event,
          }),
        );
      }
      await Promise.all(deliveries);
    }
  }

  async #deliver(channel: NotificationChannelKind, url: string, body: unknown): Promise<void> {
    const timeout = timeoutSignal(this.#options.timeoutMs ?? 5_000);
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: timeout.signal,
      });
      await response.arrayBuffer();
      if (!response.ok) {
        this.#options.logger.warn('notification webhook refused an event', {
          channel,
          status: response.status,
        });
      }
    } catch (error) {
      this.#options.logger.warn('notification webhook unreachable', {
        channel,
        host: new URL(url).host,
        error,
      });
    } finally {
      timeout.clear();
    }
  }
}
