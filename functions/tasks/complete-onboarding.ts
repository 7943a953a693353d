import { CompleteOnboardingInputSchema } from '../../schemas/workflow-payloads';
import { completeOnboarding } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Records the account as onboarded. */
export const createCompleteOnboardingTask: TaskFactory = (dependencies) => (input) =>
  completeOnboarding(dependencies, parseTaskInput(CompleteOnboardingInputSchema, input));

export const handler = lambdaHandler(createCompleteOnboardingTask);
