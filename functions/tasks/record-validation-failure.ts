import { RecordValidationFailureInputSchema } from '../../schemas/workflow-payloads';
import { recordValidationFailure } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Records a failed credential validation on the account. */
export const createRecordValidationFailureTask: TaskFactory = (dependencies) => (input) =>
  recordValidationFailure(dependencies, parseTaskInput(RecordValidationFailureInputSchema, input));

export const handler = lambdaHandler(createRecordValidationFailureTask);
