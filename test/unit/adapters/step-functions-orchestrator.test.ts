import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  executionArnFor,
  StepFunctionsOrchestrator,
} from '../../../functions/adapters/aws/step-functions-orchestrator';
import {
  ConfigurationError,
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  ValidationError,
} from '../../../functions/core/errors';

const PREFIX = 'arn:aws:states:ap-south-1:123456789012';
const STATE_MACHINES = {
  onboarding: `${PREFIX}:stateMachine:threat-engine-onboarding`,
  validation: `${PREFIX}:stateMachine:threat-engine-validation`,
  scan: `${PREFIX}:stateMachine:threat-engine-scan`,
};
const NAME = 'scan-sched-1-20260301T1000Z';
const EXECUTION_ARN = `${PREFIX}:execution:threat-engine-scan:${NAME}`;
const STARTED = new Date('2026-03-01T10:00:01.000Z');

describe('Class: StepFunctionsOrchestrator', () => {
  const sfn = mockClient(SFNClient);
  let orchestrator: StepFunctionsOrchestrator;

  beforeEach(() => {
    sfn.reset();
    orchestrator = new StepFunctionsOrchestrator({
      client: new SFNClient({}),
      stateMachineArns: STATE_MACHINES,
    });
  });

  describe('Function: executionArnFor', () => {
    it('derives the execution ARN from the state machine ARN and the name', () => {
      // Act
      const arn = executionArnFor(STATE_MACHINES.scan, NAME);

      // Assess
      expect(arn).toBe(EXECUTION_ARN);
    });
  });

  describe('Method: constructor', () => {
    it('throws ConfigurationError naming a workflow whose ARN is missing', () => {
      // Act
      const build = () =>
        new StepFunctionsOrchestrator({
          client: new SFNClient({}),
          stateMachineArns: { ...STATE_MACHINES, validation: '' },
        });

      // Assess
      expect(build).toThrow(ConfigurationError);
      expect(build).toThrow(/'validation'/);
    });
  });

  describe('Method: start', () => {
    it('starts the workflow state machine with the name and the input as JSON', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: STARTED });

      // Act
      const handle = await orchestrator.start({
        workflow: 'scan',
        name: NAME,
        input: { account_id: 'acc-1' },
      });

      // Assess
      expect(sfn).toReceiveCommandWith(StartExecutionCommand, {
        stateMachineArn: STATE_MACHINES.scan,
        name: NAME,
        input: JSON.stringify({ account_id: 'acc-1' }),
      });
      expect(handle).toEqual({
        workflow: 'scan',
        name: NAME,
        executionArn: EXECUTION_ARN,
        startedAt: '2026-03-01T10:00:01.000Z',
        alreadyStarted: false,
      });
    });

    it('returns the existing execution when ExecutionAlreadyExists comes for the same input', async () => {
      // Prepare
      sfn
        .on(StartExecutionCommand)
        .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
      sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINES.scan,
        name: NAME,
        status: 'SUCCEEDED',
        startDate: STARTED,
        input: '{"b":[1,2],"a":1}',
      });

      // Act
      const handle = await orchestrator.start({ workflow: 'scan', name: NAME, input: { a: 1, b: [1, 2] } });

      // Assess
      expect(handle).toEqual({
        workflow: 'scan',
        name: NAME,
        executionArn: EXECUTION_ARN,
        startedAt: '2026-03-01T10:00:01.000Z',
        alreadyStarted: true,
      });
    });

    it('throws ConflictError naming the name when the existing execution had another input', async () => {
      // Prepare
      sfn
        .on(StartExecutionCommand)
        .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINES.scan,
        name: NAME,
        status: 'RUNNING',
        startDate: STARTED,
        input: '{"a":2}',
      });

      // Act
      const attempt = orchestrator.start({ workflow: 'scan', name: NAME, input: { a: 1 } });

      // Assess
      await expect(attempt).rejects.toThrow(ConflictError);
      await expect(attempt).rejects.toMatchObject({ field: 'name', message: expect.stringContaining(NAME) });
    });

    it('refuses an invalid name before calling AWS', async () => {
      // Act
      const attempt = orchestrator.start({ workflow: 'scan', name: 'has space', input: {} });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'name' }] });
      expect(sfn.calls()).toHaveLength(0);
    });

    it('maps throttling to DependencyUnavailableError', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).rejects(
        new SFNServiceException({
          name: 'ThrottlingException',
          message: 'Rate exceeded',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      // Act
      const attempt = orchestrator.start({ workflow: 'scan', name: NAME, input: {} });

      // Assess
      await expect(attempt).rejects.toThrow(DependencyUnavailableError);
    });
  });

  describe('Method: describe', () => {
    it('maps DescribeExecution, parsing input and output', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINES.scan,
        name: NAME,
        status: 'FAILED',
        startDate: STARTED,
        stopDate: new Date('2026-03-01T10:05:00.000Z'),
        input: '{"account_id":"acc-1"}',
        error: 'EngineUnavailableError',
        cause: 'engine answered 503',
      });

      // Act
      const description = await orchestrator.describe(EXECUTION_ARN);

      // Assess
      expect(description).toEqual({
        workflow: 'scan',
        name: NAME,
        executionArn: EXECUTION_ARN,
        status: 'FAILED',
        startedAt: '2026-03-01T10:00:01.000Z',
        stoppedAt: '2026-03-01T10:05:00.000Z',
        input: { account_id: 'acc-1' },
        error: 'EngineUnavailableError',
        cause: 'engine answered 503',
      });
    });

    it('maps ExecutionDoesNotExist to NotFoundError', async () => {
      // Prepare
      sfn
        .on(DescribeExecutionCommand)
        .rejects(new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} }));

      // Act
      const attempt = orchestrator.describe(EXECUTION_ARN);

      // Assess
      await expect(attempt).rejects.toThrow(NotFoundError);
    });

    it('treats an execution of another state machine as unknown without calling AWS', async () => {
      // Act
      const attempt = orchestrator.describe(`${PREFIX}:execution:someone-else:run-1`);

      // Assess
      await expect(attempt).rejects.toThrow(NotFoundError);
      expect(sfn.calls()).toHaveLength(0);
    });
  });

  describe('Method: list', () => {
    it('passes status, page size and token, and returns the next token', async () => {
      // Prepare
      sfn.on(ListExecutionsCommand).resolves({
        executions: [
          {
            executionArn: EXECUTION_ARN,
            stateMachineArn: STATE_MACHINES.scan,
            name: NAME,
            status: 'RUNNING',
            startDate: STARTED,
          },
        ],
        nextToken: 'page-2',
      });

      // Act
      const page = await orchestrator.list({
        workflow: 'scan',
        status: 'RUNNING',
        limit: 5,
        nextToken: 'page-1',
      });

      // Assess
      expect(sfn).toReceiveCommandWith(ListExecutionsCommand, {
        stateMachineArn: STATE_MACHINES.scan,
        statusFilter: 'RUNNING',
        maxResults: 5,
        nextToken: 'page-1',
      });
      expect(page).toEqual({
        executions: [
          {
            workflow: 'scan',
            name: NAME,
            executionArn: EXECUTION_ARN,
            status: 'RUNNING',
            startedAt: '2026-03-01T10:00:01.000Z',
            input: undefined,
          },
        ],
        nextToken: 'page-2',
      });
    });
  });

  describe('Method: history', () => {
    it('maps AWS events to history events, naming the state of task events', async () => {
      // Prepare
      const at = (second: number) => new Date(`2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`);
      const events: HistoryEvent[] = [
        {
          id: 1,
          type: 'ExecutionStarted',
          timestamp: at(1),
          executionStartedEventDetails: { input: '{"account_id":"acc-1"}' },
        },
        {
          id: 2,
          previousEventId: 1,
          type: 'TaskStateEntered',
          timestamp: at(2),
          stateEnteredEventDetails: { name: 'Start the scan', input: '{"account_id":"acc-1"}' },
        },
        {
          id: 3,
          previousEventId: 2,
          type: 'LambdaFunctionScheduled',
          timestamp: at(2),
          lambdaFunctionScheduledEventDetails: {
            resource: 'arn:aws:lambda:x',
            input: '{"account_id":"acc-1"}',
          },
        },
        { id: 4, previousEventId: 3, type: 'LambdaFunctionStarted', timestamp: at(3) },
        {
          id: 5,
          previousEventId: 4,
          type: 'LambdaFunctionFailed',
          timestamp: at(4),
          lambdaFunctionFailedEventDetails: {
            error: 'EngineUnavailableError',
            cause: '{"errorMessage":"503"}',
          },
        },
        {
          id: 6,
          previousEventId: 5,
          type: 'TaskFailed',
          timestamp: at(4),
          taskFailedEventDetails: {
            resource: 'invoke',
            resourceType: 'lambda',
            error: 'States.Timeout',
            cause: 'late',
          },
        },
        {
          id: 7,
          previousEventId: 6,
          type: 'TaskStateExited',
          timestamp: at(5),
          stateExitedEventDetails: { name: 'Start the scan', output: '{"scan_id":"s-1"}' },
        },
        {
          id: 8,
          previousEventId: 7,
          type: 'ExecutionFailed',
          timestamp: at(6),
          executionFailedEventDetails: { error: 'EngineUnavailableError', cause: 'engine answered 503' },
        },
      ];
      sfn.on(GetExecutionHistoryCommand).resolves({ events, nextToken: 'more' });

      // Act
      const page = await orchestrator.history(EXECUTION_ARN, {
        limit: 8,
        reverseOrder: false,
        nextToken: 't-1',
      });

      // Assess
      expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, {
        executionArn: EXECUTION_ARN,
        maxResults: 8,
        reverseOrder: false,
        includeExecutionData: true,
        nextToken: 't-1',
      });
      expect(page.nextToken).toBe('more');
      expect(page.events).toEqual([
        {
          id: 1,
          timestamp: '2026-03-01T10:00:01.000Z',
          type: 'ExecutionStarted',
          input: { account_id: 'acc-1' },
        },
        {
          id: 2,
          timestamp: '2026-03-01T10:00:02.000Z',
          type: 'TaskStateEntered',
          stateName: 'Start the scan',
          input: { account_id: 'acc-1' },
        },
        {
          id: 3,
          timestamp: '2026-03-01T10:00:02.000Z',
          type: 'TaskScheduled',
          stateName: 'Start the scan',
          input: { account_id: 'acc-1' },
        },
        { id: 4, timestamp: '2026-03-01T10:00:03.000Z', type: 'TaskStarted', stateName: 'Start the scan' },
        {
          id: 5,
          timestamp: '2026-03-01T10:00:04.000Z',
          type: 'TaskFailed',
          stateName: 'Start the scan',
          error: 'EngineUnavailableError',
          cause: '{"errorMessage":"503"}',
        },
        {
          id: 6,
          timestamp: '2026-03-01T10:00:04.000Z',
          type: 'TaskFailed',
          stateName: 'Start the scan',
          error: 'States.Timeout',
          cause: 'late',
        },
        {
          id: 7,
          timestamp: '2026-03-01T10:00:05.000Z',
          type: 'TaskStateExited',
          stateName: 'Start the scan',
          output: { scan_id: 's-1' },
        },
        {
          id: 8,
          timestamp: '2026-03-01T10:00:06.000Z',
          type: 'ExecutionFailed',
          error: 'EngineUnavailableError',
          cause: 'engine answered 503',
        },
      ]);
    });

    it('maps ExecutionDoesNotExist to NotFoundError', async () => {
      // Prepare
      sfn
        .on(GetExecutionHistoryCommand)
        .rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));

      // Act
      const attempt = orchestrator.history(EXECUTION_ARN);

      // Assess
      await expect(attempt).rejects.toThrow(NotFoundError);
    });

    it('maps an invalid page token to ValidationError naming nextToken', async () => {
      // Prepare
      sfn
        .on(GetExecutionHistoryCommand)
        .rejects(
          new SFNServiceException({ name: 'InvalidToken', message: 'bad', $fault: 'client', $metadata: {} }),
        );

      // Act
      const attempt = orchestrator.history(EXECUTION_ARN, { nextToken: 'stale' });

      // Assess
      await expect(attempt).rejects.toThrow(ValidationError);
      await expect(attempt).rejects.toMatchObject({ issues: [{ field: 'nextToken' }] });
    });
  });

  describe('Method: stop', () => {
    it('stops the execution with the error and cause', async () => {
      // Prepare
      sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

      // Act
      await orchestrator.stop(EXECUTION_ARN, { error: 'ScanCancelled', cause: 'cancelled by the operator' });

      // Assess
      expect(sfn).toReceiveCommandWith(StopExecutionCommand, {
        executionArn: EXECUTION_ARN,
        error: 'ScanCancelled',
        cause: 'cancelled by the operator',
      });
    });

    it('maps ExecutionDoesNotExist to NotFoundError', async () => {
      // Prepare
      sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));

      // Act
      const attempt = orchestrator.stop(EXECUTION_ARN);

      // Assess
      await expect(attempt).rejects.toThrow(NotFoundError);
    });
  });
});
