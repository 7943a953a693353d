import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { instrumented } from './aws-client-instrumentation';

export interface DynamoDbClientOptions {
  region: string;
  /** A DynamoDB-API endpoint such as the local runtime's dynalite server. */
  endpoint?: string;
  /** Static credentials for a local endpoint (dynalite accepts any). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * The endpoint is the loopback table server (dynalite): it checks that a request carries a
   * signature of the right shape, never its value, so computing SigV4 (a new signer, hashes and
   * HMACs for every request) is skipped. Never for a real DynamoDB endpoint.
   */
  loopback?: boolean;
  /** How requests are sent (default: the SDK's HTTP handler); the local runtime's own is in process. */
  requestHandler?: DynamoDBClientConfig['requestHandler'];
}

/** Signs as the loopback table server checks: an Authorization header of the SigV4 shape, a date. */
function loopbackSigner(region: string): NonNullable<DynamoDBClientConfig['signer']> {
  return {
    sign: async (request) => {
      const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
      request.headers['x-amz-date'] = date;
      request.headers.authorization = `AWS4-HMAC-SHA256 Credential=${LOCAL_ENDPOINT_CREDENTIALS.accessKeyId}/${date.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned`;
      return request;
    },
  };
}

export function createDynamoDbClient(options: DynamoDbClientOptions): DynamoDBClient {
  return instrumented(
    new DynamoDBClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.loopback && options.endpoint ? { signer: loopbackSigner(options.region) } : {}),
      ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
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
