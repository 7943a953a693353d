import type { Account } from '../../../schemas/account';
import { CreateScheduleInputSchema, type Schedule } from '../../../schemas/schedule';
import { ValidationError } from '../errors';
import { deterministicId } from '../ids';
import { newScheduleFor } from '../scheduling/schedule-service';
import type { WorkflowDependencies } from '../workflow-dependencies';

/**
 * Creates a schedule for an account and its scheduler entry. Idempotent on `requestToken`: the
 * schedule id derives from it, so a retried step finds the schedule it already created.
 */
export async function createScheduleForAccount(
  deps: Pick<WorkflowDependencies, 'schedules' | 'scheduler' | 'clock'>,
  account: Account,
  rawInput: unknown,
  requestToken: string,
): Promise<Schedule> {
  const parsed = CreateScheduleInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    throw new ValidationError(`invalid schedule: ${issues.map((issue) => issue.field).join(', ')}`, issues);
  }
  const scheduleId = deterministicId('schedule', `${account.account_id}|${requestToken}`);
  const schedule =
    (await deps.schedules.get(scheduleId)) ??
    (await deps.schedules.create(newScheduleFor(account, parsed.data, { scheduleId, now: deps.clock() })));
  await deps.scheduler.upsert(schedule);
  return schedule;
}
