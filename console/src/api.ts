import { takeEarlyRequest } from './early-requests';
import { clearToken, currentToken } from './session';

export { query } from './query';

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

/**
 * Calls the JSON API with the operator's token; a 401 signs the operator out. A plain GET the boot
 * script already started (early-requests.ts) takes that answer over, once.
 */
export function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const early = options.method === undefined && !options.headers ? takeEarlyRequest(path) : undefined;
  return (early ?? send(path, options)).then((response) => read<T>(response));
}

function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const token = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
}

async function read<T>(response: Response): Promise<T> {
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const message = (body as { message?: string } | undefined)?.message;
    if (response.status === 401) clearToken();
    throw new ApiError(response.status, message ?? `${response.status} ${response.statusText}`);
  }
  return body as T;
}
