import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/core/clock';
import {
  ConfigurationError,
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  ValidationError,
} from '../../functions/core/errors';
import type { Logger } from '../../functions/core/logger';
import type { ExecutionTerminatedEvent, WorkflowHistoryEvent } from '../../functions/core/ports/orchestrator';
import {
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
  type LocalTaskHandler,
  RUNTIME_CLOSED_CAUSE,
  RUNTIME_STOPPED_CAUSE,
  RUNTIME_STOPPED_ERROR,
} from '../../local/local-step-functions';

const REGION = 'ap-south-1';
const ACCOUNT = '000000000000';
const FAKE_SECRET = 'FAKE-SECRET-never-in-history';

/** `Type:State` for each event: the order and the names in one readable list. */
const trail = (events: WorkflowHistoryEvent[]) =>
  events.map((event) => (event.stateName ? `${event.type}:${event.stateName}` : event.type));

/** A promise the test settles by hand: a task that runs until the test lets it go. */
function gate<T = unknown>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A clock that moves one second per reading: start times differ and sort predictably. */
function tickingClock(start = '2026-03-01T10:00:00.000Z'): Clock {
  let now = new Date(start).getTime();
  return () => {
    now += 1000;
    return new Date(now);
  };
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; context?: Record<string, unknown> }> = [];
  const logger: Logger = {
    debug: (message, context) => lines.push({ level: 'debug', message, ...(context ? { context } : {}) }),
    info: (message, context) => lines.push({ level: 'info', message, ...(context ? { context } : {}) }),
    warn: (message, context) => lines.push({ level: 'warn', message, ...(context ? { context } : {}) }),
    error: (message, context) => lines.push({ level: 'error', message, ...(context ? { context } : {}) }),
    child: () => logger,
  };
  return { logger, lines };
}

/** An error shaped like the core's, named so Retry/Catch can match it. */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

const TASK = (token: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: `\${${token}}`,
  TimeoutSeconds: 10,
  ...extra,
});

describe('Class: LocalStepFunctions', () => {
  let parent: string;
  let directory: string;
  let terminated: ExecutionTerminatedEvent[];
  const opened: LocalStepFunctions[] = [];

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'local-sfn-'));
    directory = join(parent, 'data', 'step-functions');
    terminated = [];
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((runtime) => runtime.close({ gracePeriodMs: 0 })));
    await rm(parent, { recursive: true, force: true });
  });

  const open = async (
    definition: object,
    taskHandlers: Record<string, LocalTaskHandler>,
    options: Partial<LocalStepFunctionsOptions> = {},
  ) => {
    const runtime = await LocalStepFunctions.open({
      directory,
      region: REGION,
      definitions: { scan: definition },
      taskHandlers,
      timeScale: 0.001,
      onTerminated: async (event) => {
        terminated.push(event);
      },
      ...options,
    });
    opened.push(runtime);
    return runtime;
  };

  const runToEnd = async (runtime: LocalStepFunctions, name: string, input: Record<string, unknown> = {}) => {
    const handle = await runtime.start({ workflow: 'scan', name, input });
    const description = await runtime.waitForCompletion(handle.executionArn, 10_000);
    const { events } = await runtime.history(handle.executionArn);
    return { handle, description, events };
  };

  describe('Method: start', () => {
    it('runs Task, Choice, Wait (SecondsPath) and Succeed states and records them in order', async () => {
      // Prepare
      const runtime = await open(
        {
          StartAt: 'Look up the account',
          States: {
            'Look up the account': TASK('LookUpAccountFunctionArn', {
              ResultPath: '$.account',
              Next: 'Is the account active?',
            }),
            'Is the account active?': {
              Type: 'Choice',
              Choices: [{ Variable: '$.account.active', BooleanEquals: true, Next: 'Wait before scanning' }],
              Default: 'Refuse the scan',
            },
            'Wait before scanning': {
              Type: 'Wait',
              SecondsPath: '$.account.wait_seconds',
              Next: 'Scan accepted',
            },
            'Scan accepted': { Type: 'Succeed' },
            'Refuse the scan': { Type: 'Fail', Error: 'AccountInactive', Cause: 'the account is not active' },
          },
        },
        { LookUpAccountFunctionArn: async () => ({ active: true, wait_seconds: 5 }) },
      );

      // Act
      const { handle, description, events } = await runToEnd(runtime, 'scan-sched-1-20260301T1000Z', {
        account_id: 'acc-1',
      });

      // Assess
      expect(handle).toEqual({
        workflow: 'scan',
        name: 'scan-sched-1-20260301T1000Z',
        executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:threat-engine-scan:scan-sched-1-20260301T1000Z`,
        startedAt: expect.any(String),
        alreadyStarted: false,
      });
      expect(trail(events)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered:Look up the account',
        'TaskSucceeded:Look up the account',
        'TaskStateExited:Look up the account',
        'ChoiceStateEntered:Is the account active?',
        'ChoiceStateExited:Is the account active?',
        'WaitStateEntered:Wait before scanning',
        'WaitStateExited:Wait before scanning',
        'SucceedStateEntered:Scan accepted',
        'SucceedStateExited:Scan accepted',
        'ExecutionSucceeded',
      ]);
      expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
      expect(events[0]?.input).toEqual({ account_id: 'acc-1' });
      expect(events[2]?.output).toEqual({ active: true, wait_seconds: 5 });
      expect(events.at(-1)?.output).toEqual({
        account_id: 'acc-1',
        account: { active: true, wait_seconds: 5 },
      });
      expect(description).toMatchObject({
        status: 'SUCCEEDED',
        input: { account_id: 'acc-1' },
        output: { account_id: 'acc-1', account: { active: true, wait_seconds: 5 } },
        stoppedAt: expect.any(String),
      });
      expect(terminated).toEqual([]);
    });

    it('retries a failing task with backoff, then succeeds, and shows every attempt in history', async () => {
      // Prepare
      let calls = 0;
      const runtime = await open(
        {
          StartAt: 'Start the scan on the engine',
          States: {
            'Start the scan on the engine': TASK('StartScanFunctionArn', {
              Retry: [
                {
                  ErrorEquals: ['DependencyUnavailableError'],
                  IntervalSeconds: 2,
                  BackoffRate: 2,
                  MaxAttempts: 3,
                },
              ],
              End: true,
            }),
          },
        },
        {
          StartScanFunctionArn: async () => {
            calls += 1;
            if (calls < 3)
              throw new DependencyUnavailableError('engine', `engine answered 503 (attempt ${calls})`);
            return { scan_id: 'scan-1' };
          },
        },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'retry-then-success');

      // Assess
      expect(calls).toBe(3);
      expect(description.status).toBe('SUCCEEDED');
      expect(trail(events)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered:Start the scan on the engine',
        'TaskFailed:Start the scan on the engine',
        'StateRetried:Start the scan on the engine',
        'TaskFailed:Start the scan on the engine',
        'StateRetried:Start the scan on the engine',
        'TaskSucceeded:Start the scan on the engine',
        'TaskStateExited:Start the scan on the engine',
        'ExecutionSucceeded',
      ]);
      expect(events[2]).toMatchObject({
        error: 'DependencyUnavailableError',
        cause: 'engine answered 503 (attempt 1)',
      });
    });

    it('follows the Catch path with the error as the catching state sees it', async () => {
      // Prepare
      const recorded: unknown[] = [];
      const runtime = await open(
        {
          StartAt: 'Check the credentials',
          States: {
            'Check the credentials': TASK('VerifyFunctionArn', {
              Retry: [{ ErrorEquals: ['DependencyUnavailableError'], MaxAttempts: 2 }],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Record the failure' }],
              End: true,
            }),
            'Record the failure': TASK('RecordFailureFunctionArn', { End: true }),
          },
        },
        {
          VerifyFunctionArn: async () => {
            throw new ValidationError('credentials.role_arn is not an IAM role ARN');
          },
          RecordFailureFunctionArn: async (input) => {
            recorded.push(input);
            return { recorded: true };
          },
        },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'caught', { account_id: 'acc-1' });

      // Assess
      expect(description.status).toBe('SUCCEEDED');
      expect(recorded).toEqual([
        {
          account_id: 'acc-1',
          failure: { Error: 'ValidationError', Cause: 'credentials.role_arn is not an IAM role ARN' },
        },
      ]);
      expect(trail(events)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered:Check the credentials',
        'TaskFailed:Check the credentials',
        'StateCaught:Check the credentials',
        'TaskStateExited:Check the credentials',
        'TaskStateEntered:Record the failure',
        'TaskSucceeded:Record the failure',
        'TaskStateExited:Record the failure',
        'ExecutionSucceeded',
      ]);
    });

    it('runs Parallel branches and Map iterations with the handlers of their nested Task states', async () => {
      // Prepare
      const seen: unknown[] = [];
      const runtime = await open(
        {
          StartAt: 'Check both sides',
          States: {
            'Check both sides': {
              Type: 'Parallel',
              Branches: [
                {
                  StartAt: 'Check the engine',
                  States: { 'Check the engine': TASK('EngineFunctionArn', { End: true }) },
                },
                {
                  StartAt: 'Note the branch',
                  States: { 'Note the branch': { Type: 'Pass', Result: 'noted', End: true } },
                },
              ],
              ResultPath: '$.checks',
              Next: 'Scan each region',
            },
            'Scan each region': {
              Type: 'Map',
              ItemsPath: '$.regions',
              MaxConcurrency: 1,
              ItemProcessor: {
                StartAt: 'Scan one region',
                States: { 'Scan one region': TASK('RegionFunctionArn', { End: true }) },
              },
              ResultPath: '$.scanned',
              End: true,
            },
          },
        },
        {
          EngineFunctionArn: async () => ({ engine: 'up' }),
          RegionFunctionArn: async (region) => {
            seen.push(region);
            return { region, checks: 3 };
          },
        },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'fan-out', {
        regions: ['ap-south-1', 'eu-west-1'],
      });

      // Assess
      expect(seen).toEqual(['ap-south-1', 'eu-west-1']);
      expect(description.output).toEqual({
        regions: ['ap-south-1', 'eu-west-1'],
        checks: [{ engine: 'up' }, 'noted'],
        scanned: [
          { region: 'ap-south-1', checks: 3 },
          { region: 'eu-west-1', checks: 3 },
        ],
      });
      const types = trail(events);
      for (const expected of [
        'ParallelStateEntered:Check both sides',
        'ParallelStateStarted:Check both sides',
        'ParallelBranchStarted:Check both sides',
        'TaskStateEntered:Check the engine',
        'TaskSucceeded:Check the engine',
        'PassStateExited:Note the branch',
        'ParallelBranchSucceeded:Check both sides',
        'ParallelStateSucceeded:Check both sides',
        'ParallelStateExited:Check both sides',
        'MapStateEntered:Scan each region',
        'MapIterationStarted:Scan each region',
        'TaskSucceeded:Scan one region',
        'MapIterationSucceeded:Scan each region',
        'MapStateExited:Scan each region',
      ]) {
        expect(types).toContain(expected);
      }
      expect(types.filter((type) => type === 'MapIterationSucceeded:Scan each region')).toHaveLength(2);
      expect(types.indexOf('ParallelStateExited:Check both sides')).toBeLessThan(
        types.indexOf('MapStateEntered:Scan each region'),
      );
      expect(types.at(-1)).toBe('ExecutionSucceeded');
    });

    it('makes Context Object fields available to the definition', async () => {
      // Prepare
      const runtime = await open(
        {
          StartAt: 'Name the run',
          States: {
            'Name the run': {
              Type: 'Pass',
              Parameters: {
                'name.$': '$$.Execution.Name',
                'id.$': '$$.Execution.Id',
                'input.$': '$$.Execution.Input',
                'state_machine.$': '$$.StateMachine.Name',
                'state_machine_arn.$': '$$.StateMachine.Id',
              },
              End: true,
            },
          },
        },
        {},
      );

      // Act
      const { description } = await runToEnd(runtime, 'context-run', { account_id: 'acc-9' });

      // Assess
      expect(description.output).toEqual({
        name: 'context-run',
        id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:threat-engine-scan:context-run`,
        input: { account_id: 'acc-9' },
        state_machine: 'threat-engine-scan',
        state_machine_arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:threat-engine-scan`,
      });
    });

    it('scales Wait and retry pauses by timeScale', async () => {
      // Prepare
      let calls = 0;
      const definition = {
        StartAt: 'Pause',
        States: {
          Pause: { Type: 'Wait', Seconds: 20, Next: 'Flaky step' },
          'Flaky step': TASK('FlakyFunctionArn', {
            Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 20, MaxAttempts: 1 }],
            End: true,
          }),
        },
      };
      const runtime = await open(
        definition,
        {
          FlakyFunctionArn: async () => {
            calls += 1;
            if (calls === 1) throw namedError('EngineUnavailableError', 'try again');
            return {};
          },
        },
        { timeScale: 0.005 },
      );

      // Act
      const started = Date.now();
      const { description } = await runToEnd(runtime, 'scaled');
      const elapsed = Date.now() - started;

      // Assess: 20 s + 20 s at 1/200 is 200 ms.
      expect(description.status).toBe('SUCCEEDED');
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(3000);
    });

    it('applies exact wait and retry overrides in real time (timeScale 1)', async () => {
      // Prepare
      let calls = 0;
      const runtime = await open(
        {
          StartAt: 'Pause',
          States: {
            Pause: { Type: 'Wait', Seconds: 600, Next: 'Flaky step' },
            'Flaky step': TASK('FlakyFunctionArn', {
              Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 600, MaxAttempts: 1 }],
              End: true,
            }),
          },
        },
        {
          FlakyFunctionArn: async () => {
            calls += 1;
            if (calls === 1) throw namedError('EngineUnavailableError', 'try again');
            return {};
          },
        },
        {
          timeScale: 1,
          waitTimeOverrides: { scan: { Pause: 5 } },
          retryIntervalOverrides: { scan: { 'Flaky step': 5 } },
        },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'overridden');

      // Assess
      expect(description.status).toBe('SUCCEEDED');
      expect(trail(events)).toContain('WaitStateExited:Pause');
      expect(calls).toBe(2);
    });

    it('returns the existing execution for the same name and input, once even when started concurrently', async () => {
      // Prepare
      let calls = 0;
      const runtime = await open(
        { StartAt: 'Work', States: { Work: TASK('WorkFunctionArn', { End: true }) } },
        {
          WorkFunctionArn: async () => {
            calls += 1;
            return {};
          },
        },
      );
      const request = {
        workflow: 'scan' as const,
        name: 'scan-sched-1-20260301T1000Z',
        input: { a: 1, b: [1, 2] },
      };

      // Act
      const [first, second] = await Promise.all([runtime.start(request), runtime.start(request)]);
      await runtime.waitForCompletion(first.executionArn);
      const third = await runtime.start({ ...request, input: { b: [1, 2], a: 1 } });

      // Assess
      expect(first.alreadyStarted).toBe(false);
      expect(second).toEqual({ ...first, alreadyStarted: true });
      expect(third).toEqual({ ...first, alreadyStarted: true });
      expect(calls).toBe(1);
      expect((await runtime.list({ workflow: 'scan' })).executions).toHaveLength(1);
    });

    it('throws ConflictError naming the name when the same name comes with another input', async () => {
      // Prepare
      const runtime = await open({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }, {});
      await runtime.start({ workflow: 'scan', name: 'same-name', input: { slot: 1 } });

      // Act
      const attempt = runtime.start({ workflow: 'scan', name: 'same-name', input: { slot: 2 } });

      // Assess
      await expect(attempt).rejects.toThrow(ConflictError);
      await expect(attempt).rejects.toMatchObject({
        field: 'name',
        message: expect.stringContaining('same-name'),
      });
    });

    it('throws ValidationError naming the field for a bad name or input', async () => {
      // Prepare
      const runtime = await open({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }, {});

      // Act
      const badName = runtime.start({ workflow: 'scan', name: 'has space', input: {} });
      const tooLong = runtime.start({ workflow: 'scan', name: 'x'.repeat(81), input: {} });
      const tooBig = runtime.start({ workflow: 'scan', name: 'big', input: { blob: 'x'.repeat(300_000) } });
      const unknownWorkflow = runtime.start({ workflow: 'onboarding', name: 'ok', input: {} });

      // Assess
      await expect(badName).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'name' }] });
      await expect(tooLong).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'name' }] });
      await expect(tooBig).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'input' }] });
      await expect(unknownWorkflow).rejects.toThrow(NotFoundError);
    });
  });

  describe('Terminal statuses', () => {
    it('ends FAILED with the error and cause of an uncaught task error, without its inner cause, and calls onTerminated', async () => {
      // Prepare
      const runtime = await open(
        {
          StartAt: 'Call the engine',
          States: { 'Call the engine': TASK('EngineFunctionArn', { End: true }) },
        },
        {
          EngineFunctionArn: async () => {
            throw new DependencyUnavailableError('engine', 'engine answered 502', {
              cause: new Error(`upstream said ${FAKE_SECRET}`),
            });
          },
        },
      );

      // Act
      const { handle, description, events } = await runToEnd(runtime, 'uncaught', { account_id: 'acc-1' });

      // Assess
      expect(description).toMatchObject({
        status: 'FAILED',
        error: 'DependencyUnavailableError',
        cause: 'engine answered 502',
      });
      expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'DependencyUnavailableError' });
      expect(terminated).toEqual([
        {
          workflow: 'scan',
          executionArn: handle.executionArn,
          name: 'uncaught',
          status: 'FAILED',
          input: { account_id: 'acc-1' },
          error: 'DependencyUnavailableError',
          cause: 'engine answered 502',
        },
      ]);
      const files = await readAllFiles(directory);
      expect(files).not.toContain(FAKE_SECRET);
    });

    it('ends FAILED with States.Runtime when a Parameters path points to nothing, without calling the task', async () => {
      // Prepare
      const calls: unknown[] = [];
      const runtime = await open(
        {
          StartAt: 'Call the engine',
          States: {
            'Call the engine': TASK('EngineFunctionArn', {
              Parameters: { 'account_id.$': '$.account_id', 'scan.$': '$.claim.scan' },
              Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
              End: true,
            }),
            Caught: { Type: 'Succeed' },
          },
        },
        {
          EngineFunctionArn: async (input) => {
            calls.push(input);
            return {};
          },
        },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'no-claim', { account_id: 'acc-1' });

      // Assess: not retried, not caught, as Step Functions treats States.Runtime.
      expect(description).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(description.cause).toContain('$.claim.scan');
      expect(calls).toEqual([]);
      expect(trail(events)).not.toContain('StateCaught:Call the engine');
    });

    it('ends FAILED at a Fail state with its Error and Cause', async () => {
      // Prepare
      const runtime = await open(
        {
          StartAt: 'Give up',
          States: { 'Give up': { Type: 'Fail', Error: 'ScanRefused', Cause: 'the account is disabled' } },
        },
        {},
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'fail-state');

      // Assess
      expect(description).toMatchObject({
        status: 'FAILED',
        error: 'ScanRefused',
        cause: 'the account is disabled',
      });
      expect(trail(events)).toEqual(['ExecutionStarted', 'FailStateEntered:Give up', 'ExecutionFailed']);
      expect(terminated.map((event) => event.status)).toEqual(['FAILED']);
    });

    it('ends TIMED_OUT when the definition TimeoutSeconds passes, and calls onTerminated', async () => {
      // Prepare
      const hold = gate();
      const runtime = await open(
        {
          StartAt: 'Slow task',
          TimeoutSeconds: 1,
          States: { 'Slow task': TASK('SlowFunctionArn', { End: true }) },
        },
        { SlowFunctionArn: () => hold.promise },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'too-slow');
      hold.open({});

      // Assess
      expect(description).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      expect(trail(events)).toEqual(['ExecutionStarted', 'TaskStateEntered:Slow task', 'ExecutionTimedOut']);
      expect(terminated).toMatchObject([{ status: 'TIMED_OUT', name: 'too-slow', error: 'States.Timeout' }]);
    });

    it('records a task timeout as TaskTimedOut', async () => {
      // Prepare
      const hold = gate();
      const runtime = await open(
        {
          StartAt: 'Slow task',
          States: {
            'Slow task': TASK('SlowFunctionArn', {
              TimeoutSeconds: 1,
              Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Timed out' }],
              End: true,
            }),
            'Timed out': { Type: 'Pass', End: true },
          },
        },
        { SlowFunctionArn: () => hold.promise },
      );

      // Act
      const { description, events } = await runToEnd(runtime, 'task-timeout');
      hold.open({});

      // Assess
      expect(description.status).toBe('SUCCEEDED');
      expect(events.find((event) => event.type === 'TaskTimedOut')).toMatchObject({
        stateName: 'Slow task',
        error: 'States.Timeout',
      });
    });
  });

  describe('Method: stop', () => {
    it('aborts a running execution with the given error and cause and calls onTerminated once', async () => {
      // Prepare
      const hold = gate();
      let nextCalled = false;
      const runtime = await open(
        {
          StartAt: 'Wait for the engine',
          States: {
            'Wait for the engine': TASK('SlowFunctionArn', { Next: 'Record the result' }),
            'Record the result': TASK('RecordFunctionArn', { End: true }),
          },
        },
        {
          SlowFunctionArn: () => hold.promise,
          RecordFunctionArn: async () => {
            nextCalled = true;
            return {};
          },
        },
      );
      const handle = await runtime.start({ workflow: 'scan', name: 'to-stop', input: {} });
      await waitUntil(async () =>
        trail((await runtime.history(handle.executionArn)).events).includes(
          'TaskStateEntered:Wait for the engine',
        ),
      );

      // Act
      await runtime.stop(handle.executionArn, { error: 'ScanCancelled', cause: 'cancelled by the operator' });
      await runtime.stop(handle.executionArn, { error: 'Again', cause: 'ignored' });
      hold.open({ done: true });
      await new Promise((resolve) => setTimeout(resolve, 50));

      // Assess
      const description = await runtime.describe(handle.executionArn);
      expect(description).toMatchObject({
        status: 'ABORTED',
        error: 'ScanCancelled',
        cause: 'cancelled by the operator',
        stoppedAt: expect.any(String),
      });
      expect(nextCalled).toBe(false);
      const { events } = await runtime.history(handle.executionArn);
      expect(trail(events)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered:Wait for the engine',
        'ExecutionAborted',
      ]);
      expect(terminated).toEqual([
        expect.objectContaining({
          status: 'ABORTED',
          error: 'ScanCancelled',
          cause: 'cancelled by the operator',
        }),
      ]);
    });

    it('aborts an execution still waiting for a slot', async () => {
      // Prepare
      const hold = gate();
      const runtime = await open(
        { StartAt: 'Work', States: { Work: TASK('SlowFunctionArn', { End: true }) } },
        { SlowFunctionArn: () => hold.promise },
        { maxConcurrentExecutions: 1 },
      );
      const first = await runtime.start({ workflow: 'scan', name: 'first', input: {} });
      const queued = await runtime.start({ workflow: 'scan', name: 'queued', input: {} });

      // Act
      await runtime.stop(queued.executionArn);

      // Assess
      expect((await runtime.describe(queued.executionArn)).status).toBe('ABORTED');
      expect((await runtime.describe(first.executionArn)).status).toBe('RUNNING');
      hold.open({});
      expect((await runtime.waitForCompletion(first.executionArn)).status).toBe('SUCCEEDED');
    });

    it('throws NotFoundError for an unknown execution', async () => {
      // Prepare
      const runtime = await open({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }, {});
      const unknown = `arn:aws:states:${REGION}:${ACCOUNT}:execution:threat-engine-scan:nope`;

      // Act & Assess
      await expect(runtime.stop(unknown)).rejects.toThrow(NotFoundError);
      await expect(runtime.describe(unknown)).rejects.toThrow(NotFoundError);
      await expect(runtime.history(unknown)).rejects.toThrow(NotFoundError);
    });
  });

  describe('Method: list and history', () => {
    it('lists newest first, filters by status and pages with nextToken', async () => {
      // Prepare
      const runtime = await open(
        {
          StartAt: 'Decide',
          States: {
            Decide: {
              Type: 'Choice',
              Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Fail' }],
              Default: 'Done',
            },
            Done: { Type: 'Succeed' },
            Fail: { Type: 'Fail', Error: 'Planned' },
          },
        },
        {},
        { clock: tickingClock() },
      );
      for (const [index, fail] of [false, true, false, false].entries()) {
        await runToEnd(runtime, `run-${index}`, { fail });
      }

      // Act
      const firstPage = await runtime.list({ workflow: 'scan', limit: 2 });
      const secondPage = await runtime.list({
        workflow: 'scan',
        limit: 2,
        nextToken: firstPage.nextToken ?? '',
      });
      const failed = await runtime.list({ workflow: 'scan', status: 'FAILED' });
      const otherWorkflow = await runtime.list({ workflow: 'onboarding' });

      // Assess
      expect(firstPage.executions.map((execution) => execution.name)).toEqual(['run-3', 'run-2']);
      expect(secondPage.executions.map((execution) => execution.name)).toEqual(['run-1', 'run-0']);
      expect(secondPage.nextToken).toBeUndefined();
      expect(failed.executions.map((execution) => execution.name)).toEqual(['run-1']);
      expect(otherWorkflow.executions).toEqual([]);
      await expect(runtime.list({ workflow: 'scan', nextToken: 'not-a-token' })).rejects.toMatchObject({
        issues: [{ field: 'nextToken' }],
      });
    });

    it('pages a history with limit and nextToken, in either order', async () => {
      // Prepare
      const runtime = await open(
        {
          StartAt: 'One',
          States: { One: { Type: 'Pass', Next: 'Two' }, Two: { Type: 'Pass', End: true } },
        },
        {},
      );
      const { handle, events } = await runToEnd(runtime, 'paged');

      // Act
      const first = await runtime.history(handle.executionArn, { limit: 4 });
      const rest = await runtime.history(handle.executionArn, { limit: 4, nextToken: first.nextToken ?? '' });
      const reversed = await runtime.history(handle.executionArn, { limit: 2, reverseOrder: true });

      // Assess
      expect(events).toHaveLength(6);
      expect(first.events.map((event) => event.id)).toEqual([1, 2, 3, 4]);
      expect(rest.events.map((event) => event.id)).toEqual([5, 6]);
      expect(rest.nextToken).toBeUndefined();
      expect(reversed.events.map((event) => event.type)).toEqual(['ExecutionSucceeded', 'PassStateExited']);
    });
  });

  describe('Persistence', () => {
    it('keeps records and histories across close and reopen', async () => {
      // Prepare
      const definition = { StartAt: 'Work', States: { Work: TASK('WorkFunctionArn', { End: true }) } };
      const handlers = { WorkFunctionArn: async () => ({ scan_id: 'scan-7' }) };
      const first = await open(definition, handlers);
      const { handle, description, events } = await runToEnd(first, 'kept', { account_id: 'acc-1' });
      await first.close();

      // Act
      const reopened = await open(definition, handlers);

      // Assess
      expect(await reopened.describe(handle.executionArn)).toEqual(description);
      expect((await reopened.history(handle.executionArn)).events).toEqual(events);
      expect((await reopened.list({ workflow: 'scan' })).executions).toEqual([description]);
      const again = await reopened.start({ workflow: 'scan', name: 'kept', input: { account_id: 'acc-1' } });
      expect(again.alreadyStarted).toBe(true);
    });

    /** A first process that starts an execution whose one task never returns, and is never closed. */
    async function startInAProcessThatDies(name: string, accountId: string) {
      const hold = gate();
      const definition = { StartAt: 'Work', States: { Work: TASK('SlowFunctionArn', { End: true }) } };
      const crashed = await LocalStepFunctions.open({
        directory,
        region: REGION,
        definitions: { scan: definition },
        taskHandlers: { SlowFunctionArn: () => hold.promise },
      });
      const handle = await crashed.start({ workflow: 'scan', name, input: { account_id: accountId } });
      return { hold, definition, crashed, handle };
    }

    it('marks an execution left RUNNING by a crashed process as ABORTED on open and calls onTerminated', async () => {
      // Prepare: a first process starts an execution and "dies" (is never closed) mid-task,
      // leaving a history line cut in the middle.
      const { hold, definition, crashed, handle } = await startInAProcessThatDies('interrupted', 'acc-1');
      await waitUntil(async () => (await crashed.history(handle.executionArn)).events.length === 2);
      await appendFile(
        join(directory, 'history', 'journal.jsonl'),
        `{"executionArn":"${handle.executionArn}","events":[{"id":3,"type":"TaskSuc`,
      );

      // Act
      const restarted = await open(definition, { SlowFunctionArn: async () => ({}) });

      // Assess
      const description = await restarted.describe(handle.executionArn);
      expect(description).toMatchObject({
        status: 'ABORTED',
        error: RUNTIME_STOPPED_ERROR,
        cause: RUNTIME_STOPPED_CAUSE,
        stoppedAt: expect.any(String),
      });
      const { events } = await restarted.history(handle.executionArn);
      expect(trail(events)).toEqual(['ExecutionStarted', 'TaskStateEntered:Work', 'ExecutionAborted']);
      expect(events.at(-1)).toMatchObject({ id: 3, cause: RUNTIME_STOPPED_CAUSE });
      expect(terminated).toEqual([
        expect.objectContaining({
          executionArn: handle.executionArn,
          status: 'ABORTED',
          cause: RUNTIME_STOPPED_CAUSE,
        }),
      ]);

      // The "dead" process is cleaned up only after the assertions.
      hold.open({});
      await crashed.close({ gracePeriodMs: 0 });
    });

    it('writes the start of an execution that dies before its history was first written into that history on open', async () => {
      // Prepare: a first process starts an execution and "dies" without reading or ending it.
      const { hold, definition, crashed, handle } = await startInAProcessThatDies('unflushed', 'acc-2');

      // Act
      const restarted = await open(definition, { SlowFunctionArn: async () => ({}) });

      // Assess: whatever the first process wrote, the history starts with the start and ends aborted.
      const { events } = await restarted.history(handle.executionArn);
      expect(events[0]).toMatchObject({ id: 1, type: 'ExecutionStarted', input: { account_id: 'acc-2' } });
      expect(events.at(-1)).toMatchObject({ type: 'ExecutionAborted', cause: RUNTIME_STOPPED_CAUSE });
      expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
      expect((await restarted.describe(handle.executionArn)).status).toBe('ABORTED');

      hold.open({});
      await crashed.close({ gracePeriodMs: 0 });
    });

    it('reads the records an earlier version kept one file each, and keeps them after the next open', async () => {
      // Prepare: a finished execution as earlier versions wrote it.
      const name = 'from-earlier-version';
      const stem = `${name}.${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
      const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:threat-engine-scan:${name}`;
      const record = {
        version: 1,
        workflow: 'scan',
        name,
        executionArn,
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:threat-engine-scan`,
        status: 'SUCCEEDED',
        startedAt: '2026-02-01T10:00:00.000Z',
        stoppedAt: '2026-02-01T10:00:01.000Z',
        input: { account_id: 'acc-3' },
        output: { account_id: 'acc-3' },
        eventCount: 2,
      };
      const history = [
        { id: 1, timestamp: record.startedAt, type: 'ExecutionStarted', input: record.input },
        { id: 2, timestamp: record.stoppedAt, type: 'ExecutionSucceeded', output: record.output },
      ];
      await mkdir(join(directory, 'executions', 'scan'), { recursive: true });
      await mkdir(join(directory, 'history', 'scan'), { recursive: true });
      await writeFile(join(directory, 'executions', 'scan', `${stem}.json`), JSON.stringify(record));
      await writeFile(
        join(directory, 'history', 'scan', `${stem}.jsonl`),
        history.map((event) => `${JSON.stringify(event)}\n`).join(''),
      );
      const definition = { StartAt: 'Work', States: { Work: TASK('WorkFunctionArn', { End: true }) } };

      // Act
      const first = await open(definition, { WorkFunctionArn: async () => ({}) });
      const seenFirst = await first.describe(executionArn);
      await first.close();
      // As a process that died after folding the file in, before removing it, leaves it.
      await mkdir(join(directory, 'history', 'scan'), { recursive: true });
      await writeFile(
        join(directory, 'history', 'scan', `${stem}.jsonl`),
        history.map((event) => `${JSON.stringify(event)}\n`).join(''),
      );
      const second = await open(definition, { WorkFunctionArn: async () => ({}) });

      // Assess
      expect(seenFirst).toMatchObject({ status: 'SUCCEEDED', input: { account_id: 'acc-3' } });
      expect(await second.describe(executionArn)).toEqual(seenFirst);
      expect((await second.history(executionArn)).events).toEqual(history);
      // Folded into the journal the first time: the file of its own is gone.
      await expect(readdir(join(directory, 'history'))).resolves.toEqual(['journal.jsonl']);
    });

    it('close() aborts running executions, calls onTerminated, and refuses new starts', async () => {
      // Prepare
      const hold = gate();
      const runtime = await open(
        { StartAt: 'Work', States: { Work: TASK('SlowFunctionArn', { End: true }) } },
        { SlowFunctionArn: () => hold.promise },
      );
      const handle = await runtime.start({ workflow: 'scan', name: 'open-at-close', input: {} });

      // Act
      await runtime.close({ gracePeriodMs: 20 });
      hold.open({});

      // Assess
      expect(await runtime.describe(handle.executionArn)).toMatchObject({
        status: 'ABORTED',
        cause: RUNTIME_CLOSED_CAUSE,
      });
      expect(terminated.map((event) => event.executionArn)).toEqual([handle.executionArn]);
      await expect(runtime.start({ workflow: 'scan', name: 'late', input: {} })).rejects.toThrow(
        DependencyUnavailableError,
      );
    });
  });

  describe('Method: open', () => {
    it('fails when a Task token has no handler, naming the state and the token, even inside a branch', async () => {
      // Prepare
      const definition = {
        StartAt: 'Both',
        States: {
          Both: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Known task', States: { 'Known task': TASK('KnownFunctionArn', { End: true }) } },
              {
                StartAt: 'Orphan task',
                States: { 'Orphan task': TASK('MissingFunctionArn', { End: true }) },
              },
            ],
            End: true,
          },
        },
      };

      // Act
      const opening = LocalStepFunctions.open({
        directory,
        region: REGION,
        definitions: { scan: definition },
        taskHandlers: { KnownFunctionArn: async () => ({}) },
      });

      // Assess
      await expect(opening).rejects.toThrow(ConfigurationError);
      await expect(opening).rejects.toThrow(/'Orphan task'.*'MissingFunctionArn'/);
    });

    it('fails on a definition that is not valid ASL, naming the workflow', async () => {
      // Act
      const opening = LocalStepFunctions.open({
        directory,
        region: REGION,
        definitions: { validation: { StartAt: 'Nowhere', States: {} } },
        taskHandlers: {},
      });

      // Assess
      await expect(opening).rejects.toThrow(/workflow 'validation'/);
    });
  });

  describe('Callback: onTerminated', () => {
    it('logs a failing handler and keeps running executions', async () => {
      // Prepare
      const { logger, lines } = recordingLogger();
      const runtime = await open(
        { StartAt: 'Give up', States: { 'Give up': { Type: 'Fail', Error: 'Planned' } } },
        {},
        {
          logger,
          onTerminated: async () => {
            throw new Error('the executions table is down');
          },
        },
      );

      // Act
      const first = await runToEnd(runtime, 'first-failure');
      const second = await runToEnd(runtime, 'second-failure');

      // Assess
      expect(first.description.status).toBe('FAILED');
      expect(second.description.status).toBe('FAILED');
      expect(
        lines.filter((line) => line.message === 'the handler of a terminated execution failed'),
      ).toHaveLength(2);
    });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function readAllFiles(root: string): Promise<string> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')),
  );
  return texts.join('\n');
}
