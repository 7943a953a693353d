import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../../../schemas/config';
import { tableNamesFrom } from '../../../schemas/tables';
import { systemClock } from '../../core/clock';
import { ConfigurationError } from '../../core/errors';
import { lazySchedulerPort } from '../../core/ports/scheduler';
import { createRepositories } from '../../core/repositories/repositories';
import { scanSettingsFrom } from '../../core/scans/scan-settings';
import type { WorkflowDependencies } from '../../core/workflow-dependencies';
import { engineUrlsFrom } from '../../engines/engine-urls';
import { HttpScanEngine } from '../../engines/scan-engine-client';
import { createProviderValidator } from '../../providers/provider-validator-registry';
import { createDocumentClient } from './dynamodb-client';
import { EventBridgeScheduler } from './eventbridge-scheduler';
import { createPowertoolsLogger } from './powertools-logger';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store';

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
      client: new SecretsManagerClient({ region: config.AWS_REGION }),
      prefix: config.SECRETS_MANAGER_PREFIX,
      ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
    }),
    engine: new HttpScanEngine({
      urls: engineUrlsFrom(config),
      timeoutMs: config.ENGINE_REQUEST_TIMEOUT_SECONDS * 1000,
      logger,
    }),
    validator: createProviderValidator({ logger, clock }),
    // Only the tasks that manage schedules have the scheduler's variables: build it on first use.
    scheduler: lazySchedulerPort(() => awsScheduler(config)),
    clock,
    logger,
    settings: scanSettingsFrom(config),
  };
}

/** The EventBridge Scheduler adapter, for the tasks that manage schedules (the CDK app sets its variables). */
export function awsScheduler(config: Config): EventBridgeScheduler {
  const { SCAN_STATE_MACHINE_ARN, SCHEDULER_ROLE_ARN } = config;
  if (!SCAN_STATE_MACHINE_ARN || !SCHEDULER_ROLE_ARN) {
    throw new ConfigurationError(
      'SCAN_STATE_MACHINE_ARN and SCHEDULER_ROLE_ARN must be set to manage schedules',
      [
        {
          field: SCAN_STATE_MACHINE_ARN ? 'SCHEDULER_ROLE_ARN' : 'SCAN_STATE_MACHINE_ARN',
          message: 'expected an ARN',
        },
      ],
    );
  }
  return new EventBridgeScheduler({
    client: new SchedulerClient({ region: config.AWS_REGION }),
    groupName: config.SCHEDULE_GROUP_NAME,
    scanStateMachineArn: SCAN_STATE_MACHINE_ARN,
    roleArn: SCHEDULER_ROLE_ARN,
    ...(config.SCHEDULER_DLQ_ARN ? { deadLetterQueueArn: config.SCHEDULER_DLQ_ARN } : {}),
  });
}
