import type { Schedule } from '../../../schemas/schedule';

/**
 * Whether a schedule fires, apart from its timing (schedule-timing.ts, which parses expressions
 * with croner): readers that only need the status do not load the expression parser.
 */

/** True when the schedule's entry should fire (status active and the legacy `enabled` flag set). */
export function isScheduleActive(schedule: Pick<Schedule, 'status' | 'enabled'>): boolean {
  return schedule.status === 'active' && schedule.enabled === 'true';
}
