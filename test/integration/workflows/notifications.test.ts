import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../../local/local-event-bus';
import { fakeAwsIamRoleCredentials } from '../../fixtures/credentials';
import { WorkflowHarness } from '../../support/workflow-harness';

/** A loopback receiver standing in for Slack and a generic webhook: it keeps what it is sent. */
interface Receiver {
  url: string;
  received: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('Notifications on the local runtime (in-process bus to the log and the webhook channels)', () => {
  let harness: WorkflowHarness;
  let receiver: Receiver;

  beforeAll(async () => {
    harness = await WorkflowHarness.start();
    receiver = await startReceiver();
    // The workflows read their dependencies at call time: the bus the runtime wires in.
    harness.dependencies.events = new LocalEventBus({
      logger: harness.dependencies.logger,
      slackWebhookUrl: `${receiver.url}/slack`,
      webhookUrl: `${receiver.url}/webhook`,
      consoleBaseUrl: () => 'http://127.0.0.1:3000',
    });
  });
  afterAll(async () => {
    await receiver.close();
    await harness.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
  });

  async function scheduledAccount(flags: {
    notify_on_success: boolean;
    notify_on_failure: boolean;
    notification_channels: string[];
  }) {
    const { tenant, account } = await harness.activeAccount('aws', {
      credential_type: 'aws_iam_role',
      credentials: fakeAwsIamRoleCredentials(),
    });
    const schedule = await harness.repositories.schedules.create({
      tenant_id: tenant.tenant_id,
      account_id: account.account_id,
      name: 'Nightly',
      schedule_type: 'cron',
      cron_expression: '0 2 * * *',
      schedule_expression: 'cron(0 2 * * ? *)',
      status: 'active',
      enabled: 'true',
      ...flags,
    });
    return { tenant, account, schedule };
  }

  const scheduledRun = (ids: { tenant_id: string; account_id: string; schedule_id: string }, slot: string) =>
    harness.runScan({ ...ids, scheduled_time: slot, triggered_by: 'scheduler' });

  const loggedEvents = () =>
    harness.logLines
      .map(
        (line) =>
          JSON.parse(line) as { message: string; event?: { event_type: string; schedule_id: string } },
      )
      .filter((entry) => entry.message === 'domain event')
      .map((entry) => entry.event);

  it('delivers a failed scheduled scan with notify_on_failure to the Slack and webhook receivers, without a credential', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount({
      notify_on_success: false,
      notify_on_failure: true,
      notification_channels: ['slack:#secops', 'webhook', 'email'],
    });
    harness.simulator.failNext(1, { kind: 'http-error', status: 400 });

    // Act
    const { description } = await scheduledRun(
      { tenant_id: tenant.tenant_id, account_id: account.account_id, schedule_id: schedule.schedule_id },
      '2026-11-23T02:00:00Z',
    );

    // Assess
    expect(description.status).toBe('FAILED');
    const slack = receiver.received.filter((hit) => hit.path === '/slack');
    const webhook = receiver.received.filter((hit) => hit.path === '/webhook');
    expect(slack).toHaveLength(1);
    expect(slack[0]?.body.text).toMatch(/^Scan of Production \(schedule Nightly\) failed/);
    expect(webhook).toHaveLength(1);
    expect(webhook[0]?.body).toMatchObject({
      source: 'threat-engine.orchestrator',
      'detail-type': 'Scan Failed',
      detail: {
        event_type: 'scan.failed',
        tenant_id: tenant.tenant_id,
        account_id: account.account_id,
        schedule_id: schedule.schedule_id,
        schedule_name: 'Nightly',
        reason: { code: 'engine_rejected' },
        channels: ['slack', 'webhook', 'email'],
        links: { execution: expect.stringMatching(/^http:\/\/127\.0\.0\.1:3000\/console#\/runs\//) },
      },
    });
    // E-mail has no local destination: the event is in the log.
    expect(loggedEvents()).toContainEqual(
      expect.objectContaining({ event_type: 'scan.failed', schedule_id: schedule.schedule_id }),
    );
    const sent = JSON.stringify(receiver.received);
    for (const value of Object.values(fakeAwsIamRoleCredentials())) expect(sent).not.toContain(String(value));
  });

  it('publishes nothing for a failed run of a schedule with notify_on_failure off', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount({
      notify_on_success: true,
      notify_on_failure: false,
      notification_channels: ['slack', 'webhook'],
    });
    harness.simulator.failNext(1, { kind: 'http-error', status: 400 });

    // Act
    const { description } = await scheduledRun(
      { tenant_id: tenant.tenant_id, account_id: account.account_id, schedule_id: schedule.schedule_id },
      '2026-11-23T03:00:00Z',
    );

    // Assess
    expect(description.status).toBe('FAILED');
    expect(receiver.received).toEqual([]);
    expect(loggedEvents().filter((event) => event?.schedule_id === schedule.schedule_id)).toEqual([]);
  });

  it('notifies a successful run only when notify_on_success is on, and only on the channels the schedule names', async () => {
    // Prepare
    const quiet = await scheduledAccount({
      notify_on_success: false,
      notify_on_failure: true,
      notification_channels: ['slack', 'webhook'],
    });
    const loud = await scheduledAccount({
      notify_on_success: true,
      notify_on_failure: true,
      notification_channels: ['webhook'],
    });

    // Act
    for (const { tenant, account, schedule } of [quiet, loud]) {
      await scheduledRun(
        { tenant_id: tenant.tenant_id, account_id: account.account_id, schedule_id: schedule.schedule_id },
        '2026-11-23T04:00:00Z',
      );
    }

    // Assess
    expect(receiver.received.map((hit) => hit.path)).toEqual(['/webhook']);
    expect(receiver.received[0]?.body).toMatchObject({
      'detail-type': 'Scan Succeeded',
      detail: { event_type: 'scan.succeeded', schedule_id: loud.schedule.schedule_id, channels: ['webhook'] },
    });
  });

  it('publishes a run from what the run already read: publishing reads neither the schedule nor the account again', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount({
      notify_on_success: true,
      notify_on_failure: true,
      notification_channels: ['webhook'],
    });
    const reads: string[] = [];
    harness.tables.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetItemCommand') {
          const key = JSON.stringify((args.input as { Key?: unknown }).Key ?? {});
          if (key.includes(schedule.schedule_id)) reads.push('schedule');
          else if (key.includes(account.account_id)) reads.push('account');
        }
        return next(args);
      },
      { step: 'initialize', name: 'countNotificationReads' },
    );

    // Act
    try {
      await scheduledRun(
        { tenant_id: tenant.tenant_id, account_id: account.account_id, schedule_id: schedule.schedule_id },
        '2026-11-23T05:00:00Z',
      );
    } finally {
      harness.tables.client.middlewareStack.remove('countNotificationReads');
    }

    // Assess
    expect(receiver.received[0]?.body).toMatchObject({
      detail: { event_type: 'scan.succeeded', account_name: account.account_name, schedule_name: 'Nightly' },
    });
    // The claim reads the schedule and the account; validation reads the account for its status.
    expect(reads.filter((read) => read === 'schedule')).toHaveLength(1);
    expect(reads.filter((read) => read === 'account')).toHaveLength(2);
  });

  it('notifies credentials that failed validation during a scheduled scan as such', async () => {
    // Prepare
    const { tenant, account, schedule } = await scheduledAccount({
      notify_on_success: false,
      notify_on_failure: true,
      notification_channels: ['slack'],
    });
    harness.validator.rejectNext('expired');

    // Act
    await scheduledRun(
      { tenant_id: tenant.tenant_id, account_id: account.account_id, schedule_id: schedule.schedule_id },
      '2026-11-23T05:00:00Z',
    );

    // Assess
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.body.text).toMatch(
      /^The credentials of Production \(schedule Nightly\) failed validation/,
    );
    expect(loggedEvents()).toContainEqual(
      expect.objectContaining({
        event_type: 'credentials.validation_failed',
        schedule_id: schedule.schedule_id,
      }),
    );
  });
});
