import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { tenantIdsOf, useApp } from '../app-context';
import { accountsOf, schedulesOf } from '../directory';
import { FAILING_STATUSES, formatInZone, formatTime } from '../format';
import type { ScheduleDetails } from '../types';
import { useLoad } from '../use-poll';
import { describeExpression, expressionOf } from './schedule-words';
import { StatusBadge } from './status-badge';

async function loadSchedules(tenantIds: string[]) {
  const [schedules, accounts] = await Promise.all([schedulesOf(tenantIds), accountsOf(tenantIds)]);
  const details = await Promise.all(
    schedules.map((schedule) =>
      api<ScheduleDetails>(
        `/api/v1/schedules/${encodeURIComponent(schedule.schedule_id)}${query({ fire_times: 3, recent_runs: 5 })}`,
      ),
    ),
  );
  return { schedules: details, accounts };
}

/** Schedules: expression in words, time zone, next fire times, recent runs, counters; pause/resume/trigger, one or many. */
export function SchedulesPage() {
  const app = useApp();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const list = useLoad(`schedules:${tenantIdsOf(app).join(',')}`, () => loadSchedules(tenantIdsOf(app)), {
    intervalMs: 10_000,
  });
  const schedules = list.data?.schedules ?? [];
  const accountName = new Map(
    list.data?.accounts.map((account) => [account.account_id, account.account_name]),
  );
  const operate = app.me.may.operate;

  const run = async (ids: string[], action: 'pause' | 'resume' | 'trigger') => {
    const results = await Promise.allSettled(
      ids.map((id) =>
        api(`/api/v1/schedules/${encodeURIComponent(id)}/${action}`, {
          method: 'POST',
          ...(action === 'pause' && note ? { body: { note } } : {}),
        }),
      ),
    );
    const failed = results.filter((result) => result.status === 'rejected') as PromiseRejectedResult[];
    const verb = { pause: 'paused', resume: 'resumed', trigger: 'triggered' }[action];
    setMessage(
      failed.length === 0
        ? `${ids.length} schedule${ids.length === 1 ? '' : 's'} ${verb}`
        : `${ids.length - failed.length} ${verb}; ${failed.length} refused: ${failed.map((f) => (f.reason as Error).message).join('; ')}`,
    );
    setSelected(new Set());
    list.reload();
  };

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  return (
    <section aria-labelledby="schedules-title">
      <h1 id="schedules-title">Schedules</h1>
      {operate && (
        <fieldset class="bulk">
          <legend>Selected schedules</legend>
          <label>
            Pause note
            <input
              type="text"
              value={note}
              maxLength={500}
              onInput={(event) => setNote((event.target as HTMLInputElement).value)}
            />
          </label>
          <button
            type="button"
            disabled={selected.size === 0}
            onClick={() => void run([...selected], 'pause')}
          >
            Pause selected ({selected.size})
          </button>
          <button
            type="button"
            disabled={selected.size === 0}
            onClick={() => void run([...selected], 'resume')}
          >
            Resume selected ({selected.size})
          </button>
        </fieldset>
      )}
      {message && <p role="status">{message}</p>}
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      <table class="schedules" aria-label="Schedules">
        <thead>
          <tr>
            {operate && (
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select every schedule"
                  checked={schedules.length > 0 && selected.size === schedules.length}
                  onChange={(event) =>
                    setSelected(
                      (event.target as HTMLInputElement).checked
                        ? new Set(schedules.map((s) => s.schedule_id))
                        : new Set(),
                    )
                  }
                />
              </th>
            )}
            <th scope="col">Schedule</th>
            <th scope="col">Status</th>
            <th scope="col">When</th>
            <th scope="col">Next fire times (local)</th>
            <th scope="col">Recent runs</th>
            <th scope="col">Counters</th>
            {operate && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {schedules.map((schedule) => (
            <tr key={schedule.schedule_id} data-schedule={schedule.schedule_id} data-status={schedule.status}>
              {operate && (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${schedule.name}`}
                    checked={selected.has(schedule.schedule_id)}
                    onChange={(event) =>
                      toggle(schedule.schedule_id, (event.target as HTMLInputElement).checked)
                    }
                  />
                </td>
              )}
              <td>
                <a href={`#/schedules/${schedule.schedule_id}`}>{schedule.name}</a>
                <div class="muted">{accountName.get(schedule.account_id) ?? schedule.account_id}</div>
              </td>
              <td>
                <StatusBadge status={schedule.status} />
                {schedule.pause_note && <div class="muted">“{schedule.pause_note}”</div>}
              </td>
              <td>
                {describeExpression(schedule)}
                <div class="muted">
                  <code>{expressionOf(schedule)}</code> ({schedule.timezone})
                </div>
              </td>
              <td>
                {schedule.next_fire_times.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  <ul class="plain">
                    {schedule.next_fire_times.map((time) => (
                      <li key={time}>{formatInZone(time, schedule.timezone, false)}</li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <ul class="runs-strip" aria-label={`Recent runs of ${schedule.name}`}>
                  {schedule.recent_runs.map((execution) => (
                    <li key={execution.execution_id}>
                      <a
                        href={`#/runs/${execution.execution_id}`}
                        class={`run-dot status-${execution.status}${FAILING_STATUSES.has(execution.status) ? ' failing' : ''}`}
                        title={`${execution.status} ${formatTime(execution.started_at)}`}
                      >
                        {execution.status.replace('_', ' ')}
                      </a>
                    </li>
                  ))}
                </ul>
              </td>
              <td class="counters">
                {schedule.counters.runs} runs, {schedule.counters.failures} failed,{' '}
                {schedule.counters.skipped} skipped, {schedule.counters.missed} missed
              </td>
              {operate && (
                <td class="row-actions">
                  <div>
                    {schedule.status === 'active' ? (
                      <button
                        type="button"
                        onClick={() => void run([schedule.schedule_id], 'pause')}
                        aria-label={`Pause ${schedule.name}`}
                      >
                        Pause
                      </button>
                    ) : (
                      <button
                        type="button"
                        onClick={() => void run([schedule.schedule_id], 'resume')}
                        aria-label={`Resume ${schedule.name}`}
                      >
                        Resume
                      </button>
                    )}
                    <button
                      type="button"
                      disabled={schedule.status !== 'active'}
                      onClick={() => void run([schedule.schedule_id], 'trigger')}
                      aria-label={`Trigger now: ${schedule.name}`}
                    >
                      Trigger now
                    </button>
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {!list.loading && schedules.length === 0 && !list.error && <p>No schedules.</p>}
    </section>
  );
}
