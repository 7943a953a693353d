import type { ReconcileReport, SchedulerPort } from '../../functions/core/ports/scheduler';
import type { Schedule } from '../../schemas/schedule';

/** A scheduling port that only remembers what it was told (the workflow tests' stand-in). */
export class RecordingScheduler implements SchedulerPort {
  readonly entries = new Map<string, Schedule>();
  readonly removed: string[] = [];

  async upsert(schedule: Schedule): Promise<void> {
    this.entries.set(schedule.schedule_id, schedule);
  }

  async remove(scheduleId: string): Promise<void> {
    this.entries.delete(scheduleId);
    this.removed.push(scheduleId);
  }
  async reconcile(): Promise<ReconcileReport> {
    return { created: [], updated: [], deleted: [], unchanged: 0, expired: [], failed: [], dry_run: false };
  }
}
