import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { instrumented } from './aws-client-instrumentation';

export interface DynamoDbClientOptions {
  region: string;
  /** A DynamoDB-API endpoint such as the local runtime's dynalite server. */
  endpoint?: string;
  /** Static credentials for a local endpoint (dynalite accepts any). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createDynamoDbClient(options: DynamoDbClientOptions): DynamoDBClient {
  return instrumented(
    new DynamoDBClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 3,
    }),
  );
}

/** The document client every repository uses; marshalling options are part of the item contract. */
export function toDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

export function createDocumentClient(options: DynamoDbClientOptions): DynamoDBDocumentClient {
  return toDocumentClient(createDynamoDbClient(options));
}

/** Credentials for the loopback table server: it checks the signature shape, not the values. */
export const LOCAL_ENDPOINT_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
