import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface LocalDynamoDbServer {
  /** `http://127.0.0.1:<port>`, to pass as the SDK client's endpoint. */
  readonly endpoint: string;
  close(): Promise<void>;
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
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
