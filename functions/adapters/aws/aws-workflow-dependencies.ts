import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { Config } from '../../../schemas/config';
import { tableNamesFrom } from '../../../schemas/tables';
import { systemClock } from '../../core/clock';
import { lazySchedulerPort } from '../../core/ports/scheduler';
import { createRepositories } from '../../core/repositories/repositories';
import { scanSettingsFrom } from '../../core/scans/scan-settings';
import { invocationRemainingMs } from '../../core/time-budget';
import type { WorkflowDependencies } from '../../core/workflow-dependencies';
import { engineUrlsFrom } from '../../engines/engine-urls';
import { HttpScanEngine } from '../../engines/scan-engine-client';
import { createProviderValidator } from '../../providers/provider-validator-registry';
import { instrumented } from './aws-client-instrumentation';
import { createDocumentClient } from './dynamodb-client';
import { eventBridgePublisherFrom } from './eventbridge-event-publisher';
import { awsScheduler } from './eventbridge-scheduler';
import { createPowertoolsLogger } from './powertools-logger';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store';
import { StepFunctionsOrchestrator } from './step-functions-orchestrator';

/** The workflow tasks' composition root on AWS: built once per Lambda execution environment. */
export async function createAwsWorkflowDependencies(config: Config): Promise<WorkflowDependencies> {
  const logger = createPowertoolsLogger({
    level: config.LOG_LEVEL,
    service: process.env.POWERTOOLS_SERVICE_NAME ?? 'threat-engine-tasks',
  });
  const clock = systemClock;
  const repositories = createRepositories(
    createDocumentClient({ region: config.AWS_REGION }),
    tableNamesFrom(config),
    clock,
  );
  return {
    ...repositories,
    secretStore: new SecretsManagerSecretStore({
      client: instrumented(new SecretsManagerClient({ region: config.AWS_REGION })),
      prefix: config.SECRETS_MANAGER_PREFIX,
      ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
    }),
    engine: new HttpScanEngine({
      urls: engineUrlsFrom(config),
      timeoutMs: config.ENGINE_REQUEST_TIMEOUT_SECONDS * 1000,
      remainingTime: invocationRemainingMs,
      logger,
    }),
    validator: createProviderValidator({
      logger,
      clock,
      remainingTime: invocationRemainingMs,
      stsClientFactory: (stsConfig) => instrumented(new STSClient(stsConfig)),
    }),
    // Only the tasks that manage schedules have the scheduler's variables: build it on first use.
    scheduler: lazySchedulerPort(() => awsScheduler(config)),
    clock,
    logger,
    settings: scanSettingsFrom(config),
    // Only the tasks that publish have EVENT_BUS_NAME; only the sweep has every state machine ARN.
    ...optional('events', eventBridgePublisherFrom(config)),
    ...optional('orchestrator', sweepOrchestratorFrom(config)),
  };
}

function optional<Key extends string, Value>(
  key: Key,
  value: Value | undefined,
): Partial<Record<Key, Value>> {
  return value === undefined ? {} : ({ [key]: value } as Record<Key, Value>);
}

/** Describes executions for the stuck-run sweep, when the function was given the three ARNs. */
function sweepOrchestratorFrom(config: Config): StepFunctionsOrchestrator | undefined {
  const { ONBOARDING_STATE_MACHINE_ARN, VALIDATION_STATE_MACHINE_ARN, SCAN_STATE_MACHINE_ARN } = config;
  if (!ONBOARDING_STATE_MACHINE_ARN || !VALIDATION_STATE_MACHINE_ARN || !SCAN_STATE_MACHINE_ARN)
    return undefined;
  return new StepFunctionsOrchestrator({
    client: instrumented(new SFNClient({ region: config.AWS_REGION })),
    stateMachineArns: {
      onboarding: ONBOARDING_STATE_MACHINE_ARN,
      validation: VALIDATION_STATE_MACHINE_ARN,
      scan: SCAN_STATE_MACHINE_ARN,
    },
  });
}
