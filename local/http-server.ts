import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

export interface LocalHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The port is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly hostname: string,
    options?: ErrorOptions,
  ) {
    super(
      `port ${port} on ${hostname} is already in use: stop what listens there, or set PORT to another port`,
      options,
    );
  }
}

const asPortInUse = (error: unknown, port: number, hostname: string): unknown =>
  (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
    ? new PortInUseError(port, hostname, { cause: error })
    : error;

/**
 * Throws PortInUseError when `port` cannot be listened on: checked before anything else starts,
 * so a taken port is one clear line instead of a trace after all the start-up logs.
 */
export async function assertPortFree(port: number, hostname = '127.0.0.1'): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(asPortInUse(error, port, hostname)));
    probe.listen(port, hostname, () => probe.close(() => resolve()));
  });
}

/** Serves the Hono app on loopback (the same app the API Lambda serves behind API Gateway). */
export async function startHttpServer(
  app: Pick<Hono, 'fetch'>,
  port: number,
  hostname = '127.0.0.1',
): Promise<LocalHttpServer> {
  const server = createAdaptorServer({ fetch: app.fetch, hostname }) as Server;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => reject(asPortInUse(error, port, hostname));
    server.once('error', fail);
    server.listen(port, hostname, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${hostname}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 2_000);
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
