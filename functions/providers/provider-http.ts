import { CredentialValidationError } from '../core/ports/provider-validator';
import { boundedTimeoutMs, type RemainingTime, timeoutSignal } from '../core/time-budget';

/** Every live validation call gives up after this long unless configured otherwise. */
export const DEFAULT_VALIDATION_TIMEOUT_MS = 10_000;

/** The longest piece of provider text (an error description) a message may carry. */
export const PROVIDER_TEXT_LIMIT = 160;

export interface ProviderRequest {
  /** Who is called, as users know it: `Azure AD`, `Google OAuth`, `OCI Identity`… */
  service: string;
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface ProviderAnswer {
  status: number;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  /** The host that answered, for messages. */
  host: string;
}

export interface ProviderHttpOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** What the calling function has left (Lambda): each call ends within it, whatever `timeoutMs`. */
  remainingTime?: RemainingTime;
}

/**
 * The one way validators talk HTTP: a timeout on every call (connecting and reading), no redirects
 * (they would resend credentials wherever they point), and transport failures, 5xx and 429 turned
 * into `provider_unreachable` with the host and a short code, never the request or the body.
 */
export class ProviderHttp {
  readonly timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #remainingTime: RemainingTime | undefined;

  constructor(options: ProviderHttpOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
    }
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#remainingTime = options.remainingTime;
  }

  async send(request: ProviderRequest): Promise<ProviderAnswer> {
    const host = new URL(request.url).host;
    const timeoutMs = boundedTimeoutMs(this.timeoutMs, this.#remainingTime);
    if (timeoutMs <= 0) throw unreachable(request.service, host, 'no time left in this invocation');
    const timeout = timeoutSignal(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(request.url, {
        method: request.method,
        headers: { accept: 'application/json', ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        redirect: 'manual',
        signal: timeout.signal,
      });
      // The same signal bounds reading the body.
      text = await response.text();
    } catch (error) {
      throw unreachable(request.service, host, transportFailureCode(error, timeoutMs));
    } finally {
      timeout.clear();
    }
    const status = response.status;
    if (status >= 500 || status === 429 || status === 408) {
      throw new CredentialValidationError(
        'provider_unreachable',
        `${request.service} at ${host} is unavailable (HTTP ${status}); try again later`,
      );
    }
    if (status >= 300 && status < 400) {
      throw new CredentialValidationError(
        'provider_unreachable',
        `${request.service} at ${host} answered a redirect (HTTP ${status}), which is not followed; check the configured endpoint`,
      );
    }
    return { status, json: parseJson(text), host };
  }
}

/** `provider_unreachable` with the documented message shape. */
export function unreachable(service: string, host: string, code: string): CredentialValidationError {
  return new CredentialValidationError(
    'provider_unreachable',
    `could not reach ${service} at ${host}: ${code}`,
  );
}

/**
 * A short code for a transport failure: the system error code (ECONNREFUSED, ENOTFOUND,
 * ECONNRESET…), `timed out after N ms`, or `network error`. Works for fetch (undici wraps the
 * system error in `cause`, sometimes in an AggregateError) and for the AWS SDK (code on the error).
 */
export function transportFailureCode(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`;
  }
  const code = systemCodeOf(error, 0);
  return code ?? 'network error';
}

function systemCodeOf(error: unknown, depth: number): string | undefined {
  if (depth > 4 || !error || typeof error !== 'object') return undefined;
  const record = error as { code?: unknown; cause?: unknown; errors?: unknown; name?: unknown };
  if (typeof record.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(record.code)) return record.code;
  if (record.name === 'TimeoutError') return 'timed out';
  if (Array.isArray(record.errors)) {
    for (const inner of record.errors) {
      const code = systemCodeOf(inner, depth + 1);
      if (code) return code;
    }
  }
  return systemCodeOf(record.cause, depth + 1);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A member of a JSON object, or undefined. */
export function member(json: unknown, key: string): unknown {
  return json && typeof json === 'object' && !Array.isArray(json)
    ? (json as Record<string, unknown>)[key]
    : undefined;
}

/** A string member of a JSON object, or undefined. */
export function stringMember(json: unknown, key: string): string | undefined {
  const value = member(json, key);
  return typeof value === 'string' ? value : undefined;
}

/**
 * Provider text safe for a message: credential values replaced, one line, truncated after scrubbing
 * (so a cut cannot leave half a secret), and only characters an error code or sentence needs.
 */
export function safeProviderText(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (!text) return undefined;
  let clean = text;
  for (const secret of secrets) clean = clean.split(secret).join('[redacted]');
  // Bearer tokens and JWTs the provider might echo: never worth showing.
  clean = clean.replace(/eyJ[\w-]{8,}\.[\w-]{8,}(\.[\w-]*)?/g, '[redacted]');
  clean = clean
    .replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean === '') return undefined;
  return clean.length > PROVIDER_TEXT_LIMIT ? `${clean.slice(0, PROVIDER_TEXT_LIMIT - 1)}…` : clean;
}

/** A provider error code: letters, digits, dots, dashes and underscores only, at most 64. */
export function safeCode(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const code = String(value).trim();
  return /^[\w.:-]{1,64}$/.test(code) ? code : undefined;
}
