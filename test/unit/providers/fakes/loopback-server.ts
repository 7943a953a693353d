import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { CredentialValidationError } from '../../../../functions/core/ports/provider-validator';

/** One request as the fake provider received it. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeAnswer {
  status: number;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  contentType?: string;
  /** Never answer (to exercise timeouts). */
  hang?: boolean;
}

export type FakeHandler = (request: ReceivedRequest) => FakeAnswer | Promise<FakeAnswer>;

/** A fake provider on 127.0.0.1 (port 0) that records every request and answers through `handle`. */
export interface LoopbackServer {
  url: string;
  requests: ReceivedRequest[];
  handle: FakeHandler;
  close(): Promise<void>;
}

export async function startLoopbackServer(handle: FakeHandler): Promise<LoopbackServer> {
  const state: LoopbackServer = { url: '', requests: [], handle, close: async () => {} };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const received: ReceivedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      state.requests.push(received);
      let answer: FakeAnswer;
      try {
        answer = await state.handle(received);
      } catch (error) {
        answer = { status: 599, body: { fake_error: String(error) } };
      }
      if (answer.hang) return;
      const isText = typeof answer.body === 'string';
      response
        .writeHead(answer.status, {
          'content-type': answer.contentType ?? (isText ? 'text/plain' : 'application/json'),
        })
        .end(answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

/** The URL of a loopback port nothing listens on (bound, then closed): connections are refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Runs `act` and returns the credential error it rejects with (failing the test otherwise). */
export async function rejection(act: () => Promise<unknown>): Promise<CredentialValidationError> {
  try {
    await act();
  } catch (error) {
    expect((error as Error).name).toBe('CredentialValidationError');
    return error as CredentialValidationError;
  }
  throw new Error('expected the validation to be refused, but it succeeded');
}

/**
 * Everything an error exposes (message, own properties, stack, cause chain) and any log lines,
 * as one string to search for secret values.
 */
export function exposedText(error: unknown, logLines: readonly string[] = []): string {
  const parts: string[] = [...logLines];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify({ ...current }));
      current = current.cause;
    } else {
      parts.push(JSON.stringify(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

/** Asserts none of the secrets (nor a 12-character piece of one) appears in the text. */
export function expectNoSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    if (secret.length > 24) expect(text).not.toContain(secret.slice(8, 20));
  }
}

/** A logger that keeps every line, to search it for secrets. */
export function capturingLogger() {
  const lines: string[] = [];
  const write = (level: string) => (message: string, context?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...context }));
  };
  const logger = {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => logger,
  };
  return logger;
}

/** Form fields of a request body. */
export function formOf(request: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.body));
}
