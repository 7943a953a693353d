import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDocumentClient,
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../../functions/adapters/aws/dynamodb-client';
import { awsScheduler } from '../../functions/adapters/aws/eventbridge-scheduler';
import { SecretsManagerSecretStore } from '../../functions/adapters/aws/secrets-manager-secret-store';
import type { SchedulerPort } from '../../functions/core/ports/scheduler';
import type { SecretPayload, SecretStore } from '../../functions/core/ports/secret-store';
import { MigratedRecordRepository } from '../../functions/core/repositories/migrated-record-repository';
import { ScheduleRepository } from '../../functions/core/repositories/schedule-repository';
import { createMissingTables } from '../../local/create-tables';
import { acquireDataDirLock, DataDirLockedError } from '../../local/data-dir-lock';
import { startLocalDynamoDbServer } from '../../local/dynamodb-server';
import { LocalScheduler } from '../../local/local-scheduler';
import { LocalVaultSecretStore } from '../../local/local-vault-secret-store';
import type { Config } from '../../schemas/config';
import { type TableNames, tableNamesFrom } from '../../schemas/tables';
import { CliError, EXIT } from '../exit-codes';

/** A secret store that can hold many writes and store them at once (the local vault). */
export interface BatchingSecretStore extends SecretStore {
  writeBatch<T>(work: () => Promise<T>): Promise<T>;
}

export function canBatch(store: SecretStore): store is BatchingSecretStore {
  return typeof (store as Partial<BatchingSecretStore>).writeBatch === 'function';
}

/**
 * A secret store that can read what a later variant of the legacy service kept under
 * `{prefix}/account/{tenant_id}/{account_id}` (Secrets Manager; the local vault never held it).
 */
export interface TenantScopedSecretReader extends SecretStore {
  readTenantScoped(tenantId: string, accountId: string): Promise<SecretPayload>;
}

export function readsTenantScopedSecrets(store: SecretStore): store is TenantScopedSecretReader {
  return typeof (store as Partial<TenantScopedSecretReader>).readTenantScoped === 'function';
}

/** Where a migration writes: the configured tables, secret store and scheduler of one target. */
export interface MigrationTarget {
  readonly kind: 'local' | 'aws';
  /** What the report says the target was (a directory, or the region and table prefix). */
  readonly description: string;
  readonly tables: TableNames;
  readonly documentClient: DynamoDBDocumentClient;
  readonly records: MigratedRecordRepository;
  readonly schedules: ScheduleRepository;
  readonly secretStore: SecretStore;
  readonly scheduler: SchedulerPort;
  close(): Promise<void>;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function unusedOrchestrator(): never {
  throw new Error('the migration never starts workflows');
}

/**
 * The local runtime's data directory, taken under its lock (a running `npm start` on it makes the
 * migration refuse, naming the process). A dry run on a directory that does not exist yet reads
 * empty in-memory tables instead, and so creates nothing.
 */
export async function openLocalTarget(config: Config, options: { dryRun: boolean; cwd?: string }) {
  const dataDirectory = resolve(options.cwd ?? process.cwd(), config.THREAT_ENGINE_DATA_DIR);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    closers.length = 0;
  };
  const fresh = options.dryRun && !(await exists(join(dataDirectory, 'dynamodb')));
  try {
    if (!fresh) {
      try {
        const lock = await acquireDataDirLock(dataDirectory, 'threat-engine migrate', {
          waitForStoppingMs: 0,
        });
        closers.push(() => lock.release());
      } catch (error) {
        if (error instanceof DataDirLockedError) {
          throw new CliError(`refusing to migrate: ${error.message}`, EXIT.refused, { cause: error });
        }
        throw error;
      }
    }
    const dynamo = await startLocalDynamoDbServer(fresh ? {} : { path: join(dataDirectory, 'dynamodb') });
    closers.push(() => dynamo.close());
    const client = createDynamoDbClient({
      region: config.AWS_REGION,
      endpoint: dynamo.endpoint,
      credentials: LOCAL_ENDPOINT_CREDENTIALS,
    });
    closers.push(async () => client.destroy());
    const tables = tableNamesFrom(config);
    if (!options.dryRun || fresh) await createMissingTables(client, tables);
    const documentClient = toDocumentClient(client);

    let vaultDirectory = join(dataDirectory, 'vault');
    if (fresh) {
      vaultDirectory = await mkdtemp(join(tmpdir(), 'threat-engine-dry-run-'));
      const temporary = vaultDirectory;
      closers.push(() => rm(temporary, { recursive: true, force: true }));
    }
    const vaultOptions = { directory: vaultDirectory, prefix: config.SECRETS_MANAGER_PREFIX, cacheTtlMs: 0 };
    const secretStore = options.dryRun
      ? new LocalVaultSecretStore(vaultOptions)
      : await LocalVaultSecretStore.open(vaultOptions);
    const schedules = new ScheduleRepository({ client: documentClient, tableName: tables.schedules });
    // Never started: its entries are checked here and armed by the runtime from the table when it starts.
    const scheduler = new LocalScheduler({
      orchestrator: unusedOrchestrator,
      schedules,
      stateFile: join(dataDirectory, 'scheduler', 'state.json'),
      useTimer: false,
    });
    closers.push(() => scheduler.close());
    const target: MigrationTarget = {
      kind: 'local',
      description: fresh ? `${dataDirectory} (does not exist yet)` : dataDirectory,
      tables,
      documentClient,
      records: new MigratedRecordRepository({ client: documentClient, tables }),
      schedules,
      secretStore,
      scheduler,
      close,
    };
    return target;
  } catch (error) {
    await close();
    throw error;
  }
}

/** The AWS target over given clients and adapters (openAwsTarget builds them from the configuration). */
export function awsTargetFrom(parts: {
  documentClient: DynamoDBDocumentClient;
  tables: TableNames;
  secretStore: SecretStore;
  scheduler: SchedulerPort;
  description: string;
}): MigrationTarget {
  const { documentClient, tables } = parts;
  return {
    kind: 'aws',
    description: parts.description,
    tables,
    documentClient,
    records: new MigratedRecordRepository({ client: documentClient, tables }),
    schedules: new ScheduleRepository({ client: documentClient, tableName: tables.schedules }),
    secretStore: parts.secretStore,
    scheduler: parts.scheduler,
    close: async () => documentClient.destroy(),
  };
}

/**
 * The AWS services of the configuration: tables by their legacy variable names, Secrets Manager
 * under SECRETS_MANAGER_PREFIX (new secrets encrypted with SECRETS_MANAGER_KMS_KEY_ID), EventBridge
 * Scheduler with the scheduler settings. Credentials come from the usual SDK chain.
 */
export function openAwsTarget(config: Config): MigrationTarget {
  const tables = tableNamesFrom(config);
  return awsTargetFrom({
    documentClient: createDocumentClient({ region: config.AWS_REGION }),
    tables,
    secretStore: new SecretsManagerSecretStore({
      client: new SecretsManagerClient({ region: config.AWS_REGION }),
      prefix: config.SECRETS_MANAGER_PREFIX,
      cacheTtlMs: 0,
      ...(config.SECRETS_MANAGER_KMS_KEY_ID ? { kmsKeyId: config.SECRETS_MANAGER_KMS_KEY_ID } : {}),
    }),
    scheduler: awsScheduler(config),
    description: `AWS ${config.AWS_REGION}, tables ${tables.accounts} …, secrets ${config.SECRETS_MANAGER_PREFIX}/account/*`,
  });
}
