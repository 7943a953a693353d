import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { quoted, toIsoUtc } from '../../../schemas/common';
import {
  ConfigurationError,
  ConflictError,
  DependencyUnavailableError,
  DomainError,
  NotFoundError,
  ValidationError,
} from '../../core/errors';
import { ownValue } from '../../core/own-property';
import {
  assertValidExecutionName,
  type ListWorkflowExecutionsRequest,
  type Orchestrator,
  type StartWorkflowRequest,
  sameExecutionInput,
  WORKFLOW_NAMES,
  type WorkflowExecutionDescription,
  type WorkflowExecutionHandle,
  type WorkflowExecutionStatus,
  type WorkflowHistoryEvent,
  type WorkflowName,
} from '../../core/ports/orchestrator';
import { awsErrorName, isRefusedAwsError, isTransientAwsError } from './aws-error-kind';

export interface StepFunctionsOrchestratorOptions {
  client: SFNClient;
  stateMachineArns: Record<WorkflowName, string>;
}

const DEPENDENCY = 'step_functions';
const MAX_PAGE_SIZE = 1000;
const DEFAULT_LIST_PAGE_SIZE = 100;

/** The ARN of the execution `name` of a state machine (Step Functions derives it the same way). */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * Maps a Step Functions failure to a core error. The SDK error is kept as `cause` (its message
 * never holds an execution's input), the message names the operation and the resource.
 */
function mapAwsError(error: unknown, operation: string, resource: string): Error {
  if (error instanceof DomainError) return error;
  const name = awsErrorName(error);
  const options = { cause: error };
  switch (name) {
    case 'ExecutionDoesNotExist':
      return new NotFoundError('workflow execution', resource, options);
    case 'StateMachineDoesNotExist':
    case 'StateMachineDeleting':
      return new ConfigurationError(
        `${operation}: the state machine of ${resource} does not exist`,
        [],
        options,
      );
    case 'InvalidName':
      return new ValidationError(`${operation}: Step Functions refused the name of ${resource}`, [
        { field: 'name', message: 'not a valid execution name' },
      ]);
    case 'InvalidExecutionInput':
      return new ValidationError(`${operation}: Step Functions refused the input of ${resource}`, [
        { field: 'input', message: 'not a valid execution input (JSON object, at most 256 KiB)' },
      ]);
    case 'InvalidArn':
      return new ValidationError(`${operation}: ${resource} is not a valid ARN`, [
        { field: 'executionArn', message: 'not a valid Step Functions ARN' },
      ]);
    case 'InvalidToken':
      return new ValidationError(`${operation}: the page token is not valid`, [
        { field: 'nextToken', message: 'expired or not from this listing' },
      ]);
  }
  if (isTransientAwsError(error)) {
    return new DependencyUnavailableError(
      DEPENDENCY,
      `${operation} on ${resource} failed (${name}); try again later`,
      options,
    );
  }
  if (isRefusedAwsError(error)) {
    return new ConfigurationError(
      `${operation} on ${resource} was refused (${name}): check the role's Step Functions permissions`,
      [],
      options,
    );
  }
  return error instanceof Error ? error : new Error(`${operation} on ${resource} failed (${name})`, options);
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toStatus(status: string | undefined): WorkflowExecutionStatus {
  switch (status) {
    case 'SUCCEEDED':
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
      return status;
    default:
      // RUNNING, and PENDING_REDRIVE (about to run again).
      return 'RUNNING';
  }
}

const isoOrEpoch = (date: Date | undefined) => toIsoUtc(date ?? new Date(0));

/**
 * Tasks call Lambda ARNs directly (`"Resource": "arn:aws:lambda:…"`), for which Step Functions
 * writes `LambdaFunction*` events; the local runtime and every reader of the port use the `Task*`
 * names, so they are renamed here.
 */
const EVENT_TYPE_ALIASES: Record<string, string> = {
  LambdaFunctionScheduled: 'TaskScheduled',
  LambdaFunctionStarted: 'TaskStarted',
  LambdaFunctionSucceeded: 'TaskSucceeded',
  LambdaFunctionFailed: 'TaskFailed',
  LambdaFunctionTimedOut: 'TaskTimedOut',
  LambdaFunctionScheduleFailed: 'TaskStartFailed',
  LambdaFunctionStartFailed: 'TaskStartFailed',
};

interface EventFields {
  stateName?: string;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
}

/** The one detail block each AWS event type carries, reduced to name/input/output/error/cause. */
function detailsOf(event: HistoryEvent): EventFields {
  const failure =
    event.executionFailedEventDetails ??
    event.executionAbortedEventDetails ??
    event.executionTimedOutEventDetails ??
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.activityTimedOutEventDetails ??
    event.mapRunFailedEventDetails ??
    event.evaluationFailedEventDetails;
  const fields: EventFields = {};
  if (failure) {
    if (failure.error !== undefined) fields.error = failure.error;
    if (failure.cause !== undefined) fields.cause = failure.cause;
  }
  if (event.evaluationFailedEventDetails?.state) fields.stateName = event.evaluationFailedEventDetails.state;
  const entered = event.stateEnteredEventDetails;
  if (entered) {
    fields.stateName = entered.name;
    if (entered.input !== undefined) fields.input = entered.input;
  }
  const exited = event.stateExitedEventDetails;
  if (exited) {
    fields.stateName = exited.name;
    if (exited.output !== undefined) fields.output = exited.output;
  }
  const iteration =
    event.mapIterationStartedEventDetails ??
    event.mapIterationSucceededEventDetails ??
    event.mapIterationFailedEventDetails ??
    event.mapIterationAbortedEventDetails;
  if (iteration?.name) fields.stateName = iteration.name;
  const input =
    event.executionStartedEventDetails?.input ??
    event.lambdaFunctionScheduledEventDetails?.input ??
    event.taskScheduledEventDetails?.parameters;
  if (input !== undefined) fields.input = input;
  const output =
    event.executionSucceededEventDetails?.output ??
    event.taskSucceededEventDetails?.output ??
    event.taskSubmittedEventDetails?.output ??
    event.lambdaFunctionSucceededEventDetails?.output ??
    event.activitySucceededEventDetails?.output;
  if (output !== undefined) fields.output = output;
  return fields;
}

/**
 * Maps one page of GetExecutionHistory. Only Entered/Exited events name their state; the others
 * point at their predecessor, so a name is carried along `previousEventId` within the page.
 */
export function toWorkflowHistoryEvents(events: readonly HistoryEvent[]): WorkflowHistoryEvent[] {
  const byId = new Map<number, HistoryEvent>();
  const fieldsById = new Map<number, EventFields>();
  for (const event of events) {
    if (event.id === undefined) continue;
    byId.set(event.id, event);
    fieldsById.set(event.id, detailsOf(event));
  }
  const stateNameOf = (id: number | undefined, depth = 0): string | undefined => {
    if (id === undefined || depth > 50) return undefined;
    const fields = fieldsById.get(id);
    if (!fields) return undefined;
    if (fields.stateName !== undefined) return fields.stateName;
    const type = byId.get(id)?.type ?? '';
    // An execution-level event, or a state's exit/entry, ends the chain.
    if (type.startsWith('Execution') || type.endsWith('StateExited')) return undefined;
    return stateNameOf(byId.get(id)?.previousEventId, depth + 1);
  };
  return events.map((event) => {
    const fields = (event.id !== undefined ? fieldsById.get(event.id) : undefined) ?? detailsOf(event);
    const type = event.type ?? 'Unknown';
    const stateName = fields.stateName ?? stateNameOf(event.previousEventId);
    const mapped: WorkflowHistoryEvent = {
      id: event.id ?? 0,
      timestamp: isoOrEpoch(event.timestamp),
      type: ownValue(EVENT_TYPE_ALIASES, type) ?? type,
    };
    if (stateName !== undefined && !type.startsWith('Execution')) mapped.stateName = stateName;
    if (fields.input !== undefined) mapped.input = parseJson(fields.input);
    if (fields.output !== undefined) mapped.output = parseJson(fields.output);
    if (fields.error !== undefined) mapped.error = fields.error;
    if (fields.cause !== undefined) mapped.cause = fields.cause;
    return mapped;
  });
}

const clampPageSize = (limit: number | undefined, fallback: number) =>
  Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit ?? fallback)));

/**
 * The orchestration port over AWS Step Functions (Standard workflows): one state machine per
 * workflow, executions named by execution-names.ts, duplicates of a start detected by name.
 */
export class StepFunctionsOrchestrator implements Orchestrator {
  readonly #client: SFNClient;
  readonly #stateMachineArns: Record<WorkflowName, string>;

  constructor(options: StepFunctionsOrchestratorOptions) {
    this.#client = options.client;
    this.#stateMachineArns = options.stateMachineArns;
    for (const workflow of WORKFLOW_NAMES) {
      if (!options.stateMachineArns[workflow]?.includes(':stateMachine:')) {
        throw new ConfigurationError(
          `the state machine ARN of workflow ${quoted(workflow)} is missing or malformed`,
          [
            {
              field: `stateMachineArns.${workflow}`,
              message: 'expected arn:aws:states:<region>:<account>:stateMachine:<name>',
            },
          ],
        );
      }
    }
  }

  async start(request: StartWorkflowRequest): Promise<WorkflowExecutionHandle> {
    assertValidExecutionName(request.name);
    const stateMachineArn = this.#stateMachineArns[request.workflow];
    const executionArn = executionArnFor(stateMachineArn, request.name);
    try {
      const started = await this.#client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: request.name,
          input: JSON.stringify(request.input),
        }),
      );
      return {
        workflow: request.workflow,
        name: request.name,
        executionArn: started.executionArn ?? executionArn,
        startedAt: isoOrEpoch(started.startDate),
        alreadyStarted: false,
      };
    } catch (error) {
      if ((error as { name?: string } | null)?.name !== 'ExecutionAlreadyExists') {
        throw mapAwsError(error, 'StartExecution', executionArn);
      }
    }
    const existing = await this.#describeRaw(executionArn);
    if (!sameExecutionInput(parseJson(existing.input), request.input)) {
      throw new ConflictError(
        `an execution named ${quoted(request.name)} of workflow ${quoted(request.workflow)} already exists with a different input`,
        'name',
      );
    }
    return {
      workflow: request.workflow,
      name: request.name,
      executionArn,
      startedAt: isoOrEpoch(existing.startDate),
      alreadyStarted: true,
    };
  }

  async describe(executionArn: string): Promise<WorkflowExecutionDescription> {
    const workflow = this.#workflowOf(executionArn);
    const output = await this.#describeRaw(executionArn);
    const description: WorkflowExecutionDescription = {
      workflow,
      name: output.name ?? executionArn.slice(executionArn.lastIndexOf(':') + 1),
      executionArn: output.executionArn ?? executionArn,
      status: toStatus(output.status),
      startedAt: isoOrEpoch(output.startDate),
      input: parseJson(output.input),
    };
    if (output.stopDate) description.stoppedAt = toIsoUtc(output.stopDate);
    if (output.output !== undefined) description.output = parseJson(output.output);
    if (output.error !== undefined) description.error = output.error;
    if (output.cause !== undefined) description.cause = output.cause;
    return description;
  }

  /** ListExecutions carries no input or output: `input` is undefined on listed executions. */
  async list(
    request: ListWorkflowExecutionsRequest,
  ): Promise<{ executions: WorkflowExecutionDescription[]; nextToken?: string }> {
    const stateMachineArn = this.#stateMachineArns[request.workflow];
    try {
      const page = await this.#client.send(
        new ListExecutionsCommand({
          stateMachineArn,
          maxResults: clampPageSize(request.limit, DEFAULT_LIST_PAGE_SIZE),
          ...(request.status ? { statusFilter: request.status } : {}),
          ...(request.nextToken ? { nextToken: request.nextToken } : {}),
        }),
      );
      const executions = (page.executions ?? []).map((item) => {
        const description: WorkflowExecutionDescription = {
          workflow: request.workflow,
          name: item.name ?? '',
          executionArn: item.executionArn ?? '',
          status: toStatus(item.status),
          startedAt: isoOrEpoch(item.startDate),
          input: undefined,
        };
        if (item.stopDate) description.stoppedAt = toIsoUtc(item.stopDate);
        return description;
      });
      return page.nextToken ? { executions, nextToken: page.nextToken } : { executions };
    } catch (error) {
      throw mapAwsError(error, 'ListExecutions', stateMachineArn);
    }
  }

  async history(
    executionArn: string,
    options: { limit?: number; nextToken?: string; reverseOrder?: boolean } = {},
  ): Promise<{ events: WorkflowHistoryEvent[]; nextToken?: string }> {
    this.#workflowOf(executionArn);
    try {
      const page = await this.#client.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: clampPageSize(options.limit, MAX_PAGE_SIZE),
          reverseOrder: options.reverseOrder ?? false,
          includeExecutionData: true,
          ...(options.nextToken ? { nextToken: options.nextToken } : {}),
        }),
      );
      const events = toWorkflowHistoryEvents(page.events ?? []);
      return page.nextToken ? { events, nextToken: page.nextToken } : { events };
    } catch (error) {
      throw mapAwsError(error, 'GetExecutionHistory', executionArn);
    }
  }

  async stop(executionArn: string, options: { error?: string; cause?: string } = {}): Promise<void> {
    this.#workflowOf(executionArn);
    try {
      await this.#client.send(
        new StopExecutionCommand({
          executionArn,
          ...(options.error !== undefined ? { error: options.error } : {}),
          ...(options.cause !== undefined ? { cause: options.cause } : {}),
        }),
      );
    } catch (error) {
      throw mapAwsError(error, 'StopExecution', executionArn);
    }
  }

  async #describeRaw(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    try {
      return await this.#client.send(new DescribeExecutionCommand({ executionArn }));
    } catch (error) {
      throw mapAwsError(error, 'DescribeExecution', executionArn);
    }
  }

  /** Only executions of this service's state machines are served; any other ARN is unknown. */
  #workflowOf(executionArn: string): WorkflowName {
    for (const workflow of WORKFLOW_NAMES) {
      const prefix = executionArnFor(this.#stateMachineArns[workflow], '');
      if (executionArn.startsWith(prefix) && executionArn.length > prefix.length) return workflow;
    }
    throw new NotFoundError('workflow execution', executionArn);
  }
}
