import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServiceRequest {
  method: string;
  /** Path and query, as received. */
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ServiceAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** A failure a stand-in answers with AWS's error name (`__type`) and status. */
export class StandInServiceError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface LoopbackService {
  readonly url: string;
  /** Requests received, by the access key id that signed them (the rehearsal checks none went unrecorded). */
  readonly requestsByAccessKey: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (a free port) answering every request with `answer`. */
export async function startLoopbackService(
  answer: (request: ServiceRequest) => Promise<ServiceAnswer>,
): Promise<LoopbackService> {
  const requestsByAccessKey = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const accessKey = /Credential=([^/\s]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
    if (accessKey) requestsByAccessKey.set(accessKey, (requestsByAccessKey.get(accessKey) ?? 0) + 1);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ServiceRequest = {
        method: request.method ?? 'GET',
        url: new URL(request.url ?? '/', 'http://127.0.0.1'),
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      answer(received)
        .catch(
          (error: unknown): ServiceAnswer => ({
            status: 500,
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalFailure' },
            body: JSON.stringify({ __type: 'InternalFailure', message: String(error) }),
          }),
        )
        .then((answered) => {
          response.writeHead(answered.status, answered.headers ?? {});
          response.end(answered.body);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requestsByAccessKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** JSON with dates as epoch seconds, as the AWS JSON protocols carry timestamps. */
export function awsJson(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key, item) {
    const original = this[key];
    return original instanceof Date ? original.getTime() / 1000 : item;
  });
}

export type JsonOperation = (input: Record<string, unknown>) => unknown;

/**
 * The AWS JSON protocol (1.0 / 1.1): `X-Amz-Target: <prefix>.<Operation>`, a JSON body, errors as
 * `{__type, message}` with their HTTP status.
 */
export function startJsonProtocolService(
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1',
  operations: Record<string, JsonOperation>,
): Promise<LoopbackService> {
  return startLoopbackService(async (request): Promise<ServiceAnswer> => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const handler = operations[operation];
    try {
      if (!handler)
        throw new StandInServiceError('UnknownOperationException', `${operation} is not rehearsed`);
      const output = await handler(request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {});
      return { status: 200, headers: { 'content-type': contentType }, body: awsJson(output ?? {}) };
    } catch (error) {
      const failure = error as {
        name?: string;
        message?: string;
        status?: number;
        $metadata?: { httpStatusCode?: number };
      };
      const name = failure.name ?? 'InternalFailure';
      return {
        status: failure.status ?? failure.$metadata?.httpStatusCode ?? 400,
        headers: { 'content-type': contentType, 'x-amzn-errortype': name },
        body: JSON.stringify({ __type: name, message: failure.message ?? name }),
      };
    }
  });
}
