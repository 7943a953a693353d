import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { monthlyBill, type RegionPrices, type ScanFigures } from '../cost/cost-model';
import prices from '../cost/prices.json' with { type: 'json' };
import { synthesizedTemplateFacts } from '../cost/template-facts';
import { DEFAULT_SCAN_SETTINGS } from '../functions/core/scans/scan-settings';
import { createThreatEngineApp } from '../infra/create-threat-engine-app';
import { type ApiBenchmarkResult, runApiBenchmark } from './api-bench';
import { runConsoleRunsBenchmark } from './console-runs-bench';
import { DEFAULT_ASSEMBLY_DIRECTORY, runLambdaBenchmark } from './lambda-bench';
import type { SchedulerBenchmarkResult } from './local-scheduler-bench';
import type { ScanBenchmarkOptions, ScanBenchmarkResult } from './scan-bench';
import { runBenchProcess } from './service-process';

/**
 * `npm run bench [-- --quick] [--json file] [--scans N --concurrency C --schedules N --api-seconds S]`:
 * the Lambda bundles of the synthesized app (size, cold init over bare node), the scan workflow
 * against the floor of its DynamoDB operations, the API under 200 requests/s, the local scheduler
 * with 100,000 schedules due in one minute, and the monthly cost those figures imply. Refreshes
 * cost/scan-figures.json (what `npm run cost` reads).
 * `npm run bench -- --scan-api [--quick] [--json file]`: only the scan workflow and the API (same keys).
 * `--api-load autocannon`: the API load from autocannon's overallRate (bursts at each second) instead
 * of the paced one (a request every 1/200 s).
 * `npm run bench -- --console [--executions N]`: only the console's first Runs screen (console-runs-bench.ts).
 * `npm run bench -- --only lambda [--json file]`: only the Lambda bundles (same `lambda.*` keys).
 * `npm run bench -- --only scan [--scans N] [--json file]`: only the scan workflow and its two floors (same `scan.*` keys).
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scans: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    schedules: { type: 'string' },
    'api-seconds': { type: 'string' },
    json: { type: 'string' },
    console: { type: 'boolean', default: false },
    only: { type: 'string' },
    'scan-api': { type: 'boolean', default: false },
    'api-load': { type: 'string', default: 'paced' },
    executions: { type: 'string', default: '10000' },
  },
});
const quick = values.quick === true;
const wholeNumber = (name: string, value: string | undefined, fallback: number) => {
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    process.stderr.write(`bench: --${name} takes a whole number ≥ 1\n`);
    process.exit(2);
  }
  return parsed;
};
const scans = wholeNumber('scans', values.scans, quick ? 240 : 800);
const concurrency = wholeNumber('concurrency', values.concurrency, 8);
/** Both sides of the scan bench run this long, interleaved, before it measures (as the API bench's warm-up). */
const SCAN_WARM_UP_MS = 5_000;
const schedules = wholeNumber('schedules', values.schedules, quick ? 25_000 : 100_000);
const apiSeconds = wholeNumber('api-seconds', values['api-seconds'], quick ? 10 : 20);
if (values['api-load'] !== 'paced' && values['api-load'] !== 'autocannon') {
  process.stderr.write('bench: --api-load takes paced or autocannon\n');
  process.exit(2);
}
const apiLoad: 'paced' | 'autocannon' = values['api-load'];

const line = (label: string, value: unknown) => process.stdout.write(`${label.padEnd(44)} ${value}\n`);
const goal = (met: boolean) => (met ? 'met' : 'NOT met');
if (values.console) {
  const result = await runConsoleRunsBenchmark({
    executions: wholeNumber('executions', values.executions, 10_000),
    accounts: 20,
    loads: 11,
  });
  process.stdout.write(
    `\nConsole, first Runs screen with ${result.executions} executions over ${result.accounts} accounts\n`,
  );
  line('first screen cold (ms)', result.first_screen_ms.cold);
  line(
    'first screen p50 / p90 / max (ms, ≤ 300)',
    `${result.first_screen_ms.p50} / ${result.first_screen_ms.p90} / ${result.first_screen_ms.max}`,
  );
  line(
    'GET /executions first page p50 / max (ms)',
    `${result.api_first_page_ms.p50} / ${result.api_first_page_ms.max}`,
  );
  line('seeding (s)', result.seed_seconds);
  if (values.json) await writeFile(values.json, `${JSON.stringify({ console: result }, null, 2)}\n`);
  process.exit(0);
}
const progress = (title: string, total: number) => {
  const bar = new SingleBar({
    format: `${title.padEnd(28)} [{bar}] {value}/{total}`,
    hideCursor: true,
    clearOnComplete: true,
    stream: process.stderr,
  });
  bar.start(total, 0);
  return bar;
};

/** The scan workflow against the floor of its DynamoDB operations, printed. */
async function scanSection() {
  process.stderr.write(`running ${scans} scans and their two floors…\n`);
  const options: ScanBenchmarkOptions = {
    scans,
    concurrency,
    warmUpMs: SCAN_WARM_UP_MS,
  };
  const scan = await runBenchProcess<ScanBenchmarkResult>('./scan-bench-process.ts', [
    JSON.stringify(options),
  ]);
  const operationCount = Object.values(scan.dynamodb_operations_per_scan).reduce(
    (sum, count) => sum + count,
    0,
  );
  const scheduledCount = Object.values(scan.dynamodb_operations_per_scheduled_scan).reduce(
    (sum, count) => sum + count,
    0,
  );
  process.stdout.write(
    `\nScan workflow, ${scan.scans} scans at concurrency ${concurrency} (local runtime, sync engine simulator), interleaved with its two floors\n` +
      '(the table server and the engine simulator serve from processes of their own, as DynamoDB and the engines are remote on AWS)\n' +
      'floor: the same DynamoDB operations, issued directly; calls floor: those, the two secret reads and the engine call\n',
  );
  line('workflow throughput (scans/s)', scan.workflow.throughput_per_second);
  line('workflow latency p50 / p99 (ms)', `${scan.workflow.p50_ms} / ${scan.workflow.p99_ms}`);
  line('floor throughput (scans/s)', scan.floor.throughput_per_second);
  line('floor latency p50 / p99 (ms)', `${scan.floor.p50_ms} / ${scan.floor.p99_ms}`);
  line('calls floor throughput (scans/s)', scan.calls_floor.throughput_per_second);
  line('calls floor latency p50 / p99 (ms)', `${scan.calls_floor.p50_ms} / ${scan.calls_floor.p99_ms}`);
  const cpu = (side: typeof scan.workflow) =>
    `${side.total_cpu_ms_per_scan} (bench ${side.cpu_ms_per_scan}, tables ${side.table_server_cpu_ms_per_scan}, engine ${side.engine_cpu_ms_per_scan})`;
  line('CPU per scan, workflow (ms)', cpu(scan.workflow));
  line('CPU per scan, floor (ms)', cpu(scan.floor));
  line('CPU per scan, calls floor (ms)', cpu(scan.calls_floor));
  line('ratio to floor, CPU of all three processes', scan.ratio_total_cpu);
  line('ratio to floor, p50 (goal ≤ 1.25)', `${scan.ratio_p50} (${goal(scan.ratio_p50 <= 1.25)})`);
  line(
    'ratio to floor, throughput (goal ≤ 1.25)',
    `${scan.ratio_throughput} (${goal(scan.ratio_throughput <= 1.25)})`,
  );
  const parts = (ratio: typeof scan.calls_over_floor) =>
    `${ratio.p50} / ${ratio.throughput} / ${ratio.total_cpu}`;
  line('the calls: calls floor / floor (p50 / throughput / CPU)', parts(scan.calls_over_floor));
  line('orchestration: workflow / calls floor (same)', parts(scan.workflow_over_calls_floor));
  line(
    `warm-up before (${SCAN_WARM_UP_MS / 1000} s, not measured)`,
    `${scan.warm_up.rounds} rounds, ${scan.warm_up.scans} scans each side, throughput ratio ${scan.warm_up.ratio_throughput}`,
  );
  line('state transitions per scan', scan.state_transitions_per_scan);
  line('DynamoDB operations per scan (goal ≤ 10)', `${operationCount} (${goal(operationCount <= 10)})`);
  const purposes: Record<string, string> = {
    'account.get': 'read the account (claim: tenant, status, provider; validation: what to check)',
    'schedule.get': 'read the schedule (claim: active, overlap policy, scope)',
    'execution.create': 'claim the slot: conditional create, one execution per (schedule, slot)',
    'account.acquireScanLock': 'lock the account (leased, conditional)',
    'account.recordValidation': 'record the validation on the account (conditional on the status read)',
    'execution.recordProgress': 'progress on the execution (validated; engine answered)',
    'scanResult.create': 'write the scan result (idempotent id)',
    'execution.finishOnce': 'finish the execution (conditional on running; a retry counts nothing twice)',
    'schedule.recordRunOutcome': 'add to the counters, atomically (auto-pause decides on the item written)',
    'account.releaseScanLock': 'release the lock (conditional on its owner)',
  };
  for (const [operation, count] of Object.entries(scan.dynamodb_operations_per_scan)) {
    const method = operation.replace(/ \(.*$/, '');
    process.stdout.write(`  ${count} × ${operation.padEnd(40)} ${purposes[method] ?? ''}\n`);
  }
  line('… for a run of a schedule', scheduledCount);
  for (const [operation, count] of Object.entries(scan.dynamodb_operations_per_scheduled_scan)) {
    if (scan.dynamodb_operations_per_scan[operation] === count) continue;
    const method = operation.replace(/ \(.*$/, '');
    process.stdout.write(`  ${count} × ${operation.padEnd(40)} ${purposes[method] ?? ''}\n`);
  }
  line('floor DynamoDB operations per scan', JSON.stringify(scan.floor_dynamodb_operations_per_scan));
  line('failed scans', scan.failed_scans);
  return { scan, operationCount, scheduledCount };
}

/** The API at 200 requests/s, printed. */
async function apiSection() {
  const apiWarmup = apiLoad === 'paced' ? 2 : 0;
  const apiBar = progress('API load', (apiSeconds + apiWarmup) * 2);
  const api = await runApiBenchmark({
    rate: 200,
    seconds: apiSeconds,
    warmupSeconds: apiWarmup,
    generator: apiLoad,
    onProgress: () => apiBar.increment(),
  });
  apiBar.stop();
  process.stdout.write(
    `\nAPI, ${api.rate} requests/s for ${api.seconds} s per run${apiWarmup ? ` after ${apiWarmup} s of warm-up` : ''} (${api.generator === 'paced' ? 'paced: one request every 1/rate s, latency from when it was due' : 'autocannon 9 overallRate: each second as one burst'}, ≤ 50 connections)\n`,
  );
  line(
    'reads p50 / p99 (ms, goal p99 ≤ 20)',
    `${api.reads.p50_ms} / ${api.reads.p99_ms} (${goal(api.reads.p99_ms <= 20)})`,
  );
  line(
    'onboarding init p50 / p99 (ms, goal p99 ≤ 50)',
    `${api.init.p50_ms} / ${api.init.p99_ms} (${goal(api.init.p99_ms <= 50)})`,
  );
  if (api.reads.warmup && api.init.warmup) {
    line(
      `warm-up ${apiWarmup} s before each, p50 / p99 (ms)`,
      `reads ${api.reads.warmup.p50_ms} / ${api.reads.warmup.p99_ms}, init ${api.init.warmup.p50_ms} / ${api.init.warmup.p99_ms}`,
    );
  }
  line(
    'runtime CPU per request, reads / init (ms)',
    `${api.reads.runtime_cpu_ms_per_request} / ${api.init.runtime_cpu_ms_per_request}`,
  );
  line('requests sent (reads / init)', `${api.reads.requests} / ${api.init.requests}`);
  line('errors (goal 0)', api.reads.errors + api.init.errors);
  return api;
}

function scanJson(scan: ScanBenchmarkResult, operationCount: number, scheduledCount: number) {
  return {
    ...scan,
    dynamodb_operations_total: operationCount,
    dynamodb_operations_per_scheduled_scan_total: scheduledCount,
  };
}

function apiJson(api: ApiBenchmarkResult) {
  return {
    reads_p50_ms: api.reads.p50_ms,
    reads_p99_ms: api.reads.p99_ms,
    init_p50_ms: api.init.p50_ms,
    init_p99_ms: api.init.p99_ms,
    errors: api.reads.errors + api.init.errors,
    rate: api.rate,
    seconds: api.seconds,
    generator: api.generator,
    reads: api.reads,
    init: api.init,
  };
}

if (values.only === 'scan') {
  const { scan, operationCount, scheduledCount } = await scanSection();
  if (values.json) {
    const figures = { mode: quick ? 'quick' : 'full', scan: scanJson(scan, operationCount, scheduledCount) };
    await writeFile(values.json, `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`\nfigures written to ${values.json}\n`);
  }
  process.exit(0);
}

if (values['scan-api']) {
  const { scan, operationCount, scheduledCount } = await scanSection();
  const api = await apiSection();
  if (values.json) {
    const figures = {
      mode: quick ? 'quick' : 'full',
      scan: scanJson(scan, operationCount, scheduledCount),
      api: apiJson(api),
    };
    await writeFile(values.json, `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`\nfigures written to ${values.json}\n`);
  }
  process.exit(0);
}

// 1. Lambda bundles: synthesize with bundling into the project's cdk.out, then import each.
process.stderr.write('synthesizing the app (bundles every function)…\n');
const cdkJson = JSON.parse(await readFile(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
// Asset metadata (each function's asset directory) is what `cdk synth` adds too.
createThreatEngineApp({
  outdir: DEFAULT_ASSEMBLY_DIRECTORY,
  context: { ...cdkJson.context, 'aws:cdk:enable-asset-metadata': true },
}).app.synth();
const lambdaBar = progress('Lambda cold starts', 1);
const lambda = runLambdaBenchmark({
  assemblyDirectory: DEFAULT_ASSEMBLY_DIRECTORY,
  runs: 7,
  onProgress: (done, total) => {
    lambdaBar.setTotal(total);
    lambdaBar.update(done);
  },
});
lambdaBar.stop();
process.stdout.write(
  '\nLambda bundles (synthesized assets; fresh node per run, median of 7, template environment)\n',
);
process.stdout.write(
  `${'function'.padEnd(44)} ${'KB'.padStart(5)} ${'init'.padStart(6)} ${'cpu'.padStart(6)} ${'+compose'.padStart(9)}  SDK clients loaded\n`,
);
for (const fn of lambda.functions) {
  const clients = fn.sdk_packages_loaded.filter((name) => /client-|lib-dynamodb/.test(name));
  process.stdout.write(
    `${fn.function.padEnd(44)} ${String(fn.bundle_kb).padStart(5)} ${`${fn.init_over_bare_ms}ms`.padStart(6)} ${`${fn.init_cpu_over_bare_ms}ms`.padStart(6)} ${`${fn.init_and_compose_over_bare_ms}ms`.padStart(9)}  ${clients.map((name) => name.replace('@aws-sdk/', '')).join(', ') || '-'}\n`,
  );
}
line('bare node -e 0 (ms)', lambda.bare_node_ms);
line('largest bundle (KB, goal ≤ 300)', `${lambda.max_bundle_kb} (${goal(lambda.max_bundle_kb <= 300)})`);
line(
  'slowest import over bare node (ms, goal ≤ 50)',
  `${lambda.max_init_over_bare_ms} (${goal(lambda.max_init_over_bare_ms <= 50)})`,
);
line('slowest import + composition over bare node (ms)', lambda.max_init_and_compose_over_bare_ms);
line('most import CPU time over bare node (ms)', lambda.max_init_cpu_over_bare_ms);
if (values.only === 'lambda') {
  if (values.json) await writeFile(values.json, `${JSON.stringify({ lambda }, null, 2)}\n`);
  process.exit(0);
}

// 2. Scan workflow against its floor.
const { scan, operationCount, scheduledCount } = await scanSection();

// 3. API latency.
const api = await apiSection();

// 4. The local scheduler.
const loadBar = progress('writing schedules', schedules);
const scheduler = await runBenchProcess<SchedulerBenchmarkResult, { written?: number; loaded?: boolean }>(
  './scheduler-bench-process.ts',
  [String(schedules)],
  (message) => {
    if (message.written !== undefined) loadBar.update(message.written);
    if (message.loaded) loadBar.stop();
  },
);
process.stdout.write(
  `\nLocal scheduler, ${schedules.toLocaleString('en-US')} schedules due in the same minute\n`,
);
line('start-up (ms)', scheduler.startup_ms);
line(
  'start lateness p50 / p99 (ms, goal p99 ≤ 1000)',
  `${scheduler.lateness_p50_ms} / ${scheduler.lateness_p99_ms} (${goal(scheduler.lateness_p99_ms <= 1000)})`,
);
line('duplicate starts (goal 0)', scheduler.duplicates);
line('starts', scheduler.starts);
line('peak RSS (MB, goal ≤ 600)', `${scheduler.peak_rss_mb} (${goal(scheduler.peak_rss_mb <= 600)})`);
line('DynamoDB reads while idle (goal 0)', scheduler.reads_while_idle);
line('DynamoDB reads at start-up', scheduler.reads_at_startup);

// 5. The per-scan figures the cost model reads, and the bill they imply.
const apiFunction = lambda.functions.find((fn) => fn.function === 'FunctionsApiFunction');
const initOf = (token: string) => {
  const entry = lambda.functions.find((fn) => fn.function === `Functions${token.replace(/Arn$/, '')}`);
  return entry?.init_and_compose_over_bare_ms ?? 0;
};
const figures: ScanFigures = {
  measured_on: new Date().toISOString().slice(0, 10),
  command: `npm run bench${quick ? ' -- --quick' : ''}`,
  scan: {
    state_transitions: scan.state_transitions_per_scan,
    invocations: scan.invocations_per_scan,
    handler_ms: scan.task_ms,
    dynamodb_reads: scan.dynamodb_reads_per_scan,
    dynamodb_writes: scan.dynamodb_writes_per_scan,
    secret_reads: scan.secret_reads_per_scan,
    log_bytes: scan.log_bytes_per_scan,
  },
  // One poll: "Has the engine finished?", the Wait and the Poll task; the task reads the account,
  // renews the lock and records progress (scan-service pollScan).
  poll: {
    state_transitions: 3,
    handler_ms: scan.task_ms.StartScanFunctionArn ?? 5,
    dynamodb_reads: 1,
    dynamodb_writes: 2,
  },
  init_ms: {
    ...Object.fromEntries(Object.keys(scan.invocations_per_scan).map((token) => [token, initOf(token)])),
    PollScanFunctionArn: initOf('PollScanFunctionArn'),
    ApiFunction: apiFunction?.init_and_compose_over_bare_ms ?? 0,
  },
  api_handler_ms: api.reads.p50_ms,
};
await writeFile(
  new URL('../cost/scan-figures.json', import.meta.url),
  `${JSON.stringify(figures, null, 2)}\n`,
);
const template = synthesizedTemplateFacts({});
const usage = {
  accounts: 100,
  scansPerDay: 1,
  engine: 'sync' as const,
  scanMinutes: 2,
  apiRequestsPerScan: 10,
  coldStartShare: 1,
  applyFreeTier: true,
  firstPollWaitSeconds: DEFAULT_SCAN_SETTINGS.firstPollWaitSeconds,
  maxPollWaitSeconds: DEFAULT_SCAN_SETTINGS.maxPollWaitSeconds,
};
const regionPrices = prices.regions['ap-south-1'] as RegionPrices;
const bill = monthlyBill(usage, template, figures, regionPrices, prices.freeTier);
const withFunctionAlarms = monthlyBill(
  usage,
  synthesizedTemplateFacts({ operationalAlarms: 'all' }),
  figures,
  regionPrices,
  prices.freeTier,
);
process.stdout.write('\nCost, 100 accounts scanned daily in ap-south-1 (npm run cost for more)\n');
line(
  'monthly total, default template (USD, goal ≤ 45)',
  `${bill.monthly_total_usd} (${goal(bill.monthly_total_usd <= 45)})`,
);
line('… with -c operationalAlarms=all (per-function alarms)', withFunctionAlarms.monthly_total_usd);
line('per-scan figures written to', 'cost/scan-figures.json');

if (values.json) {
  const figuresJson = {
    mode: quick ? 'quick' : 'full',
    scan: scanJson(scan, operationCount, scheduledCount),
    lambda: {
      max_bundle_kb: lambda.max_bundle_kb,
      max_init_over_bare_ms: lambda.max_init_over_bare_ms,
      max_init_and_compose_over_bare_ms: lambda.max_init_and_compose_over_bare_ms,
      max_init_cpu_over_bare_ms: lambda.max_init_cpu_over_bare_ms,
      bare_node_ms: lambda.bare_node_ms,
      functions: lambda.functions,
    },
    api: apiJson(api),
    scheduler,
    cost: {
      monthly_total_usd: bill.monthly_total_usd,
      monthly_total_with_function_alarms_usd: withFunctionAlarms.monthly_total_usd,
      usage,
      lines: bill.lines,
    },
  };
  await writeFile(values.json, `${JSON.stringify(figuresJson, null, 2)}\n`);
  process.stdout.write(`\nfigures written to ${values.json}\n`);
}
