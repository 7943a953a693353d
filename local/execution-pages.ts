import { ValidationError } from '../functions/core/errors';

/** The longest page of the list and history API; its page tokens are opaque base64url JSON. */
export const MAX_PAGE_SIZE = 1000;

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken<T>(token: string, isValid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // Falls through to the error below.
  }
  throw new ValidationError('the page token is not valid', [
    { field: 'nextToken', message: 'expired or not from this listing' },
  ]);
}

/** Newest first; ties broken by name, so the order (and a page token) is total. */
export function newerFirst(
  a: { startedAt: string; name: string },
  b: { startedAt: string; name: string },
): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  if (a.name === b.name) return 0;
  return a.name < b.name ? 1 : -1;
}

export const clampPageSize = (limit: number | undefined, fallback: number) =>
  Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit ?? fallback)));
