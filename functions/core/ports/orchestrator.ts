import { quoted } from '../../../schemas/common';
/**
 * The orchestration port: Step Functions on AWS, the in-process ASL interpreter locally.
 * Shapes follow the Step Functions API so an operator reads the same names and statuses on both.
 */

import { ValidationError } from '../errors';

export const WORKFLOW_NAMES = ['onboarding', 'validation', 'scan'] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

export type WorkflowExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StartWorkflowRequest {
  workflow: WorkflowName;
  /** Unique per workflow (see execution-names.ts); 1–80 of [A-Za-z0-9-_.]. */
  name: string;
  /** References only (ids, secret names, version ids): never a credential value. */
  input: Record<string, unknown>;
}

export interface WorkflowExecutionHandle {
  workflow: WorkflowName;
  name: string;
  executionArn: string;
  startedAt: string;
  /** True when an execution of that name already existed with the same input (a duplicate start). */
  alreadyStarted: boolean;
}

export interface WorkflowExecutionDescription {
  workflow: WorkflowName;
  name: string;
  executionArn: string;
  status: WorkflowExecutionStatus;
  startedAt: string;
  stoppedAt?: string;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

/** One entry of an execution's history, named as in Step Functions' GetExecutionHistory. */
export interface WorkflowHistoryEvent {
  id: number;
  timestamp: string;
  /** e.g. ExecutionStarted, TaskStateEntered, TaskSucceeded, TaskFailed, ExecutionSucceeded. */
  type: string;
  stateName?: string;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

export interface ListWorkflowExecutionsRequest {
  workflow: WorkflowName;
  status?: WorkflowExecutionStatus;
  limit?: number;
  nextToken?: string;
}

export interface Orchestrator {
  start(request: StartWorkflowRequest): Promise<WorkflowExecutionHandle>;
  describe(executionArn: string): Promise<WorkflowExecutionDescription>;
  list(
    request: ListWorkflowExecutionsRequest,
  ): Promise<{ executions: WorkflowExecutionDescription[]; nextToken?: string }>;
  history(
    executionArn: string,
    options?: { limit?: number; nextToken?: string; reverseOrder?: boolean },
  ): Promise<{ events: WorkflowHistoryEvent[]; nextToken?: string }>;
  stop(executionArn: string, options?: { error?: string; cause?: string }): Promise<void>;
}

/**
 * What happens when an execution ends without its own states recording it (timeout, abort,
 * a failure no Catch handled): on AWS an EventBridge rule invokes the same handler.
 */
export interface ExecutionTerminatedEvent {
  workflow: WorkflowName;
  executionArn: string;
  name: string;
  status: Exclude<WorkflowExecutionStatus, 'RUNNING' | 'SUCCEEDED'>;
  input: unknown;
  error?: string;
  cause?: string;
}

/** What both targets accept as an execution name (a subset of Step Functions' rule, safe as a file name). */
export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,80}$/;

/** Throws a ValidationError naming the `name` field unless `name` is a valid execution name. */
export function assertValidExecutionName(name: string): void {
  if (!EXECUTION_NAME_PATTERN.test(name)) {
    throw new ValidationError(`execution name ${quoted(name.slice(0, 100))} is not valid`, [
      { field: 'name', message: 'expected 1 to 80 characters of [A-Za-z0-9-_.]' },
    ]);
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Whether two execution inputs are the same JSON document (key order ignored): a second start
 * with the same name and the same input is a duplicate, with another input a conflict.
 */
export function sameExecutionInput(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The error given to executions aborted because their runtime stopped (not a cancellation). */
export const RUNTIME_STOPPED_ERROR = 'LocalRuntimeStopped';
