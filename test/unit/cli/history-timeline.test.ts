import { describe, expect, it } from 'vitest';
import { type HistoryEvent, timelineOf } from '../../../cli/history-timeline';

const at = (ms: number) => new Date(Date.UTC(2031, 0, 1, 0, 0, 0, ms)).toISOString();

/** Events with ids in order and a timestamp `ms` after the start. */
function events(...list: Array<[number, string, string?, Partial<HistoryEvent>?]>): HistoryEvent[] {
  return list.map(([ms, type, stateName, extra], index) => ({
    id: index + 1,
    timestamp: at(ms),
    type,
    ...(stateName ? { stateName } : {}),
    ...extra,
  }));
}

describe('Function: timelineOf', () => {
  it('gives each state entered its start, duration and outcome, and the run its outcome', () => {
    // Act
    const timeline = timelineOf(
      events(
        [0, 'ExecutionStarted'],
        [1, 'TaskStateEntered', 'Claim'],
        [31, 'TaskSucceeded', 'Claim'],
        [31, 'TaskStateExited', 'Claim'],
        [31, 'ChoiceStateEntered', 'Claimed?'],
        [32, 'ChoiceStateExited', 'Claimed?'],
        [40, 'ExecutionSucceeded'],
      ),
    );

    // Assess
    expect(timeline).toMatchObject({
      outcome: 'SUCCEEDED',
      startedAt: at(0),
      stoppedAt: at(40),
      error: null,
    });
    expect(timeline.entries).toEqual([
      expect.objectContaining({
        state: 'Claim',
        stateType: 'Task',
        enteredAt: at(1),
        durationMs: 30,
        retries: 0,
        outcome: 'succeeded',
      }),
      expect.objectContaining({
        state: 'Claimed?',
        stateType: 'Choice',
        durationMs: 1,
        outcome: 'succeeded',
      }),
    ]);
  });

  it('counts local retries (StateRetried), marks a caught failure, and gives the Fail state the run error', () => {
    // Act
    const timeline = timelineOf(
      events(
        [0, 'ExecutionStarted'],
        [1, 'TaskStateEntered', 'Start scan'],
        [5, 'TaskFailed', 'Start scan', { error: 'EngineUnavailableError', cause: 'HTTP 500' }],
        [6, 'StateRetried', 'Start scan'],
        [9, 'TaskFailed', 'Start scan', { error: 'EngineRejectedError', cause: 'HTTP 400' }],
        [9, 'StateCaught', 'Start scan'],
        [9, 'TaskStateExited', 'Start scan'],
        [10, 'FailStateEntered', 'Scan failed'],
        [10, 'ExecutionFailed', undefined, { error: 'EngineRejectedError', cause: 'HTTP 400' }],
      ),
    );

    // Assess
    expect(timeline.outcome).toBe('FAILED');
    expect(timeline.entries).toEqual([
      expect.objectContaining({
        state: 'Start scan',
        retries: 1,
        outcome: 'caught',
        error: 'EngineRejectedError',
        cause: 'HTTP 400',
      }),
      expect.objectContaining({
        state: 'Scan failed',
        stateType: 'Fail',
        outcome: 'failed',
        error: 'EngineRejectedError',
      }),
    ]);
  });

  it('counts AWS retries (the task scheduled again after a failure) and a recovered task as succeeded', () => {
    // Act
    const timeline = timelineOf(
      events(
        [0, 'ExecutionStarted'],
        [1, 'TaskStateEntered', 'Poll'],
        [2, 'TaskScheduled'],
        [3, 'TaskFailed', undefined, { error: 'States.TaskFailed', cause: 'throttled' }],
        [5, 'TaskScheduled'],
        [6, 'TaskFailed', undefined, { error: 'States.TaskFailed', cause: 'throttled' }],
        [8, 'TaskScheduled'],
        [9, 'TaskSucceeded'],
        [9, 'TaskStateExited', 'Poll'],
      ),
    );

    // Assess
    expect(timeline.outcome).toBe('RUNNING');
    expect(timeline.entries).toEqual([
      expect.objectContaining({ state: 'Poll', retries: 2, outcome: 'succeeded' }),
    ]);
  });

  it('ends the open state with the run when it times out or is aborted', () => {
    // Act
    const timedOut = timelineOf(
      events(
        [0, 'ExecutionStarted'],
        [1, 'WaitStateEntered', 'Wait for the engine'],
        [900, 'ExecutionTimedOut'],
      ),
    );
    const aborted = timelineOf(
      events(
        [0, 'ExecutionStarted'],
        [1, 'TaskStateEntered', 'Poll'],
        [50, 'ExecutionAborted', undefined, { error: 'ExecutionCancelled', cause: 'cancelled by ops' }],
      ),
    );

    // Assess
    expect(timedOut.outcome).toBe('TIMED_OUT');
    expect(timedOut.entries[0]).toMatchObject({ outcome: 'timed_out', durationMs: 899 });
    expect(aborted.outcome).toBe('ABORTED');
    expect(aborted.entries[0]).toMatchObject({
      outcome: 'aborted',
      error: 'ExecutionCancelled',
      cause: 'cancelled by ops',
    });
  });
});
