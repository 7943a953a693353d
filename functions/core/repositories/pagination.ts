import { ValidationError } from '../errors';

/** One page of a listing; `next_cursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** What a caller asks for: at most `limit` items (1..100, default 25) after `cursor`. */
export interface PageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export const DEFAULT_PAGE_LIMIT = 25;
export const MAX_PAGE_LIMIT = 100;
/** A filtered listing reads at most this many times for one page, then returns what it has. */
const MAX_READS_PER_PAGE = 10;
const MAX_CURSOR_LENGTH = 2048;

export type StoredKey = Record<string, string>;

/**
 * The keys a cursor of one listing must hold: every key attribute of the table and of the index
 * it reads (exactly those), with `fixed` ones equal to the values the key condition pins down
 * (the partition value at least), so a cursor can never move a listing into another partition.
 */
export interface CursorScope {
  keyAttributes: readonly string[];
  fixed?: Readonly<Record<string, string>>;
}

const cursorError = (message: string) =>
  new ValidationError(`invalid cursor: ${message}`, [{ field: 'cursor', message }]);

/** The page size asked for, or the default; anything outside 1..100 is a ValidationError on `limit`. */
export function resolvePageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    const message = `must be an integer from 1 to ${MAX_PAGE_LIMIT}`;
    throw new ValidationError(`invalid limit: ${message}`, [{ field: 'limit', message }]);
  }
  return limit;
}

/** An opaque cursor: base64url of the JSON of a DynamoDB key (LastEvaluatedKey). */
export function encodeCursor(key: StoredKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes and checks a cursor against the listing it is used with (ValidationError on `cursor`). */
export function decodeCursor(cursor: string, scope: CursorScope): StoredKey {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw cursorError('is not a cursor this service issued');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw cursorError('is not a cursor this service issued');
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw cursorError('is not a cursor this service issued');
  }
  const entries = Object.entries(decoded);
  if (!entries.every(([, value]) => typeof value === 'string' && value.length > 0)) {
    throw cursorError('is not a cursor this service issued');
  }
  const key = Object.fromEntries(entries) as StoredKey;
  const expected = new Set(scope.keyAttributes);
  const names = Object.keys(key);
  if (names.length !== expected.size || !names.every((name) => expected.has(name))) {
    throw cursorError('belongs to another listing');
  }
  for (const [name, value] of Object.entries(scope.fixed ?? {})) {
    if (key[name] !== value) throw cursorError('belongs to another listing');
  }
  return key;
}

/** The key attributes of a stored item (what DynamoDB would give as its LastEvaluatedKey). */
function keyOf(item: Record<string, unknown>, keyAttributes: readonly string[]): StoredKey | undefined {
  const key: StoredKey = {};
  for (const name of keyAttributes) {
    const value = item[name];
    if (typeof value !== 'string') return undefined;
    key[name] = value;
  }
  return key;
}

/** One read of a Query or Scan: the items it matched and where it stopped. */
export interface ReadResult {
  items: Record<string, unknown>[];
  lastEvaluatedKey?: Record<string, unknown> | undefined;
}

export type PageReader = (exclusiveStartKey: StoredKey | undefined, limit: number) => Promise<ReadResult>;

/**
 * Reads one page. It asks for one item more than the page holds, so the cursor points at the
 * last item returned (no empty trailing page when the items run out exactly); with a filter it
 * reads on until the page is full, the items run out or MAX_READS_PER_PAGE reads were made (then
 * the page is short and its cursor continues where the reads stopped: no gap, no duplicate).
 */
export async function readPage<T>(
  request: PageRequest | undefined,
  scope: CursorScope,
  read: PageReader,
  parse: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const limit = resolvePageLimit(request?.limit);
  let startKey = request?.cursor === undefined ? undefined : decodeCursor(request.cursor, scope);
  const raw: Record<string, unknown>[] = [];
  let reads = 0;
  do {
    const result = await read(startKey, limit + 1 - raw.length);
    raw.push(...result.items);
    startKey = result.lastEvaluatedKey ? keyOf(result.lastEvaluatedKey, scope.keyAttributes) : undefined;
    reads += 1;
  } while (raw.length <= limit && startKey !== undefined && reads < MAX_READS_PER_PAGE);

  if (raw.length > limit) {
    const pageItems = raw.slice(0, limit);
    const last = pageItems.at(-1);
    const lastKey = last ? keyOf(last, scope.keyAttributes) : undefined;
    return { items: pageItems.map(parse), next_cursor: lastKey ? encodeCursor(lastKey) : null };
  }
  return { items: raw.map(parse), next_cursor: startKey ? encodeCursor(startKey) : null };
}

/** The largest `offset` a listing accepts (the legacy paging; cursors are the efficient path). */
export const MAX_OFFSET = 1000;

/**
 * The page of `limit` items after skipping `offset` (the legacy `offset`): it walks the listing
 * by cursor, 100 items a read, so an offset costs at most MAX_OFFSET / 100 extra reads. The page
 * has a next_cursor like any other, so a client may continue by cursor from there.
 */
export async function readPageAtOffset<T>(
  offset: number,
  limit: number | undefined,
  readPageOf: (request: PageRequest) => Promise<Page<T>>,
): Promise<Page<T>> {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) {
    const message = `must be a whole number from 0 to ${MAX_OFFSET} (pass next_cursor as cursor to go further)`;
    throw new ValidationError(`invalid offset: ${message}`, [{ field: 'offset', message }]);
  }
  let skipped = 0;
  let cursor: string | undefined;
  while (skipped < offset) {
    const skipping = await readPageOf({ limit: Math.min(MAX_PAGE_LIMIT, offset - skipped), cursor });
    skipped += skipping.items.length;
    if (skipping.next_cursor === null) return { items: [], next_cursor: null };
    cursor = skipping.next_cursor;
  }
  return readPageOf({ limit, cursor });
}
