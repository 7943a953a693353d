import type { Command } from 'commander';
import { contextOf, endWith } from '../command-context';
import { EXIT } from '../exit-codes';
import { colours, printJson, printTable, writeOut } from '../output';

interface ReconcileChange {
  entry_name: string;
  schedule_id?: string;
  differences?: string[];
}

interface ReconcileReport {
  created: ReconcileChange[];
  updated: ReconcileChange[];
  deleted: ReconcileChange[];
  unchanged: number;
  expired: string[];
  failed: { schedule_id: string; entry_name: string; error: string }[];
  dry_run: boolean;
}

/** `threat-engine scheduler reconcile [--dry-run]` (platform admins). */
export function registerSchedulerCommand(program: Command): void {
  const scheduler = program
    .command('scheduler')
    .description('the scheduler entries behind the schedules (platform admins)');
  scheduler
    .command('reconcile')
    .description(
      'make the scheduler entries match the schedules: create the missing, update the different, delete the orphaned (exit 1 when one failed)',
    )
    .option('--dry-run', 'only report what would change', false)
    .action(async (options: { dryRun: boolean }, command: Command) => {
      const { api, json } = contextOf(command);
      const report = await api.post<ReconcileReport>('/scheduler/reconcile', { dry_run: options.dryRun });
      if (json) printJson(report);
      else {
        const verb = report.dry_run ? 'would be ' : '';
        const rows = [
          ...report.created.map((change) => [
            `${verb}created`,
            change.entry_name,
            change.schedule_id ?? '',
            '',
          ]),
          ...report.updated.map((change) => [
            `${verb}updated`,
            change.entry_name,
            change.schedule_id ?? '',
            (change.differences ?? []).join(', '),
          ]),
          ...report.deleted.map((change) => [
            `${verb}deleted`,
            change.entry_name,
            change.schedule_id ?? '',
            '',
          ]),
          ...report.failed.map((failure) => [
            colours().red('failed'),
            failure.entry_name,
            failure.schedule_id,
            failure.error,
          ]),
        ];
        printTable(
          ['CHANGE', 'ENTRY', 'SCHEDULE', 'DETAILS'],
          rows,
          'every scheduler entry matches its schedule',
        );
        writeOut(
          `${report.dry_run ? 'dry run: ' : ''}${report.created.length} created, ${report.updated.length} updated, ${report.deleted.length} deleted, ${report.unchanged} unchanged, ${report.expired.length} expired, ${report.failed.length} failed`,
        );
      }
      endWith(report.failed.length > 0 ? EXIT.failed : EXIT.ok);
    });
}
