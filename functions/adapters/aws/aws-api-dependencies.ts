import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../../../schemas/config';
import { tableNamesFrom } from '../../../schemas/tables';
import type { ApiDependencies } from '../../api/app';
import { tablesHealthCheck } from '../../api/health';
import { createJsonLogger } from '../../core/json-logger';
import { createDocumentClient } from './dynamodb-client';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store';

/** The API Lambda's composition root: AWS clients built once per execution environment. */
export function createAwsApiDependencies(config: Config): ApiDependencies {
  const logger = createJsonLogger({ level: config.LOG_LEVEL, service: 'threat-engine-api' });
  const documentClient = createDocumentClient({ region: config.AWS_REGION });
  const secretStore = new SecretsManagerSecretStore({
    client: new SecretsManagerClient({ region: config.AWS_REGION }),
    prefix: config.SECRETS_MANAGER_PREFIX,
    ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
  });
  return {
    logger,
    target: 'aws',
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? 'unknown',
    healthChecks: [
      tablesHealthCheck(documentClient, tableNamesFrom(config)),
      { name: 'secret_store', check: () => secretStore.checkHealth() },
    ],
  };
}
