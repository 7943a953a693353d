import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../../schemas/config';
import { type TableNames, tableNamesFrom } from '../../../schemas/tables';
import { ApiGatewayTokenVerifier } from '../../api/api-gateway-token-verifier';
import type { RequestServices } from '../../api/api-services';
import { loadApiSettings } from '../../api/api-settings';
import { ClaimsIdempotencyStore } from '../../api/idempotency-store';
import { systemClock } from '../../core/clock';
import { ConfigurationError } from '../../core/errors';
import type { WorkflowName } from '../../core/ports/orchestrator';
import { createRepositories } from '../../core/repositories/repositories';
import { instrumented } from './aws-client-instrumentation';
import { createDocumentClient } from './dynamodb-client';
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

/** What both API functions build alike: the request services plus the clients their routes share. */
export interface AwsRequestServices extends RequestServices {
  tables: TableNames;
  documentClient: DynamoDBDocumentClient;
  secretStore: SecretsManagerSecretStore;
  orchestrator: StepFunctionsOrchestrator;
  executionArnFor(workflow: WorkflowName, name: string): string;
}

/**
 * The part of an API function's composition root both functions share (aws-api-dependencies.ts,
 * aws-scheduling-dependencies.ts): AWS clients built once per execution environment. Callers are
 * authenticated by API Gateway's JWT authorizer; the apps read the claims it passes on.
 */
export function createAwsRequestServices(
  config: Config,
  env: Record<string, string | undefined>,
  service: string,
): AwsRequestServices {
  const logger = createPowertoolsLogger({ level: config.LOG_LEVEL, service });
  const settings = loadApiSettings(env);
  const clock = systemClock;
  const tables = tableNamesFrom(config);
  const documentClient = createDocumentClient({ region: config.AWS_REGION });
  const repositories = createRepositories(documentClient, tables, clock);
  const stateMachineArns = stateMachineArnsOf(config);
  return {
    repositories,
    tables,
    documentClient,
    secretStore: new SecretsManagerSecretStore({
      client: instrumented(new SecretsManagerClient({ region: config.AWS_REGION })),
      prefix: config.SECRETS_MANAGER_PREFIX,
      ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
    }),
    orchestrator: new StepFunctionsOrchestrator({
      client: instrumented(new SFNClient({ region: config.AWS_REGION })),
      stateMachineArns,
    }),
    executionArnFor: (workflow, name) => executionArnFor(stateMachineArns[workflow], name),
    tokenVerifier: new ApiGatewayTokenVerifier({
      claimNames: { tenant: settings.AUTH_TENANT_CLAIMS, role: settings.AUTH_ROLE_CLAIMS },
      issuer: settings.OIDC_ISSUER,
      audiences: settings.OIDC_AUDIENCE,
      clock,
    }),
    idempotencyStore: new ClaimsIdempotencyStore({
      claims: repositories.claims,
      ttlSeconds: settings.API_IDEMPOTENCY_TTL_SECONDS,
      clock,
      logger,
    }),
    settings,
    clock,
    logger,
  };
}
