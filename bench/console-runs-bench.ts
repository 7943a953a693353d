import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../functions/core/ids';
import { silentLogger } from '../functions/core/logger';
import { startLocalRuntime } from '../local/runtime';
import type { ExecutionStatus } from '../schemas/execution';
import { launchChromium } from '../test/support/chromium';
import { median, percentile } from './statistics';

/**
 * The console's first Runs screen with `executions` runs stored (target ≤ 300 ms locally): the
 * local runtime with that many execution records over `accounts` accounts of one tenant, Debian's
 * Chromium opening the sign-in URL `npm start` prints; measured in the page from navigation start
 * to the frame that first shows rows of the Runs table. Also the API alone (GET /api/v1/executions, first page).
 */

export interface ConsoleRunsBenchmarkOptions {
  executions: number;
  accounts: number;
  /** Page loads measured after one warm-up load. */
  loads: number;
}

export interface ConsoleRunsBenchmarkResult {
  executions: number;
  accounts: number;
  first_screen_ms: { cold: number; p50: number; p90: number; max: number };
  api_first_page_ms: { p50: number; max: number };
  seed_seconds: number;
}

const RUN_ROWS = 'table.runs tbody tr';
const FIRST_ROWS_AT = '__firstRunsRowsAt';
/**
 * Installed before the page's own scripts: notes the time of the frame that first shows rows of
 * the Runs table (a mutation observer sees them inserted; the next animation frame is the one
 * painted), so the figure is the page's own, without the round trips of the driver asking for it.
 */
const NOTE_FIRST_ROWS = `(() => {
  const observer = new MutationObserver(() => {
    if (document.querySelector(${JSON.stringify(RUN_ROWS)}) === null) return;
    observer.disconnect();
    requestAnimationFrame(() => { globalThis.${FIRST_ROWS_AT} = performance.now(); });
  });
  observer.observe(document, { childList: true, subtree: true });
})();`;

const round = (value: number) => Math.round(value * 10) / 10;

/** Runs `work` over 0..count-1, `limit` at a time. */
async function inParallel(count: number, limit: number, work: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await work(index);
      }
    }),
  );
}

export async function runConsoleRunsBenchmark(
  options: ConsoleRunsBenchmarkOptions,
): Promise<ConsoleRunsBenchmarkResult> {
  const directory = await mkdtemp(join(tmpdir(), 'te-console-bench-'));
  const runtime = await startLocalRuntime({
    env: { THREAT_ENGINE_DATA_DIR: join(directory, 'data'), THREAT_ENGINE_VALIDATE_OFFLINE: 'true' },
    port: 0,
    logger: silentLogger,
  });
  const browser = await launchChromium();
  try {
    const { tenants, accounts, executions } = runtime.repositories;
    const seedStarted = performance.now();
    const tenant = await tenants.create({ tenant_name: `Bench tenant ${Date.now()}` });
    const accountIds: string[] = [];
    for (let index = 0; index < options.accounts; index += 1) {
      const account = await accounts.create({
        tenant_id: tenant.tenant_id,
        provider_id: newId(),
        provider_type: 'aws',
        account_name: `Bench account ${index + 1}`,
      });
      accountIds.push(account.account_id);
    }
    const start = Date.now() - options.executions * 60_000;
    await inParallel(options.executions, 32, async (index) => {
      const status: ExecutionStatus = index % 13 === 0 ? 'failed' : 'completed';
      await executions.create({
        account_id: accountIds[index % accountIds.length] as string,
        tenant_id: tenant.tenant_id,
        provider_type: 'aws',
        triggered_by: 'scheduler',
        started_at: new Date(start + index * 60_000).toISOString(),
        status,
        ...(status === 'failed'
          ? { error_code: 'engine_rejected', error_message: 'the engine refused the scan' }
          : {}),
      });
    });
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const adminToken = new URL(runtime.consoleSignInUrl).hash.replace('#token=', '');
    const apiTimes: number[] = [];
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const began = performance.now();
      const response = await fetch(`${runtime.url}/api/v1/executions?limit=25`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      await response.json();
      apiTimes.push(performance.now() - began);
    }

    const loads: number[] = [];
    for (let attempt = 0; attempt <= options.loads; attempt += 1) {
      const context = await browser.newContext();
      await context.addInitScript(NOTE_FIRST_ROWS);
      const page = await context.newPage();
      await page.goto(runtime.consoleSignInUrl);
      const shown = await page.waitForFunction(
        (key) => (globalThis as unknown as Record<string, number | undefined>)[key],
        FIRST_ROWS_AT,
        { polling: 100 },
      );
      loads.push(Number(await shown.jsonValue()));
      if (process.env.BENCH_TRACE)
        process.stdout.write(
          `${JSON.stringify(await page.evaluate('(([page]) => [Math.round(page.requestStart), Math.round(page.responseStart), Math.round(page.domInteractive)])(performance.getEntriesByType("navigation"))'))} ${JSON.stringify(await page.evaluate('performance.getEntriesByType("resource").map((e) => [e.name.replace(/^.*\\/\\/[^/]+/, "").slice(0, 60), Math.round(e.startTime), Math.round(e.responseEnd)])'))}\n`,
        );
      await context.close();
    }
    const [cold = 0, ...warm] = loads;
    return {
      executions: options.executions,
      accounts: options.accounts,
      first_screen_ms: {
        cold: round(cold),
        p50: round(median(warm)),
        p90: round(
          percentile(
            [...warm].sort((a, b) => a - b),
            0.9,
          ),
        ),
        max: round(Math.max(...warm)),
      },
      api_first_page_ms: { p50: round(median(apiTimes)), max: round(Math.max(...apiTimes)) },
      seed_seconds: round(seedSeconds),
    };
  } finally {
    await browser.close();
    await runtime.close();
    await rm(directory, { recursive: true, force: true });
  }
}
