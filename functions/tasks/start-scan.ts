import { StartScanInputSchema } from '../../schemas/workflow-payloads';
import { startScan } from '../core/scans/scan-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Starts the scan on the provider's engine. */
export const createStartScanTask: TaskFactory = (dependencies) => (input) =>
  startScan(dependencies, parseTaskInput(StartScanInputSchema, input));

export const handler = lambdaHandler(createStartScanTask);
