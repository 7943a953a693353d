import { toIsoUtc } from '../../../schemas/common';
import {
  type DomainEvent,
  type DomainEventType,
  NOTIFICATION_CHANNEL_KINDS,
  type NotificationChannelKind,
} from '../../../schemas/domain-event';
import type { Execution, ExecutionStatus } from '../../../schemas/execution';
import type { Schedule } from '../../../schemas/schedule';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { DomainEventPublisher } from '../ports/event-publisher';
import type { AccountRepository } from '../repositories/account-repository';
import type { ScheduleRepository } from '../repositories/schedule-repository';

/**
 * Notifications as domain events. A schedule's `notify_on_success` / `notify_on_failure` decide
 * whether its runs publish at all; its `notification_channels` say where they go. Events are
 * published after the outcome is recorded and never fail the task that publishes them.
 */
export interface NotificationDependencies {
  /** Absent: nothing is published (a composition root without a bus). */
  events?: DomainEventPublisher | undefined;
  accounts: Pick<AccountRepository, 'get'>;
  schedules: Pick<ScheduleRepository, 'get' | 'listByAccount'>;
  clock: Clock;
  logger: Logger;
}

const CHANNEL_KINDS = new Set<string>(NOTIFICATION_CHANNEL_KINDS);

/** Pages of the operator console (hash routes of console/src/main.tsx), relative to its base URL. */
const consoleLink = {
  run: (executionId: string) => `/console#/runs/${encodeURIComponent(executionId)}`,
  schedule: (scheduleId: string) => `/console#/schedules/${encodeURIComponent(scheduleId)}`,
  accountRuns: (accountId: string) => `/console#/runs?account=${encodeURIComponent(accountId)}`,
};

/**
 * The channel kinds a schedule names. Entries are a kind (`email`, `slack`, `webhook`), optionally
 * followed by `:` and a note (`slack:#secops`); the stack creates one destination per kind.
 * Anything else is ignored (legacy rows may hold free text).
 */
export function channelKindsOf(channels: unknown): NotificationChannelKind[] {
  if (!Array.isArray(channels)) return [];
  const kinds = channels
    .filter((entry): entry is string => typeof entry === 'string')
    .map((entry) => entry.split(':')[0]?.trim().toLowerCase() ?? '')
    .filter((kind): kind is NotificationChannelKind => CHANNEL_KINDS.has(kind) && kind !== 'operations');
  return [...new Set(kinds)];
}

const FAILURE_TYPE: Partial<Record<ExecutionStatus, DomainEventType>> = {
  failed: 'scan.failed',
  timed_out: 'scan.failed',
  aborted: 'scan.failed',
  cancelled: 'scan.cancelled',
};

export interface ScanOutcomeNotice {
  status: ExecutionStatus;
  reason?: { code: string; message: string } | undefined;
  /** The run failed because the provider refused the credentials. */
  credentialsRejected?: boolean;
  /** The run's failure paused its schedule (consecutive failures). */
  schedulePaused?: { consecutiveFailures: number } | undefined;
}

/**
 * What the completion step already holds, so publishing does not read it again: the schedule the
 * run's counters write returned (null: it no longer exists) and the account name the claim read.
 */
export interface ScanOutcomeRecords {
  schedule?: Schedule | null | undefined;
  accountName?: string | null | undefined;
}

/** Publishes what a finished scan run says, as its schedule's flags ask. */
export async function publishScanOutcome(
  deps: NotificationDependencies,
  execution: Pick<Execution, 'execution_id' | 'account_id' | 'schedule_id' | 'tenant_id'>,
  notice: ScanOutcomeNotice,
  known: ScanOutcomeRecords = {},
): Promise<void> {
  if (!deps.events) return;
  const succeeded = notice.status === 'completed';
  const type: DomainEventType | undefined = succeeded
    ? 'scan.succeeded'
    : notice.credentialsRejected
      ? 'credentials.validation_failed'
      : FAILURE_TYPE[notice.status];
  if (!type) return; // skipped runs notify nobody
  // Unscheduled runs (API, manual) have no flags: failures are published unrouted, successes not.
  if (!execution.schedule_id && succeeded) return;
  const schedule = !execution.schedule_id
    ? undefined
    : known.schedule !== undefined
      ? (known.schedule ?? undefined)
      : await deps.schedules.get(execution.schedule_id);
  const wanted = schedule
    ? succeeded
      ? schedule.notify_on_success
      : schedule.notify_on_failure
    : !succeeded;
  if (!wanted && !(schedule && notice.schedulePaused && schedule.notify_on_failure)) return;
  const account =
    typeof known.accountName === 'string'
      ? { account_name: known.accountName }
      : await deps.accounts.get(execution.account_id);
  const base = {
    occurred_at: toIsoUtc(deps.clock()),
    tenant_id: execution.tenant_id ?? null,
    account_id: execution.account_id,
    account_name: account?.account_name ?? null,
    schedule_id: schedule?.schedule_id ?? null,
    schedule_name: schedule?.name ?? null,
    execution_id: execution.execution_id,
  };
  const channels = schedule ? channelKindsOf(schedule.notification_channels) : [];
  const where = `${account?.account_name ?? execution.account_id}${schedule ? ` (schedule ${schedule.name})` : ''}`;
  const events: DomainEvent[] = [];
  if (wanted) {
    events.push({
      ...base,
      event_type: type,
      reason: notice.reason ?? (succeeded ? null : { code: notice.status, message: notice.status }),
      summary: summaryOf(type, where, notice.reason?.message),
      links: {
        execution: consoleLink.run(execution.execution_id),
        account: consoleLink.accountRuns(execution.account_id),
      },
      channels,
    });
  }
  if (schedule && notice.schedulePaused && schedule.notify_on_failure) {
    events.push({
      ...base,
      event_type: 'schedule.paused_automatically',
      reason: {
        code: 'consecutive_failures',
        message: `paused after ${notice.schedulePaused.consecutiveFailures} consecutive failed runs`,
      },
      summary: `Schedule ${schedule.name} of ${account?.account_name ?? execution.account_id} was paused after ${notice.schedulePaused.consecutiveFailures} consecutive failed runs.`,
      links: {
        schedule: consoleLink.schedule(schedule.schedule_id),
        account: consoleLink.accountRuns(execution.account_id),
      },
      channels,
    });
  }
  await publishSafely(deps, events);
}

/**
 * Credentials refused outside a scan (the validation workflow, onboarding): routed to the
 * channels of the account's schedules that notify on failure.
 */
export async function publishCredentialsRejected(
  deps: NotificationDependencies,
  accountId: string,
  reason: { code: string; message: string },
): Promise<void> {
  if (!deps.events) return;
  const account = await deps.accounts.get(accountId);
  if (!account) return;
  const schedules = await deps.schedules.listByAccount(accountId).then(
    (page) => page.items,
    () => [] as Schedule[],
  );
  const channels = [
    ...new Set(
      schedules
        .filter((schedule) => schedule.notify_on_failure)
        .flatMap((schedule) => channelKindsOf(schedule.notification_channels)),
    ),
  ];
  await publishSafely(deps, [
    {
      event_type: 'credentials.validation_failed',
      occurred_at: toIsoUtc(deps.clock()),
      tenant_id: account.tenant_id,
      account_id: accountId,
      account_name: account.account_name,
      schedule_id: null,
      schedule_name: null,
      execution_id: null,
      reason,
      summary: summaryOf('credentials.validation_failed', account.account_name, reason.message),
      links: { account: `/accounts/${accountId}` },
      channels,
    },
  ]);
}

/** For operators: a workflow ended outside its own states and the recorder had to record it. */
export async function publishUnrecordedEnd(
  deps: NotificationDependencies,
  ended: {
    workflow: string;
    workflowExecutionName: string;
    status: string;
    accountId: string | null;
    tenantId: string | null;
    executionId: string | null;
    reason: { code: string; message: string };
  },
): Promise<void> {
  await publishSafely(deps, [
    {
      event_type: 'workflow.ended_unrecorded',
      occurred_at: toIsoUtc(deps.clock()),
      tenant_id: ended.tenantId,
      account_id: ended.accountId,
      account_name: null,
      schedule_id: null,
      schedule_name: null,
      execution_id: ended.executionId,
      reason: ended.reason,
      summary: `The ${ended.workflow} execution ${ended.workflowExecutionName} ended ${ended.status} outside its own states; it was recorded as ${ended.reason.code}.`,
      links: ended.executionId ? { execution: consoleLink.run(ended.executionId) } : {},
      channels: ['operations'],
    },
  ]);
}

function summaryOf(type: DomainEventType, where: string, message: string | undefined): string {
  const detail = message ? `: ${message.slice(0, 200)}` : '';
  switch (type) {
    case 'scan.succeeded':
      return `Scan of ${where} completed.`;
    case 'scan.cancelled':
      return `Scan of ${where} was cancelled${detail}.`;
    case 'credentials.validation_failed':
      return `The credentials of ${where} failed validation${detail}.`;
    default:
      return `Scan of ${where} failed${detail}.`;
  }
}

async function publishSafely(deps: NotificationDependencies, events: DomainEvent[]): Promise<void> {
  if (!deps.events || events.length === 0) return;
  try {
    await deps.events.publish(events);
  } catch (error) {
    // The outcome is recorded already; a lost notification must not turn it into a failed task.
    deps.logger.error('could not publish domain events', {
      event_types: events.map((event) => event.event_type),
      error,
    });
  }
}
