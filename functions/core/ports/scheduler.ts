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
  /**
   * Compares the entries with the schedules table and repairs drift (missing, orphaned, different
   * entries), reporting what it did (or would do, with dryRun).
   */
  reconcile(
    schedules: AsyncIterable<Schedule> | Iterable<Schedule>,
    options?: { dryRun?: boolean },
  ): Promise<ReconcileReport>;
}

export interface ReconcileChange {
  entry_name: string;
  /** Absent for an orphaned entry whose input names no schedule. */
  schedule_id?: string;
  /** What differed (updated entries): e.g. `ScheduleExpression`, `State`, `Target.Input`. */
  differences?: string[];
}

export interface ReconcileReport {
  created: ReconcileChange[];
  updated: ReconcileChange[];
  deleted: ReconcileChange[];
  unchanged: number;
  /** Schedules that will not fire again (a past at() or end_date): no entry is created for them. */
  expired: string[];
  /** Schedules that could not be repaired, with the reason (the others were still processed). */
  failed: Array<{ schedule_id: string; entry_name: string; error: string }>;
  dry_run: boolean;
}

/** A port built on first use (its configuration is checked then, not when the process starts). */
export function lazySchedulerPort(create: () => SchedulerPort): SchedulerPort {
  let port: SchedulerPort | undefined;
  const get = () => {
    port ??= create();
    return port;
  };
  return {
    upsert: (schedule) => get().upsert(schedule),
    remove: (scheduleId) => get().remove(scheduleId),
    reconcile: (schedules, options) => get().reconcile(schedules, options),
  };
}
