import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigrationReport } from '../cli/migrate/migration-report';
import { startLegacyPostgres } from '../test/support/legacy-postgres';

/**
 * The measured migration run: a generated legacy PostgreSQL database of N accounts (default
 * 10,000; PGlite over the wire protocol, as in the tests) migrated by the real bin into a fresh
 * local data directory, then migrated again (nothing to change) and verified. Prints the wall
 * time and rate of each run. Not a test: the numbers depend on the machine.
 *
 *   npm run bench:migrate -- 10000
 */

const accounts = Number(process.argv[2] ?? 10_000);

function runBin(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; seconds: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/threat-engine.mjs', 'migrate', 'postgres', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
  });
}

const parent = await mkdtemp(join(tmpdir(), 'bench-migrate-'));
const seedStarted = Date.now();
const legacy = await startLegacyPostgres({ accounts });
process.stderr.write(
  `seeded ${accounts} legacy accounts in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s\n`,
);
const env = { CREDENTIAL_ENCRYPTION_KEY: legacy.summary.key, THREAT_ENGINE_DATA_DIR: join(parent, 'data') };
try {
  const results: Record<string, unknown>[] = [];
  for (const [run, extra] of [
    ['first run', []],
    ['re-run (nothing to change)', []],
    ['verify', ['--verify']],
  ] as const) {
    const reportFile = join(parent, `${results.length}.json`);
    const { code, seconds } = await runBin(['--source', legacy.url, '--report', reportFile, ...extra], env);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as MigrationReport;
    const migrated = Object.values(report.tables.accounts ?? {}).reduce((sum, value) => sum + value, 0);
    const result = {
      run,
      exit_code: code,
      wall_seconds: Math.round(seconds * 10) / 10,
      accounts: migrated,
      accounts_per_second: Math.round(migrated / seconds),
      accounts_counts: report.tables.accounts,
      secrets_counts: report.tables.secrets,
    };
    process.stderr.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  process.stdout.write(`${JSON.stringify({ accounts, node: process.version, results }, null, 2)}\n`);
} finally {
  await legacy.close();
  await rm(parent, { recursive: true, force: true });
}
