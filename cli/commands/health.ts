import type { Command } from 'commander';
import { contextOf, endWith } from '../command-context';
import { EXIT } from '../exit-codes';
import { printJson, printTable, status, writeOut } from '../output';

interface HealthReport {
  status: string;
  checks?: Record<string, { status: string; latency_ms: number }>;
}

/**
 * `threat-engine health`: the API's health check (no token needed). The API answers 200 when
 * every dependency answers and 503 otherwise; the command exits 1 on a 503.
 */
export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description("the API's health check: each dependency it needs, and whether it answers (exit 1 when not)")
    .action(async (_options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const answer = await api.request<HealthReport>('GET', '/health', {
        anonymous: true,
        accept: (code) => code === 503,
      });
      const healthy = answer.status === 200;
      if (json) printJson(answer.body);
      else {
        writeOut(`${api.baseUrl}: ${status(healthy ? 'ok' : 'unavailable')} (${answer.body.status})`);
        printTable(
          ['CHECK', 'STATUS', 'LATENCY'],
          Object.entries(answer.body.checks ?? {}).map(([name, check]) => [
            name,
            status(check.status),
            `${check.latency_ms} ms`,
          ]),
        );
      }
      endWith(healthy ? EXIT.ok : EXIT.failed);
    });
}
