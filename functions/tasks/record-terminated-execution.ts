import { ExecutionTerminatedEventSchema } from '../../schemas/workflow-payloads';
import { recordTerminatedExecution } from '../core/terminated-executions';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Records executions that timed out, were aborted or failed without their own states recording it. */
export const createRecordTerminatedExecutionTask: TaskFactory = (dependencies) => (input) =>
  recordTerminatedExecution(dependencies, parseTaskInput(ExecutionTerminatedEventSchema, input));

export const handler = lambdaHandler(createRecordTerminatedExecutionTask);
