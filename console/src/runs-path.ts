import { query } from './query';

export interface RunFilters {
  status: string;
  account_id: string;
  schedule_id: string;
  started_after: string;
  started_before: string;
}

export const NO_RUN_FILTERS: RunFilters = {
  status: '',
  account_id: '',
  schedule_id: '',
  started_after: '',
  started_before: '',
};

/** `datetime-local` (the operator's local time) → ISO UTC. */
const toIso = (local: string) => (local ? new Date(local).toISOString().replace(/\.\d+Z$/, 'Z') : '');

/** A page of runs with these filters (boot.ts asks for the unfiltered first one before the bundle runs). */
export function runsPath(
  tenantId: string | null,
  filters: RunFilters = NO_RUN_FILTERS,
  cursor?: string,
): string {
  return `/api/v1/executions${query({
    tenant_id: tenantId,
    status: filters.status,
    account_id: filters.account_id,
    schedule_id: filters.schedule_id,
    started_after: toIso(filters.started_after),
    started_before: toIso(filters.started_before),
    cursor,
    limit: 25,
  })}`;
}
