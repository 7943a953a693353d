import type { Execution, ExecutionStatus } from '../../../schemas/execution';
import { ValidationError } from '../errors';
import type { AccountRepository } from '../repositories/account-repository';
import type { ExecutionRepository } from '../repositories/execution-repository';
import { type Page, type PageRequest, resolvePageLimit } from '../repositories/pagination';
import type { TenantRepository } from '../repositories/tenant-repository';

/**
 * The executions of several accounts as one listing, newest first: a k-way merge over each
 * account's account-executions-index (queried newest first), ordered by started_at, then
 * execution_id, both descending. A tenant's listing is the merge over its accounts; an all-tenants
 * view is the merge over every account.
 *
 * The cursor is the position of the last execution returned (its started_at and execution_id), not
 * one cursor per account: it stays small however many accounts there are. The next page queries
 * every account again from that started_at down (a key condition, so nothing newer is read) and
 * drops what sorts at or before the position. Each page reads at least one Query per account.
 */

export interface ExecutionsOfAccountsOptions {
  status?: ExecutionStatus | undefined;
  /** Only the runs of this schedule. */
  scheduleId?: string | undefined;
  /** Only runs that started at or after this time (ISO 8601 UTC). */
  startedAtOrAfter?: string | undefined;
  /** Only runs that started at or before this time (ISO 8601 UTC). */
  startedAtOrBefore?: string | undefined;
  page?: PageRequest | undefined;
}

/** Queries of the account indexes made at once. */
const READ_CONCURRENCY = 16;
const MAX_CURSOR_LENGTH = 2048;

interface Position {
  startedAt: string;
  executionId: string;
}

/** Negative when `a` comes first (newer started_at; on a tie, the greater execution_id). */
function newestFirst(a: Position, b: Position): number {
  if (a.startedAt !== b.startedAt) return a.startedAt > b.startedAt ? -1 : 1;
  if (a.executionId === b.executionId) return 0;
  return a.executionId > b.executionId ? -1 : 1;
}

const positionOf = (execution: Execution): Position => ({
  startedAt: execution.started_at,
  executionId: execution.execution_id,
});

const cursorError = () =>
  new ValidationError('invalid cursor: is not a cursor of this listing', [
    { field: 'cursor', message: 'is not a cursor of this listing' },
  ]);

export function encodeMergeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ after: [position.startedAt, position.executionId] }), 'utf8').toString(
    'base64url',
  );
}

export function decodeMergeCursor(cursor: string): Position {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw cursorError();
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw cursorError();
  }
  const after = (decoded as { after?: unknown } | null)?.after;
  if (
    !Array.isArray(after) ||
    after.length !== 2 ||
    !after.every((part) => typeof part === 'string' && part.length > 0 && part.length <= 256)
  ) {
    throw cursorError();
  }
  return { startedAt: after[0] as string, executionId: after[1] as string };
}

interface AccountStream {
  accountId: string;
  /** Read but not yet returned, newest first. */
  buffer: Execution[];
  /** The account listing's own cursor; null once the account has no more. */
  next: string | null | undefined;
  /** How many runs its next read asks for: a fair share first, doubled each time it runs dry. */
  readSize: number;
}

async function forEachConcurrently<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
}

/** One page of the executions of `accountIds`, newest first, with a cursor over all of them. */
export async function listExecutionsOfAccounts(
  executions: Pick<ExecutionRepository, 'listByAccount'>,
  accountIds: readonly string[],
  options: ExecutionsOfAccountsOptions = {},
): Promise<Page<Execution>> {
  const limit = resolvePageLimit(options.page?.limit);
  const after = options.page?.cursor === undefined ? undefined : decodeMergeCursor(options.page.cursor);
  const distinct = [...new Set(accountIds)];
  // A page needs only a few runs of each of many accounts: the first read asks for a fair share
  // and one more; an account that has more of the page (a busy one) reads on, twice as much each time.
  const firstReadSize = Math.min(limit, Math.ceil(limit / Math.max(1, distinct.length)) + 1);
  const streams: AccountStream[] = distinct.map((accountId) => ({
    accountId,
    buffer: [],
    next: undefined,
    readSize: firstReadSize,
  }));

  const upTo = [after?.startedAt, options.startedAtOrBefore]
    .filter((time): time is string => time !== undefined)
    .sort()[0];
  const { startedAtOrAfter, scheduleId } = options;

  // Reads on until the stream has something to give or nothing more.
  const refill = async (stream: AccountStream): Promise<void> => {
    while (stream.buffer.length === 0 && stream.next !== null) {
      const page = await executions.listByAccount(stream.accountId, {
        ...(options.status === undefined ? {} : { status: options.status }),
        ...(upTo === undefined ? {} : { startedAtOrBefore: upTo }),
        page: { limit: stream.readSize, ...(stream.next === undefined ? {} : { cursor: stream.next }) },
      });
      stream.readSize = Math.min(limit, stream.readSize * 2);
      stream.next = page.next_cursor;
      // Newest first: once a run started before the window, the account has nothing more in it.
      if (startedAtOrAfter !== undefined && page.items.some((item) => item.started_at < startedAtOrAfter))
        stream.next = null;
      stream.buffer = page.items
        .filter((execution) => after === undefined || newestFirst(after, positionOf(execution)) < 0)
        .filter((execution) => startedAtOrAfter === undefined || execution.started_at >= startedAtOrAfter)
        .filter((execution) => scheduleId === undefined || execution.schedule_id === scheduleId)
        .sort((a, b) => newestFirst(positionOf(a), positionOf(b)));
    }
  };

  await forEachConcurrently(streams, refill);
  const items: Execution[] = [];
  while (items.length < limit) {
    let newest: AccountStream | undefined;
    for (const stream of streams) {
      const head = stream.buffer[0];
      if (!head) continue;
      const best = newest?.buffer[0];
      if (!best || newestFirst(positionOf(head), positionOf(best)) < 0) newest = stream;
    }
    if (!newest) break;
    items.push(newest.buffer.shift() as Execution);
    await refill(newest);
  }
  const last = items.at(-1);
  const more = streams.some((stream) => stream.buffer.length > 0);
  return { items, next_cursor: more && last ? encodeMergeCursor(positionOf(last)) : null };
}

/** Every account id of a tenant (all statuses), read page by page. */
export async function accountIdsOfTenant(
  accounts: Pick<AccountRepository, 'listByTenant'>,
  tenantId: string,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await accounts.listByTenant(tenantId, { page: { limit: 100, cursor } });
    ids.push(...page.items.map((account) => account.account_id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

/** One page of a tenant's executions (all its accounts), newest first. */
export async function listExecutionsOfTenant(
  repositories: {
    accounts: Pick<AccountRepository, 'listByTenant'>;
    executions: Pick<ExecutionRepository, 'listByAccount'>;
  },
  tenantId: string,
  options: ExecutionsOfAccountsOptions = {},
): Promise<Page<Execution>> {
  const accountIds = await accountIdsOfTenant(repositories.accounts, tenantId);
  return listExecutionsOfAccounts(repositories.executions, accountIds, options);
}

/** Every account id of every tenant (a platform administrator's all-tenants view). */
export async function accountIdsOfAllTenants(repositories: {
  tenants: Pick<TenantRepository, 'list'>;
  accounts: Pick<AccountRepository, 'listByTenant'>;
}): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await repositories.tenants.list({ limit: 100, cursor });
    for (const tenant of page.items)
      ids.push(...(await accountIdsOfTenant(repositories.accounts, tenant.tenant_id)));
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}
