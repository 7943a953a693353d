import { EngineStepInputSchema } from '../../schemas/workflow-payloads';
import { pollScan } from '../core/scans/scan-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Polls an asynchronous engine once. */
export const createPollScanTask: TaskFactory = (dependencies) => (input) =>
  pollScan(dependencies, parseTaskInput(EngineStepInputSchema, input));

export const handler = lambdaHandler(createPollScanTask);
