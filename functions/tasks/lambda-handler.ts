import { loadConfig } from '../core/config';
import type { WorkflowDependencies } from '../core/workflow-dependencies';
import type { TaskFactory } from './task-input';

let dependencies: Promise<WorkflowDependencies> | undefined;

/**
 * Turns a task factory into a Lambda handler. Dependencies (configuration, SDK clients) are built
 * on the first invocation and reused by every later one in the same execution environment. The
 * AWS composition root is imported lazily, so the local runtime, which calls the factories
 * directly, never loads it.
 */
export function lambdaHandler(factory: TaskFactory): (event: unknown) => Promise<unknown> {
  let task: ((input: unknown) => Promise<unknown>) | undefined;
  return async (event) => {
    dependencies ??= import('../adapters/aws/aws-workflow-dependencies').then((module) =>
      module.createAwsWorkflowDependencies(loadConfig(process.env)),
    );
    task ??= factory(await dependencies);
    return task(event);
  };
}
