import { useState } from 'preact/hooks';
import { api } from '../api';
import { tenantIdsOf, useApp } from '../app-context';
import { accountsOf, schedulesOf } from '../directory';
import { EXECUTION_STATUSES, FAILING_STATUSES, formatDuration, formatTime, shortId } from '../format';
import { NO_RUN_FILTERS, type RunFilters, runsPath } from '../runs-path';
import type { ExecutionPage } from '../types';
import { useLoad } from '../use-poll';
import { StatusBadge } from './status-badge';

/** Runs: executions across the tenant(s) looked at, newest first, filtered, paged, refreshed. */
export function RunsPage(props: { accountId: string | null }) {
  const app = useApp();
  const initial = { ...NO_RUN_FILTERS, account_id: props.accountId ?? '' };
  const [filters, setFilters] = useState<RunFilters>(initial);
  const [draft, setDraft] = useState<RunFilters>(initial);
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [autoRefresh, setAutoRefresh] = useState(true);
  const cursor = cursors.at(-1);
  const scope = app.tenantId ?? '';

  const runs = useLoad<ExecutionPage>(
    JSON.stringify({ filters, cursor, scope }),
    () => api<ExecutionPage>(runsPath(app.tenantId, filters, cursor)),
    { intervalMs: 5000, shouldPoll: () => autoRefresh && cursors.length === 1 },
  );
  // Names for the table and the filters, asked once the first runs are on screen.
  const [runsShown, setRunsShown] = useState(false);
  if (runs.data && !runsShown) setRunsShown(true);
  const tenantIds = runsShown ? tenantIdsOf(app) : [];
  const directory = useLoad(
    `directory:${tenantIds.join(',')}`,
    async () => {
      const [accounts, schedules] = await Promise.all([accountsOf(tenantIds), schedulesOf(tenantIds)]);
      return { accounts, schedules };
    },
    { afterPaint: true },
  );
  const accountName = new Map(
    directory.data?.accounts.map((account) => [account.account_id, account.account_name]),
  );
  const scheduleName = new Map(
    directory.data?.schedules.map((schedule) => [schedule.schedule_id, schedule.name]),
  );

  const apply = (event: Event) => {
    event.preventDefault();
    setFilters(draft);
    setCursors([undefined]);
  };
  const field = (name: keyof RunFilters) => ({
    value: draft[name],
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.target as HTMLInputElement).value }),
  });

  const executions = runs.data?.executions ?? [];
  const allTenants = app.me.may.administer_platform && app.tenantId === null;
  const tenantName = new Map(app.tenants.map((tenant) => [tenant.tenant_id, tenant.tenant_name]));
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter runs">
        <label>
          Status
          <select {...field('status')}>
            <option value="">any</option>
            {EXECUTION_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Account
          <select {...field('account_id')}>
            <option value="">any</option>
            {directory.data?.accounts.map((account) => (
              <option key={account.account_id} value={account.account_id}>
                {account.account_name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Schedule
          <select {...field('schedule_id')}>
            <option value="">any</option>
            {directory.data?.schedules.map((schedule) => (
              <option key={schedule.schedule_id} value={schedule.schedule_id}>
                {schedule.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Started after
          <input type="datetime-local" {...field('started_after')} />
        </label>
        <label>
          Started before
          <input type="datetime-local" {...field('started_before')} />
        </label>
        <button type="submit">Apply filters</button>
        <label class="inline">
          <input
            type="checkbox"
            checked={autoRefresh}
            onChange={(event) => setAutoRefresh((event.target as HTMLInputElement).checked)}
          />
          Auto-refresh
        </label>
      </form>
      <p class="muted">Workflow: scan (every listed run is a scan execution).</p>
      {runs.error && (
        <p role="alert" class="error">
          {runs.error}
        </p>
      )}
      <table class="runs" aria-label="Runs, newest first">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            {allTenants && <th scope="col">Tenant</th>}
            <th scope="col">Account</th>
            <th scope="col">Schedule</th>
            <th scope="col">Trigger</th>
            <th scope="col">Step or error</th>
          </tr>
        </thead>
        <tbody>
          {executions.map((run) => (
            <tr
              key={run.execution_id}
              class={FAILING_STATUSES.has(run.status) ? 'failing' : ''}
              data-status={run.status}
            >
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>
                <a href={`#/runs/${run.execution_id}`}>{shortId(run.execution_id)}</a>
              </td>
              <td>{formatTime(run.started_at)}</td>
              <td>
                {run.execution_time_seconds != null
                  ? formatDuration(run.execution_time_seconds * 1000)
                  : run.status === 'running'
                    ? 'running'
                    : '—'}
              </td>
              {allTenants && <td>{tenantName.get(run.tenant_id ?? '') ?? shortId(run.tenant_id)}</td>}
              <td>{accountName.get(run.account_id) ?? shortId(run.account_id)}</td>
              <td>
                {run.schedule_id ? (
                  <a href={`#/schedules/${run.schedule_id}`}>
                    {scheduleName.get(run.schedule_id) ?? shortId(run.schedule_id)}
                  </a>
                ) : (
                  '—'
                )}
              </td>
              <td>{run.triggered_by}</td>
              <td class="step">{run.error_message ?? run.current_step ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!runs.loading && executions.length === 0 && !runs.error && <p>No runs match.</p>}
      <nav class="pager" aria-label="Pages of runs">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer runs
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          disabled={!runs.data?.next_cursor}
          onClick={() => setCursors([...cursors, runs.data?.next_cursor ?? undefined])}
        >
          Older runs
        </button>
      </nav>
    </section>
  );
}
