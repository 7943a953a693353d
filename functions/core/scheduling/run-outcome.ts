import type { Schedule } from '../../../schemas/schedule';
import type { Clock } from '../clock';
import { NotFoundError, ValidationError } from '../errors';
import type { Logger } from '../logger';
import type { SchedulerPort } from '../ports/scheduler';
import type { RunOutcome, ScheduleCounters, ScheduleRepository } from '../repositories/schedule-repository';

import type { ScheduleSettings } from './schedule-service';
import { fireTimesAfter, isOneTimeSchedule, scheduleTimingOf } from './schedule-timing';

/*
 * What a finished run does to its schedule (called by the scan workflow's completion steps):
 * counters, auto-pause after consecutive failures, the end of a one-time schedule.
 */

/** Who pauses a schedule by itself (auto-pause after failures). */
export const SYSTEM_ACTOR = 'system';

export interface RecordedRunOutcome {
  /** Null when the schedule no longer exists (deleted while the run went on). */
  counters: ScheduleCounters | null;
  /** True when this outcome paused the schedule (consecutive failures reached the threshold). */
  auto_paused: boolean;
  /** True when this outcome finished a one-time schedule (it is now disabled, its entry removed). */
  completed_one_time: boolean;
  /** The schedule as the counters' write left it (null when it no longer exists). */
  schedule: Schedule | null;
}

export interface RunOutcomeDependencies {
  schedules: Pick<ScheduleRepository, 'recordRunOutcome' | 'get' | 'setStatus'>;
  scheduler: SchedulerPort;
  clock: Clock;
  logger: Logger;
  settings: Pick<ScheduleSettings, 'autoPauseAfterFailuresDefault'>;
}

/** Whether a schedule has a fire time after `now` (false too when its timing cannot be read). */
function firesAgain(schedule: Schedule, now: Date): boolean {
  try {
    return fireTimesAfter(scheduleTimingOf(schedule), now, 1).length > 0;
  } catch (error) {
    if (error instanceof ValidationError) return false;
    throw error;
  }
}

/**
 * Records the outcome of one run of a schedule (atomic counters), then:
 * - after a failure, pauses the schedule (by 'system', with a note) when its consecutive failures
 *   reach its `auto_pause_after_failures`, or the default when it sets none (0 = never);
 * - for a one-time schedule whose time has passed, any outcome (success, failure, skipped,
 *   missed) ends it: status disabled and its entry removed (on AWS the entry already deleted
 *   itself, ActionAfterCompletion DELETE). This is done here, after the run, and not when the
 *   timer fires, because the scan's claim step skips runs of a schedule that is not active. A
 *   manual trigger before its time leaves it active.
 * Returns the counters and what it did. The scheduler call happens after the table write: if it
 * fails the error is thrown and a retry of the step finds the schedule already paused.
 */
export async function recordOutcomeAndAutoPause(
  deps: RunOutcomeDependencies,
  scheduleId: string,
  outcome: RunOutcome,
  options: { last_run_at?: string | undefined; count?: number | undefined } = {},
): Promise<RecordedRunOutcome> {
  let counters: ScheduleCounters;
  let schedule: Schedule;
  try {
    ({ schedule, ...counters } = await deps.schedules.recordRunOutcome(scheduleId, outcome, options));
  } catch (error) {
    // The schedule was deleted while its run went on: there is nothing left to count.
    if (!(error instanceof NotFoundError)) throw error;
    deps.logger.info('run outcome of a deleted schedule not recorded', { schedule_id: scheduleId, outcome });
    return { counters: null, auto_paused: false, completed_one_time: false, schedule: null };
  }
  const result: RecordedRunOutcome = { counters, auto_paused: false, completed_one_time: false, schedule };
  const log = deps.logger.child({ schedule_id: scheduleId, tenant_id: schedule.tenant_id });

  if (isOneTimeSchedule(schedule) && schedule.status !== 'disabled' && !firesAgain(schedule, deps.clock())) {
    const disabled = await deps.schedules.setStatus(scheduleId, 'disabled');
    await deps.scheduler.remove(scheduleId);
    log.info('one-time schedule completed', { outcome });
    return { ...result, completed_one_time: true, schedule: disabled };
  }

  const threshold = schedule.auto_pause_after_failures ?? deps.settings.autoPauseAfterFailuresDefault;
  if (
    outcome === 'failure' &&
    threshold > 0 &&
    counters.consecutive_failures >= threshold &&
    schedule.status === 'active'
  ) {
    const paused = await deps.schedules.setStatus(scheduleId, 'paused', {
      paused_by: SYSTEM_ACTOR,
      pause_note: `paused automatically after ${counters.consecutive_failures} consecutive failed runs`,
    });
    await deps.scheduler.upsert(paused);
    log.warn('schedule paused after consecutive failures', {
      consecutive_failures: counters.consecutive_failures,
      threshold,
    });
    return { ...result, auto_paused: true, schedule: paused };
  }
  return result;
}
