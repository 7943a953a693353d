/**
 * One place every AWS SDK client of the composition roots passes through when it is created, so
 * a tool can add middleware to all of them without forking a composition root. Nothing registers
 * an instrumentation in a deployed function or in the local runtime; the deploy rehearsal
 * (rehearsal/) registers one per rehearsed function to record each call for its IAM check.
 */

/** What an instrumentation receives: an AWS SDK v3 client (its `middlewareStack` is the hook). */
export interface InstrumentableAwsClient {
  readonly middlewareStack: object;
}

export type AwsClientInstrumentation = (client: InstrumentableAwsClient) => void;

const instrumentations: AwsClientInstrumentation[] = [];

/** Applied to every client created after this call. */
export function instrumentAwsClients(instrumentation: AwsClientInstrumentation): void {
  instrumentations.push(instrumentation);
}

/** Returns the client after every registered instrumentation has seen it. */
export function instrumented<Client extends InstrumentableAwsClient>(client: Client): Client {
  for (const instrumentation of instrumentations) instrumentation(client);
  return client;
}
