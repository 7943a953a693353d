import { FailScanInputSchema } from '../../schemas/workflow-payloads';
import { failScan } from '../core/scans/scan-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Records the failed scan and releases the lock. */
export const createFailScanTask: TaskFactory = (dependencies) => (input) =>
  failScan(dependencies, parseTaskInput(FailScanInputSchema, input));

export const handler = lambdaHandler(createFailScanTask);
