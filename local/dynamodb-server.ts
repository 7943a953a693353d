import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface LocalDynamoDbServer {
  /** `http://127.0.0.1:<port>`, to pass as the SDK client's endpoint. */
  readonly endpoint: string;
  /**
   * An SDK request handler for this process's own clients: it hands each request to the server's
   * request listener directly, without the loopback socket and the two HTTP parsers (about half
   * the CPU of a table operation here). Other processes use `endpoint`.
   */
  readonly inProcessHandler: NonNullable<DynamoDBClientConfig['requestHandler']>;
  close(): Promise<void>;
}

interface SdkHttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** The part of a request and a response the table server's listener uses. */
function inProcessHandler(listener: RequestListener): NonNullable<DynamoDBClientConfig['requestHandler']> {
  const handle = (request: SdkHttpRequest) =>
    new Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }>(
      (resolve) => {
        const incoming = new EventEmitter() as EventEmitter & {
          headers: Record<string, string>;
          method: string;
          url: string;
        };
        incoming.headers = Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
        );
        incoming.method = request.method;
        const query = new URLSearchParams(
          Object.entries(request.query ?? {}).flatMap(([name, value]): [string, string][] =>
            value === null
              ? [[name, '']]
              : (Array.isArray(value) ? value : [value]).map((one) => [name, one]),
          ),
        ).toString();
        incoming.url = query ? `${request.path}?${query}` : request.path;
        const headers: Record<string, string> = {};
        const outgoing = {
          statusCode: 200,
          setHeader(name: string, value: string | number) {
            headers[name.toLowerCase()] = String(value);
          },
          end(body?: string) {
            resolve({
              response: {
                statusCode: outgoing.statusCode,
                headers,
                // The bytes themselves: the SDK collects a Uint8Array body as is, a stream it reads.
                body: body === undefined ? new Uint8Array() : Buffer.from(body, 'utf8'),
              },
            });
          },
        };
        listener(incoming as unknown as IncomingMessage, outgoing as unknown as ServerResponse);
        const { body } = request;
        process.nextTick(() => {
          if (typeof body === 'string' && body.length > 0) incoming.emit('data', Buffer.from(body, 'utf8'));
          else if (body instanceof Uint8Array && body.byteLength > 0)
            incoming.emit('data', Buffer.from(body.buffer, body.byteOffset, body.byteLength));
          incoming.emit('end');
        });
      },
    );
  return {
    handle,
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  } as unknown as NonNullable<DynamoDBClientConfig['requestHandler']>;
}

/**
 * A real DynamoDB-API server (dynalite) on loopback. With `path` it persists to LevelDB in that
 * directory, so data survives a restart; without it, it keeps everything in memory (tests).
 */
export async function startLocalDynamoDbServer(
  options: { path?: string; port?: number } = {},
): Promise<LocalDynamoDbServer> {
  if (options.path) await mkdir(options.path, { recursive: true });
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const listener = server.listeners('request')[0] as RequestListener;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inProcessHandler: inProcessHandler(listener),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
