import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EventBridgeEventPublisher,
  eventBridgePublisherFrom,
} from '../../../functions/adapters/aws/eventbridge-event-publisher';
import { DependencyUnavailableError } from '../../../functions/core/errors';
import type { DomainEvent } from '../../../schemas/domain-event';

const eventBridge = mockClient(EventBridgeClient);

/** A scan failure as the scan tasks publish it (ids, names, reason, relative console links). */
function scanFailed(overrides: Partial<DomainEvent> = {}): DomainEvent {
  return structuredClone({
    event_type: 'scan.failed',
    occurred_at: '2026-11-23T02:05:00.000Z',
    tenant_id: 'tenant-1',
    account_id: 'account-1',
    account_name: 'Production',
    schedule_id: 'schedule-1',
    schedule_name: 'Nightly',
    execution_id: 'execution-1',
    reason: { code: 'engine_rejected', message: 'the aws scan engine refused the request' },
    summary: 'Scan of Production (schedule Nightly) failed: the aws scan engine refused the request.',
    links: { execution: '/executions/execution-1', account: '/accounts/account-1' },
    channels: ['slack', 'email'],
    ...overrides,
  } satisfies DomainEvent);
}

describe('Class: EventBridgeEventPublisher', () => {
  beforeEach(() => {
    eventBridge.reset();
  });

  describe('Method: publish', () => {
    it('puts each event on the bus under its detail type, with absolute console links', async () => {
      // Prepare
      eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
      const publisher = new EventBridgeEventPublisher({
        client: new EventBridgeClient({ region: 'ap-south-1' }),
        eventBusName: 'threat-engine-events',
        consoleBaseUrl: 'https://console.example.test/',
      });

      // Act
      await publisher.publish([scanFailed()]);

      // Assess
      expect(eventBridge).toReceiveCommandTimes(PutEventsCommand, 1);
      const [entry] = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
      expect(entry).toMatchObject({
        EventBusName: 'threat-engine-events',
        Source: 'threat-engine.orchestrator',
        DetailType: 'Scan Failed',
        Time: new Date('2026-11-23T02:05:00.000Z'),
      });
      expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
        event_type: 'scan.failed',
        channels: ['slack', 'email'],
        links: {
          execution: 'https://console.example.test/executions/execution-1',
          account: 'https://console.example.test/accounts/account-1',
        },
      });
    });

    it('sends at most ten entries per PutEvents call', async () => {
      // Prepare
      eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
      const publisher = new EventBridgeEventPublisher({
        client: new EventBridgeClient({ region: 'ap-south-1' }),
        eventBusName: 'threat-engine-events',
      });

      // Act
      await publisher.publish(
        Array.from({ length: 12 }, (_, index) => scanFailed({ execution_id: `e-${index}` })),
      );

      // Assess
      const sizes = eventBridge
        .commandCalls(PutEventsCommand)
        .map((call) => call.args[0].input.Entries?.length);
      expect(sizes).toEqual([10, 2]);
    });

    it('throws a retryable DependencyUnavailableError when EventBridge refuses entries', async () => {
      // Prepare
      eventBridge.on(PutEventsCommand).resolves({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      });
      const publisher = new EventBridgeEventPublisher({
        client: new EventBridgeClient({ region: 'ap-south-1' }),
        eventBusName: 'threat-engine-events',
      });

      // Act
      const publishing = publisher.publish([scanFailed()]);

      // Assess
      await expect(publishing).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(publishing).rejects.toThrow(/ThrottlingException/);
    });
  });

  describe('Function: eventBridgePublisherFrom', () => {
    it('builds no publisher for a function the stack gave no bus', () => {
      // Assess
      expect(eventBridgePublisherFrom({ AWS_REGION: 'ap-south-1' })).toBeUndefined();
      expect(
        eventBridgePublisherFrom({ AWS_REGION: 'ap-south-1', EVENT_BUS_NAME: 'threat-engine-events' }),
      ).toBeInstanceOf(EventBridgeEventPublisher);
    });
  });
});
