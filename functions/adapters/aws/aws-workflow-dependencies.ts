import type { Config } from '../../../schemas/config';
import { tableNamesFrom } from '../../../schemas/tables';
import { systemClock } from '../../core/clock';
import type { SchedulerPort } from '../../core/ports/scheduler';
import { scanSettingsFrom } from '../../core/scans/scan-settings';
import { invocationRemainingMs } from '../../core/time-budget';
import type { WorkflowDependencies } from '../../core/workflow-dependencies';
import { instrumented } from './aws-client-instrumentation';
import { createPowertoolsLogger } from './powertools-logger';

/** A dependency the task's catalog entry does not grant (so its role could not use it either). */
export class UngrantedDependencyError extends Error {
  override readonly name = 'UngrantedDependencyError';
  constructor(readonly dependency: string) {
    super(
      `this task is granted no ${dependency} in functions/tasks/task-catalog.ts: add the access there (it grants the role and builds the client)`,
    );
  }
}

function ungranted<T extends object>(dependency: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      // Awaiting or inspecting the stand-in is not using it.
      if (typeof property === 'symbol' || property === 'then') return undefined;
      throw new UngrantedDependencyError(dependency);
    },
  });
}

/**
 * The workflow tasks' composition root on AWS, built once per Lambda execution environment.
 * Each task builds only the clients its catalog entry grants: the bundler replaces the
 * `process.env.TASK_USES_*` flags per function (infra/constructs/functions.ts), so the branches a
 * task does not take, and the SDK packages behind them, are not even in its bundle. Unbundled (the
 * flags unset) everything is built. SDK packages are loaded by these dynamic imports only.
 */
export async function createAwsWorkflowDependencies(config: Config): Promise<WorkflowDependencies> {
  const logger = createPowertoolsLogger({
    level: config.LOG_LEVEL,
    service: process.env.POWERTOOLS_SERVICE_NAME ?? 'threat-engine-tasks',
  });
  const clock = systemClock;

  const [repositories, secretStore, validator, engine, events, orchestrator] = await Promise.all([
    process.env.TASK_USES_DYNAMODB !== 'false'
      ? Promise.all([import('./dynamodb-client'), import('../../core/repositories/repositories')]).then(
          ([{ createDocumentClient }, { createRepositories }]) =>
            createRepositories(
              createDocumentClient({ region: config.AWS_REGION }),
              tableNamesFrom(config),
              clock,
            ),
        )
      : undefined,
    process.env.TASK_USES_SECRETS_MANAGER !== 'false'
      ? Promise.all([
          import('@aws-sdk/client-secrets-manager'),
          import('./secrets-manager-secret-store'),
        ]).then(
          ([{ SecretsManagerClient }, { SecretsManagerSecretStore }]) =>
            new SecretsManagerSecretStore({
              client: instrumented(new SecretsManagerClient({ region: config.AWS_REGION })),
              prefix: config.SECRETS_MANAGER_PREFIX,
              ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
            }),
        )
      : undefined,
    process.env.TASK_USES_PROVIDERS !== 'false'
      ? Promise.all([
          import('../../providers/provider-validator-registry'),
          import('@aws-sdk/client-sts'),
        ]).then(([{ createProviderValidator }, { STSClient }]) =>
          createProviderValidator({
            logger,
            clock,
            remainingTime: invocationRemainingMs,
            stsClientFactory: (stsConfig) => instrumented(new STSClient(stsConfig)),
          }),
        )
      : undefined,
    process.env.TASK_USES_ENGINES !== 'false'
      ? Promise.all([import('../../engines/engine-urls'), import('../../engines/scan-engine-client')]).then(
          ([{ engineUrlsFrom }, { HttpScanEngine }]) =>
            new HttpScanEngine({
              urls: engineUrlsFrom(config),
              timeoutMs: config.ENGINE_REQUEST_TIMEOUT_SECONDS * 1000,
              remainingTime: invocationRemainingMs,
              logger,
            }),
        )
      : undefined,
    // Only the tasks that publish have EVENT_BUS_NAME; only the sweep has every state machine ARN.
    config.EVENT_BUS_NAME
      ? import('./eventbridge-event-publisher').then(({ eventBridgePublisherFrom }) =>
          eventBridgePublisherFrom(config),
        )
      : undefined,
    sweepOrchestratorFrom(config),
  ]);
  return {
    accounts: repositories?.accounts ?? ungranted('table access (accounts)'),
    schedules: repositories?.schedules ?? ungranted('table access (schedules)'),
    executions: repositories?.executions ?? ungranted('table access (executions)'),
    scanResults: repositories?.scanResults ?? ungranted('table access (scan results)'),
    ...(repositories ? { tenantScanSlots: repositories.tenantScanSlots } : {}),
    secretStore: secretStore ?? ungranted('secret access'),
    validator: validator ?? ungranted('provider calls (callsProviders)'),
    engine: engine ?? ungranted('engine calls (callsEngines)'),
    scheduler:
      process.env.TASK_USES_SCHEDULER !== 'false'
        ? schedulerOnFirstUse(config)
        : ungranted('schedule management (managesSchedules)'),
    clock,
    logger,
    settings: scanSettingsFrom(config),
    ...(events ? { events } : {}),
    ...(orchestrator ? { orchestrator } : {}),
  };
}

/** Describes executions for the stuck-run sweep, when the function was given the three ARNs. */
async function sweepOrchestratorFrom(config: Config) {
  const { ONBOARDING_STATE_MACHINE_ARN, VALIDATION_STATE_MACHINE_ARN, SCAN_STATE_MACHINE_ARN } = config;
  if (!ONBOARDING_STATE_MACHINE_ARN || !VALIDATION_STATE_MACHINE_ARN || !SCAN_STATE_MACHINE_ARN)
    return undefined;
  const [{ SFNClient }, { StepFunctionsOrchestrator }] = await Promise.all([
    import('@aws-sdk/client-sfn'),
    import('./step-functions-orchestrator'),
  ]);
  return new StepFunctionsOrchestrator({
    client: instrumented(new SFNClient({ region: config.AWS_REGION })),
    stateMachineArns: {
      onboarding: ONBOARDING_STATE_MACHINE_ARN,
      validation: VALIDATION_STATE_MACHINE_ARN,
      scan: SCAN_STATE_MACHINE_ARN,
    },
  });
}

/**
 * Most runs of the tasks that manage schedules never touch one (only pausing or ending a
 * schedule does): the Scheduler client is loaded, and its configuration checked, on first use.
 */
function schedulerOnFirstUse(config: Config): SchedulerPort {
  let port: Promise<SchedulerPort> | undefined;
  const get = () => {
    port ??= import('./eventbridge-scheduler')
      .then(({ awsScheduler }) => awsScheduler(config))
      .catch((error: unknown) => {
        port = undefined; // A configuration error is reported again on the next use.
        throw error;
      });
    return port;
  };
  return {
    upsert: async (schedule) => (await get()).upsert(schedule),
    remove: async (scheduleId) => (await get()).remove(scheduleId),
    reconcile: async (schedules, options) => (await get()).reconcile(schedules, options),
  };
}
