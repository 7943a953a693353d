import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../../functions/adapters/aws/dynamodb-client';
import { type LocalDynamoDbServer, startLocalDynamoDbServer } from '../../local/dynamodb-server';

describe('Local table server', () => {
  let server: LocalDynamoDbServer;
  let overSocket: DynamoDBClient;
  let inProcess: DynamoDBClient;

  beforeAll(async () => {
    server = await startLocalDynamoDbServer();
    const common = {
      region: 'ap-south-1',
      endpoint: server.endpoint,
      credentials: LOCAL_ENDPOINT_CREDENTIALS,
      loopback: true,
    };
    overSocket = createDynamoDbClient(common);
    inProcess = createDynamoDbClient({ ...common, requestHandler: server.inProcessHandler });
    await overSocket.send(
      new CreateTableCommand({
        TableName: 'items',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // dynalite answers CreateTable with the table still CREATING: it turns ACTIVE on the next tick.
    await waitUntilTableExists({ client: overSocket, minDelay: 1, maxWaitTime: 10 }, { TableName: 'items' });
  });
  afterAll(async () => {
    overSocket.destroy();
    inProcess.destroy();
    await server.close();
  });

  it('answers its own process in process as it answers over its socket: items, conditions, errors', async () => {
    // Act
    await toDocumentClient(inProcess).send(
      new PutCommand({ TableName: 'items', Item: { id: 'a', note: 'written in process', count: 2 } }),
    );
    const readOverSocket = await toDocumentClient(overSocket).send(
      new GetCommand({ TableName: 'items', Key: { id: 'a' } }),
    );
    const conditional = await toDocumentClient(inProcess)
      .send(
        new PutCommand({
          TableName: 'items',
          Item: { id: 'a' },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      )
      .catch((error: unknown) => error);
    const unknownTable = await toDocumentClient(inProcess)
      .send(new GetCommand({ TableName: 'missing', Key: { id: 'a' } }))
      .catch((error: unknown) => error);

    // Assess
    expect(readOverSocket.Item).toEqual({ id: 'a', note: 'written in process', count: 2 });
    expect(conditional).toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(unknownTable).toMatchObject({ name: 'ResourceNotFoundException' });
    const readInProcess = await toDocumentClient(inProcess).send(
      new GetCommand({ TableName: 'items', Key: { id: 'a' } }),
    );
    expect(readInProcess.Item).toEqual(readOverSocket.Item);
  });
});
