import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../../functions/core/errors';
import type { Logger } from '../../../functions/core/logger';
import {
  ENGINE_ANSWER_LIMIT_BYTES,
  type EngineHttpTransport,
  nodeHttpTransport,
} from '../../../functions/engines/engine-http-transport';
import {
  EngineNotConfiguredError,
  EngineProtocolError,
  EngineRejectedError,
  EngineUnavailableError,
  HttpScanEngine,
  type StartScanRequest,
} from '../../../functions/engines/scan-engine-client';
import { ScanEngineSimulator } from '../../../local/scan-engine-simulator';
import { PROVIDER_TYPES, type ProviderType } from '../../../schemas/common';

/** A logger that keeps every entry, to search it for secrets. */
function capturingLogger(lines: string[] = []): Logger & { lines: string[] } {
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

/** A tiny loopback server whose answer each test sets, for answers the simulator never gives. */
interface AdHocServer {
  url: string;
  hits: { method: string; url: string; body: string }[];
  answer: (request: IncomingMessage, body: string, response: ServerResponse) => void;
  close(): Promise<void>;
}

async function startAdHocServer(): Promise<AdHocServer> {
  const state: AdHocServer = {
    url: '',
    hits: [],
    answer: (_request, _body, response) => {
      response.writeHead(500).end();
    },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.hits.push({ method: request.method ?? '', url: request.url ?? '', body });
      state.answer(request, body, response);
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

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/** Obviously fake credentials holding a unique canary value. */
function fakeRequest(overrides: Partial<StartScanRequest> = {}): StartScanRequest & { canary: string } {
  const canary = `CANARY-${randomBytes(12).toString('hex')}`;
  return {
    provider: 'aws',
    accountNumber: '111122223333',
    credentials: { access_key_id: 'FAKE-ACCESS-KEY-ID', secret_access_key: canary },
    regions: ['ap-south-1'],
    services: ['s3', 'iam'],
    excludeServices: ['ec2'],
    requestId: 'exec-0001',
    ...overrides,
    canary,
  };
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('Class: HttpScanEngine', () => {
  const simulator = new ScanEngineSimulator();
  const syncUrls = () =>
    Object.fromEntries(PROVIDER_TYPES.map((provider) => [provider, simulator.urlFor(provider, 'sync')]));
  const asyncUrls = () =>
    Object.fromEntries(PROVIDER_TYPES.map((provider) => [provider, simulator.urlFor(provider, 'async')]));

  beforeAll(async () => {
    await simulator.start();
  });
  afterAll(async () => {
    await simulator.stop();
  });
  beforeEach(() => {
    simulator.reset();
  });

  describe('Method: startScan', () => {
    it('returns the result at once from an engine that scans synchronously', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls() });
      const request = fakeRequest();

      // Act
      const outcome = await engine.startScan(request);

      // Assess
      const expected = ScanEngineSimulator.countsFor('aws', '111122223333', ['s3', 'iam']);
      expect(outcome).toEqual({
        kind: 'completed',
        summary: { scan_id: expect.stringMatching(/^sim-aws-/), ...expected },
      });
      expect(simulator.scansStarted).toBe(1);
    });

    it('sends the legacy body and the request id headers, credentials only in the body', async () => {
      // Prepare
      const sent: { url: string; headers: Record<string, string>; body: unknown }[] = [];
      const spyingTransport: EngineHttpTransport = async (call) => {
        sent.push({ url: call.url, headers: call.headers, body: JSON.parse(String(call.body)) });
        return nodeHttpTransport(call);
      };
      const engine = new HttpScanEngine({ urls: syncUrls(), transport: spyingTransport });
      const request = fakeRequest({ requestId: 'exec-42' });

      // Act
      await engine.startScan(request);

      // Assess
      expect(sent).toHaveLength(1);
      expect(sent[0]?.url).toBe(`${simulator.urlFor('aws', 'sync')}/api/v1/scan`);
      expect(sent[0]?.body).toEqual({
        account: '111122223333',
        credentials: { access_key_id: 'FAKE-ACCESS-KEY-ID', secret_access_key: request.canary },
        regions: ['ap-south-1'],
        services: ['s3', 'iam'],
        exclude_services: ['ec2'],
      });
      expect(sent[0]?.headers).toMatchObject({ 'idempotency-key': 'exec-42', 'x-request-id': 'exec-42' });
      expect(JSON.stringify(sent[0]?.headers)).not.toContain(request.canary);
      expect(sent[0]?.url).not.toContain(request.canary);
      expect(simulator.requests.at(-1)).toMatchObject({
        requestId: 'exec-42',
        credentialFields: ['access_key_id', 'secret_access_key'],
        excludeServices: ['ec2'],
      });
    });

    const IDENTIFIER_KEYS: [ProviderType, string][] = [
      ['aws', 'account'],
      ['alicloud', 'account'],
      ['ibm', 'account'],
      ['azure', 'subscription'],
      ['gcp', 'project'],
      ['oci', 'tenancy'],
    ];
    it.each(IDENTIFIER_KEYS)('sends the %s account identifier under "%s"', async (provider, key) => {
      // Prepare
      const bodies: Record<string, unknown>[] = [];
      const spyingTransport: EngineHttpTransport = async (call) => {
        bodies.push(JSON.parse(String(call.body)));
        return nodeHttpTransport(call);
      };
      const engine = new HttpScanEngine({ urls: syncUrls(), transport: spyingTransport });

      // Act
      const outcome = await engine.startScan(
        fakeRequest({
          provider,
          accountNumber: `${provider}-identifier-1`,
          credentials: { api_key: 'fake' },
        }),
      );

      // Assess
      expect(outcome.kind).toBe('completed');
      expect(Object.keys(bodies[0] ?? {})).toEqual([
        key,
        'credentials',
        'regions',
        'services',
        'exclude_services',
      ]);
      expect(bodies[0]?.[key]).toBe(`${provider}-identifier-1`);
      expect(simulator.requests.at(-1)).toMatchObject({ provider, identifier: `${provider}-identifier-1` });
    });

    it('returns a running scan from an engine that scans asynchronously', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: asyncUrls() });

      // Act
      const outcome = await engine.startScan(fakeRequest());

      // Assess
      expect(outcome).toEqual({ kind: 'running', scanId: expect.stringMatching(/^sim-aws-/) });
    });

    it('throws EngineUnavailableError, retryable, when the engine answers 5xx', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls() });
      simulator.failNext(1, { kind: 'http-error', status: 503 });
      simulator.failNext(1, { kind: 'http-error', status: 500 });

      // Act
      const first = await caught(engine.startScan(fakeRequest()));
      const second = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(first).toBeInstanceOf(EngineUnavailableError);
      expect(first).toBeInstanceOf(DomainError);
      expect(first).toMatchObject({
        name: 'EngineUnavailableError',
        permanent: false,
        status: 503,
        provider: 'aws',
        operation: 'start',
      });
      expect(first.message).toBe(
        'the aws scan engine is unavailable: POST /api/v1/scan answered HTTP 503: ' +
          'scan-engine simulator: injected fault (HTTP 503)',
      );
      expect(second).toMatchObject({ name: 'EngineUnavailableError', status: 500 });
    });

    it('throws EngineRejectedError, permanent, when the engine answers 400', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls() });
      simulator.failNext(1, { kind: 'http-error', status: 400 });

      // Act
      const error = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(error).toBeInstanceOf(EngineRejectedError);
      expect(error).toMatchObject({ name: 'EngineRejectedError', permanent: true, status: 400 });
      expect(error.message).toContain('HTTP 400');
    });

    it('throws EngineRejectedError naming the field when the engine refuses the body', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls() });

      // Act
      const error = await caught(engine.startScan(fakeRequest({ credentials: {} })));

      // Assess
      expect(error).toBeInstanceOf(EngineRejectedError);
      expect(error.message).toBe(
        "the aws scan engine rejected POST /api/v1/scan with HTTP 400: 'credentials' must not be empty",
      );
    });

    it('throws EngineUnavailableError when the engine does not answer within timeoutMs', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls(), timeoutMs: 150 });
      simulator.failNext(1, { kind: 'timeout' });
      const started = Date.now();

      // Act
      const error = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect(error.message).toBe(
        'the aws scan engine is unavailable: POST /api/v1/scan did not answer within 150 ms',
      );
    });

    it('throws EngineUnavailableError when a slow engine answers after timeoutMs', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls(), timeoutMs: 100 });
      simulator.failNext(1, { kind: 'slow', delayMs: 400 });

      // Act
      const error = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(error).toBeInstanceOf(EngineUnavailableError);
    });

    it('waits for a slow engine that answers within timeoutMs', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: syncUrls(), timeoutMs: 2_000 });
      simulator.failNext(1, { kind: 'slow', delayMs: 80 });

      // Act
      const outcome = await engine.startScan(fakeRequest());

      // Assess
      expect(outcome.kind).toBe('completed');
    });

    it('throws EngineUnavailableError when the connection is refused', async () => {
      // Prepare
      const closed = await startAdHocServer();
      const url = closed.url;
      await closed.close();
      const engine = new HttpScanEngine({ urls: { aws: url } });

      // Act
      const error = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect(error.message).toBe(
        'the aws scan engine is unavailable: POST /api/v1/scan failed (ECONNREFUSED)',
      );
    });

    it('throws EngineNotConfiguredError naming the variable when the provider has no URL', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: { aws: simulator.urlFor('aws') } });

      // Act
      const error = await caught(engine.startScan(fakeRequest({ provider: 'gcp' })));

      // Assess
      expect(error).toBeInstanceOf(EngineNotConfiguredError);
      expect(error).toMatchObject({ permanent: true, provider: 'gcp' });
      expect(error.message).toBe('no scan engine is configured for provider gcp (set GCP_ENGINE_URL)');
      expect(engine.isConfigured('gcp')).toBe(false);
      expect(engine.isConfigured('aws')).toBe(true);
    });

    it('rejects a timeoutMs that is not a positive number', () => {
      // Act & Assess
      expect(() => new HttpScanEngine({ urls: {}, timeoutMs: 0 })).toThrow(/timeoutMs must be a positive/);
    });
  });

  describe('Method: getStatus and getSummary', () => {
    it('polls an asynchronous scan until it completes, then reads its summary', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: asyncUrls() });
      const started = await engine.startScan(fakeRequest({ provider: 'azure', accountNumber: 'sub-0001' }));
      if (started.kind !== 'running') throw new Error('expected a running scan');

      // Act
      const statuses = [];
      for (let poll = 0; poll < 3; poll += 1) statuses.push(await engine.getStatus('azure', started.scanId));
      const summary = await engine.getSummary('azure', started.scanId);

      // Assess
      expect(statuses.map((s) => s.status)).toEqual(['running', 'running', 'completed']);
      expect(statuses[0]).toMatchObject({ scanId: started.scanId, progress: 33 });
      expect(statuses[2]).toMatchObject({ progress: 100 });
      expect(summary).toEqual({
        scan_id: started.scanId,
        ...ScanEngineSimulator.countsFor('azure', 'sub-0001', ['s3', 'iam']),
      });
    });

    it('throws EngineRejectedError when the summary of a running scan is asked for', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: asyncUrls() });
      const started = await engine.startScan(fakeRequest());
      if (started.kind !== 'running') throw new Error('expected a running scan');

      // Act
      const error = await caught(engine.getSummary('aws', started.scanId));

      // Assess
      expect(error).toBeInstanceOf(EngineRejectedError);
      expect(error).toMatchObject({ status: 409, operation: 'summary' });
      expect(error.message).toContain('is running: no summary yet');
    });

    it('throws EngineUnavailableError when a status poll answers 5xx', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: asyncUrls() });
      const started = await engine.startScan(fakeRequest());
      if (started.kind !== 'running') throw new Error('expected a running scan');
      simulator.failNext(1, { kind: 'http-error', status: 503 }, { on: 'status' });

      // Act
      const error = await caught(engine.getStatus('aws', started.scanId));
      const retried = await engine.getStatus('aws', started.scanId);

      // Assess
      expect(error).toMatchObject({ name: 'EngineUnavailableError', operation: 'status', status: 503 });
      expect(retried.status).toBe('running');
    });

    it('throws EngineRejectedError for an unknown scan id', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: asyncUrls() });

      // Act
      const error = await caught(engine.getStatus('aws', 'no-such/scan'));

      // Assess
      expect(error).toMatchObject({ name: 'EngineRejectedError', status: 404 });
      expect(simulator.requests.at(-1)?.path).toBe('/async/aws/api/v1/scan/no-such%2Fscan/status');
    });
  });

  describe('Method: cancel', () => {
    it('cancels a running scan', async () => {
      // Prepare
      const engine = new HttpScanEngine({ urls: asyncUrls() });
      const started = await engine.startScan(fakeRequest());
      if (started.kind !== 'running') throw new Error('expected a running scan');

      // Act
      await engine.cancel('aws', started.scanId);
      const status = await engine.getStatus('aws', started.scanId);

      // Assess
      expect(status.status).toBe('cancelled');
      expect(simulator.counters.cancellations).toBe(1);
    });
  });

  describe('Engine answers outside the contract', () => {
    let server: AdHocServer;
    beforeAll(async () => {
      server = await startAdHocServer();
    });
    afterAll(async () => {
      await server.close();
    });
    afterEach(() => {
      server.hits.length = 0;
    });

    const MALFORMED: [string, (response: ServerResponse) => void, RegExp][] = [
      [
        'a body that is not JSON',
        (r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway</html>'),
        /with HTTP 200 but a body that is not JSON/,
      ],
      ['no scan_id', (r) => json(r, 200, { total_checks: 3 }), /scan_id/],
      [
        'a negative count',
        (r) => json(r, 200, { scan_id: 's-1', total_checks: 3, passed_checks: -1, failed_checks: 4 }),
        /passed_checks must not be negative/,
      ],
      [
        'a scan id with neither counts nor a running status',
        (r) => json(r, 200, { scan_id: 's-1' }),
        /neither the check counts nor a running status/,
      ],
      [
        'an unknown status word',
        (r) => json(r, 202, { scan_id: 's-1', status: 'sleeping' }),
        /status is not a known/,
      ],
      ['a JSON array', (r) => json(r, 200, [1, 2]), /does not follow the contract/],
      [
        'a redirect (never followed)',
        (r) => r.writeHead(307, { location: '/elsewhere' }).end(),
        /unexpected HTTP 307 \(redirects are not followed\)/,
      ],
      [
        'an answer larger than the limit',
        (r) => json(r, 200, { scan_id: 's-1', padding: 'x'.repeat(ENGINE_ANSWER_LIMIT_BYTES) }),
        /with more than 1048576 bytes/,
      ],
    ];
    it.each(MALFORMED)('throws EngineProtocolError, permanent, for %s', async (_label, answer, message) => {
      // Prepare
      server.answer = (_request, _body, response) => answer(response);
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const error = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(error).toBeInstanceOf(EngineProtocolError);
      expect(error).toMatchObject({ name: 'EngineProtocolError', permanent: true, provider: 'aws' });
      expect(error.message).toMatch(message);
      expect(server.hits).toHaveLength(1);
    });

    it('throws EngineProtocolError for a status answer without a status', async () => {
      // Prepare
      server.answer = (_request, _body, response) => json(response, 200, { scan_id: 's-1', progress: 10 });
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const error = await caught(engine.getStatus('aws', 's-1'));

      // Assess
      expect(error).toBeInstanceOf(EngineProtocolError);
      expect(error.message).toContain(
        "the aws scan engine's status answer (HTTP 200) does not follow the contract",
      );
    });

    it('throws EngineProtocolError for a summary answer without counts', async () => {
      // Prepare
      server.answer = (_request, _body, response) =>
        json(response, 200, { scan_id: 's-1', status: 'completed' });
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const error = await caught(engine.getSummary('aws', 's-1'));

      // Assess
      expect(error).toBeInstanceOf(EngineProtocolError);
      expect(error.message).toMatch(/total_checks/);
    });

    it('accepts the legacy answer without error_checks and a numeric scan id', async () => {
      // Prepare
      server.answer = (_request, _body, response) =>
        json(response, 200, { scan_id: 987, total_checks: 10, passed_checks: 7, failed_checks: 3 });
      const engine = new HttpScanEngine({ urls: { aws: `${server.url}/` } });

      // Act
      const outcome = await engine.startScan(fakeRequest());

      // Assess
      expect(outcome).toEqual({
        kind: 'completed',
        summary: { scan_id: '987', total_checks: 10, passed_checks: 7, failed_checks: 3, error_checks: 0 },
      });
      expect(server.hits[0]?.url).toBe('/api/v1/scan');
    });

    it.each(['queued', 'pending', 'in_progress', 'IN-PROGRESS'])(
      'treats status "%s" as running even with partial counts',
      async (status) => {
        // Prepare
        server.answer = (_request, _body, response) =>
          json(response, 202, {
            scan_id: 's-2',
            status,
            total_checks: 0,
            passed_checks: 0,
            failed_checks: 0,
          });
        const engine = new HttpScanEngine({ urls: { aws: server.url } });

        // Act
        const outcome = await engine.startScan(fakeRequest());

        // Assess
        expect(outcome).toEqual({ kind: 'running', scanId: 's-2' });
      },
    );

    it('maps the engine status words onto running, completed, failed and cancelled', async () => {
      // Prepare
      const words = ['pending', 'succeeded', 'error', 'canceled'];
      let next = 0;
      server.answer = (_request, _body, response) =>
        json(response, 200, { status: words[next++], message: 'engine text' });
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const statuses = [];
      for (const _word of words) statuses.push(await engine.getStatus('aws', 's-3'));

      // Assess
      expect(statuses).toEqual([
        { scanId: 's-3', status: 'running', message: 'engine text' },
        { scanId: 's-3', status: 'completed', message: 'engine text' },
        { scanId: 's-3', status: 'failed', message: 'engine text' },
        { scanId: 's-3', status: 'cancelled', message: 'engine text' },
      ]);
    });

    it('truncates the engine error text to 200 characters', async () => {
      // Prepare
      server.answer = (_request, _body, response) => json(response, 502, { detail: 'x'.repeat(5_000) });
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const error = (await caught(engine.startScan(fakeRequest()))) as EngineUnavailableError;

      // Assess
      expect(error.engineMessage).toHaveLength(200);
      expect(error.message.length).toBeLessThan(300);
    });

    const ECHOING: [string, (response: ServerResponse, body: string) => void][] = [
      [
        'a FastAPI 422 whose input echoes the body',
        (r, body) =>
          json(r, 422, {
            detail: [
              { loc: ['body', 'regions'], msg: 'field required', type: 'missing', input: JSON.parse(body) },
            ],
          }),
      ],
      ['a 500 whose text is the raw body', (r, body) => r.writeHead(500).end(`crashed on ${body}`)],
      [
        'a 400 detail quoting the secret',
        (r, body) => json(r, 400, { detail: `bad key ${JSON.parse(body).credentials.secret_access_key}` }),
      ],
      [
        'a failed scan whose message quotes the body',
        (r, body) => json(r, 200, { scan_id: 's-4', status: 'failed', message: `could not use ${body}` }),
      ],
      [
        'a malformed answer echoing the body',
        (r, body) => json(r, 200, { scan_id: { echo: JSON.parse(body) } }),
      ],
    ];
    it.each(ECHOING)(
      'never puts a credential value in the error or the logs for %s',
      async (_label, answer) => {
        // Prepare
        server.answer = (_request, body, response) => answer(response, body);
        const logger = capturingLogger();
        const engine = new HttpScanEngine({ urls: { aws: server.url }, logger });
        const request = fakeRequest();

        // Act
        const error = await caught(engine.startScan(request));

        // Assess
        expect(server.hits[0]?.body).toContain(request.canary); // the engine did receive it
        expect(error).toBeInstanceOf(DomainError);
        const everything = JSON.stringify({
          message: error.message,
          stack: error.stack,
          fields: { ...error },
          cause: error.cause instanceof Error ? [error.cause.message, error.cause.stack] : error.cause,
          logs: logger.lines,
        });
        expect(everything).not.toContain(request.canary);
        expect(everything).not.toContain('FAKE-ACCESS-KEY-ID');
      },
    );

    it('keeps the useful part of a FastAPI validation error', async () => {
      // Prepare
      server.answer = (_request, body, response) =>
        json(response, 422, {
          detail: [
            { loc: ['body', 'regions'], msg: 'field required', type: 'missing', input: JSON.parse(body) },
          ],
        });
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const error = await caught(engine.startScan(fakeRequest()));

      // Assess
      expect(error.message).toBe(
        'the aws scan engine rejected POST /api/v1/scan with HTTP 422: regions: field required',
      );
    });

    it('treats 429 as unavailable, not rejected', async () => {
      // Prepare
      server.answer = (_request, _body, response) => json(response, 429, { detail: 'slow down' });
      const engine = new HttpScanEngine({ urls: { aws: server.url } });

      // Act
      const error = await caught(engine.getStatus('aws', 's-5'));

      // Assess
      expect(error).toMatchObject({ name: 'EngineUnavailableError', permanent: false, status: 429 });
    });
  });
});
