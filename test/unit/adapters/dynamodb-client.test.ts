import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
} from '../../../functions/adapters/aws/dynamodb-client';

/** The headers a client sends, read right after its signing step (the request never leaves). */
async function signedHeaders(loopback: boolean): Promise<Record<string, string>> {
  const client = createDynamoDbClient({
    region: 'ap-south-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: LOCAL_ENDPOINT_CREDENTIALS,
    loopback,
  });
  let headers: Record<string, string> = {};
  const capture = () => async (args: { request: unknown }) => {
    headers = { ...(args.request as { headers: Record<string, string> }).headers };
    throw new Error('captured');
  };
  client.middlewareStack.addRelativeTo(
    capture as Parameters<typeof client.middlewareStack.addRelativeTo>[0],
    {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'captureSignedRequest',
    },
  );
  await expect(client.send(new ListTablesCommand({}))).rejects.toThrow('captured');
  client.destroy();
  return headers;
}

describe('DynamoDB client', () => {
  it('computes a SigV4 signature unless the endpoint is the loopback table server', async () => {
    const signed = await signedHeaders(false);
    expect(signed.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/ap-south-1\/dynamodb\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/,
    );
  });

  it('sends the loopback table server a header of the SigV4 shape it checks, without computing one', async () => {
    const loopback = await signedHeaders(true);
    expect(loopback.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/ap-south-1\/dynamodb\/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned$/,
    );
    expect(loopback['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });
});
