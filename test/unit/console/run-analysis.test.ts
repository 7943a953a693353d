import { describe, expect, it } from 'vitest';
import {
  analyzeRun,
  edgesOf,
  type HistoryEvent,
  type WorkflowDefinition,
} from '../../../console/src/run-analysis';
import { WORKFLOW_DEFINITIONS } from '../../../workflows/definitions';

const scan = WORKFLOW_DEFINITIONS.scan as unknown as WorkflowDefinition;
const CLAIM = 'Claim the scan slot and lock the account';
const CLAIMED = 'Was the scan slot claimed?';
const VALIDATE = "Validate the account's stored credentials";
const START = "Start the scan on the provider's engine";
const RECORD_FAILED = 'Record the failed scan and release the lock';

/** A history in Step Functions' event names, one second per event from 10:00:00. */
function history(...events: Array<Omit<HistoryEvent, 'id' | 'timestamp'>>): HistoryEvent[] {
  return events.map((event, index) => ({
    id: index + 1,
    timestamp: new Date(Date.UTC(2026, 11, 1, 10, 0, index)).toISOString(),
    ...event,
  }));
}

const task = (stateName: string, ...middle: Array<Omit<HistoryEvent, 'id' | 'timestamp' | 'stateName'>>) => [
  { type: 'TaskStateEntered', stateName },
  ...middle.map((event) => ({ ...event, stateName })),
  { type: 'TaskStateExited', stateName },
];

const outcomes = (analysis: ReturnType<typeof analyzeRun>) =>
  Object.fromEntries(
    analysis.states.filter((state) => state.outcome !== 'not_reached').map((s) => [s.name, s.outcome]),
  );

describe('Function: edgesOf', () => {
  it('links every Next, Choice branch, Default and Catch of the scan definition, each once', () => {
    // Act
    const edges = edgesOf(scan);

    // Assess
    expect(edges).toContainEqual({ from: CLAIM, to: CLAIMED, kind: 'next' });
    expect(edges).toContainEqual({ from: START, to: RECORD_FAILED, kind: 'catch' });
    expect(edges.filter((edge) => edge.kind === 'choice').length).toBeGreaterThan(0);
    const keys = edges.map((edge) => `${edge.from}->${edge.to}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const edge of edges) expect(Object.keys(scan.States)).toContain(edge.to);
  });
});

describe('Function: analyzeRun', () => {
  it('marks a task whose failure a Catch handled as caught, with its error and cause, and the rest not reached', () => {
    // Prepare: AWS names, no StateCaught event (the exit right after TaskFailed tells)
    const events = history(
      { type: 'ExecutionStarted' },
      ...task(CLAIM, { type: 'TaskSucceeded' }),
      { type: 'ChoiceStateEntered', stateName: CLAIMED },
      { type: 'ChoiceStateExited', stateName: CLAIMED },
      ...task(VALIDATE, { type: 'TaskSucceeded' }),
      ...task(START, { type: 'TaskFailed', error: 'EngineRejectedError', cause: 'HTTP 400' }),
      ...task(RECORD_FAILED, { type: 'TaskSucceeded' }),
      { type: 'FailStateEntered', stateName: 'Scan failed' },
      { type: 'ExecutionFailed', error: 'EngineRejectedError', cause: 'HTTP 400' },
    );

    // Act
    const analysis = analyzeRun(scan, events, { running: false, now: new Date() });

    // Assess
    expect(outcomes(analysis)).toEqual({
      [CLAIM]: 'succeeded',
      [CLAIMED]: 'succeeded',
      [VALIDATE]: 'succeeded',
      [START]: 'caught',
      [RECORD_FAILED]: 'succeeded',
      'Scan failed': 'failed',
    });
    expect(analysis.entered).toEqual([CLAIM, CLAIMED, VALIDATE, START, RECORD_FAILED, 'Scan failed']);
    const start = analysis.states.find((state) => state.name === START);
    expect(start).toMatchObject({
      error: 'EngineRejectedError',
      cause: 'HTTP 400',
      retries: 0,
      durationMs: 2000,
    });
    expect(analysis.states.filter((state) => state.outcome === 'not_reached').length).toBe(
      Object.keys(scan.States).length - 6,
    );
    expect(analysis).toMatchObject({ error: 'EngineRejectedError', cause: 'HTTP 400' });
  });

  it('counts retries, from failed attempts (AWS) or StateRetried events (local), and calls the state retried once it succeeds', () => {
    // Prepare
    const aws = history(
      ...task(
        VALIDATE,
        { type: 'TaskFailed', error: 'Throttled' },
        { type: 'TaskScheduled' },
        { type: 'TaskFailed', error: 'Throttled' },
        { type: 'TaskScheduled' },
        { type: 'TaskSucceeded' },
      ),
    );
    const local = history(...task(VALIDATE, { type: 'StateRetried' }, { type: 'TaskSucceeded' }));

    // Act
    const [fromAws, fromLocal] = [aws, local].map((events) =>
      analyzeRun(scan, events, { running: false, now: new Date() }).states.find((s) => s.name === VALIDATE),
    );

    // Assess
    expect(fromAws).toMatchObject({ outcome: 'retried', retries: 2 });
    expect(fromLocal).toMatchObject({ outcome: 'retried', retries: 1 });
  });

  it('shows the state still open in a running run as running, its duration counted up to now', () => {
    // Prepare
    const events = history({ type: 'ExecutionStarted' }, { type: 'TaskStateEntered', stateName: START });
    const now = new Date(Date.UTC(2026, 11, 1, 10, 0, 11));

    // Act
    const analysis = analyzeRun(scan, events, { running: true, now });

    // Assess
    expect(analysis.states.find((state) => state.name === START)).toMatchObject({
      outcome: 'running',
      durationMs: 10_000,
    });
  });

  it('keeps every visit of a state entered more than once (the polling loop)', () => {
    // Prepare
    const poll = "Poll the engine for the scan's status";
    const events = history(
      ...task(poll, { type: 'TaskSucceeded' }),
      ...task(poll, { type: 'TaskSucceeded' }),
    );

    // Act
    const state = analyzeRun(scan, events, { running: false, now: new Date() }).states.find(
      (s) => s.name === poll,
    );

    // Assess
    expect(state?.visits).toHaveLength(2);
    expect(state).toMatchObject({ outcome: 'succeeded', durationMs: 4000 });
  });
});
