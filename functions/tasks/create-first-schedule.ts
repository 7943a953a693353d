import { CreateFirstScheduleInputSchema } from '../../schemas/workflow-payloads';
import { createFirstSchedule } from '../core/onboarding/onboarding-service';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** Creates the account's first scan schedule. */
export const createCreateFirstScheduleTask: TaskFactory = (dependencies) => (input) =>
  createFirstSchedule(dependencies, parseTaskInput(CreateFirstScheduleInputSchema, input));

export const handler = lambdaHandler(createCreateFirstScheduleTask);
