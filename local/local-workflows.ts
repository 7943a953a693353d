import type { Clock } from '../functions/core/clock';
import type { Logger } from '../functions/core/logger';
import type { ExecutionTerminatedEvent } from '../functions/core/ports/orchestrator';
import { withScanWorkflowTimeout } from '../functions/core/scans/scan-settings';
import type { WorkflowDependencies } from '../functions/core/workflow-dependencies';
import { TASK_FACTORIES } from '../functions/tasks/task-factories';
import { WORKFLOW_DEFINITIONS } from '../workflows/definitions';
import { LocalStepFunctions, type LocalStepFunctionsOptions } from './local-step-functions';

export interface LocalWorkflowsOptions {
  directory: string;
  region: string;
  dependencies: WorkflowDependencies;
  logger: Logger;
  clock?: Clock;
  timeScale?: number;
  maxConcurrentExecutions?: number;
}

/**
 * The three workflows from `workflows/`, run in process by the same handlers the Lambda functions
 * export. Executions that end outside their own states go to the same handler the AWS
 * EventBridge rule invokes.
 */
export async function openLocalWorkflows(options: LocalWorkflowsOptions): Promise<LocalStepFunctions> {
  const handlers = Object.fromEntries(
    Object.entries(TASK_FACTORIES).map(([token, factory]) => [token, factory(options.dependencies)]),
  );
  const recordTerminated = handlers.RecordTerminatedExecutionFunctionArn;
  const openOptions: LocalStepFunctionsOptions = {
    directory: options.directory,
    region: options.region,
    // The scan workflow's timeout follows the configured scan bounds, as on AWS.
    definitions: {
      ...WORKFLOW_DEFINITIONS,
      scan: withScanWorkflowTimeout(WORKFLOW_DEFINITIONS.scan, options.dependencies.settings),
    },
    taskHandlers: handlers,
    onTerminated: async (event: ExecutionTerminatedEvent) => {
      await recordTerminated?.(event);
    },
    logger: options.logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    ...(options.maxConcurrentExecutions ? { maxConcurrentExecutions: options.maxConcurrentExecutions } : {}),
  };
  return LocalStepFunctions.open(openOptions);
}
