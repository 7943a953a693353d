import { PromoteCredentialsInputSchema } from '../../schemas/workflow-payloads';
import { promoteCredentials } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Promotes verified credentials to current. */
export const createPromoteCredentialsTask: TaskFactory = (dependencies) => (input) =>
  promoteCredentials(dependencies, parseTaskInput(PromoteCredentialsInputSchema, input));

export const handler = lambdaHandler(createPromoteCredentialsTask);
