import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../functions/core/logger';
import { ScanEngineSimulator } from '../../local/scan-engine-simulator';
import { PROVIDER_TYPES } from '../../schemas/common';

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

const canary = () => `CANARY-${randomBytes(12).toString('hex')}`;

interface PostOptions {
  requestId?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** Speaks to the simulator with raw HTTP (not the client), so its own behaviour is what is tested. */
async function post(
  url: string,
  options: PostOptions = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
    },
    body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body ?? {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function get(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const scanBody = (overrides: Record<string, unknown> = {}) => ({
  account: '111122223333',
  credentials: { access_key_id: 'FAKE-ID', secret_access_key: 'fake-secret' },
  regions: ['ap-south-1'],
  services: ['s3', 'iam'],
  exclude_services: [],
  ...overrides,
});

describe('Class: ScanEngineSimulator', () => {
  let simulator: ScanEngineSimulator;
  let logger: ReturnType<typeof capturingLogger>;

  beforeEach(async () => {
    logger = capturingLogger();
    simulator = new ScanEngineSimulator({ logger });
    await simulator.start();
  });
  afterEach(async () => {
    await simulator.stop();
  });

  describe('Determinism', () => {
    it('answers the same scan id and counts for the same input on two simulators', async () => {
      // Prepare
      const other = new ScanEngineSimulator();
      await other.start();

      // Act
      const first = await post(`${simulator.urlFor('aws', 'sync')}/api/v1/scan`, {
        requestId: 'exec-1',
        body: scanBody(),
      });
      const second = await post(`${other.urlFor('aws', 'sync')}/api/v1/scan`, {
        requestId: 'exec-1',
        body: scanBody({ credentials: { other: 'fake' }, regions: ['us-east-1'] }),
      });
      await other.stop();

      // Assess
      expect(first.status).toBe(200);
      expect(second.json).toEqual(first.json);
      expect(first.json).toEqual({
        scan_id: expect.stringMatching(/^sim-aws-[0-9a-f]{20}$/),
        ...ScanEngineSimulator.countsFor('aws', '111122223333', ['iam', 's3']),
      });
    });

    it('derives the counts from provider, account and services only', () => {
      // Act
      const base = ScanEngineSimulator.countsFor('aws', '111122223333', ['s3', 'iam']);
      const reordered = ScanEngineSimulator.countsFor('aws', '111122223333', ['iam', 's3']);
      const otherServices = ScanEngineSimulator.countsFor('aws', '111122223333', ['s3']);
      const otherAccount = ScanEngineSimulator.countsFor('aws', '444455556666', ['s3', 'iam']);
      const otherProvider = ScanEngineSimulator.countsFor('gcp', '111122223333', ['s3', 'iam']);

      // Assess
      expect(reordered).toEqual(base);
      expect(otherServices).not.toEqual(base);
      expect(otherAccount).not.toEqual(base);
      expect(otherProvider).not.toEqual(base);
    });

    it('always gives counts that add up to the total', () => {
      for (let index = 0; index < 300; index += 1) {
        // Act
        const provider = PROVIDER_TYPES[index % PROVIDER_TYPES.length] ?? 'aws';
        const counts = ScanEngineSimulator.countsFor(provider, `account-${index}`, [`service-${index % 7}`]);

        // Assess
        expect(counts.passed_checks + counts.failed_checks + counts.error_checks).toBe(counts.total_checks);
        expect(counts.total_checks).toBeGreaterThanOrEqual(40);
        expect(counts.total_checks).toBeLessThanOrEqual(500);
        expect(
          Math.min(counts.passed_checks, counts.failed_checks, counts.error_checks),
        ).toBeGreaterThanOrEqual(0);
      }
    });

    it('answers the existing scan for a repeated request id and a new one otherwise', async () => {
      // Prepare
      const url = `${simulator.urlFor('gcp', 'async')}/api/v1/scan`;
      const body = scanBody({ account: undefined, project: 'fake-project' });

      // Act
      const first = await post(url, { requestId: 'exec-1', body });
      const repeated = await post(url, { requestId: 'exec-1', body });
      const other = await post(url, { requestId: 'exec-2', body });
      const anonymousA = await post(url, { body });
      const anonymousB = await post(url, { body });

      // Assess
      expect(first).toEqual({ status: 202, json: { scan_id: expect.any(String), status: 'running' } });
      expect(repeated.json.scan_id).toBe(first.json.scan_id);
      expect(other.json.scan_id).not.toBe(first.json.scan_id);
      expect(anonymousA.json.scan_id).not.toBe(anonymousB.json.scan_id);
      expect(simulator.scansStarted).toBe(4);
    });
  });

  describe('Asynchronous engine', () => {
    it('reports running for the configured number of polls, then completed with a summary', async () => {
      // Prepare
      const base = simulator.urlFor('oci', 'async');
      const started = await post(`${base}/api/v1/scan`, {
        body: scanBody({ account: undefined, tenancy: 'ocid1.tenancy.oc1..fake' }),
      });
      const scanId = String(started.json.scan_id);

      // Act
      const early = await get(`${base}/api/v1/scan/${scanId}/summary`);
      const polls = [];
      for (let poll = 0; poll < 4; poll += 1) polls.push(await get(`${base}/api/v1/scan/${scanId}/status`));
      const summary = await get(`${base}/api/v1/scan/${scanId}/summary`);

      // Assess
      expect(early.status).toBe(409);
      expect(polls.map((p) => p.json.status)).toEqual(['running', 'running', 'completed', 'completed']);
      expect(polls.map((p) => p.json.progress)).toEqual([33, 66, 100, 100]);
      expect(summary).toEqual({
        status: 200,
        json: {
          scan_id: scanId,
          status: 'completed',
          ...ScanEngineSimulator.countsFor('oci', 'ocid1.tenancy.oc1..fake', ['s3', 'iam']),
        },
      });
      expect(simulator.counters).toMatchObject({ scansStarted: 1, statusPolls: 4, summaries: 2 });
    });

    it('honours runningPolls', async () => {
      // Prepare
      const quick = new ScanEngineSimulator({ runningPolls: 0 });
      await quick.start();
      const base = quick.urlFor('aws', 'async');
      const started = await post(`${base}/api/v1/scan`, { body: scanBody() });

      // Act
      const status = await get(`${base}/api/v1/scan/${String(started.json.scan_id)}/status`);
      await quick.stop();

      // Assess
      expect(status.json.status).toBe('completed');
    });

    it('cancels a running scan and refuses to cancel a completed one', async () => {
      // Prepare
      const asyncBase = simulator.urlFor('aws', 'async');
      const syncBase = simulator.urlFor('aws', 'sync');
      const running = String((await post(`${asyncBase}/api/v1/scan`, { body: scanBody() })).json.scan_id);
      const done = String((await post(`${syncBase}/api/v1/scan`, { body: scanBody() })).json.scan_id);

      // Act
      const cancelled = await post(`${asyncBase}/api/v1/scan/${running}/cancel`);
      const status = await get(`${asyncBase}/api/v1/scan/${running}/status`);
      const refused = await post(`${syncBase}/api/v1/scan/${done}/cancel`);
      const unknown = await post(`${syncBase}/api/v1/scan/sim-aws-nope/cancel`);
      const wrongProvider = await get(`${simulator.urlFor('gcp', 'async')}/api/v1/scan/${running}/status`);

      // Assess
      expect(cancelled).toEqual({ status: 200, json: { scan_id: running, status: 'cancelled' } });
      expect(status.json.status).toBe('cancelled');
      expect(refused.status).toBe(409);
      expect(unknown.status).toBe(404);
      expect(wrongProvider.status).toBe(404);
      expect(simulator.counters.cancellations).toBe(1);
    });
  });

  describe('Request validation', () => {
    const INVALID: [string, string, unknown, RegExp][] = [
      ['the identifier is missing', 'aws', scanBody({ account: undefined }), /'account' is required/],
      ['the identifier uses another provider key', 'azure', scanBody(), /'subscription' is required/],
      ['the identifier is empty', 'aws', scanBody({ account: ' ' }), /'account' is required/],
      ['credentials are missing', 'aws', scanBody({ credentials: undefined }), /'credentials' is required/],
      ['credentials are empty', 'aws', scanBody({ credentials: {} }), /'credentials' must not be empty/],
      ['credentials are a string', 'aws', scanBody({ credentials: 'x' }), /'credentials' is required/],
      ['regions is not a list', 'aws', scanBody({ regions: 'ap-south-1' }), /'regions' must be a list/],
      ['the body is not JSON', 'aws', '{not json', /not JSON/],
    ];
    it.each(INVALID)('answers 400 when %s', async (_label, provider, body, detail) => {
      // Act
      const answer = await post(`${simulator.urlFor(provider as 'aws', 'sync')}/api/v1/scan`, { body });

      // Assess
      expect(answer.status).toBe(400);
      expect(String(answer.json.detail)).toMatch(detail);
      expect(simulator.scansStarted).toBe(0);
    });

    it('answers 404 for an unknown route', async () => {
      // Act
      const answer = await get(`${simulator.url}/sync/nope/api/v1/scan/x/status`);

      // Assess
      expect(answer.status).toBe(404);
    });
  });

  describe('Method: failNext', () => {
    it('fails exactly the next N start requests, then answers normally', async () => {
      // Prepare
      const url = `${simulator.urlFor('aws', 'sync')}/api/v1/scan`;
      simulator.failNext(2, { kind: 'http-error', status: 503 });
      simulator.failNext(1, { kind: 'http-error', status: 400 });

      // Act
      const statuses = [];
      for (let attempt = 0; attempt < 5; attempt += 1)
        statuses.push((await post(url, { body: scanBody() })).status);

      // Assess
      expect(statuses).toEqual([503, 503, 400, 200, 200]);
      expect(simulator.counters).toMatchObject({ scansStarted: 2, faultsInjected: 3 });
      expect(simulator.pendingFaults()).toBe(0);
      expect(simulator.requests.map((r) => r.fault)).toEqual([
        'http-error',
        'http-error',
        'http-error',
        undefined,
        undefined,
      ]);
      expect(simulator.requests.map((r) => r.responseStatus)).toEqual(statuses);
    });

    it('applies a fault on status polls only to status polls', async () => {
      // Prepare
      const base = simulator.urlFor('aws', 'async');
      simulator.failNext(1, { kind: 'http-error', status: 500 }, { on: 'status' });

      // Act
      const started = await post(`${base}/api/v1/scan`, { body: scanBody() });
      const failed = await get(`${base}/api/v1/scan/${String(started.json.scan_id)}/status`);
      const next = await get(`${base}/api/v1/scan/${String(started.json.scan_id)}/status`);

      // Assess
      expect(started.status).toBe(202);
      expect(failed.status).toBe(500);
      expect(next.json).toMatchObject({ status: 'running', progress: 33 });
    });

    it('delays a slow answer by at least delayMs', async () => {
      // Prepare
      simulator.failNext(1, { kind: 'slow', delayMs: 150 });
      const started = Date.now();

      // Act
      const answer = await post(`${simulator.urlFor('aws', 'sync')}/api/v1/scan`, { body: scanBody() });

      // Assess
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(answer.status).toBe(200);
      expect(simulator.scansStarted).toBe(1);
    });

    it('never answers a timed-out request; the next one is answered', async () => {
      // Prepare
      const url = `${simulator.urlFor('aws', 'sync')}/api/v1/scan`;
      simulator.failNext(1, { kind: 'timeout' });

      // Act
      const hung = await post(url, { body: scanBody(), signal: AbortSignal.timeout(200) }).catch(
        (error: Error) => error,
      );
      const next = await post(url, { body: scanBody() });

      // Assess
      expect(hung).toBeInstanceOf(Error);
      expect((hung as Error).name).toBe('TimeoutError');
      expect(next.status).toBe(200);
      expect(simulator.scansStarted).toBe(1);
    });

    it('rejects a count below one', () => {
      // Act & Assess
      expect(() => simulator.failNext(0, { kind: 'timeout' })).toThrow(/count must be a whole number ≥ 1/);
    });
  });

  describe('Method: stop', () => {
    it('closes a hanging request at once', async () => {
      // Prepare
      simulator.failNext(1, { kind: 'timeout' });
      const hanging = post(`${simulator.urlFor('aws', 'sync')}/api/v1/scan`, { body: scanBody() }).catch(
        (error: Error) => error,
      );
      await vi.waitFor(() => expect(simulator.requests).toHaveLength(1));
      const started = Date.now();

      // Act
      await simulator.stop();
      const outcome = await hanging;

      // Assess
      expect(Date.now() - started).toBeLessThan(500);
      expect(outcome).toBeInstanceOf(Error);
    });

    it('ends a slow answer at once and stops listening', async () => {
      // Prepare
      const url = `${simulator.urlFor('aws', 'sync')}/api/v1/scan`;
      simulator.failNext(1, { kind: 'slow', delayMs: 60_000 });
      const slow = post(url, { body: scanBody() }).catch((error: Error) => error);
      await vi.waitFor(() => expect(simulator.requests).toHaveLength(1));
      const started = Date.now();

      // Act
      await simulator.stop();
      const outcome = await slow;
      const after = await post(url, { body: scanBody() }).catch((error: Error) => error);

      // Assess
      expect(Date.now() - started).toBeLessThan(500);
      expect(outcome).toBeInstanceOf(Error);
      expect(after).toBeInstanceOf(Error);
      expect(simulator.scansStarted).toBe(0);
    });
  });

  describe('Secrets', () => {
    it('keeps only credential field names in its request log and never logs a credential', async () => {
      // Prepare
      const secret = canary();
      simulator.failNext(1, { kind: 'http-error', status: 500 });
      const url = `${simulator.urlFor('aws', 'sync')}/api/v1/scan`;
      const body = scanBody({ credentials: { access_key_id: 'FAKE-ID', secret_access_key: secret } });

      // Act
      await post(url, { body });
      await post(url, { body });
      await post(url, { body: { ...body, regions: 'bad' } });

      // Assess
      expect(simulator.requests).toHaveLength(3);
      expect(simulator.requests[1]).toMatchObject({
        provider: 'aws',
        mode: 'sync',
        kind: 'scan',
        identifierKey: 'account',
        identifier: '111122223333',
        credentialFields: ['access_key_id', 'secret_access_key'],
        responseStatus: 200,
      });
      expect(JSON.stringify(simulator.requests)).not.toContain(secret);
      expect(JSON.stringify(simulator.requests)).not.toContain('FAKE-ID');
      expect(logger.lines.length).toBeGreaterThan(0);
      expect(logger.lines.join('\n')).not.toContain(secret);
      for (const line of logger.lines) {
        expect(JSON.parse(line).message).toMatch(/^scan-engine simulator/);
      }
    });
  });

  it('refuses urlFor before start', () => {
    // Act & Assess
    expect(() => new ScanEngineSimulator().urlFor('aws')).toThrow(/not started/);
  });
});
