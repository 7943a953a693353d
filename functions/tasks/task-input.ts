import type * as z from 'zod/mini';
import { ValidationError } from '../core/errors';
import type { WorkflowDependencies } from '../core/workflow-dependencies';

/** A task: given its dependencies once, it handles one state's input at a time. */
export type TaskFactory = (dependencies: WorkflowDependencies) => (input: unknown) => Promise<unknown>;

/** Parses a state's input; a mismatch can never succeed on retry, so it is a ValidationError. */
export function parseTaskInput<Schema extends z.ZodMiniType>(
  schema: Schema,
  input: unknown,
): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(input)',
    message: issue.message,
  }));
  throw new ValidationError(
    `invalid task input: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}`,
    issues,
  );
}
