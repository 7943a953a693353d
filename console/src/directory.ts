import { api, query } from './api';
import type { Account, Schedule } from './types';

/** Every page of a tenant-scoped list, read with the API's cursors. */
export async function listAll<T>(path: string, key: string, params: Record<string, string>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api<Record<string, unknown>>(`${path}${query({ ...params, limit: 100, cursor })}`);
    items.push(...((page[key] ?? []) as T[]));
    cursor = (page.next_cursor as string | null) ?? undefined;
  } while (cursor);
  return items;
}

/** The accounts of the tenants looked at (names for the other pages). */
export async function accountsOf(tenantIds: string[]): Promise<Account[]> {
  const lists = await Promise.all(
    tenantIds.map((tenantId) =>
      listAll<Account>('/api/v1/onboarding/accounts', 'accounts', { tenant_id: tenantId }),
    ),
  );
  return lists.flat();
}

export async function schedulesOf(tenantIds: string[]): Promise<Schedule[]> {
  const lists = await Promise.all(
    tenantIds.map((tenantId) => listAll<Schedule>('/api/v1/schedules', 'schedules', { tenant_id: tenantId })),
  );
  return lists.flat();
}
