/** Display helpers: durations, times, statuses. */

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** A time as the wall clock of `timeZone` shows it, e.g. `Wed 2 Dec 2026, 06:00 Europe/Paris`. */
export function formatInZone(iso: string, timeZone: string, withZone = true): string {
  try {
    const text = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(iso));
    return withZone ? `${text} ${timeZone}` : text;
  } catch {
    return formatTime(iso);
  }
}

/** Execution statuses that mean the run did not do its work. */
export const FAILING_STATUSES = new Set(['failed', 'timed_out', 'aborted']);

export const EXECUTION_STATUSES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'aborted',
  'skipped',
  'duplicate',
] as const;

export function shortId(id: string | null | undefined): string {
  if (!id) return '—';
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}
