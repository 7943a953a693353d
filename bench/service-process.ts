import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableNames } from '../schemas/tables';
import { tablesOn } from '../test/support/dynalite';
import { isCpuAnswer } from './serve-bench';

/** Controls of a service process: its CPU time so far, and stopping it. */
export interface ServiceProcess {
  /** CPU time (user + system, µs) the process has used so far, asked over IPC. */
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A bench's stand-in for a service that is remote on AWS (the table server, the scan engine), in a
 * process of its own: what the bench measures in its own process is then the orchestration's work,
 * not the service's (whose CPU time can be asked for apart). The script calls serveBench.
 */
export async function startServiceProcess<Ready>(script: string): Promise<Ready & ServiceProcess> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Ready));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    ...ready,
    cpuMicros: () =>
      new Promise<number>((resolve) => {
        const answer = (message: unknown) => {
          if (!isCpuAnswer(message)) return;
          child.off('message', answer);
          resolve(message.cpuMicros);
        };
        child.on('message', answer);
        child.send('cpu');
      }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/** The in-memory table server in its own process, as DynamoDB is on AWS. */
export function startTableServerProcess(): Promise<{ endpoint: string } & ServiceProcess> {
  return startServiceProcess<{ endpoint: string }>('./table-server-process.ts');
}

/** Every table, created from the shared definitions, on a table server in its own process. */
export async function startTablesInOwnProcess(): Promise<
  {
    client: DynamoDBDocumentClient;
    tables: TableNames;
  } & ServiceProcess
> {
  const server = await startTableServerProcess();
  const { client, tables, destroy } = await tablesOn(server.endpoint);
  return {
    client,
    tables,
    cpuMicros: server.cpuMicros,
    close: async () => {
      destroy();
      await server.close();
    },
  };
}

/**
 * Runs one part of the bench in a fresh process (forked with this process's loader and polyfills),
 * so its memory and timing are its own, not shaped by the parts that ran before it. The script
 * sends `{ result }` last; any other message goes to onMessage (progress).
 */
export function runBenchProcess<Result, Message = unknown>(
  script: string,
  args: string[],
  onMessage?: (message: Message) => void,
): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message: Message & { result?: Result }) => {
      if (message.result !== undefined) resolve(message.result);
      else onMessage?.(message);
    });
    child.once('error', reject);
    // After a result this does nothing; without one (a crash, or an exit before sending it) it fails.
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before its result`)));
  });
}
