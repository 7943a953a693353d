import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runConsoleRunsBenchmark } from './console-runs-bench';
import { runSchedulerBenchmark } from './local-scheduler-bench';
import { runScanBenchmark } from './scan-bench';

/**
 * `npm run bench [-- --scans N --concurrency C --json file]`: measures the scan workflow end to
 * end on the local runtime against the floor of the same DynamoDB operations done directly, and
 * the local scheduler with 10,000 schedules due in the same minute.
 * `npm run bench -- --console [--executions N]`: only the console's first Runs screen (console-runs-bench.ts).
 */
const { values } = parseArgs({
  options: {
    scans: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    schedules: { type: 'string', default: '10000' },
    json: { type: 'string' },
    console: { type: 'boolean', default: false },
    executions: { type: 'string', default: '10000' },
  },
});

const line = (label: string, value: unknown) => process.stdout.write(`${label.padEnd(36)} ${value}\n`);
if (values.console) {
  const result = await runConsoleRunsBenchmark({
    executions: Number(values.executions),
    accounts: 20,
    loads: 5,
  });
  process.stdout.write(
    `\nConsole, first Runs screen with ${result.executions} executions over ${result.accounts} accounts\n`,
  );
  line('first screen cold (ms)', result.first_screen_ms.cold);
  line('first screen p50 / max (ms, ≤ 300)', `${result.first_screen_ms.p50} / ${result.first_screen_ms.max}`);
  line(
    'GET /executions first page p50 / max (ms)',
    `${result.api_first_page_ms.p50} / ${result.api_first_page_ms.max}`,
  );
  line('seeding (s)', result.seed_seconds);
  if (values.json) await writeFile(values.json, `${JSON.stringify({ console: result }, null, 2)}\n`);
  process.exit(0);
}

const scans = Number(values.scans);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(scans) || scans < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('bench: --scans and --concurrency take whole numbers ≥ 1\n');
  process.exit(2);
}

const scan = await runScanBenchmark({ scans, concurrency });
process.stdout.write(
  `\nScan workflow, ${scans} scans at concurrency ${concurrency} (local runtime, sync engine simulator)\n`,
);
line('workflow throughput (scans/s)', scan.workflow.throughput_per_second);
line('workflow latency p50 / p99 (ms)', `${scan.workflow.p50_ms} / ${scan.workflow.p99_ms}`);
line('floor throughput (scans/s)', scan.floor.throughput_per_second);
line('floor latency p50 / p99 (ms)', `${scan.floor.p50_ms} / ${scan.floor.p99_ms}`);
line('ratio to floor, p50 (target ≤ 1.5)', scan.ratio_p50);
line('ratio to floor, throughput', scan.ratio_throughput);
line('state transitions per scan (≤ 8)', scan.state_transitions_per_scan);
line('DynamoDB operations per scan', JSON.stringify(scan.dynamodb_operations_per_scan));
line('floor DynamoDB operations per scan', JSON.stringify(scan.floor_dynamodb_operations_per_scan));
line('failed scans', scan.failed_scans);

const schedules = Number(values.schedules);
const scheduler = await runSchedulerBenchmark({ schedules });
process.stdout.write(`\nLocal scheduler, ${schedules} schedules due in the same minute\n`);
line('start lateness p50 / p99 (ms)', `${scheduler.lateness_p50_ms} / ${scheduler.lateness_p99_ms}`);
line('duplicate starts (target 0)', scheduler.duplicates);
line('starts', scheduler.starts);
line('peak RSS (MB)', scheduler.peak_rss_mb);
line('DynamoDB reads while idle (target 0)', scheduler.reads_while_idle);
line('DynamoDB reads at start-up', scheduler.reads_at_startup);

if (values.json) {
  await writeFile(values.json, `${JSON.stringify({ scan, scheduler }, null, 2)}\n`);
  process.stdout.write(`\nfigures written to ${values.json}\n`);
}
