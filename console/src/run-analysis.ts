/**
 * What happened to each state of a run, read from its workflow history (Step Functions'
 * GetExecutionHistory event names, which the local runtime uses too) and its definition.
 * Pure: the Run page draws from it, and unit tests pin it down.
 */

export type StateOutcome = 'succeeded' | 'failed' | 'caught' | 'retried' | 'running' | 'not_reached';

export const OUTCOME_LABELS: Record<StateOutcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  caught: 'failed, caught',
  retried: 'succeeded after retries',
  running: 'running',
  not_reached: 'not reached',
};

export interface HistoryEvent {
  id: number;
  timestamp: string;
  type: string;
  stateName?: string;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

export interface StateDefinition {
  Type: string;
  Comment?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next?: string }>;
  Catch?: Array<{ ErrorEquals?: string[]; Next?: string }>;
}

export interface WorkflowDefinition {
  StartAt: string;
  States: Record<string, StateDefinition>;
}

export interface StateVisit {
  enteredAt: string;
  exitedAt: string | null;
  input: unknown;
  output: unknown;
  error: string | null;
  cause: string | null;
  retries: number;
  outcome: StateOutcome;
}

export interface StateSummary {
  name: string;
  type: string;
  comment: string | null;
  outcome: StateOutcome;
  visits: StateVisit[];
  /** Summed over visits; null when never entered. A running visit counts up to `now`. */
  durationMs: number | null;
  retries: number;
  error: string | null;
  cause: string | null;
}

export interface Edge {
  from: string;
  to: string;
  kind: 'next' | 'choice' | 'default' | 'catch';
}

export interface RunAnalysis {
  /** Every state of the definition, in definition order. */
  states: StateSummary[];
  /** The states entered, in the order first entered. */
  entered: string[];
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  cause: string | null;
}

/** The transitions of a definition: Next, Choice branches and Default, Catch targets. */
export function edgesOf(definition: WorkflowDefinition): Edge[] {
  const edges: Edge[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string | undefined, kind: Edge['kind']) => {
    if (!to || !(to in definition.States)) return;
    const key = `${from}\u0000${to}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ from, to, kind });
  };
  for (const [name, state] of Object.entries(definition.States)) {
    add(name, state.Next, 'next');
    for (const choice of state.Choices ?? []) add(name, choice.Next, 'choice');
    add(name, state.Default, 'default');
    for (const handler of state.Catch ?? []) add(name, handler.Next, 'catch');
  }
  return edges;
}

const isFailure = (type: string) =>
  type === 'TaskFailed' ||
  type === 'TaskTimedOut' ||
  (type.endsWith('StateFailed') && type !== 'StateFailed');
const END_TYPES = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

interface OpenVisit extends StateVisit {
  failures: number;
  explicitRetries: number;
  caught: boolean;
  lastWasFailure: boolean;
}

export function analyzeRun(
  definition: WorkflowDefinition,
  events: readonly HistoryEvent[],
  options: { running: boolean; now: Date },
): RunAnalysis {
  const visits = new Map<string, OpenVisit[]>();
  const entered: string[] = [];
  let startedAt: string | null = null;
  let endedAt: string | null = null;
  let error: string | null = null;
  let cause: string | null = null;

  for (const event of events) {
    if (event.type === 'ExecutionStarted') startedAt = event.timestamp;
    if (END_TYPES.has(event.type)) {
      endedAt = event.timestamp;
      error = event.error ?? error;
      cause = event.cause ?? cause;
    }
    const name = event.stateName;
    if (!name) continue;
    const list = visits.get(name) ?? [];
    const current = list.at(-1);
    if (event.type.endsWith('StateEntered')) {
      if (!visits.has(name)) entered.push(name);
      list.push({
        enteredAt: event.timestamp,
        exitedAt: null,
        input: event.input,
        output: undefined,
        error: null,
        cause: null,
        retries: 0,
        outcome: 'running',
        failures: 0,
        explicitRetries: 0,
        caught: false,
        lastWasFailure: false,
      });
      visits.set(name, list);
      continue;
    }
    if (!current) continue;
    if (isFailure(event.type)) {
      current.failures += 1;
      current.lastWasFailure = true;
      current.error = event.error ?? current.error;
      current.cause = event.cause ?? current.cause;
    } else if (event.type === 'StateRetried') {
      current.explicitRetries += 1;
      current.lastWasFailure = false;
    } else if (event.type === 'StateCaught') {
      current.caught = true;
    } else if (event.type.endsWith('StateExited')) {
      current.exitedAt = event.timestamp;
      current.output = event.output;
    } else if (event.type.startsWith('Task')) {
      current.lastWasFailure = false;
    }
  }

  const nowIso = options.now.toISOString();
  const states = Object.entries(definition.States).map(([name, state]): StateSummary => {
    const list = visits.get(name) ?? [];
    for (const visit of list) visit.outcome = outcomeOf(state.Type, visit, options.running);
    for (const visit of list) {
      const terminalFailure = visit.outcome === 'failed' || visit.outcome === 'caught' ? 1 : 0;
      visit.retries = visit.explicitRetries || Math.max(0, visit.failures - terminalFailure);
    }
    const last = list.at(-1);
    const durationMs = list.length
      ? list.reduce(
          (sum, visit) =>
            sum +
            Date.parse(visit.exitedAt ?? (options.running ? nowIso : (endedAt ?? visit.enteredAt))) -
            Date.parse(visit.enteredAt),
          0,
        )
      : null;
    const failedVisit = [...list].reverse().find((visit) => visit.error);
    return {
      name,
      type: state.Type,
      comment: state.Comment ?? null,
      outcome: last?.outcome ?? 'not_reached',
      visits: list.map(
        ({ failures: _f, explicitRetries: _r, caught: _c, lastWasFailure: _l, ...visit }) => visit,
      ),
      durationMs,
      retries: list.reduce((sum, visit) => sum + visit.retries, 0),
      error: failedVisit?.error ?? (state.Type === 'Fail' && last ? error : null),
      cause: failedVisit?.cause ?? (state.Type === 'Fail' && last ? cause : null),
    };
  });
  return { states, entered, startedAt, endedAt, error, cause };
}

function outcomeOf(type: string, visit: OpenVisit, running: boolean): StateOutcome {
  if (type === 'Fail') return 'failed';
  if (visit.exitedAt === null) {
    if (running) return 'running';
    return 'failed';
  }
  if (visit.caught || visit.lastWasFailure) return 'caught';
  if (visit.explicitRetries > 0 || visit.failures > 0) return 'retried';
  return 'succeeded';
}
