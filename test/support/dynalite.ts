import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../../functions/adapters/aws/dynamodb-client';
import { createMissingTables } from '../../local/create-tables';
import { type LocalDynamoDbServer, startLocalDynamoDbServer } from '../../local/dynamodb-server';
import { ConfigSchema } from '../../schemas/config';
import { type TableNames, tableNamesFrom } from '../../schemas/tables';

export interface TestTables {
  server: LocalDynamoDbServer;
  client: DynamoDBDocumentClient;
  tables: TableNames;
  close(): Promise<void>;
}

/**
 * Every table, created from the shared definitions, on the table server at `endpoint`, under
 * `prefix` (none: the default names).
 */
export async function tablesOn(
  endpoint: string,
  prefix?: string,
): Promise<{ client: DynamoDBDocumentClient; tables: TableNames; destroy(): void }> {
  const rawClient = createDynamoDbClient({
    region: 'ap-south-1',
    endpoint,
    credentials: LOCAL_ENDPOINT_CREDENTIALS,
    loopback: true,
  });
  const defaults = tableNamesFrom(ConfigSchema.parse({}));
  const tables = (
    prefix === undefined
      ? defaults
      : Object.fromEntries(Object.entries(defaults).map(([logical, name]) => [logical, `${prefix}-${name}`]))
  ) as TableNames;
  await createMissingTables(rawClient, tables);
  return { client: toDocumentClient(rawClient), tables, destroy: () => rawClient.destroy() };
}

/**
 * An in-memory dynalite server with every table created from the shared definitions, under a
 * unique prefix so files that share a server never see each other's items.
 */
export async function startTestTables(
  prefix = `t${Math.random().toString(36).slice(2, 8)}`,
): Promise<TestTables> {
  const server = await startLocalDynamoDbServer();
  const { client, tables, destroy } = await tablesOn(server.endpoint, prefix);
  return {
    server,
    client,
    tables,
    close: async () => {
      destroy();
      await server.close();
    },
  };
}
