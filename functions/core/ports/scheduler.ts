import type { Schedule } from '../../../schemas/schedule';

/**
 * The scheduling port: one EventBridge Scheduler entry per schedule on AWS, an in-process timer
 * locally. Either starts the scan workflow with the scheduled time. The schedules table stays the
 * source of truth; the scheduler holds entries derived from it.
 */
export interface SchedulerPort {
  /** Creates or replaces the entry of a schedule (idempotent). Disabled/paused schedules get a disabled entry. */
  upsert(schedule: Schedule): Promise<void>;
  /** Removes the entry; removing a missing entry is not an error. */
  remove(scheduleId: string): Promise<void>;
}
