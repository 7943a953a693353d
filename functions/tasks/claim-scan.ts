import { ClaimScanInputSchema } from '../../schemas/workflow-payloads';
import { claimScan } from '../core/scans/scan-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Claims the scan slot and locks the account. */
export const createClaimScanTask: TaskFactory = (dependencies) => (input) =>
  claimScan(dependencies, parseTaskInput(ClaimScanInputSchema, input));

export const handler = lambdaHandler(createClaimScanTask);
