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
 * An in-memory dynalite server with every table created from the shared definitions, under a
 * unique prefix so files that share a server never see each other's items.
 */
export async function startTestTables(
  prefix = `t${Math.random().toString(36).slice(2, 8)}`,
): Promise<TestTables> {
  const server = await startLocalDynamoDbServer();
  const rawClient = createDynamoDbClient({
    region: 'ap-south-1',
    endpoint: server.endpoint,
    credentials: LOCAL_ENDPOINT_CREDENTIALS,
    loopback: true,
  });
  const client = toDocumentClient(rawClient);
  const defaults = tableNamesFrom(ConfigSchema.parse({}));
  const tables = Object.fromEntries(
    Object.entries(defaults).map(([logical, name]) => [logical, `${prefix}-${name}`]),
  ) as TableNames;
  await createMissingTables(rawClient, tables);
  return {
    server,
    client,
    tables,
    close: async () => {
      rawClient.destroy();
      await server.close();
    },
  };
}
