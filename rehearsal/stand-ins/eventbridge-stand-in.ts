import { type LoopbackService, startJsonProtocolService } from './loopback-service';

export interface PublishedEvent {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
}

/** EventBridge on loopback (AWS JSON 1.1): keeps every event put, answers an id per entry. */
export class EventBridgeStandIn {
  #service: LoopbackService | undefined;
  readonly events: PublishedEvent[] = [];

  /** `onPut` sees every entry as it is put (the rehearsal routes it through the template's rules). */
  constructor(private readonly onPut: (entry: PublishedEvent) => void = () => {}) {}

  get url(): string {
    if (!this.#service) throw new Error('the EventBridge stand-in is not started');
    return this.#service.url;
  }

  get requestsByAccessKey(): ReadonlyMap<string, number> {
    return this.#service?.requestsByAccessKey ?? new Map();
  }

  async start(): Promise<void> {
    this.#service = await startJsonProtocolService('application/x-amz-json-1.1', {
      PutEvents: (input) => {
        const entries = (input.Entries as PublishedEvent[] | undefined) ?? [];
        this.events.push(...entries);
        for (const entry of entries) this.onPut(entry);
        return {
          FailedEntryCount: 0,
          Entries: entries.map((_, index) => ({ EventId: `rehearsal-${this.events.length}-${index}` })),
        };
      },
    });
  }

  async close(): Promise<void> {
    await this.#service?.close();
  }
}
