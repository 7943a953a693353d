import { EngineStepInputSchema } from '../../schemas/workflow-payloads';
import { completeScan } from '../core/scans/scan-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Records the finished scan and releases the lock. */
export const createCompleteScanTask: TaskFactory = (dependencies) => (input) =>
  completeScan(dependencies, parseTaskInput(EngineStepInputSchema, input));

export const handler = lambdaHandler(createCompleteScanTask);
