import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_DEFINITIONS, type TableNames } from '../../schemas/tables';
import type { HealthCheck } from './health';

// Apart from health.ts, so the app (which runs the checks) does not load the DynamoDB SDK at import.
/** A real read on every table: proves the table server answers and each table exists. */
export function tablesHealthCheck(client: DynamoDBDocumentClient, tables: TableNames): HealthCheck {
  return {
    name: 'dynamodb',
    check: async () => {
      await Promise.all(
        TABLE_DEFINITIONS.map((definition) =>
          client.send(
            new GetCommand({
              TableName: tables[definition.logicalName],
              Key: { [definition.partitionKey.name]: '__health_probe__' },
            }),
          ),
        ),
      );
    },
  };
}
