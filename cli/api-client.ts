import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeJwt } from 'jose';
import * as z from 'zod/mini';
import { ConfigSchema } from '../schemas/config';
import { CliError, EXIT } from './exit-codes';

/**
 * The HTTP API as the CLI sees it: JSON in, JSON out, and every failure a CliError with one line
 * (the API's own message) and the exit code of its kind: 4xx → refused (3), 5xx and network → 4.
 * The CLI talks to nothing else, so a command works the same locally and against a deployment.
 */

export const API_PREFIX = '/api/v1';
/** How long one request may take before it counts as a network failure. */
const REQUEST_TIMEOUT_MS = 30_000;

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Without the bearer token (health, the OpenAPI document). */
  anonymous?: boolean;
  /** Error answers returned as a body instead of thrown (e.g. the 503 of an unhealthy health check). */
  accept?: (status: number, body: unknown) => boolean;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

interface ErrorBody {
  code?: unknown;
  message?: unknown;
  details?: Array<{ field?: unknown; message?: unknown }>;
}

const ConnectionEnvSchema = z.pick(ConfigSchema, { PORT: true, THREAT_ENGINE_DATA_DIR: true });

export interface ConnectionOptions {
  url?: string | undefined;
  token?: string | undefined;
}

function describeApiError(status: number, body: unknown, text: string): string {
  const error = (body ?? {}) as ErrorBody;
  const message = typeof error.message === 'string' ? error.message : text.trim().slice(0, 200);
  const details = Array.isArray(error.details)
    ? error.details
        .filter((detail) => typeof detail.field === 'string' && typeof detail.message === 'string')
        .map((detail) => `${detail.field} ${detail.message}`)
    : [];
  const extra = details.filter((detail) => !message.includes(detail));
  const why = extra.length > 0 ? `${message} (${extra.join('; ')})` : message;
  return `${status}${typeof error.code === 'string' ? ` ${error.code}` : ''}: ${why || 'no message'}`;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: () => Promise<string>;

  constructor(baseUrl: string, token: () => Promise<string>) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  /** The client of the options and environment (defaults: the local runtime and its admin token). */
  static from(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): ApiClient {
    const parsed = ConnectionEnvSchema.safeParse(env);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(`environment variable ${issue?.path.join('.')}: ${issue?.message}`, EXIT.usage);
    }
    const url = options.url ?? `http://127.0.0.1:${parsed.data.PORT}`;
    if (!/^https?:\/\/[^\s/]+/i.test(url)) {
      throw new CliError(`--url ${url} is not an http(s) URL`, EXIT.usage);
    }
    let cached: Promise<string> | undefined;
    const token = () => {
      cached ??= resolveToken(options.token, env, parsed.data.THREAT_ENGINE_DATA_DIR);
      return cached;
    };
    return new ApiClient(url, token);
  }

  /**
   * The tenant the token acts for, read from its claims without verifying them (the API does
   * that); undefined for a platform-admin token or one that is not a JWT.
   */
  async tokenTenant(): Promise<string | undefined> {
    try {
      const claims = decodeJwt(await this.#token());
      const tenant = claims.tenant_id ?? claims['custom:tenant_id'];
      return typeof tenant === 'string' && tenant !== '' ? tenant : undefined;
    } catch (error) {
      if (error instanceof CliError) throw error;
      return undefined;
    }
  }

  /** One request to `/api/v1${path}`; a non-2xx answer throws a CliError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const url = new URL(`${this.baseUrl}${API_PREFIX}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!options.anonymous) headers.authorization = `Bearer ${await this.#token()}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
          : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)));
      throw new CliError(`cannot reach the API at ${this.baseUrl}: ${reason}`, EXIT.unavailable, {
        cause: error,
      });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok && !options.accept?.(response.status, body)) {
      const message = describeApiError(response.status, body, text);
      throw new CliError(
        `${method} ${url.pathname} answered ${message}`,
        response.status >= 500 ? EXIT.unavailable : EXIT.refused,
        { status: response.status },
      );
    }
    if (body === undefined && text) {
      throw new CliError(`${method} ${url.pathname} answered something that is not JSON`, EXIT.unavailable);
    }
    return { status: response.status, body: body as T };
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>('GET', path, query ? { query } : {})).body;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.request<T>('POST', path, body === undefined ? {} : { body })).body;
  }
}

/** --token, else $THREAT_ENGINE_TOKEN, else the local runtime's admin.token. */
async function resolveToken(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  dataDirectory: string,
): Promise<string> {
  const given = flag ?? env.THREAT_ENGINE_TOKEN;
  if (given !== undefined && given.trim() !== '') return given.trim();
  const path = join(resolve(process.cwd(), dataDirectory), 'admin.token');
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token) return token;
  } catch {
    // Reported below.
  }
  throw new CliError(
    `no token: pass --token, set THREAT_ENGINE_TOKEN, or start the local runtime (npm start) so that ${path} exists`,
    EXIT.usage,
  );
}

/** An id as one path segment. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}
