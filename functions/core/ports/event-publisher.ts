import type { DomainEvent } from '../../../schemas/domain-event';

/** Publishes domain events: EventBridge on AWS, the in-process bus locally. */
export interface DomainEventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

/**
 * Console links are paths in the core (`/executions/{id}`); each publisher makes them absolute
 * with the console's base URL of its target.
 */
export function withConsoleBase(event: DomainEvent, baseUrl: string | undefined): DomainEvent {
  if (!baseUrl) return event;
  const base = baseUrl.replace(/\/+$/, '');
  return {
    ...event,
    links: Object.fromEntries(Object.entries(event.links).map(([name, path]) => [name, `${base}${path}`])),
  };
}
