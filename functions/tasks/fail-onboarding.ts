import { FailOnboardingInputSchema } from '../../schemas/workflow-payloads';
import { failOnboarding } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Discards the staged credentials and records why onboarding failed. */
export const createFailOnboardingTask: TaskFactory = (dependencies) => (input) =>
  failOnboarding(dependencies, parseTaskInput(FailOnboardingInputSchema, input));

export const handler = lambdaHandler(createFailOnboardingTask);
