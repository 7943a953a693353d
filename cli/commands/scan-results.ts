import type { Command } from 'commander';
import { segment } from '../api-client';
import { contextOf, pageOptions, printNextPage } from '../command-context';
import { duration, printJson, printTable, status, when } from '../output';

interface ScanResultRow {
  scan_id: string;
  status: string;
  started_at?: string | null;
  completed_at?: string | null;
  execution_time_seconds?: number | null;
  total_checks: number;
  passed_checks: number;
  failed_checks: number;
  error_checks: number;
  execution_id?: string | null;
}

/** `threat-engine scan-results list --account <id>`. */
export function registerScanResultsCommand(program: Command): void {
  const scanResults = program
    .command('scan-results')
    .description('results of finished scans (counts; findings stay with the engine)');
  pageOptions(
    scanResults
      .command('list')
      .description("an account's scan results, newest first")
      .requiredOption('--account <id>', 'the account'),
  ).action(async (options: { account: string; limit: number; cursor?: string }, command: Command) => {
    const { api, json } = contextOf(command);
    const page = await api.get<{ scan_results: ScanResultRow[]; next_cursor: string | null }>(
      `/accounts/${segment(options.account)}/scan-results`,
      { limit: options.limit, cursor: options.cursor },
    );
    if (json) return printJson(page);
    printTable(
      ['SCAN ID', 'STATUS', 'STARTED', 'DURATION', 'TOTAL', 'PASSED', 'FAILED', 'ERRORS', 'EXECUTION'],
      page.scan_results.map((result) => [
        result.scan_id,
        status(result.status),
        when(result.started_at),
        duration(result.execution_time_seconds == null ? null : result.execution_time_seconds * 1000),
        String(result.total_checks),
        String(result.passed_checks),
        String(result.failed_checks),
        String(result.error_checks),
        result.execution_id ?? '-',
      ]),
      'no scan results',
    );
    printNextPage(page.next_cursor);
  });
}
