import { VerifyStagedCredentialsInputSchema } from '../../schemas/workflow-payloads';
import { verifyStagedCredentials } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Checks staged credentials with the provider during onboarding. */
export const createVerifyStagedCredentialsTask: TaskFactory = (dependencies) => (input) =>
  verifyStagedCredentials(dependencies, parseTaskInput(VerifyStagedCredentialsInputSchema, input));

export const handler = lambdaHandler(createVerifyStagedCredentialsTask);
