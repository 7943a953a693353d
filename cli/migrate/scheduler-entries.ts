import type { MigrationMode, ReportBuilder } from './migration-report';
import type { MigrationTarget } from './migration-target';

/**
 * Makes the scheduler agree with the schedules table (the scheduler port's reconcile, over EVERY
 * schedule of the table, so no entry of a schedule outside the migration is taken for an orphan):
 * each active schedule gets its entry, paused and disabled ones have none firing. On AWS this
 * creates, updates and deletes EventBridge Scheduler entries (dry-run and verify only compare).
 * Locally the runtime arms its entries from the table when it starts, so this checks that every
 * active schedule can be armed and counts them.
 */
export async function reconcileSchedulerEntries(
  target: MigrationTarget,
  report: ReportBuilder,
  mode: MigrationMode,
): Promise<void> {
  const table = 'scheduler_entries';
  report.touch(table);
  const result = await target.scheduler.reconcile(target.schedules.listAllForStartup(), {
    dryRun: mode !== 'migrate' || target.kind === 'local',
  });
  for (const failure of result.failed) report.fail(table, failure.schedule_id, failure.error);
  if (target.kind === 'local') {
    report.count(
      table,
      mode === 'verify' ? 'matched' : 'unchanged',
      result.created.length + result.updated.length,
    );
    report.note(
      `local target: the runtime arms ${result.created.length + result.updated.length} active schedules from the table when it starts (each one checked here); paused and disabled schedules get no entry`,
    );
  } else if (mode === 'verify') {
    report.count(table, 'matched', result.unchanged);
    for (const change of [...result.created, ...result.updated, ...result.deleted]) {
      const outcome = result.created.includes(change) ? 'missing' : 'mismatched';
      report.problem(
        table,
        change.schedule_id ?? change.entry_name,
        outcome,
        `entry ${change.entry_name} is not as the schedule says`,
      );
    }
  } else {
    report.count(table, 'created', result.created.length);
    report.count(table, 'updated', result.updated.length + result.deleted.length);
    report.count(table, 'unchanged', result.unchanged);
  }
  if (result.expired.length > 0) {
    report.note(
      `${result.expired.length} schedules will not fire again (a one_time time or an end date in the past): they have no entry`,
    );
  }
}
