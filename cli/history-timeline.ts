/**
 * A run's workflow history (the events of GET /executions/{id}/history, which are Step Functions'
 * own event types on AWS and locally) as a timeline: one entry per state entered, with when it
 * started, how long it took, how often it was retried, how it ended, and the error and cause of a
 * failure. Retries show as StateRetried events locally and, on AWS, as a task scheduled again
 * after a failure within the same state.
 */

export interface HistoryEvent {
  id: number;
  timestamp: string;
  type: string;
  stateName?: string;
  error?: string;
  cause?: string;
}

export type StateOutcome = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'caught' | 'aborted';
export type RunOutcome = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface TimelineEntry {
  state: string;
  /** Task, Choice, Wait, Pass, Map, Parallel, Succeed, Fail. */
  stateType: string;
  enteredAt: string;
  exitedAt: string | null;
  durationMs: number | null;
  retries: number;
  outcome: StateOutcome;
  error: string | null;
  cause: string | null;
}

export interface Timeline {
  entries: TimelineEntry[];
  outcome: RunOutcome;
  startedAt: string | null;
  stoppedAt: string | null;
  error: string | null;
  cause: string | null;
}

const ENTERED = /^(\w+?)StateEntered$/;
const EXITED = /^(\w+?)StateExited$/;
const FAILURE_TYPES = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'MapStateFailed',
  'ParallelStateFailed',
  'MapIterationFailed',
  'ParallelBranchFailed',
]);
const TASK_RESTART_TYPES = new Set(['TaskScheduled', 'LambdaFunctionScheduled']);
const SUCCESS_TYPES = new Set([
  'TaskSucceeded',
  'LambdaFunctionSucceeded',
  'MapStateSucceeded',
  'ParallelStateSucceeded',
]);
const RUN_ENDS: Record<string, RunOutcome> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

interface OpenEntry extends TimelineEntry {
  /** A failure seen since the last (re)start of the task, not yet followed by a retry or success. */
  failedSinceStart: boolean;
  retriedByEvent: boolean;
}

const elapsed = (from: string, to: string) => {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
};

export function timelineOf(events: readonly HistoryEvent[]): Timeline {
  const entries: OpenEntry[] = [];
  const open = new Map<string, OpenEntry>();
  const timeline: Timeline = {
    entries,
    outcome: 'RUNNING',
    startedAt: null,
    stoppedAt: null,
    error: null,
    cause: null,
  };
  // The state an event without a name belongs to: the one entered last and still open.
  let current: OpenEntry | undefined;
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    const entered = ENTERED.exec(event.type);
    const exited = EXITED.exec(event.type);
    const entry = (event.stateName ? open.get(event.stateName) : undefined) ?? current;
    if (event.type === 'ExecutionStarted') {
      timeline.startedAt = event.timestamp;
    } else if (entered && event.stateName) {
      const created: OpenEntry = {
        state: event.stateName,
        stateType: entered[1] as string,
        enteredAt: event.timestamp,
        exitedAt: null,
        durationMs: null,
        retries: 0,
        outcome: 'running',
        error: null,
        cause: null,
        failedSinceStart: false,
        retriedByEvent: false,
      };
      entries.push(created);
      open.set(event.stateName, created);
      current = created;
    } else if (exited && entry) {
      entry.exitedAt = event.timestamp;
      entry.durationMs = elapsed(entry.enteredAt, event.timestamp);
      entry.outcome = entry.failedSinceStart || entry.outcome === 'caught' ? 'caught' : 'succeeded';
      open.delete(entry.state);
      if (current === entry) current = undefined;
    } else if (event.type === 'StateRetried' && entry) {
      entry.retries += 1;
      entry.retriedByEvent = true;
      entry.failedSinceStart = false;
    } else if (event.type === 'StateCaught' && entry) {
      entry.outcome = 'caught';
    } else if (TASK_RESTART_TYPES.has(event.type) && entry) {
      if (entry.failedSinceStart && !entry.retriedByEvent) entry.retries += 1;
      entry.failedSinceStart = false;
    } else if (FAILURE_TYPES.has(event.type) && entry) {
      entry.failedSinceStart = true;
      entry.outcome = event.type.endsWith('TimedOut') ? 'timed_out' : 'failed';
      entry.error = event.error ?? entry.error;
      entry.cause = event.cause ?? entry.cause;
    } else if (SUCCESS_TYPES.has(event.type) && entry) {
      entry.failedSinceStart = false;
    } else if (RUN_ENDS[event.type]) {
      const outcome = RUN_ENDS[event.type] as RunOutcome;
      timeline.outcome = outcome;
      timeline.stoppedAt = event.timestamp;
      timeline.error = event.error ?? null;
      timeline.cause = event.cause ?? null;
      for (const still of open.values()) {
        still.exitedAt = event.timestamp;
        still.durationMs = elapsed(still.enteredAt, event.timestamp);
        if (outcome === 'SUCCEEDED') still.outcome = 'succeeded';
        else {
          still.outcome =
            outcome === 'TIMED_OUT' ? 'timed_out' : outcome === 'ABORTED' ? 'aborted' : 'failed';
          still.error ??= timeline.error;
          still.cause ??= timeline.cause;
        }
      }
      open.clear();
      current = undefined;
    }
  }
  timeline.entries = entries.map(
    ({ failedSinceStart: _failed, retriedByEvent: _retried, ...entry }) => entry,
  );
  return timeline;
}
