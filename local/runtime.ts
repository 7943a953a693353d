import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../functions/adapters/aws/dynamodb-client';
import { createApp } from '../functions/api/app';
import { type HealthCheck, tablesHealthCheck } from '../functions/api/health';
import { loadConfig } from '../functions/core/config';
import { createJsonLogger } from '../functions/core/json-logger';
import type { Logger } from '../functions/core/logger';
import type { SecretStore } from '../functions/core/ports/secret-store';
import type { Config } from '../schemas/config';
import { type TableNames, tableNamesFrom } from '../schemas/tables';
import { createMissingTables } from './create-tables';
import { startLocalDynamoDbServer } from './dynamodb-server';
import { startHttpServer } from './http-server';
import { LocalVaultSecretStore } from './local-vault-secret-store';

export interface LocalRuntimeOptions {
  env?: Record<string, string | undefined>;
  /** Overrides PORT (tests pass 0 for a free port). */
  port?: number;
  logger?: Logger;
  cwd?: string;
}

export interface LocalRuntime {
  readonly config: Config;
  readonly url: string;
  readonly dataDirectory: string;
  readonly tables: TableNames;
  readonly documentClient: DynamoDBDocumentClient;
  readonly secretStore: SecretStore;
  readonly logger: Logger;
  close(): Promise<void>;
}

const VERSION = '0.1.0';

/**
 * The embedded runtime's composition root: a real DynamoDB-API server persisted in the data
 * directory, the tables created from their shared definitions, the encrypted vault and the HTTP
 * app. No AWS account, no Docker, no network beyond loopback.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const config = loadConfig(options.env ?? process.env);
  const logger =
    options.logger ?? createJsonLogger({ level: config.LOG_LEVEL, service: 'threat-engine-local' });
  const dataDirectory = resolve(options.cwd ?? process.cwd(), config.THREAT_ENGINE_DATA_DIR);
  await mkdir(dataDirectory, { recursive: true, mode: 0o700 });

  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse())
      await closer().catch((error) => logger.warn('shutdown step failed', { error }));
  };

  try {
    const dynamo = await startLocalDynamoDbServer({ path: join(dataDirectory, 'dynamodb') });
    closers.push(() => dynamo.close());
    const dynamoClient = createDynamoDbClient({
      region: config.AWS_REGION,
      endpoint: dynamo.endpoint,
      credentials: LOCAL_ENDPOINT_CREDENTIALS,
    });
    closers.push(async () => dynamoClient.destroy());
    const documentClient = toDocumentClient(dynamoClient);
    const tables = tableNamesFrom(config);
    const created = await createMissingTables(dynamoClient, tables);
    if (created.length > 0) logger.info('created local tables', { tables: created });

    const secretStore = await LocalVaultSecretStore.open({
      directory: join(dataDirectory, 'vault'),
      prefix: config.SECRETS_MANAGER_PREFIX,
    });

    const healthChecks: HealthCheck[] = [
      tablesHealthCheck(documentClient, tables),
      { name: 'secret_store', check: () => secretStore.checkHealth() },
    ];
    const app = createApp({ logger, healthChecks, target: 'local', version: VERSION });
    const http = await startHttpServer(app, options.port ?? config.PORT);
    closers.push(() => http.close());

    logger.info('local runtime started', {
      url: http.url,
      data_directory: dataDirectory,
      dynamodb_endpoint: dynamo.endpoint,
    });
    return { config, url: http.url, dataDirectory, tables, documentClient, secretStore, logger, close };
  } catch (error) {
    await close();
    throw error;
  }
}
