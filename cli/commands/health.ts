import type { Command } from 'commander';
import { contextOf, endWith } from '../command-context';
import { EXIT } from '../exit-codes';
import { printJson, printTable, status, writeOut } from '../output';

interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: string; latency_ms: number; error?: string }>;
}

/** `threat-engine health`: the API's health check (no token needed); exit 1 when unavailable. */
export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description("the API's health check: each dependency it needs, and whether it answers (exit 1 when not)")
    .action(async (_options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const { body } = await api.request<HealthReport>('GET', '/health', { anonymous: true, accept: [503] });
      if (json) printJson(body);
      else {
        writeOut(`${api.baseUrl}: ${status(body.status)}`);
        printTable(
          ['CHECK', 'STATUS', 'LATENCY', 'ERROR'],
          Object.entries(body.checks ?? {}).map(([name, check]) => [
            name,
            status(check.status),
            `${check.latency_ms} ms`,
            check.error ?? '',
          ]),
        );
      }
      endWith(body.status === 'ok' ? EXIT.ok : EXIT.failed);
    });
}
