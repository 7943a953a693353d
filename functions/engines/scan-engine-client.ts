import * as z from 'zod/mini';
import type { ProviderType } from '../../schemas/common';
import { DomainError } from '../core/errors';
import { type Logger, silentLogger } from '../core/logger';
import { boundedTimeoutMs, type RemainingTime, timeoutSignal } from '../core/time-budget';
import {
  ENGINE_ANSWER_LIMIT_BYTES,
  EngineAnswerTooLargeError,
  type EngineHttpTransport,
  nodeHttpTransport,
} from './engine-http-transport';

/**
 * The legacy scan-engine HTTP contract (one engine per provider, `*_ENGINE_URL`):
 *
 * - `POST {url}/api/v1/scan` with `{<identifier>: account_number, credentials, regions, services,
 *   exclude_services}`. An engine either answers with the result at once (`scan_id` and the
 *   counts) or with a scan id and a running status, which the caller then polls.
 * - `GET {url}/api/v1/scan/{id}/status`, `GET {url}/api/v1/scan/{id}/summary`,
 *   `POST {url}/api/v1/scan/{id}/cancel`.
 *
 * Credentials travel only in the body of the start request: never in a URL, a header, a log
 * line or an error message.
 */

export interface ScanSummary {
  scan_id: string;
  total_checks: number;
  passed_checks: number;
  failed_checks: number;
  error_checks: number;
}

export interface StartScanRequest {
  provider: ProviderType;
  /** The cloud account id, subscription id, project id or tenancy OCID. */
  accountNumber: string;
  credentials: Record<string, unknown>;
  regions: string[];
  services: string[];
  excludeServices: string[];
  /** Our execution id, sent as the Idempotency-Key and X-Request-Id headers. */
  requestId: string;
}

export type StartScanOutcome =
  | { kind: 'completed'; summary: ScanSummary }
  | { kind: 'running'; scanId: string };

export type ScanStatus = {
  scanId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  progress?: number;
  message?: string;
};

export interface ScanEngine {
  startScan(request: StartScanRequest): Promise<StartScanOutcome>;
  getStatus(provider: ProviderType, scanId: string): Promise<ScanStatus>;
  getSummary(provider: ProviderType, scanId: string): Promise<ScanSummary>;
  cancel(provider: ProviderType, scanId: string): Promise<void>;
}

export type EngineOperation = 'start' | 'status' | 'summary' | 'cancel';

/**
 * The key under which each legacy engine expects the account identifier in the start body:
 * `account` for aws, alicloud and ibm (the cloud account id), `subscription` for azure (the
 * subscription id), `project` for gcp (the project id) and `tenancy` for oci (the tenancy OCID).
 */
export const ENGINE_IDENTIFIER_KEY: Readonly<Record<ProviderType, string>> = {
  aws: 'account',
  alicloud: 'account',
  ibm: 'account',
  azure: 'subscription',
  gcp: 'project',
  oci: 'tenancy',
};

/** The longest piece of engine-provided text an error message carries. */
export const ENGINE_TEXT_LIMIT = 200;

export const DEFAULT_ENGINE_TIMEOUT_MS = 30_000;

interface EngineErrorDetails {
  provider: ProviderType;
  operation: EngineOperation;
  /** The HTTP status the engine answered, when it answered. */
  status?: number;
  /** The engine's own (non-secret, truncated) error text. */
  engineMessage?: string;
}

/** The engine could not be reached, timed out, or answered 5xx / 408 / 429: worth retrying. */
export class EngineUnavailableError extends DomainError {
  override readonly name = 'EngineUnavailableError';
  readonly code = 'dependency_unavailable';
  override readonly permanent = false;
  readonly provider: ProviderType;
  readonly operation: EngineOperation;
  readonly status: number | undefined;
  readonly engineMessage: string | undefined;
  constructor(message: string, details: EngineErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.provider = details.provider;
    this.operation = details.operation;
    this.status = details.status;
    this.engineMessage = details.engineMessage;
  }
}

/** The engine refused the request (4xx): the same request will be refused again. */
export class EngineRejectedError extends DomainError {
  override readonly name = 'EngineRejectedError';
  readonly code = 'validation_failed';
  readonly provider: ProviderType;
  readonly operation: EngineOperation;
  readonly status: number | undefined;
  readonly engineMessage: string | undefined;
  constructor(message: string, details: EngineErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.provider = details.provider;
    this.operation = details.operation;
    this.status = details.status;
    this.engineMessage = details.engineMessage;
  }
}

/** No engine URL is configured for the provider. */
export class EngineNotConfiguredError extends DomainError {
  override readonly name = 'EngineNotConfiguredError';
  readonly code = 'configuration_invalid';
  constructor(
    readonly provider: ProviderType,
    options?: ErrorOptions,
  ) {
    super(
      `no scan engine is configured for provider ${provider} (set ${provider.toUpperCase()}_ENGINE_URL)`,
      options,
    );
  }
}

/** The engine answered something that does not follow the contract (bad JSON, missing fields). */
export class EngineProtocolError extends DomainError {
  override readonly name = 'EngineProtocolError';
  readonly code = 'dependency_unavailable';
  readonly provider: ProviderType;
  readonly operation: EngineOperation;
  readonly status: number | undefined;
  constructor(message: string, details: Omit<EngineErrorDetails, 'engineMessage'>, options?: ErrorOptions) {
    super(message, options);
    this.provider = details.provider;
    this.operation = details.operation;
    this.status = details.status;
  }
}

export type ScanEngineError =
  | EngineUnavailableError
  | EngineRejectedError
  | EngineNotConfiguredError
  | EngineProtocolError;

// ---------------------------------------------------------------------------------------------
// Response schemas: every engine answer is validated before anything trusts it.

const ScanIdSchema = z.pipe(
  z.pipe(
    z.union([
      z.string().check(z.trim(), z.minLength(1, 'must not be empty')),
      z.number().check(z.int(), z.nonnegative()),
    ]),
    z.transform(String),
  ),
  z.string().check(z.maxLength(256, 'must be at most 256 characters')),
);

const CountSchema = z.number().check(z.int('must be a whole number'), z.nonnegative('must not be negative'));

const RUNNING_STATUSES = ['running', 'queued', 'pending', 'in_progress', 'started', 'accepted'] as const;
const COMPLETED_STATUSES = ['completed', 'complete', 'succeeded', 'success', 'done', 'finished'] as const;
const FAILED_STATUSES = ['failed', 'error', 'errored'] as const;
const CANCELLED_STATUSES = ['cancelled', 'canceled', 'aborted'] as const;

const STATUS_BY_ENGINE_WORD = new Map<string, ScanStatus['status']>([
  ...RUNNING_STATUSES.map((word) => [word, 'running'] as const),
  ...COMPLETED_STATUSES.map((word) => [word, 'completed'] as const),
  ...FAILED_STATUSES.map((word) => [word, 'failed'] as const),
  ...CANCELLED_STATUSES.map((word) => [word, 'cancelled'] as const),
]);

const EngineStatusWordSchema = z.pipe(
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((value) =>
        value
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, '_'),
      ),
    ),
    z.string().check(z.refine((value) => STATUS_BY_ENGINE_WORD.has(value), 'is not a known scan status')),
  ),
  z.transform((value) => STATUS_BY_ENGINE_WORD.get(value) as ScanStatus['status']),
);

const CountsSchema = z.object({
  total_checks: CountSchema,
  passed_checks: CountSchema,
  failed_checks: CountSchema,
  // The legacy engines' answer had no error count.
  error_checks: z._default(z.optional(CountSchema), 0),
});

const SummarySchema = z.extend(CountsSchema, { scan_id: ScanIdSchema });

const COUNT_KEYS = ['total_checks', 'passed_checks', 'failed_checks'] as const;

const StartResponseSchema = z.looseObject({
  scan_id: ScanIdSchema,
  status: z.optional(EngineStatusWordSchema),
  message: z.optional(z.string()),
});

const StatusResponseSchema = z.looseObject({
  scan_id: z.optional(ScanIdSchema),
  status: EngineStatusWordSchema,
  progress: z.nullable(
    z.optional(z.number().check(z.gte(0, 'must not be negative'), z.lte(100, 'must be at most 100'))),
  ),
  message: z.nullable(z.optional(z.string())),
  error: z.nullable(z.optional(z.string())),
});

// ---------------------------------------------------------------------------------------------

export interface HttpScanEngineOptions {
  /** The engine base URL per provider (`*_ENGINE_URL`); `/api/v1/scan` is appended. */
  urls: Partial<Record<ProviderType, string>>;
  /** How a request reaches the engine (default: node:http(s) with keep-alive). */
  transport?: EngineHttpTransport;
  /** Per request, including reading the answer. Default 30 s. */
  timeoutMs?: number;
  /** What the calling function has left (Lambda): each request ends within it, whatever `timeoutMs`. */
  remainingTime?: RemainingTime;
  logger?: Logger;
}

interface EngineCall {
  provider: ProviderType;
  operation: EngineOperation;
  method: 'GET' | 'POST';
  /** Relative to the engine base URL; never holds a credential. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Values that must never reach an error message, even if the engine echoes them. */
  secrets?: readonly string[];
}

interface EngineAnswer {
  status: number;
  json: unknown;
}

/** The scan-engine port over the legacy HTTP contract. */
export class HttpScanEngine implements ScanEngine {
  readonly #urls: Partial<Record<ProviderType, string>>;
  readonly #transport: EngineHttpTransport;
  readonly #timeoutMs: number;
  readonly #remainingTime: RemainingTime | undefined;
  readonly #logger: Logger;

  constructor(options: HttpScanEngineOptions) {
    this.#urls = Object.fromEntries(
      Object.entries(options.urls)
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].trim() !== '')
        .map(([provider, url]) => [provider, url.trim().replace(/\/+$/, '')]),
    );
    this.#transport = options.transport ?? nodeHttpTransport;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
    if (!Number.isFinite(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
    }
    this.#remainingTime = options.remainingTime;
    this.#logger = options.logger ?? silentLogger;
  }

  /** True when an engine URL is configured for the provider. */
  isConfigured(provider: ProviderType): boolean {
    return this.#urls[provider] !== undefined;
  }

  async startScan(request: StartScanRequest): Promise<StartScanOutcome> {
    const { provider } = request;
    const body = JSON.stringify({
      [ENGINE_IDENTIFIER_KEY[provider]]: request.accountNumber,
      credentials: request.credentials,
      regions: request.regions,
      services: request.services,
      exclude_services: request.excludeServices,
    });
    const answer = await this.#call({
      provider,
      operation: 'start',
      method: 'POST',
      path: '/api/v1/scan',
      body,
      headers: { 'idempotency-key': request.requestId, 'x-request-id': request.requestId },
      secrets: secretValuesOf(request.credentials),
    });
    const parsed = this.#parse(StartResponseSchema, answer, provider, 'start');
    const { scan_id: scanId, status } = parsed;
    // A running-like status wins over partial counts some engines report while scanning.
    if (status === 'running') return { kind: 'running', scanId };
    if (status === 'failed' || status === 'cancelled') {
      const engineMessage = safeEngineText(parsed.message, answer, request);
      throw new EngineRejectedError(
        `the ${provider} scan engine reported scan ${scanId} as ${status} when starting it` +
          (engineMessage ? `: ${engineMessage}` : ''),
        { provider, operation: 'start', status: answer.status, ...(engineMessage ? { engineMessage } : {}) },
      );
    }
    const hasCounts = COUNT_KEYS.some((key) => key in (parsed as Record<string, unknown>));
    if (!hasCounts) {
      throw new EngineProtocolError(
        `the ${provider} scan engine answered the scan request (HTTP ${answer.status}) with scan_id ` +
          `but neither the check counts nor a running status`,
        { provider, operation: 'start', status: answer.status },
      );
    }
    const counts = this.#parse(CountsSchema, answer, provider, 'start');
    return { kind: 'completed', summary: { scan_id: scanId, ...counts } };
  }

  async getStatus(provider: ProviderType, scanId: string): Promise<ScanStatus> {
    const answer = await this.#call({
      provider,
      operation: 'status',
      method: 'GET',
      path: `/api/v1/scan/${encodeURIComponent(scanId)}/status`,
    });
    const parsed = this.#parse(StatusResponseSchema, answer, provider, 'status');
    const message = parsed.message ?? parsed.error ?? undefined;
    return {
      scanId: parsed.scan_id ?? scanId,
      status: parsed.status,
      ...(typeof parsed.progress === 'number' ? { progress: parsed.progress } : {}),
      ...(message ? { message: truncate(message) } : {}),
    };
  }

  async getSummary(provider: ProviderType, scanId: string): Promise<ScanSummary> {
    const answer = await this.#call({
      provider,
      operation: 'summary',
      method: 'GET',
      path: `/api/v1/scan/${encodeURIComponent(scanId)}/summary`,
    });
    const summary = this.#parse(SummarySchema, answer, provider, 'summary');
    return summary;
  }

  async cancel(provider: ProviderType, scanId: string): Promise<void> {
    await this.#call({
      provider,
      operation: 'cancel',
      method: 'POST',
      path: `/api/v1/scan/${encodeURIComponent(scanId)}/cancel`,
      body: '{}',
    });
  }

  async #call(call: EngineCall): Promise<EngineAnswer> {
    const { provider, operation } = call;
    const base = this.#urls[provider];
    if (base === undefined) throw new EngineNotConfiguredError(provider);
    const started = Date.now();
    const where = `${call.method} ${call.path}`;
    const timeoutMs = boundedTimeoutMs(this.#timeoutMs, this.#remainingTime);
    if (timeoutMs <= 0) {
      throw new EngineUnavailableError(
        `the ${provider} scan engine was not called: ${where} needs time this invocation no longer has`,
        { provider, operation },
      );
    }
    const timeout = timeoutSignal(timeoutMs);
    let status: number;
    let text: string;
    try {
      ({ status, body: text } = await this.#transport({
        url: `${base}${call.path}`,
        method: call.method,
        headers: {
          accept: 'application/json',
          ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...call.headers,
        },
        ...(call.body !== undefined ? { body: call.body } : {}),
        // The timeout covers reading the answer too.
        signal: timeout.signal,
      }));
    } catch (error) {
      if (error instanceof EngineAnswerTooLargeError) {
        throw new EngineProtocolError(
          `the ${provider} scan engine answered ${where} with more than ${ENGINE_ANSWER_LIMIT_BYTES} bytes`,
          { provider, operation },
        );
      }
      const reason = describeTransportFailure(error, timeoutMs);
      this.#logger.warn('scan engine unreachable', {
        provider,
        operation,
        reason,
        duration_ms: Date.now() - started,
      });
      // The cause is a transport error (no request body in it); keep only its name and message.
      throw new EngineUnavailableError(
        `the ${provider} scan engine is unavailable: ${where} ${reason}`,
        { provider, operation },
        { cause: transportCause(error) },
      );
    } finally {
      timeout.clear();
    }
    this.#logger.debug('scan engine answered', {
      provider,
      operation,
      status,
      duration_ms: Date.now() - started,
    });

    if (status >= 200 && status < 300) {
      let json: unknown;
      try {
        json = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        throw new EngineProtocolError(
          `the ${provider} scan engine answered ${where} with HTTP ${status} but a body that is not JSON`,
          { provider, operation, status },
        );
      }
      return { status, json };
    }

    const engineMessage = scrub(extractEngineText(text), call.secrets ?? []);
    const suffix = engineMessage ? `: ${engineMessage}` : '';
    const details = { provider, operation, status, ...(engineMessage ? { engineMessage } : {}) };
    if (status >= 500 || status === 408 || status === 429) {
      this.#logger.warn('scan engine unavailable', { provider, operation, status });
      throw new EngineUnavailableError(
        `the ${provider} scan engine is unavailable: ${where} answered HTTP ${status}${suffix}`,
        details,
      );
    }
    if (status >= 400) {
      this.#logger.warn('scan engine rejected a request', { provider, operation, status });
      throw new EngineRejectedError(
        `the ${provider} scan engine rejected ${where} with HTTP ${status}${suffix}`,
        details,
      );
    }
    throw new EngineProtocolError(
      `the ${provider} scan engine answered ${where} with unexpected HTTP ${status}` +
        (status >= 300 ? ' (redirects are not followed)' : ''),
      { provider, operation, status },
    );
  }

  #parse<T extends z.ZodMiniType>(
    schema: T,
    answer: EngineAnswer,
    provider: ProviderType,
    operation: EngineOperation,
  ): z.output<T> {
    const result = schema.safeParse(answer.json);
    if (result.success) return result.data;
    // Issue paths and messages only: zod's issues never carry the offending input here.
    const problems = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'} ${issue.message}`)
      .join('; ');
    throw new EngineProtocolError(
      `the ${provider} scan engine's ${operation} answer (HTTP ${answer.status}) does not follow the contract: ${truncate(problems)}`,
      { provider, operation, status: answer.status },
    );
  }
}

// ---------------------------------------------------------------------------------------------

function truncate(text: string, limit = ENGINE_TEXT_LIMIT): string {
  const singleLine = text.replace(/\s+/g, ' ').trim();
  return singleLine.length > limit ? `${singleLine.slice(0, limit - 1)}…` : singleLine;
}

/** Every string leaf of the credentials, long enough to be worth scrubbing from engine text. */
function secretValuesOf(credentials: Record<string, unknown>): string[] {
  const values: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 8) return;
    if (typeof value === 'string') {
      if (value.length >= 4) values.push(value);
    } else if (typeof value === 'number' && String(value).length >= 4) {
      values.push(String(value));
    } else if (value && typeof value === 'object') {
      for (const item of Object.values(value)) visit(item, depth + 1);
    }
  };
  visit(credentials, 0);
  // Longest first, so a value containing another is replaced whole.
  return values.sort((a, b) => b.length - a.length);
}

function scrub(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (!text) return undefined;
  let clean = text;
  for (const secret of secrets) clean = clean.split(secret).join('[redacted]');
  // Truncate after scrubbing, so a cut cannot leave half a secret behind.
  return truncate(clean) || undefined;
}

/**
 * The engine's own error text: FastAPI's `{detail: "..."}` or `{detail: [{loc, msg}]}` (field and
 * message only: its `input` member can echo the request), `{error}` / `{message}`, or a short text
 * body. Never the whole JSON body.
 */
function extractEngineText(body: string): string | undefined {
  const trimmed = body.trim();
  if (trimmed === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    // Not JSON: an HTML error page says nothing useful; plain text is kept (scrubbed, truncated).
    return /^<(!doctype|html)/i.test(trimmed) ? undefined : trimmed;
  }
  if (typeof json === 'string') return json;
  if (!json || typeof json !== 'object') return undefined;
  const record = json as Record<string, unknown>;
  for (const key of ['detail', 'error', 'message', 'error_message']) {
    const value = record[key];
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) {
      const parts = value
        .map((item) => {
          if (typeof item === 'string') return item;
          if (!item || typeof item !== 'object') return undefined;
          const { loc, msg } = item as { loc?: unknown; msg?: unknown };
          if (typeof msg !== 'string') return undefined;
          const field = Array.isArray(loc) ? loc.filter((part) => part !== 'body').join('.') : '';
          return field ? `${field}: ${msg}` : msg;
        })
        .filter((part): part is string => part !== undefined);
      if (parts.length > 0) return parts.join('; ');
    }
    if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
      return (value as { message: string }).message;
    }
  }
  return undefined;
}

/** The message a start answer carried when it reported a failed scan, scrubbed of credentials. */
function safeEngineText(
  message: string | undefined,
  answer: EngineAnswer,
  request: StartScanRequest,
): string | undefined {
  const text = message ?? extractEngineText(JSON.stringify(answer.json));
  return scrub(text, secretValuesOf(request.credentials));
}

/** The system error code of a transport failure (ECONNREFUSED …), on the error or its cause. */
function transportErrorCode(error: Error): string | undefined {
  for (const candidate of [error, (error as { cause?: unknown }).cause]) {
    const code = (candidate as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describeTransportFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `did not answer within ${timeoutMs} ms`;
    if (error.name === 'AbortError') return 'was aborted';
    const code = transportErrorCode(error);
    if (code) return `failed (${code})`;
  }
  return 'failed (network error)';
}

function transportCause(error: unknown): Error {
  if (!(error instanceof Error)) return new Error('network error');
  const code = transportErrorCode(error);
  const safe = new Error(
    code && !error.message.includes(code) ? `${error.message} (${code})` : error.message,
  );
  safe.name = error.name;
  return safe;
}
