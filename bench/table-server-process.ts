import { startLocalDynamoDbServer } from '../local/dynamodb-server';

/**
 * The scheduler bench's table server in its own process: the scheduler's memory is measured
 * without the 100,000 items the in-memory table holds (on AWS the table is not in the process
 * either). Sends its endpoint over IPC, then serves until told to stop.
 */
const server = await startLocalDynamoDbServer();
process.send?.({ endpoint: server.endpoint });
process.on('message', async () => {
  await server.close();
  process.exit(0);
});
