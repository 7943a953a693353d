import { createHash } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import { type Clock, systemClock } from '../functions/core/clock';
import {
  ConfigurationError,
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  ValidationError,
} from '../functions/core/errors';
import { type Logger, silentLogger } from '../functions/core/logger';
import {
  assertValidExecutionName,
  type ExecutionTerminatedEvent,
  type ListWorkflowExecutionsRequest,
  type Orchestrator,
  RUNTIME_STOPPED_ERROR,
  type StartWorkflowRequest,
  sameExecutionInput,
  WORKFLOW_NAMES,
  type WorkflowExecutionDescription,
  type WorkflowExecutionHandle,
  type WorkflowExecutionStatus,
  type WorkflowHistoryEvent,
  type WorkflowName,
} from '../functions/core/ports/orchestrator';
import { toIsoUtc } from '../schemas/common';
import { HistoryJournal, readHistoryFileOfEarlierVersion } from './execution-history-journal';
import { clampPageSize, decodeToken, encodeToken, MAX_PAGE_SIZE, newerFirst } from './execution-pages';
import { type ExecutionRecord, ExecutionRecordStore, RECORD_VERSION } from './execution-record-store';
import { describeCause, type StateType, toHistoryEvents } from './history-events';
import {
  isReferenceTemplate,
  type Json,
  type LocalTaskHandler,
  MAX_PAYLOAD_BYTES,
  scaledWaiter,
  taskInvoker,
  type WaitSpec,
} from './task-invoker';

export type { LocalTaskHandler };

export interface LocalStepFunctionsOptions {
  /** Where execution records and histories are kept (a folder inside the data directory). */
  directory: string;
  region: string;
  /** Account id used in ARNs; default `000000000000`. */
  accountId?: string;
  /** ASL definitions whose Task resources are `${Token}` placeholders (as in workflows/). */
  definitions: Partial<Record<WorkflowName, object>>;
  /** The handler of every resource token the definitions use. */
  taskHandlers: Record<string, LocalTaskHandler>;
  /** Called once for every execution that ends FAILED, TIMED_OUT or ABORTED (the AWS EventBridge rule). */
  onTerminated?: (event: ExecutionTerminatedEvent) => Promise<void>;
  logger?: Logger;
  clock?: Clock;
  /**
   * Multiplies every Wait and every retry pause: 1 (default) is real time, 0.001 turns seconds into
   * milliseconds, 0 removes the pauses. Task and execution timeouts stay in real time. Under a
   * scale, retries wait the scaled first interval of their retrier each time (no growth).
   */
  timeScale?: number;
  /** Exact Wait durations in milliseconds, by workflow then state name (win over timeScale). */
  waitTimeOverrides?: Partial<Record<WorkflowName, Record<string, number>>>;
  /** Exact retry pauses in milliseconds (one value, or one per retrier), by workflow then state name. */
  retryIntervalOverrides?: Partial<Record<WorkflowName, Record<string, number | number[]>>>;
  /** Executions running at once; the others wait for a slot, RUNNING. Default 100. */
  maxConcurrentExecutions?: number;
}

export interface CloseOptions {
  /** How long running executions may go on before they are aborted. Default 2000 ms. */
  gracePeriodMs?: number;
}

export const DEFAULT_LOCAL_ACCOUNT_ID = '000000000000';
export const STATE_MACHINE_PREFIX = 'threat-engine-';
/** Error of the ExecutionAborted event written for executions the runtime could not finish. */
export { RUNTIME_STOPPED_ERROR };
export const RUNTIME_STOPPED_CAUSE = 'the local runtime stopped while the execution was running';
export const RUNTIME_CLOSED_CAUSE = 'the local runtime was closed while the execution was running';

const DEFAULT_LIST_PAGE_SIZE = 100;
const DEFAULT_MAX_CONCURRENT = 100;
const DEFAULT_GRACE_MS = 2000;
/** The timeout given to the Task that replaces a scaled Wait: beyond any scaled wait, below setTimeout's limit. */
const SCALED_WAIT_TIMEOUT_SECONDS = 2_000_000;
const SCALED_WAIT_FUNCTION = 'LocalRuntimeScaledWait';
/** How often the events of running executions are written to their history files. */
const HISTORY_FLUSH_INTERVAL_MS = 500;
/**
 * Definitions (after substitution) already validated in this process: validation costs about
 * 300 ms a definition, and tests open a runtime over the same definitions again and again.
 */
const VALID_DEFINITIONS = new Set<string>();

type AslDefinition = ConstructorParameters<typeof StateMachine>[0];

interface AslState {
  Type: StateType;
  Resource?: unknown;
  Branches?: Array<{ States?: Record<string, AslState> }>;
  ItemProcessor?: { States?: Record<string, AslState> };
  Iterator?: { States?: Record<string, AslState> };
  Retry?: Array<{ IntervalSeconds?: number; MaxDelaySeconds?: number }>;
  Seconds?: number;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
  [field: string]: unknown;
}

interface PreparedWorkflow {
  workflow: WorkflowName;
  stateMachineArn: string;
  stateMachineName: string;
  machine: StateMachine;
  /** Task state name → resource token. */
  taskTokens: Map<string, string>;
  /** Task state name → its `Parameters`, filled in by the runtime instead of the interpreter. */
  taskParameters: Map<string, unknown>;
  /** Every state name → its type in the definition as written. */
  stateTypes: Map<string, StateType>;
  /** Wait states run by the runtime (scaled), by name. */
  scaledWaits: Map<string, WaitSpec>;
  waitTimeOverrides: Record<string, number>;
  retryIntervalOverrides: Record<string, number | number[]>;
  timeoutSeconds?: number;
}

interface Outcome {
  status: Exclude<WorkflowExecutionStatus, 'RUNNING'>;
  output?: unknown;
  error?: string;
  cause?: string;
}

interface LiveExecution {
  record: ExecutionRecord;
  prepared: PreparedWorkflow;
  /** Aborted on stop, timeout and close: refuses further task calls, ends scaled waits. */
  controller: AbortController;
  stopRequest?: { error?: string; cause?: string };
  abortRun?: () => void;
  /** The latest result of each task state, shown on its TaskSucceeded event. */
  taskResults: Map<string, unknown>;
  /** States whose error a Catch took: their exit is not a success. */
  caught: Set<string>;
  done: Promise<void>;
  markDone: () => void;
}

/** Why the signal of a run that ended is aborted (nothing reads it; it only ends waits and refuses calls). */
const RUN_ENDED = new Error('the execution has ended');

function fileStem(name: string): string {
  return `${name}.${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/**
 * The orchestration port in process: the workflows' ASL run by aws-local-stepfunctions with the
 * same task handlers the Lambdas use, execution records and histories kept in files, ARNs and
 * statuses shaped like Step Functions'. Executions that were running when the process died are
 * marked ABORTED when the runtime opens again.
 */
export class LocalStepFunctions implements Orchestrator {
  readonly #directory: string;
  readonly #region: string;
  readonly #accountId: string;
  readonly #workflows: Map<WorkflowName, PreparedWorkflow>;
  readonly #handlers: Record<string, LocalTaskHandler>;
  readonly #onTerminated: LocalStepFunctionsOptions['onTerminated'];
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timeScale: number;
  readonly #maxConcurrent: number;
  /** Every known execution, by ARN. */
  #records = new Map<string, ExecutionRecord>();
  readonly #live = new Map<string, LiveExecution>();
  readonly #store: ExecutionRecordStore;
  readonly #journal: HistoryJournal;
  /** One timer for the runtime: writes the events of running executions to their histories. */
  #historyFlusher: NodeJS.Timeout | undefined;
  #running = 0;
  readonly #slotWaiters: Array<() => void> = [];
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: LocalStepFunctionsOptions, journal: HistoryJournal) {
    this.#journal = journal;
    this.#directory = options.directory;
    this.#region = options.region;
    this.#accountId = options.accountId ?? DEFAULT_LOCAL_ACCOUNT_ID;
    this.#handlers = options.taskHandlers;
    this.#onTerminated = options.onTerminated;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#timeScale = options.timeScale ?? 1;
    this.#maxConcurrent = options.maxConcurrentExecutions ?? DEFAULT_MAX_CONCURRENT;
    this.#store = new ExecutionRecordStore(this.#directory, this.#logger);
    if (!Number.isFinite(this.#timeScale) || this.#timeScale < 0) {
      throw new ConfigurationError('timeScale must be a finite number of at least 0', [
        { field: 'timeScale', message: 'expected a number >= 0' },
      ]);
    }
    if (!Number.isInteger(this.#maxConcurrent) || this.#maxConcurrent < 1) {
      throw new ConfigurationError('maxConcurrentExecutions must be a positive integer', [
        { field: 'maxConcurrentExecutions', message: 'expected an integer >= 1' },
      ]);
    }
    this.#workflows = new Map();
    for (const workflow of WORKFLOW_NAMES) {
      const definition = options.definitions[workflow];
      if (definition === undefined) continue;
      this.#workflows.set(workflow, this.#prepare(workflow, definition, options));
    }
  }

  /**
   * Checks every definition (each Task must have a handler), loads the records kept in
   * `directory`, and ends as ABORTED every execution a previous process left RUNNING.
   */
  static async open(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
    const journal = await HistoryJournal.open(options.directory, options.logger ?? silentLogger);
    const runtime = new LocalStepFunctions(options, journal);
    await runtime.#load();
    return runtime;
  }

  stateMachineArnFor(workflow: WorkflowName): string {
    return `arn:aws:states:${this.#region}:${this.#accountId}:stateMachine:${STATE_MACHINE_PREFIX}${workflow}`;
  }

  executionArnFor(workflow: WorkflowName, name: string): string {
    return `arn:aws:states:${this.#region}:${this.#accountId}:execution:${STATE_MACHINE_PREFIX}${workflow}:${name}`;
  }

  async start(request: StartWorkflowRequest): Promise<WorkflowExecutionHandle> {
    if (this.#closed) {
      throw new DependencyUnavailableError(
        'local_step_functions',
        'the local Step Functions runtime is closed',
      );
    }
    const prepared = this.#workflows.get(request.workflow);
    if (!prepared) throw new NotFoundError('state machine', this.stateMachineArnFor(request.workflow));
    assertValidExecutionName(request.name);
    const inputJson = JSON.stringify(request.input ?? {});
    if (request.input === null || typeof request.input !== 'object' || Array.isArray(request.input)) {
      throw new ValidationError('the execution input must be a JSON object', [
        { field: 'input', message: 'expected a JSON object' },
      ]);
    }
    if (Buffer.byteLength(inputJson) > MAX_PAYLOAD_BYTES) {
      throw new ValidationError(`the execution input is larger than ${MAX_PAYLOAD_BYTES} bytes`, [
        { field: 'input', message: `at most ${MAX_PAYLOAD_BYTES} bytes of JSON` },
      ]);
    }
    const input: unknown = JSON.parse(inputJson);
    const executionArn = this.executionArnFor(request.workflow, request.name);
    const existing = this.#records.get(executionArn);
    if (existing) {
      if (!sameExecutionInput(existing.input, input)) {
        throw new ConflictError(
          `an execution named '${request.name}' of workflow '${request.workflow}' already exists with a different input`,
          'name',
        );
      }
      await this.#store.written(executionArn);
      return this.#handleOf(existing, true);
    }

    const record: ExecutionRecord = {
      version: RECORD_VERSION,
      workflow: request.workflow,
      name: request.name,
      executionArn,
      stateMachineArn: prepared.stateMachineArn,
      status: 'RUNNING',
      startedAt: toIsoUtc(this.#clock()),
      input,
      eventCount: 0,
    };
    // Registered before the first await: a concurrent start of the same name sees it.
    this.#records.set(executionArn, record);
    let markDone = () => {};
    const done = new Promise<void>((resolve) => {
      markDone = resolve;
    });
    const live: LiveExecution = {
      record,
      prepared,
      controller: new AbortController(),
      taskResults: new Map(),
      caught: new Set(),
      done,
      markDone,
    };
    this.#live.set(executionArn, live);
    // The history is written later (the record on disk is what makes the start durable: a crash
    // before the first flush leaves an ExecutionStarted to write from it on the next open).
    this.#appendEvent(live, { type: 'ExecutionStarted', input, timestamp: record.startedAt });
    try {
      await this.#persist(record);
    } catch (error) {
      // Not on disk, so not started: a later start of the same name may try again.
      this.#records.delete(executionArn);
      this.#live.delete(executionArn);
      this.#journal.discard(executionArn);
      live.markDone();
      throw error;
    }
    this.#logger.debug('execution started', { workflow: record.workflow, executionArn });
    void this.#execute(live).catch((error: unknown) =>
      this.#logger.error('the local runtime failed to run an execution', { executionArn, error }),
    );
    return this.#handleOf(record, false);
  }

  async describe(executionArn: string): Promise<WorkflowExecutionDescription> {
    return this.#describeRecord(this.#recordOf(executionArn));
  }

  async list(
    request: ListWorkflowExecutionsRequest,
  ): Promise<{ executions: WorkflowExecutionDescription[]; nextToken?: string }> {
    const limit = clampPageSize(request.limit, DEFAULT_LIST_PAGE_SIZE);
    const after = request.nextToken
      ? decodeToken(request.nextToken, (value): value is { s: string; n: string } => {
          const candidate = value as { s?: unknown; n?: unknown } | null;
          return typeof candidate?.s === 'string' && typeof candidate.n === 'string';
        })
      : undefined;
    const matching = [...this.#records.values()]
      .filter((record) => record.workflow === request.workflow)
      .filter((record) => !request.status || record.status === request.status)
      .filter((record) => !after || newerFirst(record, { startedAt: after.s, name: after.n }) > 0)
      .sort(newerFirst);
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    const executions = page.map((record) => this.#describeRecord(record));
    return matching.length > limit && last
      ? { executions, nextToken: encodeToken({ s: last.startedAt, n: last.name }) }
      : { executions };
  }

  async history(
    executionArn: string,
    options: { limit?: number; nextToken?: string; reverseOrder?: boolean } = {},
  ): Promise<{ events: WorkflowHistoryEvent[]; nextToken?: string }> {
    this.#recordOf(executionArn);
    const all = await this.#journal.read(executionArn);
    if (options.reverseOrder) all.reverse();
    const offset = options.nextToken
      ? decodeToken(options.nextToken, (value): value is { o: number } => {
          const candidate = value as { o?: unknown } | null;
          return typeof candidate?.o === 'number' && Number.isInteger(candidate.o) && candidate.o >= 0;
        }).o
      : 0;
    const limit = clampPageSize(options.limit, MAX_PAGE_SIZE);
    const events = all.slice(offset, offset + limit);
    return offset + limit < all.length
      ? { events, nextToken: encodeToken({ o: offset + limit }) }
      : { events };
  }

  /** Aborts a running execution (ABORTED, onTerminated called); stopping a finished one does nothing. */
  async stop(executionArn: string, options: { error?: string; cause?: string } = {}): Promise<void> {
    this.#recordOf(executionArn);
    const live = this.#live.get(executionArn);
    if (!live) return;
    this.#abort(live, options);
    await live.done;
  }

  /** Resolves with the description once the execution has ended and its records are written. */
  async waitForCompletion(executionArn: string, timeoutMs = 30_000): Promise<WorkflowExecutionDescription> {
    this.#recordOf(executionArn);
    const live = this.#live.get(executionArn);
    if (live) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([live.done.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        throw new Error(`execution ${executionArn} did not finish within ${timeoutMs} ms`);
      }
    }
    return this.describe(executionArn);
  }

  /**
   * Stops accepting executions, lets the running ones go on for the grace period, then aborts
   * what is left (ABORTED, onTerminated called) and waits until every record is written.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.gracePeriodMs ?? DEFAULT_GRACE_MS);
    return this.#closing;
  }

  async #close(gracePeriodMs: number): Promise<void> {
    this.#closed = true;
    const running = [...this.#live.values()];
    if (running.length > 0 && gracePeriodMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(running.map((live) => live.done)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, gracePeriodMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const live of this.#live.values()) {
      this.#abort(live, { error: RUNTIME_STOPPED_ERROR, cause: RUNTIME_CLOSED_CAUSE });
    }
    await Promise.all(running.map((live) => live.done));
    clearInterval(this.#historyFlusher);
    await Promise.all([this.#journal.close(), this.#store.close()]);
  }

  // ---- definitions --------------------------------------------------------------------------

  #prepare(workflow: WorkflowName, source: object, options: LocalStepFunctionsOptions): PreparedWorkflow {
    const fail = (message: string, field = `definitions.${workflow}`): never => {
      throw new ConfigurationError(`workflow '${workflow}': ${message}`, [{ field, message }]);
    };
    const definition = JSON.parse(JSON.stringify(source)) as {
      States?: Record<string, AslState>;
      TimeoutSeconds?: number;
    };
    const taskTokens = new Map<string, string>();
    const stateTypes = new Map<string, StateType>();
    const retries = new Map<string, NonNullable<AslState['Retry']>>();
    const waits = new Map<string, AslState>();
    const taskStates = new Map<string, AslState>();

    const visit = (states: Record<string, AslState> | undefined) => {
      for (const [name, state] of Object.entries(states ?? {})) {
        if (stateTypes.has(name)) {
          fail(
            `the state name '${name}' is used more than once (handlers and overrides are keyed by state name)`,
          );
        }
        stateTypes.set(name, state.Type);
        if (state.Retry) retries.set(name, state.Retry);
        if (state.Type === 'Task') {
          const resource = typeof state.Resource === 'string' ? state.Resource : '';
          const token =
            /^\$\{([A-Za-z0-9_]+)\}$/.exec(resource)?.[1] ??
            /^arn:aws:lambda:[^:]*:[^:]*:function:([A-Za-z0-9_-]+)$/.exec(resource)?.[1];
          if (!token) {
            fail(
              `Task state '${name}' has resource '${resource}', which is neither a \${Token} placeholder nor a Lambda ARN`,
            );
          } else if (typeof this.#handlers[token] !== 'function') {
            fail(
              `Task state '${name}' uses resource token '${token}', which has no local handler (the local runtime never calls real Lambda)`,
              `taskHandlers.${token}`,
            );
          } else {
            taskTokens.set(name, token);
            taskStates.set(name, state);
            state.Resource = this.#lambdaArn(token);
          }
        }
        if (state.Type === 'Wait') waits.set(name, state);
        for (const branch of state.Branches ?? []) visit(branch.States);
        visit((state.ItemProcessor ?? state.Iterator)?.States);
      }
    };
    visit(definition.States);

    const validationMachine = (() => {
      const text = JSON.stringify(definition);
      try {
        const machine = new StateMachine(definition as unknown as AslDefinition, {
          validationOptions: VALID_DEFINITIONS.has(text)
            ? { noValidate: true }
            : { checkPaths: true, checkArn: true },
        });
        VALID_DEFINITIONS.add(text);
        return machine;
      } catch (error) {
        return fail(`the definition is not valid ASL: ${(error as Error).message}`);
      }
    })();

    // Parameters made of reference paths only are filled in by the task invoker (the same values,
    // the same States.Runtime failure for a path to nothing), so the interpreter passes the state
    // input through (InputPath still applies first, ResultPath and OutputPath after).
    const taskParameters = new Map<string, unknown>();
    for (const name of taskTokens.keys()) {
      const state = taskStates.get(name);
      if (state?.Parameters === undefined || !isReferenceTemplate(state.Parameters)) continue;
      taskParameters.set(name, state.Parameters);
      delete state.Parameters;
    }

    // Under a time scale, each Wait becomes a Task run by the runtime (the interpreter only
    // shortens waits by a fixed amount per state name, which cannot scale a SecondsPath).
    const scaledWaits = new Map<string, WaitSpec>();
    let machine = validationMachine;
    if (this.#timeScale !== 1) {
      for (const [name, state] of waits) {
        const { Seconds, Timestamp, SecondsPath, TimestampPath } = state;
        scaledWaits.set(name, { Seconds, Timestamp, SecondsPath, TimestampPath });
        for (const field of ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath']) delete state[field];
        state.Type = 'Task';
        state.Resource = this.#lambdaArn(SCALED_WAIT_FUNCTION);
        state.TimeoutSeconds = SCALED_WAIT_TIMEOUT_SECONDS;
      }
    }
    if (scaledWaits.size > 0 || taskParameters.size > 0) {
      machine = new StateMachine(definition as unknown as AslDefinition, {
        validationOptions: { noValidate: true },
      });
    }

    const retryIntervalOverrides: Record<string, number | number[]> = {};
    if (this.#timeScale !== 1) {
      for (const [name, retriers] of retries) {
        retryIntervalOverrides[name] = retriers.map((retrier) =>
          Math.round(
            Math.min(retrier.IntervalSeconds ?? 1, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) *
              1000 *
              this.#timeScale,
          ),
        );
      }
    }
    Object.assign(retryIntervalOverrides, options.retryIntervalOverrides?.[workflow] ?? {});

    const stateMachineName = `${STATE_MACHINE_PREFIX}${workflow}`;
    const prepared: PreparedWorkflow = {
      workflow,
      stateMachineArn: this.stateMachineArnFor(workflow),
      stateMachineName,
      machine,
      taskTokens,
      taskParameters,
      stateTypes,
      scaledWaits,
      waitTimeOverrides: { ...(options.waitTimeOverrides?.[workflow] ?? {}) },
      retryIntervalOverrides,
    };
    if (definition.TimeoutSeconds !== undefined) prepared.timeoutSeconds = definition.TimeoutSeconds;
    return prepared;
  }

  #lambdaArn(functionName: string): string {
    return `arn:aws:lambda:${this.#region}:${this.#accountId}:function:${functionName}`;
  }

  // ---- running ------------------------------------------------------------------------------

  async #execute(live: LiveExecution): Promise<void> {
    if (!(await this.#acquireSlot(live.controller.signal))) {
      await this.#finish(live, this.#abortedOutcome(live));
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await this.#run(live);
    } finally {
      this.#releaseSlot();
    }
    await this.#finish(live, outcome);
  }

  async #run(live: LiveExecution): Promise<Outcome> {
    const { record, prepared } = live;
    const context = {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        StartTime: record.startedAt,
        Input: record.input,
        RoleArn: `arn:aws:iam::${this.#accountId}:role/${prepared.stateMachineName}`,
      },
      StateMachine: { Id: prepared.stateMachineArn, Name: prepared.stateMachineName },
    };
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, token] of prepared.taskTokens) {
      const handler = this.#handlers[token];
      if (!handler) continue;
      handlers[stateName] = taskInvoker({
        stateName,
        handler,
        parameters: prepared.taskParameters.get(stateName),
        context,
        signal: live.controller.signal,
        onResult: (output) => live.taskResults.set(stateName, output),
      });
    }
    for (const [stateName, spec] of prepared.scaledWaits) {
      handlers[stateName] = scaledWaiter({
        stateName,
        spec,
        overrideMs: prepared.waitTimeOverrides[stateName],
        timeScale: this.#timeScale,
        clock: this.#clock,
        context,
        signal: live.controller.signal,
      });
    }

    const execution = prepared.machine.run(record.input as Json, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: prepared.waitTimeOverrides,
        retryIntervalOverrides: prepared.retryIntervalOverrides,
      },
      // The interpreter types the Context Object loosely; this one mirrors Step Functions'.
      context: context as unknown as NonNullable<Parameters<StateMachine['run']>[1]>['context'],
    });
    live.abortRun = execution.abort;
    if (live.controller.signal.aborted) execution.abort();

    const consume = (async () => {
      for await (const event of execution.eventLogs) {
        for (const converted of toHistoryEvents(event, live.prepared.stateTypes, live)) {
          this.#appendEvent(live, converted);
        }
      }
    })();
    const [result] = await Promise.allSettled([execution.result, consume]);
    // One reason for every ended run: abort() without one builds a DOMException (and its stack) each time.
    live.controller.abort(RUN_ENDED);
    if (result.status === 'fulfilled') return { status: 'SUCCEEDED', output: result.value };
    const error: unknown = result.reason;
    if (error instanceof ExecutionAbortedError) return this.#abortedOutcome(live);
    if (error instanceof ExecutionTimeoutError) {
      return {
        status: 'TIMED_OUT',
        error: 'States.Timeout',
        cause: `the execution ran longer than its TimeoutSeconds (${prepared.timeoutSeconds ?? '?'} s)`,
      };
    }
    const failure = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
    if (failure instanceof Error) {
      const outcome: Outcome = { status: 'FAILED', error: failure.name };
      const cause = describeCause(failure.message);
      if (cause) outcome.cause = cause;
      return outcome;
    }
    return { status: 'FAILED', error: 'States.Runtime', cause: describeCause(failure) ?? 'unknown failure' };
  }

  #abortedOutcome(live: LiveExecution): Outcome {
    const outcome: Outcome = { status: 'ABORTED' };
    if (live.stopRequest?.error !== undefined) outcome.error = live.stopRequest.error;
    if (live.stopRequest?.cause !== undefined) outcome.cause = live.stopRequest.cause;
    return outcome;
  }

  #appendEvent(
    live: LiveExecution,
    event: Omit<WorkflowHistoryEvent, 'id' | 'timestamp'> & { timestamp?: string },
  ): void {
    live.record.eventCount += 1;
    const complete: WorkflowHistoryEvent = {
      id: live.record.eventCount,
      timestamp: event.timestamp ?? toIsoUtc(this.#clock()),
      type: event.type,
    };
    if (event.stateName !== undefined) complete.stateName = event.stateName;
    if (event.input !== undefined) complete.input = event.input;
    if (event.output !== undefined) complete.output = event.output;
    if (event.error !== undefined) complete.error = event.error;
    if (event.cause !== undefined) complete.cause = event.cause;
    this.#journal.append(live.record.executionArn, complete);
  }

  #abort(live: LiveExecution, request: { error?: string; cause?: string }): void {
    if (live.controller.signal.aborted) return;
    live.stopRequest = request;
    live.controller.abort();
    live.abortRun?.();
  }

  async #finish(live: LiveExecution, outcome: Outcome): Promise<void> {
    const { record } = live;
    try {
      record.status = outcome.status;
      record.stoppedAt = toIsoUtc(this.#clock());
      if (outcome.output !== undefined) record.output = outcome.output;
      if (outcome.error !== undefined) record.error = outcome.error;
      if (outcome.cause !== undefined) record.cause = outcome.cause;
      const type = {
        SUCCEEDED: 'ExecutionSucceeded',
        FAILED: 'ExecutionFailed',
        TIMED_OUT: 'ExecutionTimedOut',
        ABORTED: 'ExecutionAborted',
      }[outcome.status];
      this.#appendEvent(live, { type, output: outcome.output, error: outcome.error, cause: outcome.cause });
      // A failed write is logged by #persist; the outcome stands in memory and onTerminated still runs.
      await Promise.all([this.#journal.flush(), this.#persist(record).catch(() => {})]);
      this.#logger.info('execution ended', {
        workflow: record.workflow,
        executionArn: record.executionArn,
        status: record.status,
        ...(record.error !== undefined ? { error: record.error } : {}),
      });
      if (outcome.status !== 'SUCCEEDED') await this.#notifyTerminated(record);
    } finally {
      this.#live.delete(record.executionArn);
      live.markDone();
    }
  }

  async #notifyTerminated(record: ExecutionRecord): Promise<void> {
    if (!this.#onTerminated || record.status === 'RUNNING' || record.status === 'SUCCEEDED') return;
    const event: ExecutionTerminatedEvent = {
      workflow: record.workflow,
      executionArn: record.executionArn,
      name: record.name,
      status: record.status,
      input: record.input,
    };
    if (record.error !== undefined) event.error = record.error;
    if (record.cause !== undefined) event.cause = record.cause;
    try {
      await this.#onTerminated(event);
    } catch (error) {
      this.#logger.error('the handler of a terminated execution failed', {
        executionArn: record.executionArn,
        status: record.status,
        error,
      });
    }
  }

  /** Resolves true with a slot, or false when the execution is stopped while it waits for one. */
  async #acquireSlot(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.#running < this.#maxConcurrent) {
      this.#running += 1;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      // The releasing execution hands its slot over directly.
      const waiter = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = () => {
        this.#slotWaiters.splice(this.#slotWaiters.indexOf(waiter), 1);
        resolve(false);
      };
      this.#slotWaiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #releaseSlot(): void {
    const next = this.#slotWaiters.shift();
    if (next) next();
    else this.#running -= 1;
  }

  // ---- records ------------------------------------------------------------------------------

  #recordOf(executionArn: string): ExecutionRecord {
    const record = this.#records.get(executionArn);
    if (!record) throw new NotFoundError('workflow execution', executionArn);
    return record;
  }

  #handleOf(record: ExecutionRecord, alreadyStarted: boolean): WorkflowExecutionHandle {
    return {
      workflow: record.workflow,
      name: record.name,
      executionArn: record.executionArn,
      startedAt: record.startedAt,
      alreadyStarted,
    };
  }

  #describeRecord(record: ExecutionRecord): WorkflowExecutionDescription {
    const description: WorkflowExecutionDescription = {
      workflow: record.workflow,
      name: record.name,
      executionArn: record.executionArn,
      status: record.status,
      startedAt: record.startedAt,
      input: record.input,
    };
    if (record.stoppedAt !== undefined) description.stoppedAt = record.stoppedAt;
    if (record.output !== undefined) description.output = record.output;
    if (record.error !== undefined) description.error = record.error;
    if (record.cause !== undefined) description.cause = record.cause;
    return description;
  }

  /** Writes a snapshot of the record after every earlier one; rejects (logged) when the write fails. */
  #persist(record: ExecutionRecord): Promise<void> {
    return this.#store.persist(record);
  }

  async #load(): Promise<void> {
    this.#records = await this.#store.load();
    await this.#foldHistoriesOfEarlierVersions();
    const interrupted = [...this.#records.values()].filter((record) => record.status === 'RUNNING');
    for (const record of interrupted) await this.#endInterrupted(record);
    this.#historyFlusher = setInterval(() => this.#flushHistories(), HISTORY_FLUSH_INTERVAL_MS);
    this.#historyFlusher.unref();
    this.#logger.info('local Step Functions runtime opened', {
      directory: this.#directory,
      executions: this.#records.size,
      interrupted: interrupted.length,
      workflows: [...this.#workflows.keys()],
    });
  }

  #flushHistories(): void {
    // Failures are logged by the journal; the events stay in memory for the next flush.
    if (this.#journal.hasPending) void this.#journal.flush();
  }

  /** Earlier versions kept each history in a file of its own (`history/<workflow>/<file>.jsonl`). */
  async #foldHistoriesOfEarlierVersions(): Promise<void> {
    const folded: string[] = [];
    for (const workflow of WORKFLOW_NAMES) {
      const directory = join(this.#directory, 'history', workflow);
      let files: Set<string>;
      try {
        files = new Set(await readdir(directory));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      for (const record of this.#records.values()) {
        const file = `${fileStem(record.name)}.jsonl`;
        if (record.workflow !== workflow || !files.has(file)) continue;
        const path = join(directory, file);
        // Already in the journal when a process died between folding a file and removing it.
        if (!this.#journal.has(record.executionArn)) {
          for (const event of await readHistoryFileOfEarlierVersion(path)) {
            this.#journal.append(record.executionArn, event);
          }
        }
        folded.push(path);
      }
    }
    if (folded.length === 0 || !(await this.#journal.flush())) return;
    await Promise.all(folded.map((path) => rm(path, { force: true })));
    for (const workflow of WORKFLOW_NAMES) {
      await rmdir(join(this.#directory, 'history', workflow)).catch(() => {});
    }
  }

  /** An execution a previous process left RUNNING: it can never finish, so it ends ABORTED. */
  async #endInterrupted(record: ExecutionRecord): Promise<void> {
    const history = await this.#journal.read(record.executionArn);
    const lastId = history.reduce((max, event) => Math.max(max, event.id), 0);
    const stoppedAt = toIsoUtc(this.#clock());
    // The process died before the history's first flush: its start is known from the record.
    if (history.length === 0) {
      this.#journal.append(record.executionArn, {
        id: 1,
        timestamp: record.startedAt,
        type: 'ExecutionStarted',
        input: record.input,
      });
    }
    record.status = 'ABORTED';
    record.stoppedAt = stoppedAt;
    record.error = RUNTIME_STOPPED_ERROR;
    record.cause = RUNTIME_STOPPED_CAUSE;
    record.eventCount = Math.max(lastId, 1) + 1;
    this.#journal.append(record.executionArn, {
      id: record.eventCount,
      timestamp: stoppedAt,
      type: 'ExecutionAborted',
      error: RUNTIME_STOPPED_ERROR,
      cause: RUNTIME_STOPPED_CAUSE,
    });
    await Promise.all([this.#journal.flush(), this.#persist(record).catch(() => {})]);
    this.#logger.warn('marked an interrupted execution as aborted', {
      workflow: record.workflow,
      executionArn: record.executionArn,
    });
    await this.#notifyTerminated(record);
  }
}
