import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type {
  FinalizeHandlerArguments,
  FinalizeHandlerOutput,
  FinalizeRequestHandlerOptions,
  HandlerExecutionContext,
  MiddlewareStack,
  RelativeMiddlewareOptions,
} from '@smithy/types';
import { instrumentAwsClients } from '../functions/adapters/aws/aws-client-instrumentation';
import { type RecordedAwsCall, redact } from './recorded-call';

/**
 * One rehearsed Lambda function in its own worker thread: its own `process.env` (the template's
 * variables for that function), its own module graph (so its composition root builds its
 * dependencies once, from its own configuration, as in its own execution environment). Every AWS
 * SDK client it creates gets a middleware that records the call and sends it to the stand-in of
 * its service on loopback; nothing ever leaves the machine.
 */

export interface FunctionWorkerData {
  /** Absolute path of the module exporting `handler`. */
  entry: string;
  functionName: string;
  functionArn: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Stand-in base URL (http://127.0.0.1:port) by SDK client name, e.g. `DynamoDBClient`. */
  standIns: Record<string, string>;
}

export type WorkerRequest = { id: number; event: unknown };
export type WorkerResponse =
  | { id: number; calls: RecordedAwsCall[]; result: unknown }
  | { id: number; calls: RecordedAwsCall[]; error: { name: string; message: string } };

const data = workerData as FunctionWorkerData;
const invocation = new AsyncLocalStorage<RecordedAwsCall[]>();
/** Calls made outside any invocation (none expected): reported with the next response. */
const stray: RecordedAwsCall[] = [];

const AUTHORIZATION = /Credential=([^/\s]+)\//;

function recorder(clientName: string, standIn: string | undefined) {
  return (
    next: (args: FinalizeHandlerArguments<object>) => Promise<FinalizeHandlerOutput<object>>,
    context: HandlerExecutionContext,
  ) =>
    async (args: FinalizeHandlerArguments<object>): Promise<FinalizeHandlerOutput<object>> => {
      const request = args.request as {
        hostname: string;
        port?: number;
        protocol: string;
        headers: Record<string, string>;
      };
      const call: RecordedAwsCall = {
        client: context.clientName ?? clientName,
        operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
        input: redact(args.input) as Record<string, unknown>,
        accessKeyId: AUTHORIZATION.exec(request.headers.authorization ?? '')?.[1] ?? '',
      };
      (invocation.getStore() ?? stray).push(call);
      if (!standIn) {
        call.error = 'NoStandIn';
        throw Object.assign(new Error(`the rehearsal has no stand-in for ${call.client}`), {
          name: 'NoStandInError',
        });
      }
      const target = new URL(standIn);
      request.protocol = target.protocol;
      request.hostname = target.hostname;
      request.port = Number(target.port);
      try {
        const result = await next(args);
        call.output = redact(result.output) as Record<string, unknown>;
        return result;
      } catch (error) {
        call.error = (error as { name?: string }).name ?? 'Error';
        throw error;
      }
    };
}

instrumentAwsClients((client) => {
  const stack = client.middlewareStack as MiddlewareStack<object, object>;
  const clientName = client.constructor.name;
  const options: RelativeMiddlewareOptions & Partial<FinalizeRequestHandlerOptions> = {
    name: 'rehearsalRecorder',
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
    override: true,
  };
  stack.addRelativeTo(recorder(clientName, data.standIns[clientName]), options);
});

type Handler = (event: unknown, context: object) => Promise<unknown>;
let handler: Promise<Handler> | undefined;

function lambdaContext(deadline: number) {
  const requestId = randomUUID();
  return {
    functionName: data.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: data.functionArn,
    memoryLimitInMB: String(data.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${data.functionName}`,
    logStreamName: `rehearsal/${requestId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

parentPort?.on('message', (message: WorkerRequest) => {
  const calls: RecordedAwsCall[] = [];
  void invocation.run(calls, async () => {
    const deadline = Date.now() + data.timeoutSeconds * 1000;
    let response: WorkerResponse;
    try {
      handler ??= import(pathToFileURL(data.entry).href).then(
        (module: { handler: Handler }) => module.handler,
      );
      const result = await (await handler)(message.event, lambdaContext(deadline));
      response = { id: message.id, calls, result: result ?? null };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      response = { id: message.id, calls, error: { name: failure.name, message: failure.message } };
    }
    response.calls.push(...stray.splice(0));
    parentPort?.postMessage(JSON.parse(JSON.stringify(response)));
  });
});
