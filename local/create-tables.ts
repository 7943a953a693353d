import {
  type AttributeDefinition,
  CreateTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITIONS, type TableDefinition, type TableNames } from '../schemas/tables';

/** Creates each table from its shared definition when it does not exist yet; returns the ones created. */
export async function createMissingTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  const created: string[] = [];
  for (const definition of TABLE_DEFINITIONS) {
    const tableName = names[definition.logicalName];
    if (existing.has(tableName)) continue;
    await client.send(new CreateTableCommand(createTableInput(definition, tableName)));
    created.push(tableName);
  }
  return created;
}

function createTableInput(definition: TableDefinition, tableName: string) {
  const attributes = new Map<string, AttributeDefinition>();
  const remember = (attribute: { name: string; type: 'S' } | undefined) => {
    if (attribute)
      attributes.set(attribute.name, { AttributeName: attribute.name, AttributeType: attribute.type });
  };
  remember(definition.partitionKey);
  remember(definition.sortKey);
  for (const index of definition.globalSecondaryIndexes) {
    remember(index.partitionKey);
    remember(index.sortKey);
  }
  const keySchema = (partition: { name: string }, sort?: { name: string }) => [
    { AttributeName: partition.name, KeyType: 'HASH' as const },
    ...(sort ? [{ AttributeName: sort.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.globalSecondaryIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: index.projection },
          })),
        }
      : {}),
  };
}
