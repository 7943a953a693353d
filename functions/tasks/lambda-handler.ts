import { loadConfig } from '../core/config';
import { runWithDeadline } from '../core/time-budget';
import type { WorkflowDependencies } from '../core/workflow-dependencies';
import type { TaskFactory } from './task-input';

/** The part of the Lambda context the handlers use. */
export interface LambdaInvocationContext {
  getRemainingTimeInMillis(): number;
}

let dependencies: Promise<WorkflowDependencies> | undefined;

/**
 * Turns a task factory into a Lambda handler. Dependencies (configuration, SDK clients) are built
 * on the first invocation and reused by every later one in the same execution environment. The
 * AWS composition root is imported lazily, so the local runtime, which calls the factories
 * directly, never loads it.
 */
export function lambdaHandler(
  factory: TaskFactory,
): (event: unknown, context?: LambdaInvocationContext) => Promise<unknown> {
  let task: ((input: unknown) => Promise<unknown>) | undefined;
  return async (event, context) => {
    // Engine and provider calls end before this invocation would be killed (see time-budget.ts).
    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
    dependencies ??= import('../adapters/aws/aws-workflow-dependencies').then((module) =>
      module.createAwsWorkflowDependencies(loadConfig(process.env)),
    );
    task ??= factory(await dependencies);
    const run = task;
    return deadline === undefined ? run(event) : runWithDeadline(deadline, () => run(event));
  };
}
