import * as z from 'zod/mini';

/**
 * The domain events the workflows publish (EventBridge on AWS, an in-process bus locally): ids,
 * names, a reason and console links, never a credential. `channels` says where a notification
 * goes; the stack's rules (and the local bus) route on it, one route per channel kind.
 */

export const DOMAIN_EVENT_SOURCE = 'threat-engine.orchestrator';

/** Each event type with the EventBridge `detail-type` it is published under. */
export const DOMAIN_EVENT_DETAIL_TYPES = {
  'scan.succeeded': 'Scan Succeeded',
  'scan.failed': 'Scan Failed',
  'scan.cancelled': 'Scan Cancelled',
  'credentials.validation_failed': 'Credentials Validation Failed',
  'schedule.paused_automatically': 'Schedule Paused Automatically',
  /** For operators: an execution ended outside its own states (timeout, abort, unhandled failure). */
  'workflow.ended_unrecorded': 'Workflow Ended Unrecorded',
} as const;
export type DomainEventType = keyof typeof DOMAIN_EVENT_DETAIL_TYPES;

/** Channel kinds a schedule's `notification_channels` may name; `operations` is the operators' topic. */
export const NOTIFICATION_CHANNEL_KINDS = ['email', 'slack', 'webhook', 'operations'] as const;
export type NotificationChannelKind = (typeof NOTIFICATION_CHANNEL_KINDS)[number];

export const DomainEventSchema = z.strictObject({
  event_type: z.enum(Object.keys(DOMAIN_EVENT_DETAIL_TYPES) as [DomainEventType, ...DomainEventType[]]),
  occurred_at: z.string(),
  tenant_id: z.nullable(z.string()),
  account_id: z.nullable(z.string()),
  account_name: z.nullable(z.string()),
  schedule_id: z.nullable(z.string()),
  schedule_name: z.nullable(z.string()),
  execution_id: z.nullable(z.string()),
  /** The recorded status or error code, and a short safe message (no credential, no stack). */
  reason: z.nullable(z.strictObject({ code: z.string(), message: z.string() })),
  /** One sentence for chat and e-mail. */
  summary: z.string().check(z.maxLength(500)),
  /** Console links (absolute once the publisher knows the console's base URL). */
  links: z.record(z.string(), z.string()),
  channels: z.array(z.enum(NOTIFICATION_CHANNEL_KINDS)),
});
export type DomainEvent = z.infer<typeof DomainEventSchema>;
