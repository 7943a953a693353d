import { VerifyStoredCredentialsInputSchema } from '../../schemas/workflow-payloads';
import { verifyStoredCredentials } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Checks an account's current credentials with its provider and records the outcome. */
export const createVerifyStoredCredentialsTask: TaskFactory = (dependencies) => (input) =>
  verifyStoredCredentials(dependencies, parseTaskInput(VerifyStoredCredentialsInputSchema, input));

export const handler = lambdaHandler(createVerifyStoredCredentialsTask);
