import { useState } from 'preact/hooks';
import { api } from '../api';
import { useApp } from '../app-context';
import { FAILING_STATUSES, formatInZone, formatTime, shortId } from '../format';
import type { ScheduleDetails } from '../types';
import { useLoad } from '../use-poll';
import { describeExpression, expressionOf } from './schedule-words';
import { StatusBadge } from './status-badge';

/** One schedule: its timing in words and as written, next fire times, recent runs, counters, actions. */
export function SchedulePage(props: { scheduleId: string }) {
  const app = useApp();
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const path = `/api/v1/schedules/${encodeURIComponent(props.scheduleId)}`;
  const loaded = useLoad(
    `schedule:${props.scheduleId}`,
    () => api<ScheduleDetails>(`${path}?fire_times=5&recent_runs=10`),
    {
      intervalMs: 5000,
    },
  );
  const schedule = loaded.data;
  if (loaded.error && !schedule)
    return (
      <p role="alert" class="error">
        {loaded.error}
      </p>
    );
  if (!schedule) return <p aria-busy="true">Loading the schedule…</p>;

  const act = async (action: 'pause' | 'resume' | 'trigger') => {
    try {
      await api(`${path}/${action}`, {
        method: 'POST',
        ...(action === 'pause' && note ? { body: { note } } : {}),
      });
      setMessage(
        `${action === 'trigger' ? 'Triggered' : action === 'pause' ? 'Paused' : 'Resumed'} ${schedule.name}`,
      );
      loaded.reload();
    } catch (error) {
      setMessage((error as Error).message);
    }
  };

  return (
    <section aria-labelledby="schedule-title">
      <h1 id="schedule-title">
        {schedule.name} <StatusBadge status={schedule.status} />
      </h1>
      <dl class="facts">
        <dt>When</dt>
        <dd>{describeExpression(schedule)}</dd>
        <dt>As written</dt>
        <dd>
          <code>{expressionOf(schedule)}</code>
        </dd>
        <dt>Time zone</dt>
        <dd>{schedule.timezone}</dd>
        <dt>Account</dt>
        <dd>
          <a href={`#/accounts?account=${schedule.account_id}`}>{schedule.account_id}</a>
        </dd>
        <dt>Counters</dt>
        <dd>
          {schedule.counters.runs} runs, {schedule.counters.successes} succeeded, {schedule.counters.failures}{' '}
          failed, {schedule.counters.skipped} skipped, {schedule.counters.missed} missed (
          {schedule.counters.consecutive_failures} failures in a row)
        </dd>
        {schedule.paused_at && (
          <>
            <dt>Paused</dt>
            <dd>
              {formatTime(schedule.paused_at)} by {schedule.paused_by ?? '—'}
              {schedule.pause_note ? `: “${schedule.pause_note}”` : ''}
            </dd>
          </>
        )}
        {schedule.timing_error && (
          <>
            <dt>Timing</dt>
            <dd class="error">{schedule.timing_error}</dd>
          </>
        )}
      </dl>
      {app.me.may.operate && (
        <div class="actions">
          {schedule.status === 'active' ? (
            <>
              <label>
                Pause note
                <input
                  type="text"
                  value={note}
                  maxLength={500}
                  onInput={(event) => setNote((event.target as HTMLInputElement).value)}
                />
              </label>
              <button type="button" onClick={() => void act('pause')}>
                Pause
              </button>
            </>
          ) : (
            <button type="button" onClick={() => void act('resume')}>
              Resume
            </button>
          )}
          <button type="button" disabled={schedule.status !== 'active'} onClick={() => void act('trigger')}>
            Trigger now
          </button>
        </div>
      )}
      {message && <p role="status">{message}</p>}
      <h2>Next fire times</h2>
      {schedule.next_fire_times.length === 0 ? (
        <p class="muted">None while {schedule.status}.</p>
      ) : (
        <ul>
          {schedule.next_fire_times.map((time) => (
            <li key={time}>
              {formatInZone(time, schedule.timezone)} <span class="muted">({formatTime(time)})</span>
            </li>
          ))}
        </ul>
      )}
      <h2>Recent runs</h2>
      <table aria-label="Recent runs of the schedule">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {schedule.recent_runs.map((run) => (
            <tr key={run.execution_id} class={FAILING_STATUSES.has(run.status) ? 'failing' : ''}>
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>
                <a href={`#/runs/${run.execution_id}`}>{shortId(run.execution_id)}</a>
              </td>
              <td>{formatTime(run.started_at)}</td>
              <td>{run.error_message ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
