import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ExecutionTerminatedEvent, WorkflowName } from '../../functions/core/ports/orchestrator';
import { LocalStepFunctions, type LocalTaskHandler } from '../../local/local-step-functions';
import { type LoopbackService, StandInServiceError, startJsonProtocolService } from './loopback-service';

export interface StepFunctionsStandInOptions {
  /** Where the interpreter keeps its execution records (a temporary folder). */
  directory: string;
  region: string;
  account: string;
  /** The template's definitions, Lambda ARNs substituted, by workflow. */
  definitions: Record<WorkflowName, object>;
  /** By function name (the last part of each Task's Lambda ARN). */
  taskHandlers: Record<string, LocalTaskHandler>;
  /** What the template's EventBridge rule would receive when an execution ends unsuccessfully. */
  onTerminated: (event: ExecutionTerminatedEvent) => Promise<void>;
  /** Wait states that must take some time (ms), by workflow then state name; the others take none. */
  waitTimeOverrides?: Partial<Record<WorkflowName, Record<string, number>>>;
}

/** The execution whose work is running (tasks and terminated handlers inherit it from their start). */
export const currentExecution = new AsyncLocalStorage<{ workflow: WorkflowName; name: string }>();

const epochSeconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

function notFound(arn: unknown): StandInServiceError {
  return new StandInServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
}

/**
 * Step Functions on loopback (AWS JSON 1.0): the template's definitions run in the local ASL
 * interpreter (aws-local-stepfunctions, through the local runtime's orchestrator), every Task
 * invoking the rehearsed function its Lambda ARN names. Waits and retry pauses take no time.
 */
export class StepFunctionsStandIn {
  #service: LoopbackService | undefined;
  #workflows: LocalStepFunctions | undefined;
  readonly #options: StepFunctionsStandInOptions;
  /** Every execution started, in order. */
  readonly started: string[] = [];

  constructor(options: StepFunctionsStandInOptions) {
    this.#options = options;
  }

  get url(): string {
    if (!this.#service) throw new Error('the Step Functions stand-in is not started');
    return this.#service.url;
  }

  get workflows(): LocalStepFunctions {
    if (!this.#workflows) throw new Error('the Step Functions stand-in is not started');
    return this.#workflows;
  }

  get requestsByAccessKey(): ReadonlyMap<string, number> {
    return this.#service?.requestsByAccessKey ?? new Map();
  }

  async start(): Promise<void> {
    const options = this.#options;
    const workflows = await LocalStepFunctions.open({
      directory: options.directory,
      region: options.region,
      accountId: options.account,
      definitions: options.definitions,
      taskHandlers: options.taskHandlers,
      onTerminated: options.onTerminated,
      timeScale: 0,
      ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
    });
    this.#workflows = workflows;
    const workflowOf = (stateMachineArn: unknown): WorkflowName => {
      for (const workflow of Object.keys(options.definitions) as WorkflowName[]) {
        if (workflows.stateMachineArnFor(workflow) === stateMachineArn) return workflow;
      }
      throw new StandInServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${String(stateMachineArn)}'`,
      );
    };
    const describe = async (executionArn: unknown) => {
      try {
        return await workflows.describe(String(executionArn));
      } catch {
        throw notFound(executionArn);
      }
    };
    this.#service = await startJsonProtocolService('application/x-amz-json-1.0', {
      StartExecution: async (input) => {
        const workflow = workflowOf(input.stateMachineArn);
        const name = typeof input.name === 'string' ? input.name : randomUUID();
        let handle: Awaited<ReturnType<LocalStepFunctions['start']>>;
        try {
          handle = await currentExecution.run({ workflow, name }, () =>
            workflows.start({ workflow, name, input: JSON.parse(String(input.input ?? '{}')) }),
          );
        } catch (error) {
          if ((error as Error).name === 'ConflictError')
            throw new StandInServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
          throw error;
        }
        if (!handle.alreadyStarted) this.started.push(handle.executionArn);
        if (handle.alreadyStarted && (await workflows.describe(handle.executionArn)).status !== 'RUNNING') {
          throw new StandInServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
        }
        return { executionArn: handle.executionArn, startDate: epochSeconds(handle.startedAt) };
      },
      DescribeExecution: async (input) => {
        const described = await describe(input.executionArn);
        return {
          executionArn: described.executionArn,
          stateMachineArn: workflows.stateMachineArnFor(described.workflow),
          name: described.name,
          status: described.status,
          startDate: epochSeconds(described.startedAt),
          stopDate: epochSeconds(described.stoppedAt),
          input: JSON.stringify(described.input ?? {}),
          ...(described.output !== undefined ? { output: JSON.stringify(described.output) } : {}),
          ...(described.error !== undefined ? { error: described.error } : {}),
          ...(described.cause !== undefined ? { cause: described.cause } : {}),
        };
      },
      StopExecution: async (input) => {
        await describe(input.executionArn);
        await workflows.stop(String(input.executionArn), {
          ...(typeof input.error === 'string' ? { error: input.error } : {}),
          ...(typeof input.cause === 'string' ? { cause: input.cause } : {}),
        });
        return { stopDate: Date.now() / 1000 };
      },
      ListExecutions: async (input) => {
        const workflow = workflowOf(input.stateMachineArn);
        const page = await workflows.list({
          workflow,
          ...(typeof input.statusFilter === 'string' ? { status: input.statusFilter as 'RUNNING' } : {}),
          ...(typeof input.maxResults === 'number' ? { limit: input.maxResults } : {}),
          ...(typeof input.nextToken === 'string' ? { nextToken: input.nextToken } : {}),
        });
        return {
          executions: page.executions.map((execution) => ({
            executionArn: execution.executionArn,
            stateMachineArn: workflows.stateMachineArnFor(workflow),
            name: execution.name,
            status: execution.status,
            startDate: epochSeconds(execution.startedAt),
            stopDate: epochSeconds(execution.stoppedAt),
          })),
          ...(page.nextToken ? { nextToken: page.nextToken } : {}),
        };
      },
      GetExecutionHistory: async (input) => {
        await describe(input.executionArn);
        const page = await workflows.history(String(input.executionArn), {
          ...(typeof input.maxResults === 'number' ? { limit: input.maxResults } : {}),
          ...(typeof input.nextToken === 'string' ? { nextToken: input.nextToken } : {}),
          reverseOrder: input.reverseOrder === true,
        });
        return {
          events: page.events.map((event) => {
            const details: Record<string, unknown> = {};
            if (event.stateName !== undefined) details.name = event.stateName;
            if (event.input !== undefined) details.input = JSON.stringify(event.input);
            if (event.output !== undefined) details.output = JSON.stringify(event.output);
            if (event.error !== undefined) details.error = event.error;
            if (event.cause !== undefined) details.cause = event.cause;
            const detailsKey = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
            return {
              id: event.id,
              previousEventId: event.id - 1,
              timestamp: Date.parse(event.timestamp) / 1000,
              type: event.type,
              [detailsKey]: details,
            };
          }),
          ...(page.nextToken ? { nextToken: page.nextToken } : {}),
        };
      },
    });
  }

  /** Resolves once every execution started so far has ended (and its terminated handler ran). */
  async settle(timeoutMs = 20_000): Promise<void> {
    for (const executionArn of [...this.started])
      await this.workflows.waitForCompletion(executionArn, timeoutMs);
  }

  async close(): Promise<void> {
    await this.#workflows?.close({ gracePeriodMs: 0 });
    await this.#service?.close();
  }
}
