import type { Clock } from '../functions/core/clock';

/** A Lambda task as the local runtime calls it: the state's input in, a JSON-serializable result out. */
export type LocalTaskHandler = (input: unknown) => Promise<unknown>;

/** JSON as the interpreter types it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Step Functions' limit on an execution input and on every state's payload. */
export const MAX_PAYLOAD_BYTES = 262_144;

/** A task failure as a Lambda reports it: error type and message only, nothing else crosses. */
export class TaskError extends Error {
  constructor(
    name: string,
    message: string,
    private readonly terminal = false,
  ) {
    super(message);
    this.name = name;
  }
  /** Read by the interpreter: States.Runtime-like errors match no Retry or Catch. */
  get isRetryable(): boolean {
    return !this.terminal;
  }
  get isCatchable(): boolean {
    return !this.terminal;
  }
}

function toTaskError(error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  if (error instanceof Error) return new TaskError(error.name || 'Error', error.message);
  return new TaskError('Error', String(error));
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const REFERENCE_STEP = /^(?:\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
const REFERENCE_PATH = /^\$\$?(?:\.[A-Za-z0-9_$-]+|\[\d+\]|\['[^']*'\]|\["[^"]*"\])*$/;

/** Reads a JSONPath reference path (`$.a.b[0]`, `$['a']`, `$$.Execution.Input.x`); undefined when absent. */
export function readReferencePath(path: string, input: unknown, context: unknown): unknown {
  const root = path.startsWith('$$') ? context : input;
  let rest = path.startsWith('$$') ? path.slice(2) : path.startsWith('$') ? path.slice(1) : undefined;
  if (rest === undefined) throw new TaskError('States.Runtime', `'${path}' is not a reference path`, true);
  let current: unknown = root;
  while (rest.length > 0) {
    const match = REFERENCE_STEP.exec(rest);
    if (!match) throw new TaskError('States.Runtime', `'${path}' is not a reference path`, true);
    const key = match[1] ?? match[3] ?? match[4];
    if (current === null || typeof current !== 'object') return undefined;
    current =
      key !== undefined
        ? (current as Record<string, unknown>)[key]
        : (current as unknown[])[Number(match[2])];
    rest = rest.slice(match[0].length);
  }
  return current;
}

/**
 * True when a Task's `Parameters` hold only literal values and reference paths (no intrinsic
 * functions): the runtime then fills them in itself, with the reader above, instead of the
 * interpreter's general JSONPath engine (which costs several times more per path and throws an
 * Error internally for every scalar it returns).
 */
export function isReferenceTemplate(template: unknown): boolean {
  if (Array.isArray(template)) return template.every(isReferenceTemplate);
  if (template === null || typeof template !== 'object') return true;
  return Object.entries(template).every(([key, value]) =>
    key.endsWith('.$') ? typeof value === 'string' && REFERENCE_PATH.test(value) : isReferenceTemplate(value),
  );
}

/** Fills in a `Parameters` template as Step Functions does; a path to nothing is States.Runtime. */
export function resolveReferenceTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((item) => resolveReferenceTemplate(item, input, context));
  if (template === null || typeof template !== 'object') return template;
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      const found = readReferencePath(value, input, context);
      if (found === undefined) {
        throw new TaskError('States.Runtime', `Path expression '${value}' does not point to a value`, true);
      }
      resolved[key.slice(0, -2)] = found;
    } else {
      resolved[key] = resolveReferenceTemplate(value, input, context);
    }
  }
  return resolved;
}

export interface TaskInvocation {
  stateName: string;
  handler: LocalTaskHandler;
  /** The state's `Parameters` when the runtime fills them in (see isReferenceTemplate). */
  parameters?: unknown;
  context: unknown;
  /** Aborted when the execution ends: refuses further calls. */
  signal: AbortSignal;
  onResult: (output: Json) => void;
}

/**
 * The override the interpreter calls for one Task state: the input as Lambda would receive it
 * (a copy, so a handler cannot change the interpreter's data), errors as a Lambda reports them,
 * and the result checked to be JSON within the payload limit.
 */
export function taskInvoker(invocation: TaskInvocation): (input: Json) => Promise<Json> {
  const { stateName, handler, parameters, context, signal, onResult } = invocation;
  return async (input) => {
    if (signal.aborted) {
      throw new TaskError('States.Runtime', 'the execution is no longer running', true);
    }
    const effective = parameters === undefined ? input : resolveReferenceTemplate(parameters, input, context);
    let result: unknown;
    try {
      result = await handler(JSON.parse(JSON.stringify(effective)));
    } catch (error) {
      throw toTaskError(error);
    }
    let json: string;
    try {
      json = JSON.stringify(result ?? null);
    } catch (error) {
      throw new TaskError(
        'Runtime.MarshalError',
        `the result of task state '${stateName}' is not JSON: ${(error as Error).message}`,
      );
    }
    if (Buffer.byteLength(json) > MAX_PAYLOAD_BYTES) {
      throw new TaskError(
        'States.DataLimitExceeded',
        `the result of task state '${stateName}' is larger than ${MAX_PAYLOAD_BYTES} bytes`,
        true,
      );
    }
    const output = JSON.parse(json) as Json;
    onResult(output);
    return output;
  };
}

export interface WaitSpec {
  Seconds?: number;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
}

export interface ScaledWait {
  stateName: string;
  spec: WaitSpec;
  /** An exact duration in milliseconds (wins over the scale). */
  overrideMs?: number;
  timeScale: number;
  clock: Clock;
  context: unknown;
  signal: AbortSignal;
}

/** A Wait state run by the runtime as a Task, its duration multiplied by the time scale. */
export function scaledWaiter(wait: ScaledWait): (input: Json) => Promise<Json> {
  const { stateName, spec, timeScale, context } = wait;
  return async (input) => {
    let ms: number;
    if (wait.overrideMs !== undefined) {
      ms = wait.overrideMs;
    } else if (spec.Seconds !== undefined) {
      ms = spec.Seconds * 1000 * timeScale;
    } else if (spec.SecondsPath !== undefined) {
      const seconds = readReferencePath(spec.SecondsPath, input, context);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw new TaskError(
          'States.Runtime',
          `Wait state '${stateName}': ${spec.SecondsPath} must be an integer of at least 0`,
          true,
        );
      }
      ms = seconds * 1000 * timeScale;
    } else {
      const timestamp = spec.Timestamp ?? readReferencePath(spec.TimestampPath ?? '$', input, context);
      const time = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
      if (Number.isNaN(time)) {
        throw new TaskError('States.Runtime', `Wait state '${stateName}': the timestamp is not valid`, true);
      }
      ms = Math.max(0, time - wait.clock().getTime()) * timeScale;
    }
    await sleep(ms, wait.signal);
    return input;
  };
}
