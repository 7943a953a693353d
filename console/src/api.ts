import { clearToken, currentToken } from './session';

/** A refused or failed API call, with the API's own message. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
}

const prefetched = new Map<string, Promise<unknown>>();

/** Starts a GET now (before the page that needs it has rendered); the page's own call takes it over once. */
export function prefetch(path: string): void {
  const pending = request(path, {});
  pending.catch(() => undefined);
  prefetched.set(path, pending);
}

/** Calls the JSON API with the operator's token; a 401 signs the operator out. */
export function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const early = options.method === undefined && !options.headers ? prefetched.get(path) : undefined;
  if (early) {
    prefetched.delete(path);
    return early as Promise<T>;
  }
  return request<T>(path, options);
}

async function request<T>(path: string, options: RequestOptions): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const token = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const message = (body as { message?: string } | undefined)?.message;
    if (response.status === 401) clearToken();
    throw new ApiError(response.status, message ?? `${response.status} ${response.statusText}`);
  }
  return body as T;
}

/** `?a=1&b=2` from the defined values. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
