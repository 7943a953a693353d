import { startLocalDynamoDbServer } from '../local/dynamodb-server';
import { serveBench } from './serve-bench';

/**
 * The scheduler bench's table server in its own process: the scheduler's memory is measured
 * without the 100,000 items the in-memory table holds (on AWS the table is not in the process
 * either). Serves until told to stop (see serveBench).
 */
const server = await startLocalDynamoDbServer();
serveBench({ endpoint: server.endpoint }, () => server.close());
