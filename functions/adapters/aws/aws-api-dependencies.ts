import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '../../../schemas/config';
import { tableNamesFrom } from '../../../schemas/tables';
import { ApiGatewayTokenVerifier } from '../../api/api-gateway-token-verifier';
import { createApiServices, SCAN_ROLE_TEMPLATE_YAML_FILE } from '../../api/api-services';
import { loadApiSettings } from '../../api/api-settings';
import type { ApiDependencies } from '../../api/app';
import { ClaimsIdempotencyStore } from '../../api/idempotency-store';
import { WindowRateLimiter } from '../../api/rate-limiter';
import { tablesHealthCheck } from '../../api/tables-health-check';
import { systemClock } from '../../core/clock';
import { ConfigurationError } from '../../core/errors';
import type { WorkflowName } from '../../core/ports/orchestrator';
import { lazySchedulerPort } from '../../core/ports/scheduler';
import { createRepositories } from '../../core/repositories/repositories';
import { ScheduleService } from '../../core/scheduling/schedule-service';
import { instrumented } from './aws-client-instrumentation';
import { createDocumentClient } from './dynamodb-client';
import { awsScheduler } from './eventbridge-scheduler';
import { createPowertoolsLogger } from './powertools-logger';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store';
import { executionArnFor, StepFunctionsOrchestrator } from './step-functions-orchestrator';

const STATE_MACHINE_VARIABLES = {
  onboarding: 'ONBOARDING_STATE_MACHINE_ARN',
  validation: 'VALIDATION_STATE_MACHINE_ARN',
  scan: 'SCAN_STATE_MACHINE_ARN',
} as const satisfies Record<WorkflowName, keyof Config>;

function stateMachineArnsOf(config: Config): Record<WorkflowName, string> {
  const missing = Object.values(STATE_MACHINE_VARIABLES).filter((variable) => !config[variable]);
  if (missing.length > 0) {
    throw new ConfigurationError(
      `the API needs ${missing.join(', ')}`,
      missing.map((field) => ({ field, message: 'expected an ARN' })),
    );
  }
  return {
    onboarding: config.ONBOARDING_STATE_MACHINE_ARN as string,
    validation: config.VALIDATION_STATE_MACHINE_ARN as string,
    scan: config.SCAN_STATE_MACHINE_ARN as string,
  };
}

/**
 * The API Lambda's composition root: AWS clients built once per execution environment. Callers
 * are authenticated by API Gateway's JWT authorizer; the app reads the claims it passes on.
 */
export function createAwsApiDependencies(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): ApiDependencies {
  const logger = createPowertoolsLogger({ level: config.LOG_LEVEL, service: 'threat-engine-api' });
  let scanRoleTemplateYaml: Promise<string> | undefined;
  const settings = loadApiSettings(env);
  const clock = systemClock;
  const tables = tableNamesFrom(config);
  const documentClient = createDocumentClient({ region: config.AWS_REGION });
  const repositories = createRepositories(documentClient, tables, clock);
  const secretStore = new SecretsManagerSecretStore({
    client: instrumented(new SecretsManagerClient({ region: config.AWS_REGION })),
    prefix: config.SECRETS_MANAGER_PREFIX,
    ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
  });
  const stateMachineArns = stateMachineArnsOf(config);
  const orchestrator = new StepFunctionsOrchestrator({
    client: instrumented(new SFNClient({ region: config.AWS_REGION })),
    stateMachineArns,
  });
  const scheduler = lazySchedulerPort(() => awsScheduler(config));
  const scheduleService = new ScheduleService({
    schedules: repositories.schedules,
    accounts: repositories.accounts,
    executions: repositories.executions,
    scheduler,
    orchestrator,
    clock,
    logger,
    settings: { autoPauseAfterFailuresDefault: config.SCHEDULE_AUTO_PAUSE_AFTER_FAILURES },
  });
  const region = config.AWS_REGION;
  const services = createApiServices({
    repositories,
    secretStore,
    orchestrator,
    executionArnFor: (workflow, name) => executionArnFor(stateMachineArns[workflow], name),
    scheduler,
    scheduleService,
    tokenVerifier: new ApiGatewayTokenVerifier({
      claimNames: { tenant: settings.AUTH_TENANT_CLAIMS, role: settings.AUTH_ROLE_CLAIMS },
      issuer: settings.OIDC_ISSUER,
      audiences: settings.OIDC_AUDIENCE,
      clock,
    }),
    rateLimiter: new WindowRateLimiter({
      claims: repositories.claims,
      limit: settings.API_VALIDATION_RATE_LIMIT,
      windowSeconds: settings.API_VALIDATION_RATE_WINDOW_SECONDS,
      clock,
    }),
    idempotencyStore: new ClaimsIdempotencyStore({
      claims: repositories.claims,
      ttlSeconds: settings.API_IDEMPOTENCY_TTL_SECONDS,
      clock,
      logger,
    }),
    platformAwsAccountId: config.PLATFORM_AWS_ACCOUNT_ID,
    // Rendered when the asset was built (infra/constructs/functions.ts); read on first use.
    scanRoleTemplateYaml: () =>
      (scanRoleTemplateYaml ??= readFile(
        join(env.LAMBDA_TASK_ROOT ?? '.', SCAN_ROLE_TEMPLATE_YAML_FILE),
        'utf8',
      )),
    settings,
    clock,
    logger,
    consoleUrlFor: (executionArn) =>
      `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`,
  });
  return {
    logger,
    target: 'aws',
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? 'unknown',
    healthChecks: [
      tablesHealthCheck(documentClient, tables),
      { name: 'secret_store', check: () => secretStore.checkHealth() },
    ],
    services,
  };
}
