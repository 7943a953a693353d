import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiRequest } from './api-gateway-events';
import type { RehearsalContext, Scenario } from './deploy-rehearsal';
import { REHEARSAL_OIDC_AUDIENCE, REHEARSAL_OIDC_ISSUER } from './resolved-template';

/** The customer account the rehearsal onboards (AWS's documentation account, not the platform's). */
const CUSTOMER_ACCOUNT = '111122223333';
const roleArnOf = (name: string) => `arn:aws:iam::${CUSTOMER_ACCOUNT}:role/${name}`;

/** What the scenarios share: the tenant, its accounts, the schedule, as they are created. */
interface World {
  tenantId: string;
  accountId: string;
  externalId: string;
  otherAccountId: string;
  otherRoleArn: string;
  scheduleId: string;
  scheduleArn: string;
}

type Role = 'platform_admin' | 'tenant_admin' | 'operator' | 'viewer';

class StepFailedError extends Error {
  override readonly name = 'StepFailedError';
}

/** The JWT claims API Gateway's authorizer passes on for a Cognito ID token of this caller. */
function claimsOf(role: Role, tenantId?: string): Record<string, unknown> {
  return {
    sub: `rehearsal-${role}`,
    iss: REHEARSAL_OIDC_ISSUER,
    aud: REHEARSAL_OIDC_AUDIENCE,
    token_use: 'id',
    exp: String(Math.floor(Date.now() / 1000) + 3600),
    iat: String(Math.floor(Date.now() / 1000)),
    'custom:role': role,
    ...(tenantId ? { 'custom:tenant_id': tenantId } : {}),
  };
}

async function expectStatus(
  context: RehearsalContext,
  request: ApiRequest,
  status: number,
): Promise<Record<string, unknown>> {
  const response = await context.api(request);
  if (response.status !== status) {
    throw new StepFailedError(
      `${request.method} ${request.path} answered ${response.status}, expected ${status}: ${response.text.slice(0, 300)}`,
    );
  }
  return response.body;
}

async function executionStatus(
  context: RehearsalContext,
  world: World,
  executionId: string,
): Promise<string> {
  const body = await expectStatus(
    context,
    {
      method: 'GET',
      path: `/api/v1/onboarding/executions/${executionId}`,
      claims: claimsOf('viewer', world.tenantId),
    },
    200,
  );
  return String(body.status);
}

async function expectExecution(context: RehearsalContext, world: World, executionId: string, status: string) {
  await context.stepFunctions.settle();
  const actual = await executionStatus(context, world, executionId);
  if (actual !== status)
    throw new StepFailedError(`execution ${executionId} ended ${actual}, expected ${status}`);
}

/** The scenarios, in order; each one builds on what the previous ones created. */
export function rehearsalScenarios(): Scenario[] {
  const world = {} as World;
  const as = (role: Role) => claimsOf(role, role === 'platform_admin' ? undefined : world.tenantId);
  return [
    {
      name: 'API: public and health routes',
      run: async (context) => {
        await expectStatus(context, { method: 'GET', path: '/api/v1/health' }, 200);
        await expectStatus(context, { method: 'GET', path: '/api/v1/openapi.json' }, 200);
        await expectStatus(context, { method: 'GET', path: '/', claims: as('viewer') }, 200);
        await expectStatus(context, { method: 'GET', path: '/openapi.json' }, 200);
        await expectStatus(context, { method: 'GET', path: '/docs' }, 200);
        await expectStatus(context, { method: 'GET', path: '/docs/swagger-ui.css' }, 200);
        await expectStatus(context, { method: 'GET', path: '/console' }, 200);
        await expectStatus(context, { method: 'GET', path: '/console/favicon.svg' }, 200);
        await expectStatus(context, { method: 'GET', path: '/api/v1/console/config' }, 200);
      },
    },
    {
      name: 'API: tenants',
      run: async (context) => {
        const created = await expectStatus(
          context,
          {
            method: 'POST',
            path: '/api/v1/tenants',
            claims: as('platform_admin'),
            body: { tenant_name: 'Rehearsal Tenant' },
          },
          201,
        );
        world.tenantId = String(created.tenant_id);
        await expectStatus(
          context,
          { method: 'GET', path: '/api/v1/tenants', claims: as('platform_admin') },
          200,
        );
        await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/tenants/${world.tenantId}`, claims: as('viewer') },
          200,
        );
      },
    },
    {
      name: 'onboarding (validate-json, AWS role)',
      run: async (context) => {
        const init = await expectStatus(
          context,
          {
            method: 'POST',
            path: '/api/v1/onboarding/aws/init',
            claims: as('tenant_admin'),
            body: { account_name: 'Production' },
          },
          201,
        );
        world.accountId = String(init.account_id);
        world.externalId = String(init.external_id);
        await expectStatus(
          context,
          { method: 'GET', path: '/api/v1/onboarding/aws/methods', claims: as('viewer') },
          200,
        );
        await expectStatus(
          context,
          {
            method: 'GET',
            path: `/api/v1/onboarding/aws/cloudformation-template?external_id=${world.externalId}`,
            claims: as('tenant_admin'),
          },
          200,
        );
        const submitted = await expectStatus(
          context,
          {
            method: 'POST',
            path: '/api/v1/onboarding/aws/validate-json',
            claims: as('tenant_admin'),
            // The 202 at once: the scenario follows the execution itself.
            headers: { prefer: 'respond-async' },
            body: {
              account_id: world.accountId,
              onboarding_json: {
                role_arn: roleArnOf('ThreatEngineRehearsalScanRole'),
                external_id: world.externalId,
                account_number: CUSTOMER_ACCOUNT,
              },
            },
          },
          202,
        );
        await expectExecution(context, world, String(submitted.execution_id), 'SUCCEEDED');
        await expectStatus(
          context,
          { method: 'GET', path: '/api/v1/onboarding/accounts', claims: as('viewer') },
          200,
        );
        await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/onboarding/accounts/${world.accountId}`, claims: as('viewer') },
          200,
        );
      },
    },
    {
      name: 'onboarding that fails (the customer role refuses the platform)',
      run: async (context) => {
        const init = await expectStatus(
          context,
          {
            method: 'POST',
            path: '/api/v1/onboarding/aws/init',
            claims: as('tenant_admin'),
            body: { account_name: 'Refusing' },
          },
          201,
        );
        world.otherAccountId = String(init.account_id);
        world.otherRoleArn = roleArnOf('ThreatEngineRehearsalRefusingRole');
        context.sts.refusedRoles.add(world.otherRoleArn);
        const submitted = await expectStatus(
          context,
          {
            method: 'POST',
            path: '/api/v1/onboarding/aws/validate-json',
            claims: as('tenant_admin'),
            // The 202 at once: the scenario follows the execution itself.
            headers: { prefer: 'respond-async' },
            body: {
              account_id: world.otherAccountId,
              onboarding_json: {
                role_arn: world.otherRoleArn,
                external_id: String(init.external_id),
                account_number: CUSTOMER_ACCOUNT,
              },
            },
          },
          202,
        );
        await expectExecution(context, world, String(submitted.execution_id), 'FAILED');
      },
    },
    {
      name: 'validation of stored credentials (and one that fails)',
      run: async (context) => {
        // The synchronous answer a legacy client gets: the API waits for the validation workflow.
        const path = `/api/v1/accounts/${world.accountId}/credentials/validate`;
        await expectStatus(context, { method: 'GET', path, claims: as('operator') }, 200);
        context.sts.refusedRoles.add(roleArnOf('ThreatEngineRehearsalScanRole'));
        try {
          await expectStatus(context, { method: 'GET', path, claims: as('operator') }, 400);
        } finally {
          context.sts.refusedRoles.delete(roleArnOf('ThreatEngineRehearsalScanRole'));
        }
        // Back to validated, so the account scans again.
        const again = await expectStatus(
          context,
          { method: 'GET', path, claims: as('operator'), headers: { prefer: 'respond-async' } },
          202,
        );
        await expectExecution(context, world, String(again.execution_id), 'SUCCEEDED');
      },
    },
    {
      name: 'replacing credentials (a new version staged, verified and promoted)',
      run: async (context) => {
        const submitted = await expectStatus(
          context,
          {
            method: 'POST',
            path: `/api/v1/accounts/${world.accountId}/credentials`,
            claims: as('tenant_admin'),
            // The 202 at once: the scenario follows the execution itself.
            headers: { prefer: 'respond-async' },
            body: {
              credential_type: 'aws_iam_role',
              credentials: {
                role_arn: roleArnOf('ThreatEngineRehearsalScanRole'),
                external_id: world.externalId,
                account_number: CUSTOMER_ACCOUNT,
              },
            },
          },
          202,
        );
        await expectExecution(context, world, String(submitted.execution_id), 'SUCCEEDED');
      },
    },
    {
      name: 'schedules (Scheduler entries, PassRole)',
      run: async (context) => {
        const created = await expectStatus(
          context,
          {
            method: 'POST',
            path: '/api/v1/schedules',
            claims: as('tenant_admin'),
            body: {
              account_id: world.accountId,
              name: 'Hourly scan',
              schedule_expression: 'rate(1 hour)',
              notify_on_success: true,
              notify_on_failure: true,
              notification_channels: ['email:secops@example.test', 'slack', 'webhook'],
            },
          },
          201,
        );
        world.scheduleId = String(created.schedule_id);
        const path = `/api/v1/schedules/${world.scheduleId}`;
        await expectStatus(context, { method: 'GET', path: '/api/v1/schedules', claims: as('viewer') }, 200);
        await expectStatus(context, { method: 'GET', path, claims: as('viewer') }, 200);
        await expectStatus(
          context,
          { method: 'PUT', path, claims: as('tenant_admin'), body: { name: 'Hourly scan (renamed)' } },
          200,
        );
        await expectStatus(context, { method: 'POST', path: `${path}/pause`, claims: as('operator') }, 200);
        await expectStatus(context, { method: 'POST', path: `${path}/resume`, claims: as('operator') }, 200);
        await expectStatus(
          context,
          { method: 'POST', path: '/api/v1/scheduler/reconcile', claims: as('platform_admin') },
          200,
        );
        const entry = [...context.scheduler.schedules.values()].find((schedule) =>
          schedule.Name.includes(world.scheduleId),
        );
        if (!entry)
          throw new StepFailedError(`no Scheduler entry was created for schedule ${world.scheduleId}`);
        world.scheduleArn = entry.Arn;
      },
    },
    {
      name: 'sync scan, delivered by Scheduler',
      run: async (context) => {
        context.engine.target = context.simulator.urlFor('aws', 'sync');
        const executionArn = await context.fireSchedule(world.scheduleArn, new Date());
        await context.stepFunctions.settle();
        const described = await context.stepFunctions.workflows.describe(executionArn);
        if (described.status !== 'SUCCEEDED') {
          throw new StepFailedError(
            `the scheduled scan ended ${described.status}: ${described.error} ${described.cause}`,
          );
        }
        const results = await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/accounts/${world.accountId}/scan-results`, claims: as('viewer') },
          200,
        );
        const first = (results.items as { scan_id?: string }[] | undefined)?.[0];
        if (first?.scan_id) {
          await expectStatus(
            context,
            { method: 'GET', path: `/api/v1/scan-results/${first.scan_id}`, claims: as('viewer') },
            200,
          );
        }
        await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/schedules/${world.scheduleId}/executions`, claims: as('viewer') },
          200,
        );
      },
    },
    {
      name: 'async scan, triggered through the API',
      run: async (context) => {
        context.engine.target = context.simulator.urlFor('aws', 'async');
        const triggered = await expectStatus(
          context,
          { method: 'POST', path: `/api/v1/schedules/${world.scheduleId}/trigger`, claims: as('operator') },
          202,
        );
        await context.stepFunctions.settle();
        const executionId = String(triggered.execution_id);
        const execution = await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/executions/${executionId}`, claims: as('viewer') },
          200,
        );
        if (execution.status !== 'completed')
          throw new StepFailedError(`the async scan is ${String(execution.status)}`);
        await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/executions/${executionId}/history`, claims: as('viewer') },
          200,
        );
      },
    },
    {
      name: 'a scan the engine refuses (the failure path)',
      run: async (context) => {
        context.engine.target = context.simulator.urlFor('aws', 'sync');
        context.simulator.failNext(1, { kind: 'http-error', status: 400 });
        const started = await expectStatus(
          context,
          {
            method: 'POST',
            path: `/api/v1/tenants/${world.tenantId}/scans`,
            claims: as('operator'),
            headers: { 'idempotency-key': 'rehearsal-refused-scan' },
          },
          202,
        );
        await context.stepFunctions.settle();
        const executionId = (started.started as { execution_id?: string }[] | undefined)?.[0]?.execution_id;
        const execution = await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/executions/${String(executionId)}`, claims: as('viewer') },
          200,
        );
        if (execution.status !== 'failed')
          throw new StepFailedError(`the refused scan is ${String(execution.status)}`);
      },
    },
    {
      name: 'cancel a running scan (the recorder records it)',
      run: async (context) => {
        context.engine.target = context.endlessSimulator.urlFor('aws', 'async');
        const started = await expectStatus(
          context,
          {
            method: 'POST',
            path: `/api/v1/tenants/${world.tenantId}/scans`,
            claims: as('operator'),
            headers: { 'idempotency-key': 'rehearsal-cancel' },
          },
          202,
        );
        const executionId = String(
          (started.started as { execution_id?: string }[] | undefined)?.[0]?.execution_id ??
            JSON.stringify(started),
        );
        // Cancel once the engine holds the scan (its status polls are under way).
        for (let polls = 0; context.endlessSimulator.counters.statusPolls < 1; polls += 1) {
          if (polls > 200) throw new StepFailedError('the scan never reached the engine');
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await expectStatus(
          context,
          { method: 'POST', path: `/api/v1/executions/${executionId}/cancel`, claims: as('operator') },
          202,
        );
        await context.stepFunctions.settle();
        const execution = await expectStatus(
          context,
          { method: 'GET', path: `/api/v1/executions/${executionId}`, claims: as('viewer') },
          200,
        );
        if (execution.status !== 'cancelled' && execution.status !== 'aborted') {
          throw new StepFailedError(`the cancelled scan is recorded ${String(execution.status)}`);
        }
      },
    },
    {
      name: "events published and routed by the stack's rules (every channel kind)",
      run: async (context) => {
        const routed = new Set(context.deliveries.map((delivery) => delivery.rule));
        const missing = [
          'NotificationsEmailChannelRule',
          'NotificationsSlackChannelRule',
          'NotificationsWebhookChannelRule',
        ].filter((rule) => !routed.has(rule));
        if (context.events.events.length === 0) throw new StepFailedError('no function published an event');
        if (missing.length > 0) throw new StepFailedError(`no published event reached ${missing.join(', ')}`);
      },
    },
    {
      name: 'stuck-run sweep (a run whose recorder event was lost)',
      run: async (context) => {
        // The cancelled scan's record as a lost EventBridge event leaves it: running, an hour old.
        const { Items = [] } = await context.documentClient.send(
          new ScanCommand({ TableName: context.tables.executions, Limit: 100 }),
        );
        const cancelled = Items.find((item) => item.status === 'cancelled');
        if (!cancelled) throw new StepFailedError('no cancelled run to leave stuck');
        await context.documentClient.send(
          new UpdateCommand({
            TableName: context.tables.executions,
            Key: { execution_id: cancelled.execution_id },
            UpdateExpression: 'SET #status = :running, started_at = :old REMOVE completed_at',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':running': 'running',
              ':old': new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            },
          }),
        );
        const report = (await context.fireTemplateSchedule('SchedulingStuckRunSweepSchedule')) as {
          recorded?: number;
        };
        if (!report.recorded)
          throw new StepFailedError(`the sweep recorded nothing: ${JSON.stringify(report)}`);
        const execution = await expectStatus(
          context,
          {
            method: 'GET',
            path: `/api/v1/executions/${String(cancelled.execution_id)}`,
            claims: as('viewer'),
          },
          200,
        );
        if (execution.status === 'running') throw new StepFailedError('the sweep left the run running');
      },
    },
    {
      name: 'offboarding (schedule, credentials, account)',
      run: async (context) => {
        await expectStatus(
          context,
          { method: 'DELETE', path: `/api/v1/schedules/${world.scheduleId}`, claims: as('tenant_admin') },
          200,
        );
        await expectStatus(
          context,
          {
            method: 'DELETE',
            path: `/api/v1/accounts/${world.accountId}/credentials`,
            claims: as('tenant_admin'),
            // The 202 at once: the scenario follows the execution itself.
            headers: { prefer: 'respond-async' },
          },
          200,
        );
        await expectStatus(
          context,
          {
            method: 'DELETE',
            path: `/api/v1/onboarding/accounts/${world.otherAccountId}`,
            claims: as('tenant_admin'),
          },
          200,
        );
      },
    },
  ];
}
