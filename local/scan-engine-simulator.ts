import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../functions/core/logger';
import { type ProviderType, ProviderTypeSchema } from '../schemas/common';

/**
 * A deterministic stand-in for the legacy provider scan engines, on loopback. It is NOT a scan
 * engine: it checks nothing in any cloud, it makes numbers up from a hash of its input. Every log
 * line starts with "scan-engine simulator" so nobody mistakes it for the real thing.
 *
 * URLs: `http://127.0.0.1:PORT/{sync|async}/{provider}` is an engine base URL (what
 * `*_ENGINE_URL` holds); the contract's paths (`/api/v1/scan`, `/api/v1/scan/{id}/status`, …)
 * follow it. A `sync` engine answers the scan result at once; an `async` engine answers
 * `{scan_id, status: 'running'}` and reports `running` for `runningPolls` status polls, then
 * `completed`, with `/summary` holding the counts.
 */

export type SimulatorMode = 'sync' | 'async';

export type SimulatorFault =
  | { kind: 'http-error'; status: 500 | 503 | 400 }
  /** Never answers: the client gives up. `stop()` still closes the connection at once. */
  | { kind: 'timeout' }
  /** Answers normally after `delayMs`. */
  | { kind: 'slow'; delayMs: number };

export type SimulatorRequestKind = 'scan' | 'status' | 'summary' | 'cancel';

export interface SimulatorFaultOptions {
  /** Which requests the fault applies to; the start request (`POST /api/v1/scan`) by default. */
  on?: SimulatorRequestKind;
}

/** What the simulator remembers of a request: never a credential value. */
export interface SimulatorRequestRecord {
  method: string;
  path: string;
  mode?: SimulatorMode;
  provider?: ProviderType;
  kind?: SimulatorRequestKind;
  scanId?: string;
  /** The X-Request-Id / Idempotency-Key header. */
  requestId?: string;
  /** The body key holding the account identifier, and its value (not a secret). */
  identifierKey?: string;
  identifier?: string;
  /** Names of the credential fields that were present (values are never kept). */
  credentialFields?: string[];
  regions?: string[];
  services?: string[];
  excludeServices?: string[];
  /** The fault injected into this request, if any. */
  fault?: SimulatorFault['kind'];
  /** The HTTP status answered; undefined while pending or when the request was never answered. */
  responseStatus?: number;
}

export interface SimulatorCounters {
  /** Scans created (a repeated request id answers the existing scan and does not count). */
  scansStarted: number;
  statusPolls: number;
  summaries: number;
  cancellations: number;
  faultsInjected: number;
}

export interface ScanEngineSimulatorOptions {
  /** 0 (default) picks a free port; the real one is known after `start()`. */
  port?: number;
  logger?: Logger;
  /** How many status polls an async scan reports `running` before `completed`. Default 2. */
  runningPolls?: number;
}

/**
 * The key each legacy engine expects the account identifier under, as the engines define it
 * (declared here on the engine's side on purpose, so tests of the client check it independently).
 */
const IDENTIFIER_KEY: Record<ProviderType, string> = {
  aws: 'account',
  alicloud: 'account',
  ibm: 'account',
  azure: 'subscription',
  gcp: 'project',
  oci: 'tenancy',
};

const MAX_BODY_BYTES = 1024 * 1024;

/** The simulator's state of one scan. */
export interface SimulatedScan {
  scanId: string;
  provider: ProviderType;
  mode: SimulatorMode;
  identifier: string;
  requestId?: string;
  status: 'running' | 'completed' | 'cancelled';
  pollsLeft: number;
  polls: number;
  counts: { total_checks: number; passed_checks: number; failed_checks: number; error_checks: number };
}

interface PendingFault {
  on: SimulatorRequestKind;
  fault: SimulatorFault;
  remaining: number;
}

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class ScanEngineSimulator {
  readonly #logger: Logger;
  readonly #requestedPort: number;
  readonly #runningPolls: number;
  #server: Server | undefined;
  #port: number | undefined;
  readonly #scans = new Map<string, SimulatedScan>();
  readonly #scanByRequest = new Map<string, string>();
  #faults: PendingFault[] = [];
  readonly #hanging = new Set<ServerResponse>();
  /** Slow-fault delays in progress: stop() ends them at once. */
  readonly #delays = new Map<NodeJS.Timeout, (proceed: boolean) => void>();
  #counter = 0;
  #counters: SimulatorCounters = emptyCounters();
  /** Every request received, in order, without credential values. */
  readonly requests: SimulatorRequestRecord[] = [];

  constructor(options: ScanEngineSimulatorOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#requestedPort = options.port ?? 0;
    this.#runningPolls = options.runningPolls ?? 2;
    if (!Number.isInteger(this.#runningPolls) || this.#runningPolls < 0) {
      throw new RangeError(`runningPolls must be a whole number ≥ 0, got ${options.runningPolls}`);
    }
  }

  get port(): number {
    if (this.#port === undefined) throw new Error('scan-engine simulator is not started: call start() first');
    return this.#port;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get counters(): Readonly<SimulatorCounters> {
    return { ...this.#counters };
  }

  get scansStarted(): number {
    return this.#counters.scansStarted;
  }

  /** The engine base URL for a provider and mode, e.g. `http://127.0.0.1:PORT/sync/aws`. */
  urlFor(provider: ProviderType, mode: SimulatorMode = 'sync'): string {
    return `${this.url}/${mode}/${provider}`;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#logger.error('scan-engine simulator failed to answer a request', {
          error: error instanceof Error ? error.message : String(error),
        });
        if (!response.headersSent)
          this.#send(response, 500, { detail: 'scan-engine simulator internal error' });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#requestedPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    this.#logger.info('scan-engine simulator started (not a real scan engine)', { url: this.url });
  }

  /** Closes the server and every open connection at once, including requests left hanging. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const [timer, resolve] of this.#delays) {
      clearTimeout(timer);
      resolve(false);
    }
    this.#delays.clear();
    for (const response of this.#hanging) response.destroy();
    this.#hanging.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    this.#logger.info('scan-engine simulator stopped', { port: this.#port });
  }

  /**
   * Makes the next `count` requests of one kind (start requests unless `on` says otherwise)
   * fail with `fault`. Calls queue up: the first queued fault with requests left applies first.
   */
  failNext(count: number, fault: SimulatorFault, options: SimulatorFaultOptions = {}): void {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`count must be a whole number ≥ 1, got ${count}`);
    if (fault.kind === 'slow' && (!Number.isFinite(fault.delayMs) || fault.delayMs < 0)) {
      throw new RangeError(`delayMs must be ≥ 0, got ${fault.delayMs}`);
    }
    this.#faults.push({ on: options.on ?? 'scan', fault, remaining: count });
  }

  /** How many injected faults are still waiting for a request. */
  pendingFaults(on?: SimulatorRequestKind): number {
    return this.#faults
      .filter((f) => on === undefined || f.on === on)
      .reduce((sum, f) => sum + f.remaining, 0);
  }

  /** Forgets scans, faults, the request log and the counters (the server keeps running). */
  reset(): void {
    this.#scans.clear();
    this.#scanByRequest.clear();
    this.#faults = [];
    this.requests.length = 0;
    this.#counter = 0;
    this.#counters = emptyCounters();
  }

  /** The simulated state of a scan, for assertions. */
  scan(scanId: string): Readonly<SimulatedScan> | undefined {
    const scan = this.#scans.get(scanId);
    return scan ? { ...scan, counts: { ...scan.counts } } : undefined;
  }

  /** The counts the simulator gives a scan of this input: a pure function of it. */
  static countsFor(
    provider: ProviderType,
    identifier: string,
    services: readonly string[],
  ): SimulatedScan['counts'] {
    const digest = createHash('sha256')
      .update(JSON.stringify([provider, identifier, [...services].sort()]))
      .digest();
    const total = 40 + (digest.readUInt16BE(0) % 461); // 40..500
    const passed = Math.floor((total * (55 + ((digest[2] ?? 0) % 41))) / 100); // 55%..95%
    const errors = Math.min(total - passed, (digest[3] ?? 0) % 6);
    return {
      total_checks: total,
      passed_checks: passed,
      failed_checks: total - passed - errors,
      error_checks: errors,
    };
  }

  // -------------------------------------------------------------------------------------------

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const record: SimulatorRequestRecord = { method, path };
    this.requests.push(record);
    response.on('finish', () => {
      record.responseStatus = response.statusCode;
    });

    const route = matchRoute(method, path);
    if (!route) {
      this.#send(response, 404, { detail: `scan-engine simulator has no route ${method} ${path}` });
      return;
    }
    record.mode = route.mode;
    record.provider = route.provider;
    record.kind = route.kind;
    if (route.scanId !== undefined) record.scanId = route.scanId;
    const requestId = headerValue(request, 'x-request-id') ?? headerValue(request, 'idempotency-key');
    if (requestId !== undefined) record.requestId = requestId;

    // The body is read before a fault applies, as a real server would have it when it fails.
    let body: string;
    try {
      body = await readBody(request);
    } catch (error) {
      this.#send(response, error instanceof BadRequest ? error.status : 400, {
        detail: error instanceof Error ? error.message : 'unreadable body',
      });
      return;
    }

    const fault = this.#takeFault(route.kind);
    if (fault) {
      record.fault = fault.kind;
      this.#counters.faultsInjected += 1;
      this.#logger.info('scan-engine simulator injected a fault', {
        provider: route.provider,
        kind: route.kind,
        fault: fault.kind,
      });
      if (fault.kind === 'http-error') {
        this.#send(response, fault.status, {
          detail: `scan-engine simulator: injected fault (HTTP ${fault.status})`,
        });
        return;
      }
      if (fault.kind === 'timeout') {
        this.#hanging.add(response);
        response.on('close', () => this.#hanging.delete(response));
        return;
      }
      const proceed = await this.#delay(fault.delayMs);
      if (!proceed || response.destroyed) return;
    }

    try {
      switch (route.kind) {
        case 'scan':
          this.#startScan(route.mode, route.provider, body, requestId, record, response);
          return;
        case 'status':
          this.#status(route.provider, route.scanId ?? '', response);
          return;
        case 'summary':
          this.#summary(route.provider, route.scanId ?? '', response);
          return;
        case 'cancel':
          this.#cancel(route.provider, route.scanId ?? '', response);
          return;
      }
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      this.#logger.info('scan-engine simulator refused a request', {
        provider: route.provider,
        kind: route.kind,
        status: error.status,
        reason: error.message,
      });
      this.#send(response, error.status, { detail: error.message });
    }
  }

  #startScan(
    mode: SimulatorMode,
    provider: ProviderType,
    body: string,
    requestId: string | undefined,
    record: SimulatorRequestRecord,
    response: ServerResponse,
  ): void {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new BadRequest('the request body is not JSON');
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new BadRequest('the request body must be a JSON object');
    }
    const input = json as Record<string, unknown>;
    const identifierKey = IDENTIFIER_KEY[provider];
    record.identifierKey = identifierKey;
    const credentials = input.credentials;
    if (credentials && typeof credentials === 'object' && !Array.isArray(credentials)) {
      record.credentialFields = Object.keys(credentials).sort();
    }
    const regions = stringArray(input.regions, 'regions');
    const services = stringArray(input.services, 'services');
    const excludeServices = stringArray(input.exclude_services, 'exclude_services');
    record.regions = regions;
    record.services = services;
    record.excludeServices = excludeServices;

    const identifier = input[identifierKey];
    if (typeof identifier !== 'string' || identifier.trim() === '') {
      throw new BadRequest(`'${identifierKey}' is required: the ${provider} engine's account identifier`);
    }
    record.identifier = identifier;
    if (!credentials || typeof credentials !== 'object' || Array.isArray(credentials)) {
      throw new BadRequest("'credentials' is required and must be an object");
    }
    if (Object.keys(credentials).length === 0) throw new BadRequest("'credentials' must not be empty");

    const idempotencyKey = requestId === undefined ? undefined : `${mode}/${provider}/${requestId}`;
    const existingId = idempotencyKey === undefined ? undefined : this.#scanByRequest.get(idempotencyKey);
    const existing = existingId === undefined ? undefined : this.#scans.get(existingId);
    const scan = existing ?? this.#createScan(mode, provider, identifier, services, requestId);
    if (idempotencyKey !== undefined) this.#scanByRequest.set(idempotencyKey, scan.scanId);

    if (mode === 'sync') {
      this.#send(response, 200, { scan_id: scan.scanId, ...scan.counts });
      return;
    }
    this.#send(response, 202, { scan_id: scan.scanId, status: scan.status });
  }

  #createScan(
    mode: SimulatorMode,
    provider: ProviderType,
    identifier: string,
    services: string[],
    requestId: string | undefined,
  ): SimulatedScan {
    this.#counter += 1;
    const seed = requestId ?? `#${this.#counter}`;
    const scanId = `sim-${provider}-${createHash('sha256')
      .update(JSON.stringify([mode, provider, identifier, seed]))
      .digest('hex')
      .slice(0, 20)}`;
    const scan: SimulatedScan = {
      scanId,
      provider,
      mode,
      identifier,
      ...(requestId !== undefined ? { requestId } : {}),
      status: mode === 'sync' ? 'completed' : 'running',
      pollsLeft: mode === 'sync' ? 0 : this.#runningPolls,
      polls: 0,
      counts: ScanEngineSimulator.countsFor(provider, identifier, services),
    };
    this.#scans.set(scanId, scan);
    this.#counters.scansStarted += 1;
    this.#logger.info('scan-engine simulator started a simulated scan', {
      provider,
      mode,
      scan_id: scanId,
      account_number: identifier,
    });
    return scan;
  }

  #find(provider: ProviderType, scanId: string): SimulatedScan {
    const scan = this.#scans.get(scanId);
    if (!scan || scan.provider !== provider) throw new BadRequest(`scan ${scanId} was not found`, 404);
    return scan;
  }

  #status(provider: ProviderType, scanId: string, response: ServerResponse): void {
    const scan = this.#find(provider, scanId);
    this.#counters.statusPolls += 1;
    scan.polls += 1;
    if (scan.status === 'running') {
      if (scan.pollsLeft > 0) {
        scan.pollsLeft -= 1;
      } else {
        scan.status = 'completed';
      }
    }
    const progress =
      scan.status === 'running' ? Math.floor((100 * scan.polls) / (this.#runningPolls + 1)) : 100;
    this.#send(response, 200, {
      scan_id: scan.scanId,
      status: scan.status,
      progress: scan.status === 'cancelled' ? Math.min(progress, 99) : progress,
      message: `scan-engine simulator: scan ${scan.status}`,
    });
  }

  #summary(provider: ProviderType, scanId: string, response: ServerResponse): void {
    const scan = this.#find(provider, scanId);
    this.#counters.summaries += 1;
    if (scan.status !== 'completed') {
      throw new BadRequest(`scan ${scanId} is ${scan.status}: no summary yet`, 409);
    }
    this.#send(response, 200, { scan_id: scan.scanId, status: scan.status, ...scan.counts });
  }

  #cancel(provider: ProviderType, scanId: string, response: ServerResponse): void {
    const scan = this.#find(provider, scanId);
    if (scan.status === 'completed') throw new BadRequest(`scan ${scanId} is already completed`, 409);
    if (scan.status === 'running') {
      scan.status = 'cancelled';
      this.#counters.cancellations += 1;
      this.#logger.info('scan-engine simulator cancelled a simulated scan', { provider, scan_id: scanId });
    }
    this.#send(response, 200, { scan_id: scan.scanId, status: scan.status });
  }

  #takeFault(kind: SimulatorRequestKind): SimulatorFault | undefined {
    const pending = this.#faults.find((f) => f.on === kind && f.remaining > 0);
    if (!pending) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.#faults = this.#faults.filter((f) => f !== pending);
    return pending.fault;
  }

  /** Resolves true after `ms`, or false at once if the simulator stops first. */
  #delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#delays.delete(timer);
        resolve(this.#server !== undefined);
      }, ms);
      this.#delays.set(timer, resolve);
    });
  }

  #send(response: ServerResponse, status: number, body: unknown): void {
    if (response.destroyed || response.headersSent) return;
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-scan-engine-simulator': 'true',
    });
    response.end(text);
  }
}

// ---------------------------------------------------------------------------------------------

function emptyCounters(): SimulatorCounters {
  return { scansStarted: 0, statusPolls: 0, summaries: 0, cancellations: 0, faultsInjected: 0 };
}

interface Route {
  mode: SimulatorMode;
  provider: ProviderType;
  kind: SimulatorRequestKind;
  scanId?: string;
}

function matchRoute(method: string, path: string): Route | undefined {
  const match = /^\/(sync|async)\/([a-z]+)\/api\/v1\/scan(?:\/([^/]+)\/(status|summary|cancel))?\/?$/.exec(
    path,
  );
  if (!match) return undefined;
  const provider = ProviderTypeSchema.safeParse(match[2]);
  if (!provider.success) return undefined;
  const mode = match[1] as SimulatorMode;
  const action = match[4];
  if (action === undefined)
    return method === 'POST' ? { mode, provider: provider.data, kind: 'scan' } : undefined;
  let scanId: string;
  try {
    scanId = decodeURIComponent(match[3] ?? '');
  } catch {
    return undefined;
  }
  const expected = action === 'cancel' ? 'POST' : 'GET';
  if (method !== expected) return undefined;
  return { mode, provider: provider.data, kind: action as SimulatorRequestKind, scanId };
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function stringArray(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new BadRequest(`'${field}' must be a list of strings`);
  }
  return value as string[];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest('the request body is larger than 1 MiB', 413));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
