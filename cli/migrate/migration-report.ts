/**
 * What a migration run did (or, with --dry-run, would do; with --verify, found): counts per
 * table and every record that failed, with the reason. Ids and field names only: no value of a
 * record, and never a credential, is ever written here.
 */

export type MigrationMode = 'migrate' | 'dry-run' | 'verify';

/** migrate and dry-run: created, unchanged, updated, failed. verify: matched, mismatched, missing, failed. */
export type TableCounts = Record<string, number>;

export interface RecordFailure {
  table: string;
  id: string;
  reason: string;
}

export interface MigrationReport {
  command: string;
  mode: MigrationMode;
  target: string;
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  /** Accounts (with their secrets) per second over the whole run. */
  accounts_per_second: number;
  tables: Record<string, TableCounts>;
  failures: RecordFailure[];
  notes: string[];
  /** True when no record failed (and, with --verify, every record matched). */
  ok: boolean;
}

const MIGRATE_COUNTS = ['created', 'unchanged', 'updated', 'failed'] as const;
const VERIFY_COUNTS = ['matched', 'mismatched', 'missing', 'failed'] as const;

export class ReportBuilder {
  private readonly tables: Record<string, TableCounts> = {};
  private readonly failures: RecordFailure[] = [];
  private readonly notes: string[] = [];
  private readonly startedAt = new Date();

  constructor(
    private readonly command: string,
    readonly mode: MigrationMode,
    private readonly target: string,
  ) {}

  count(table: string, outcome: string, amount = 1): void {
    this.tables[table] ??= Object.fromEntries(
      (this.mode === 'verify' ? VERIFY_COUNTS : MIGRATE_COUNTS).map((key) => [key, 0]),
    );
    const counts = this.tables[table];
    counts[outcome] = (counts[outcome] ?? 0) + amount;
  }

  /** Makes the table appear with zero counts even when it holds no record. */
  touch(table: string): void {
    this.count(table, this.mode === 'verify' ? 'matched' : 'unchanged', 0);
  }

  fail(table: string, id: string, reason: string): void {
    this.count(table, 'failed');
    this.failures.push({ table, id, reason: reason.slice(0, 500) });
  }

  /** A record that does not match (verify): counted under `outcome` and listed with the reason. */
  problem(table: string, id: string, outcome: string, reason: string): void {
    this.count(table, outcome);
    this.failures.push({ table, id, reason: reason.slice(0, 500) });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  counts(table: string): TableCounts {
    return this.tables[table] ?? {};
  }

  build(): MigrationReport {
    const finished = new Date();
    const seconds = (finished.getTime() - this.startedAt.getTime()) / 1000;
    const accounts = this.tables.accounts ?? {};
    const accountTotal = Object.values(accounts).reduce((sum, value) => sum + value, 0);
    const problems = Object.values(this.tables).some(
      (counts) => (counts.failed ?? 0) > 0 || (counts.mismatched ?? 0) > 0 || (counts.missing ?? 0) > 0,
    );
    return {
      command: this.command,
      mode: this.mode,
      target: this.target,
      started_at: this.startedAt.toISOString(),
      finished_at: finished.toISOString(),
      duration_seconds: Math.round(seconds * 1000) / 1000,
      accounts_per_second: seconds > 0 ? Math.round((accountTotal / seconds) * 10) / 10 : 0,
      tables: this.tables,
      failures: this.failures,
      notes: this.notes,
      ok: !problems && this.failures.length === 0,
    };
  }
}

/** The summary a person reads: one line per table, then the failures (ids and reasons). */
export function formatReport(report: MigrationReport): string {
  const lines = [
    `${report.command} (${report.mode}) into ${report.target}: ${report.ok ? 'OK' : 'NOT OK'} in ${report.duration_seconds}s (${report.accounts_per_second} accounts/s)`,
  ];
  for (const [table, counts] of Object.entries(report.tables)) {
    lines.push(
      `  ${table.padEnd(18)} ${Object.entries(counts)
        .map(([key, value]) => `${key} ${value}`)
        .join(', ')}`,
    );
  }
  for (const note of report.notes) lines.push(`  note: ${note}`);
  const shown = report.failures.slice(0, 50);
  for (const failure of shown) lines.push(`  FAILED ${failure.table} ${failure.id}: ${failure.reason}`);
  if (report.failures.length > shown.length) {
    lines.push(`  … and ${report.failures.length - shown.length} more failures (see --report)`);
  }
  return `${lines.join('\n')}\n`;
}
