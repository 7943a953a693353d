import { chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildConsoleAssets } from '../console/build-console';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../functions/adapters/aws/dynamodb-client';
import { type ApiServices, createApiServices, type SchedulingServices } from '../functions/api/api-services';
import { type ApiSettings, loadApiSettings } from '../functions/api/api-settings';
import { createApp } from '../functions/api/app';
import { consoleOidcFrom } from '../functions/api/console-assets';
import type { HealthCheck } from '../functions/api/health';
import { ClaimsIdempotencyStore } from '../functions/api/idempotency-store';
import { appOpenApiDocument } from '../functions/api/openapi-document';
import { WindowRateLimiter } from '../functions/api/rate-limiter';
import { renderScanRoleTemplateYaml } from '../functions/api/scan-role-template-yaml';
import { schedulingRoutes } from '../functions/api/scheduling-app';
import { tablesHealthCheck } from '../functions/api/tables-health-check';
import { type Clock, systemClock } from '../functions/core/clock';
import { loadConfig } from '../functions/core/config';
import { createJsonLogger } from '../functions/core/json-logger';
import type { Logger } from '../functions/core/logger';
import type { ProviderValidator } from '../functions/core/ports/provider-validator';
import type { SecretStore } from '../functions/core/ports/secret-store';
import { createRepositories, type Repositories } from '../functions/core/repositories/repositories';
import { scanSettingsFrom } from '../functions/core/scans/scan-settings';
import { ScheduleService } from '../functions/core/scheduling/schedule-service';
import { sweepStuckRuns } from '../functions/core/stuck-run-sweep';
import type { WorkflowDependencies } from '../functions/core/workflow-dependencies';
import { engineUrlsFrom } from '../functions/engines/engine-urls';
import { HttpScanEngine } from '../functions/engines/scan-engine-client';
import {
  createProviderValidator,
  type ProviderValidatorOptions,
} from '../functions/providers/provider-validator-registry';
import { PROVIDER_TYPES } from '../schemas/common';
import type { Config } from '../schemas/config';
import { type TableNames, tableNamesFrom } from '../schemas/tables';
import { WORKFLOW_DEFINITIONS } from '../workflows/definitions';
import { createMissingTables } from './create-tables';
import { acquireDataDirLock } from './data-dir-lock';
import { startLocalDynamoDbServer } from './dynamodb-server';
import { assertPortFree, startHttpServer } from './http-server';
import { LocalEventBus } from './local-event-bus';
import { LocalScheduler } from './local-scheduler';
import type { LocalStepFunctions } from './local-step-functions';
import { type LocalTokenIssuer, openLocalTokenIssuer } from './local-token-issuer';
import { LocalVaultSecretStore } from './local-vault-secret-store';
import { openLocalWorkflows } from './local-workflows';
import { ScanEngineSimulator } from './scan-engine-simulator';

/** How often the running local runtime sweeps for stuck runs (AWS: the stack's schedule). */
const LOCAL_SWEEP_INTERVAL_MS = 15 * 60 * 1000;

export interface LocalRuntimeOptions {
  env?: Record<string, string | undefined>;
  /** Overrides PORT (tests pass 0 for a free port). */
  port?: number;
  logger?: Logger;
  cwd?: string;
  clock?: Clock;
  /** Replaces the provider validator built from the configuration (tests script it). */
  validator?: ProviderValidator;
  /** Passed to the provider validator (tests point the endpoints at loopback). */
  validatorOptions?: Pick<ProviderValidatorOptions, 'endpoints' | 'fetch' | 'timeoutMs' | 'stsClientFactory'>;
  /** Scales Wait states and retry pauses of the workflows (default 1: real time). */
  workflowTimeScale?: number;
}

export interface LocalRuntime {
  readonly config: Config;
  readonly apiSettings: ApiSettings;
  readonly url: string;
  readonly dataDirectory: string;
  readonly tables: TableNames;
  readonly documentClient: DynamoDBDocumentClient;
  readonly repositories: Repositories;
  readonly secretStore: SecretStore;
  readonly workflows: LocalStepFunctions;
  readonly scheduler: LocalScheduler;
  /** Null when every provider has a configured *_ENGINE_URL. */
  readonly simulator: ScanEngineSimulator | null;
  /** The services of both API apps (the API function's and the scheduling function's). */
  readonly services: ApiServices & SchedulingServices;
  /** Signs tokens with the runtime's own key (`npm run token` does the same). */
  readonly tokens: LocalTokenIssuer;
  /** Where the platform-admin token was written. */
  readonly adminTokenPath: string;
  /** The operator console, signed in as the platform admin (the token rides in the fragment). */
  readonly consoleSignInUrl: string;
  readonly logger: Logger;
  close(): Promise<void>;
}

const VERSION = '0.1.0';

/**
 * LevelDB creates its directory and files with the process umask (0755/0644 by default); the
 * rest of the data directory is 0700/0600. `npm start` sets the umask to 0077, so new files are
 * 0600; this also tightens what an older run left behind.
 */
async function keepPrivate(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) await keepPrivate(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}

/**
 * The embedded runtime's composition root: a real DynamoDB-API server persisted in the data
 * directory (tables created from their shared definitions), the encrypted vault, the scan-engine
 * simulator (for providers without a *_ENGINE_URL), the provider validators (offline with
 * THREAT_ENGINE_VALIDATE_OFFLINE), the three workflows on the in-process ASL runtime, the local
 * scheduler, its own token issuer and the HTTP API. No AWS account, no Docker, no network beyond
 * loopback (and the providers' endpoints, when validating online).
 *
 * Close order: HTTP (no new requests), scheduler (no new scans), workflows (running ones get a
 * grace period), simulator, DynamoDB.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  const apiSettings = loadApiSettings(env);
  const logger =
    options.logger ?? createJsonLogger({ level: config.LOG_LEVEL, service: 'threat-engine-local' });
  const clock = options.clock ?? systemClock;
  const dataDirectory = resolve(options.cwd ?? process.cwd(), config.THREAT_ENGINE_DATA_DIR);
  await mkdir(dataDirectory, { recursive: true, mode: 0o700 });
  // Before anything opens the data directory: a second process gets one clear error.
  const lock = await acquireDataDirLock(dataDirectory, 'the threat-engine local runtime');
  const port = options.port ?? config.PORT;
  try {
    await assertPortFree(port);
  } catch (error) {
    await lock.release();
    throw error;
  }

  const closers: Array<() => Promise<void>> = [() => lock.release()];
  const close = async () => {
    await lock.markStopping().catch((error) => logger.warn('shutdown step failed', { error }));
    for (const closer of closers.reverse())
      await closer().catch((error) => logger.warn('shutdown step failed', { error }));
    closers.length = 0;
  };

  try {
    const dynamoDirectory = join(dataDirectory, 'dynamodb');
    await keepPrivate(dynamoDirectory);
    const dynamo = await startLocalDynamoDbServer({ path: dynamoDirectory });
    closers.push(() => dynamo.close());
    const dynamoClient = createDynamoDbClient({
      region: config.AWS_REGION,
      endpoint: dynamo.endpoint,
      credentials: LOCAL_ENDPOINT_CREDENTIALS,
      loopback: true,
      requestHandler: dynamo.inProcessHandler,
    });
    closers.push(async () => dynamoClient.destroy());
    const documentClient = toDocumentClient(dynamoClient);
    const tables = tableNamesFrom(config);
    const created = await createMissingTables(dynamoClient, tables);
    if (created.length > 0) logger.info('created local tables', { tables: created });
    const repositories = createRepositories(documentClient, tables, clock);

    const secretStore = await LocalVaultSecretStore.open({
      directory: join(dataDirectory, 'vault'),
      prefix: config.SECRETS_MANAGER_PREFIX,
    });

    const configuredEngines = engineUrlsFrom(config);
    let simulator: ScanEngineSimulator | null = null;
    if (PROVIDER_TYPES.some((provider) => configuredEngines[provider] === undefined)) {
      const started = new ScanEngineSimulator({ logger });
      await started.start();
      closers.push(() => started.stop());
      simulator = started;
    }
    const engineUrls = Object.fromEntries(
      PROVIDER_TYPES.map((provider) => [
        provider,
        configuredEngines[provider] ?? simulator?.urlFor(provider, config.THREAT_ENGINE_SIMULATOR_MODE),
      ]),
    );
    const engine = new HttpScanEngine({
      urls: engineUrls,
      timeoutMs: config.ENGINE_REQUEST_TIMEOUT_SECONDS * 1000,
      logger,
    });
    const validator =
      options.validator ??
      createProviderValidator({
        offline: config.THREAT_ENGINE_VALIDATE_OFFLINE,
        awsRegion: config.AWS_REGION,
        logger,
        clock,
        ...options.validatorOptions,
      });
    if (config.THREAT_ENGINE_VALIDATE_OFFLINE) {
      logger.warn(
        'credentials are validated offline: structural checks only, accounts are marked validated offline',
      );
    }

    let workflows: LocalStepFunctions | undefined;
    const orchestrator = () => {
      if (!workflows) throw new Error('the local workflows are not open yet');
      return workflows;
    };
    const scheduleSettings = { autoPauseAfterFailuresDefault: config.SCHEDULE_AUTO_PAUSE_AFTER_FAILURES };
    let scheduleService: ScheduleService | undefined;
    const scheduler = new LocalScheduler({
      orchestrator,
      schedules: repositories.schedules,
      stateFile: join(dataDirectory, 'scheduler', 'state.json'),
      clock,
      logger,
      catchUpWindowMinutes: config.THREAT_ENGINE_CATCH_UP_MINUTES,
      // Through the service, so a missed one-time schedule ends as it does on AWS.
      recordMissed: async (scheduleId, count) => {
        await scheduleService?.recordOutcomeAndAutoPause(scheduleId, 'missed', { count });
      },
    });

    let serverUrl: string | undefined;
    const events = new LocalEventBus({
      logger,
      slackWebhookUrl: config.THREAT_ENGINE_SLACK_WEBHOOK_URL,
      webhookUrl: config.THREAT_ENGINE_WEBHOOK_URL,
      consoleBaseUrl: () => config.CONSOLE_BASE_URL ?? serverUrl,
    });
    const dependencies: WorkflowDependencies = {
      ...repositories,
      secretStore,
      engine,
      validator,
      scheduler,
      clock,
      logger,
      settings: scanSettingsFrom(config),
      events,
    };
    const openedWorkflows = await openLocalWorkflows({
      directory: join(dataDirectory, 'workflows'),
      region: config.AWS_REGION,
      dependencies,
      logger,
      clock,
      ...(options.workflowTimeScale !== undefined ? { timeScale: options.workflowTimeScale } : {}),
    });
    workflows = openedWorkflows;
    closers.push(() => openedWorkflows.close());
    dependencies.orchestrator = openedWorkflows;
    // The restart reconcile: what the previous process left running is settled by the same sweep
    // AWS runs on a schedule, before the scheduler starts anything new; then it runs periodically.
    const sweep = (minAgeSeconds: number) =>
      sweepStuckRuns({ ...dependencies, orchestrator: openedWorkflows }, { minAgeSeconds }).catch(
        (error: unknown) => {
          logger.warn('stuck-run sweep failed', { error });
          return undefined;
        },
      );
    await sweep(0);
    const sweepTimer = setInterval(
      () => void sweep(dependencies.settings.stuckRunMinAgeSeconds),
      LOCAL_SWEEP_INTERVAL_MS,
    );
    sweepTimer.unref();
    closers.push(async () => clearInterval(sweepTimer));

    scheduleService = new ScheduleService({
      schedules: repositories.schedules,
      accounts: repositories.accounts,
      executions: repositories.executions,
      scheduler,
      orchestrator: openedWorkflows,
      clock,
      logger,
      settings: scheduleSettings,
    });
    await scheduler.start();
    closers.push(() => scheduler.close());

    const tokens = await openLocalTokenIssuer({ dataDirectory, clock });
    const adminTokenPath = await tokens.writeAdminToken();

    let scanRoleTemplateYaml: string | undefined;
    const services = createApiServices({
      repositories,
      secretStore,
      orchestrator: openedWorkflows,
      executionArnFor: (workflow, name) => openedWorkflows.executionArnFor(workflow, name),
      scheduler,
      scheduleService,
      tokenVerifier: tokens.verifier,
      rateLimiter: new WindowRateLimiter({
        claims: repositories.claims,
        limit: apiSettings.API_VALIDATION_RATE_LIMIT,
        windowSeconds: apiSettings.API_VALIDATION_RATE_WINDOW_SECONDS,
        clock,
      }),
      idempotencyStore: new ClaimsIdempotencyStore({
        claims: repositories.claims,
        ttlSeconds: apiSettings.API_IDEMPOTENCY_TTL_SECONDS,
        clock,
        logger,
      }),
      platformAwsAccountId: config.PLATFORM_AWS_ACCOUNT_ID,
      scanRoleTemplateYaml: async () => (scanRoleTemplateYaml ??= renderScanRoleTemplateYaml()),
      workflowDefinition: async (workflow) => WORKFLOW_DEFINITIONS[workflow],
      settings: apiSettings,
      clock,
      logger,
    });
    const healthChecks: HealthCheck[] = [
      tablesHealthCheck(documentClient, tables),
      { name: 'secret_store', check: () => secretStore.checkHealth() },
    ];
    const consoleDirectory = await buildConsoleAssets(join(dataDirectory, 'console'));
    const app = createApp({
      logger,
      healthChecks,
      target: 'local',
      version: VERSION,
      services,
      console: {
        directory: consoleDirectory,
        // A hosted login can be tried locally too (the issuer must hand out tokens this runtime signs).
        oidc: consoleOidcFrom(apiSettings),
        preload: true,
      },
      // Generated from the routes' registry on the first request (the Lambda's is built with its asset).
      openApiDocument: async () => appOpenApiDocument({ version: VERSION }),
      // One app with every route: the scheduling function's too.
      otherRoutes: [schedulingRoutes(services)],
    });
    const http = await startHttpServer(app, port);
    closers.push(() => http.close());
    serverUrl = http.url;

    logger.info('local runtime started', {
      url: http.url,
      data_directory: dataDirectory,
      dynamodb_endpoint: dynamo.endpoint,
      simulator: simulator?.url ?? null,
      validate_offline: config.THREAT_ENGINE_VALIDATE_OFFLINE,
      admin_token_file: adminTokenPath,
    });
    return {
      config,
      apiSettings,
      url: http.url,
      dataDirectory,
      tables,
      documentClient,
      repositories,
      secretStore,
      workflows: openedWorkflows,
      scheduler,
      simulator,
      services,
      tokens,
      adminTokenPath,
      consoleSignInUrl: `${http.url}/console#token=${(await readFile(adminTokenPath, 'utf8')).trim()}`,
      logger,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
