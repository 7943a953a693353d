import type { StateMachine } from 'aws-local-stepfunctions';
import type { WorkflowHistoryEvent } from '../functions/core/ports/orchestrator';

export type StateType = 'Task' | 'Parallel' | 'Map' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail';
type RunHandle = ReturnType<StateMachine['run']>;
export type LibraryEvent = RunHandle['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
export type HistoryEventDraft = Omit<WorkflowHistoryEvent, 'id' | 'timestamp'>;

/** What one execution keeps between interpreter events to shape its history. */
export interface HistoryConversionState {
  /** The latest result of each task state, shown on its TaskSucceeded event. */
  taskResults: Map<string, unknown>;
  /** States whose error a Catch took: their exit is not a success. */
  caught: Set<string>;
}

export function describeCause(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

/** Maps one interpreter event to Step Functions-like history events. */
export function toHistoryEvents(
  event: LibraryEvent,
  stateTypes: ReadonlyMap<string, StateType>,
  live: HistoryConversionState,
): HistoryEventDraft[] {
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
      // Written by the runtime itself, from the execution's outcome.
      return [];
    case 'MapIterationStarted':
    case 'ParallelBranchStarted':
      // The interpreter copies the iteration's own ExecutionStarted event (with its input) into these.
      return [
        {
          type: event.type,
          stateName: event.parentState.name,
          input: (event as { input?: unknown }).input,
        },
      ];
    case 'MapIterationSucceeded':
    case 'ParallelBranchSucceeded':
      return [
        {
          type: event.type,
          stateName: event.parentState.name,
          output: (event as { output?: unknown }).output,
        },
      ];
    case 'MapIterationFailed':
    case 'ParallelBranchFailed': {
      const cause = describeCause(event.Cause);
      return [
        {
          type: event.type,
          stateName: event.parentState.name,
          error: event.Error,
          ...(cause !== undefined ? { cause } : {}),
        },
      ];
    }
    default:
      break;
  }
  const stateName = event.state.name;
  const type = stateTypes.get(stateName) ?? event.state.type;
  switch (event.type) {
    case 'StateEntered': {
      const entered = { type: `${type}StateEntered`, stateName, input: event.state.input };
      return type === 'Map' || type === 'Parallel'
        ? [entered, { type: `${type}StateStarted`, stateName }]
        : [entered];
    }
    case 'StateExited': {
      const exited = { type: `${type}StateExited`, stateName, output: event.state.output };
      if (live.caught.delete(stateName)) return [exited];
      if (type === 'Task') {
        const result = live.taskResults.get(stateName);
        return [
          { type: 'TaskSucceeded', stateName, ...(result !== undefined ? { output: result } : {}) },
          exited,
        ];
      }
      return type === 'Map' || type === 'Parallel'
        ? [{ type: `${type}StateSucceeded`, stateName }, exited]
        : [exited];
    }
    case 'StateFailed': {
      if (type === 'Fail') return [];
      const failed =
        type === 'Task'
          ? event.Error === 'States.Timeout'
            ? 'TaskTimedOut'
            : 'TaskFailed'
          : `${type}StateFailed`;
      const cause = describeCause(event.Cause);
      return [{ type: failed, stateName, error: event.Error, ...(cause !== undefined ? { cause } : {}) }];
    }
    case 'StateRetried':
      return [{ type: 'StateRetried', stateName }];
    case 'StateCaught':
      live.caught.add(stateName);
      return [{ type: 'StateCaught', stateName }];
    default:
      return [];
  }
}
