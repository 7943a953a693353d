import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock } from '../functions/core/clock';
import { deterministicId, newId } from '../functions/core/ids';
import { createJsonLogger } from '../functions/core/json-logger';
import { silentLogger } from '../functions/core/logger';
import type { SecretStore } from '../functions/core/ports/secret-store';
import { createRepositories, type Repositories } from '../functions/core/repositories/repositories';
import { DEFAULT_SCAN_SETTINGS } from '../functions/core/scans/scan-settings';
import type { WorkflowDependencies } from '../functions/core/workflow-dependencies';
import { HttpScanEngine } from '../functions/engines/scan-engine-client';
import { createProviderValidator } from '../functions/providers/provider-validator-registry';
import { LocalEventBus } from '../local/local-event-bus';
import { LocalVaultSecretStore } from '../local/local-vault-secret-store';
import { openLocalWorkflows } from '../local/local-workflows';
import { PROVIDER_TYPES, toIsoUtc } from '../schemas/common';
import { RecordingScheduler } from '../test/support/recording-scheduler';
import scanDefinition from '../workflows/scan.asl.json' with { type: 'json' };
import { startServiceProcess, startTablesInOwnProcess } from './service-process';
import { median, percentile } from './statistics';

export interface ScanBenchmarkOptions {
  scans: number;
  concurrency: number;
  /** How long every side runs, interleaved, before anything is measured. */
  warmUpMs: number;
}

/** The scan's calls besides its DynamoDB operations, made directly (the calls floor). */
interface FloorCalls {
  /** Reads the account's current credentials, as validation and the engine start each do. */
  readCredentials(accountId: string): Promise<Record<string, unknown>>;
  /** Starts the scan on the engine (the simulator answers a sync scan at once). */
  startEngineScan(credentials: Record<string, unknown>, requestId: string): Promise<void>;
}

export interface LatencySummary {
  count: number;
  seconds: number;
  throughput_per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU time of the bench's process (every thread) per scan: the tables and the engine serve from their own. */
  cpu_ms_per_scan: number;
  /** CPU time per scan of the table server's and the engine simulator's processes, and of all three. */
  table_server_cpu_ms_per_scan: number;
  engine_cpu_ms_per_scan: number;
  total_cpu_ms_per_scan: number;
}

/** CPU time (µs) used during one side of a round, by process. */
interface RoundCpu {
  bench: number;
  tables: number;
  engine: number;
}

/** How much slower one side is than another: p50 latency, throughput and CPU of all three processes. */
export interface SideRatio {
  p50: number;
  throughput: number;
  total_cpu: number;
}

export interface ScanBenchmarkResult {
  scans: number;
  concurrency: number;
  workflow: LatencySummary;
  /** The goal's floor: the scan's DynamoDB operations, issued directly. */
  floor: LatencySummary;
  /** The floor plus the scan's other calls (two secret reads, the engine call), issued directly. */
  calls_floor: LatencySummary;
  /** Workflow p50 latency over floor p50 latency (goal ≤ 1.25). */
  ratio_p50: number;
  /** Floor throughput over workflow throughput (goal ≤ 1.25). */
  ratio_throughput: number;
  /** Workflow CPU per scan over the floor's, all three processes (what bounds both on 2 cores). */
  ratio_total_cpu: number;
  /** The calls floor over the floor: what the scan's calls besides DynamoDB cost, with no orchestration. */
  calls_over_floor: SideRatio;
  /** The workflow over the calls floor: what the orchestration itself costs. */
  workflow_over_calls_floor: SideRatio;
  /** The unmeasured rounds before: how many, their scans, and their throughput ratio. */
  warm_up: { rounds: number; scans: number; ratio_throughput: number };
  dynamodb_operations_per_scan: Record<string, number>;
  /** Must equal the workflow's: the floor is the same operations without the orchestration. */
  floor_dynamodb_operations_per_scan: Record<string, number>;
  state_transitions_per_scan: number;
  /** The same, for a run of a schedule (the schedule is read and its counters written). */
  dynamodb_operations_per_scheduled_scan: Record<string, number>;
  dynamodb_reads_per_scan: number;
  dynamodb_writes_per_scan: number;
  /** Task invocations per scan and their median time (ms) on the local runtime, by task token. */
  invocations_per_scan: Record<string, number>;
  task_ms: Record<string, number>;
  secret_reads_per_scan: number;
  /** Bytes of JSON log lines the tasks wrote at INFO. */
  log_bytes_per_scan: number;
  failed_scans: number;
}

/** Scans each lane runs in one round of each side (see runRound). */
const SCANS_PER_LANE_AND_ROUND = 10;

const READ_COMMAND = /^(Get|BatchGet|Query|Scan|TransactGet)/;

/** The Task states of the scan definition, by name, with the task token each invokes. */
const TASK_TOKEN_OF_STATE: Record<string, string> = Object.fromEntries(
  Object.entries(scanDefinition.States as Record<string, { Type: string; Resource?: string }>)
    .filter(([, state]) => state.Type === 'Task' && state.Resource)
    .map(([name, state]) => [name, String(state.Resource).replace(/^\$\{|\}$/g, '')]),
);

function ratioOf(slower: LatencySummary, faster: LatencySummary): SideRatio {
  return {
    p50: Number((slower.p50_ms / faster.p50_ms).toFixed(2)),
    throughput: Number((faster.throughput_per_second / slower.throughput_per_second).toFixed(2)),
    total_cpu: Number((slower.total_cpu_ms_per_scan / faster.total_cpu_ms_per_scan).toFixed(2)),
  };
}

function summarize(latencies: number[], seconds: number, cpu: RoundCpu): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const perScan = (micros: number) => Number((micros / 1000 / latencies.length).toFixed(2));
  return {
    cpu_ms_per_scan: perScan(cpu.bench),
    table_server_cpu_ms_per_scan: perScan(cpu.tables),
    engine_cpu_ms_per_scan: perScan(cpu.engine),
    total_cpu_ms_per_scan: perScan(cpu.bench + cpu.tables + cpu.engine),
    count: latencies.length,
    seconds: Number(seconds.toFixed(3)),
    throughput_per_second: Number((latencies.length / seconds).toFixed(1)),
    p50_ms: Number(percentile(sorted, 0.5).toFixed(2)),
    p99_ms: Number(percentile(sorted, 0.99).toFixed(2)),
  };
}

async function inPool<T>(
  count: number,
  concurrency: number,
  run: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        results[index] = await run(index);
      }
    }),
  );
  return results;
}

/**
 * Counts the DynamoDB operations a piece of work issues, by the repository method that sent each
 * (read from the call stack: `AccountRepository.acquireScanLock`) and the command.
 */
function countOperations(client: DynamoDBDocumentClient): {
  counts: Map<string, number>;
  reset(): void;
  /** Off while latencies are measured: reading the call stack costs as much as a small task. */
  stop(): void;
} {
  const counts = new Map<string, number>();
  let counting = true;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!counting) return next(args);
      // The outermost repository method on the stack: the one the service called.
      const caller =
        new Error().stack
          ?.split('\n')
          .map((line) => /at (?:async )?(\w+Repository\.\w+)/.exec(line)?.[1])
          .filter((name) => name !== undefined)
          .at(-1) ?? 'unknown';
      const key = `${caller.replace('Repository.', '.').replace(/^\w/, (c) => c.toLowerCase())} (${(context.commandName ?? 'unknown').replace(/Command$/, '')})`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchOperationCounter' },
  );
  return {
    counts,
    reset: () => counts.clear(),
    stop: () => {
      counting = false;
    },
  };
}

/** What the engine simulator answers for a sync scan: the floor writes the same values. */
const FLOOR_ENGINE_SCAN = {
  engine_scan_id: 'sim-aws-00000000000000000000',
  summary: { total_checks: 370, passed_checks: 284, failed_checks: 81, error_checks: 5 },
};

/**
 * The floor: the DynamoDB operations one synchronous-engine scan makes, issued directly through
 * the same repositories in the same order, with the same attributes and values of the same size
 * (an execution ARN of the local runtime's shape, the simulator's scan id and counts), without the
 * interpreter and the tasks; without the secret store and the engine unless `calls` are given.
 */
async function floorScan(
  repositories: Repositories,
  tenantId: string,
  accountId: string,
  executionName: string,
  calls?: FloorCalls,
): Promise<void> {
  const executionId = newId();
  const now = toIsoUtc(new Date());
  const { engine_scan_id, summary } = FLOOR_ENGINE_SCAN;
  // Claim.
  const account = await repositories.accounts.get(accountId);
  await repositories.executions.create({
    execution_id: executionId,
    schedule_id: null,
    account_id: accountId,
    tenant_id: tenantId,
    provider_type: account?.provider_type,
    started_at: now,
    status: 'running',
    triggered_by: 'api',
    scheduled_time: null,
    workflow_execution_name: executionName,
    workflow_execution_arn: `arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:${executionName}`,
    current_step: 'claimed',
    progress_percent: 0,
  });
  await repositories.accounts.acquireScanLock(accountId, executionId, 900);
  // Validate.
  const validated = await repositories.accounts.get(accountId);
  await calls?.readCredentials(accountId);
  await Promise.all([
    repositories.accounts.recordValidation(
      accountId,
      { ok: true, validated_at: now, account_number: '111122223333', validated_offline: true },
      validated ? { status: validated.status } : undefined,
    ),
    repositories.executions.recordProgress(executionId, {
      current_step: 'credentials_validated',
      progress_percent: 5,
    }),
  ]);
  // Start.
  if (calls) await calls.startEngineScan(await calls.readCredentials(accountId), executionId);
  await repositories.executions.recordProgress(executionId, {
    current_step: 'engine_completed',
    progress_percent: 90,
    engine_scan_id,
  });
  // Record.
  const scanId = deterministicId('scan-result', executionId);
  await repositories.scanResults.create({
    scan_id: scanId,
    account_id: accountId,
    tenant_id: tenantId,
    provider_type: account?.provider_type ?? 'aws',
    scan_type: 'on_demand',
    started_at: now,
    completed_at: now,
    status: 'completed',
    ...summary,
    execution_id: executionId,
    schedule_id: null,
    engine_scan_id,
    metadata: { engine_polls: 0 },
  });
  await repositories.accounts.releaseScanLock(accountId, executionId);
  await repositories.executions.finishOnce(
    executionId,
    'completed',
    {
      scan_id: scanId,
      engine_scan_id,
      total_checks: summary.total_checks,
      passed_checks: summary.passed_checks,
      failed_checks: summary.failed_checks,
      current_step: 'completed',
      progress_percent: 100,
    },
    { startedAt: now },
  );
}

export async function runScanBenchmark(options: ScanBenchmarkOptions): Promise<ScanBenchmarkResult> {
  const directory = await mkdtemp(join(tmpdir(), 'te-bench-'));
  // The same in-memory table server and tables the integration tests use, in a process of their own.
  const tableServer = await startTablesInOwnProcess();
  const { client, tables } = tableServer;
  const operations = countOperations(client);
  const repositories = createRepositories(client, tables);
  const secretStore = await LocalVaultSecretStore.open({
    directory: join(directory, 'vault'),
    prefix: 'threat-engine',
  });
  // The engines are remote on AWS: the simulator serves from its own process too.
  const simulator = await startServiceProcess<{ url: string }>('./engine-simulator-process.ts');
  let logBytes = 0;
  let secretReads = 0;
  const countingSecretStore = new Proxy(secretStore, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'read' || typeof value !== 'function') return value;
      return (...args: Parameters<SecretStore['read']>) => {
        secretReads += 1;
        return value.apply(target, args);
      };
    },
  });
  const dependencies: WorkflowDependencies = {
    ...repositories,
    secretStore: countingSecretStore,
    engine: new HttpScanEngine({
      urls: Object.fromEntries(PROVIDER_TYPES.map((p) => [p, `${simulator.url}/sync/${p}`])),
    }),
    validator: createProviderValidator({ offline: true }),
    scheduler: new RecordingScheduler(),
    clock: systemClock,
    logger: createJsonLogger({
      level: 'INFO',
      service: 'bench',
      write: (line) => {
        logBytes += Buffer.byteLength(line) + 1;
      },
    }),
    settings: DEFAULT_SCAN_SETTINGS,
    // As the local runtime wires it (notifications go to the log): publishing must not add reads.
    events: new LocalEventBus({ logger: silentLogger }),
  };
  const floorCalls: FloorCalls = {
    readCredentials: async (accountId) => (await secretStore.read(accountId)).credentials,
    startEngineScan: async (credentials, requestId) => {
      await dependencies.engine.startScan({
        provider: 'aws',
        accountNumber: '111122223333',
        credentials,
        regions: [],
        services: [],
        excludeServices: [],
        requestId,
      });
    },
  };
  const workflows = await openLocalWorkflows({
    directory: join(directory, 'workflows'),
    region: 'ap-south-1',
    dependencies,
    logger: silentLogger,
    maxConcurrentExecutions: Math.max(100, options.concurrency),
  });

  try {
    // One tenant, and one active account per concurrent lane (scans of one account would overlap).
    const tenant = await repositories.tenants.create({ tenant_name: `Bench ${Date.now()}` });
    const provider = await repositories.providers.getOrCreate(tenant.tenant_id, 'aws');
    const accounts = await inPool(options.concurrency, 8, async (lane) => {
      const account = await repositories.accounts.create({
        tenant_id: tenant.tenant_id,
        provider_id: provider.provider_id,
        provider_type: 'aws',
        account_name: `bench-${lane}`,
        account_number: '111122223333',
      });
      const staged = await secretStore.stage(
        account.account_id,
        {
          credential_type: 'aws_access_key',
          credentials: {
            access_key_id: ['AKIA', 'BENCH'.padEnd(16, '7')].join(''),
            secret_access_key: 'BenchFakeSecretKey/'.padEnd(40, 'b'),
          },
          account_id: account.account_id,
          created_at: toIsoUtc(new Date()),
          expires_at: null,
        },
        'bench',
      );
      await secretStore.promote(account.account_id, staged.versionId);
      await repositories.accounts.beginOnboarding(account.account_id, 'bench-onboarding');
      await repositories.accounts.completeOnboarding(account.account_id, {
        account_number: '111122223333',
        last_validated_at: toIsoUtc(new Date()),
      });
      return account.account_id;
    });

    const runWorkflowScan = async (lane: number, index: number) => {
      const started = performance.now();
      const handle = await workflows.start({
        workflow: 'scan',
        name: `bench-${index}-${lane}-${Date.now()}`,
        input: { tenant_id: tenant.tenant_id, account_id: accounts[lane], triggered_by: 'api' },
      });
      const description = await workflows.waitForCompletion(handle.executionArn, 60_000);
      return {
        latency: performance.now() - started,
        ok: description.status === 'SUCCEEDED',
        arn: handle.executionArn,
      };
    };

    // Warm-up, then measured scans to count operations, transitions, reads and task times.
    await runWorkflowScan(0, -1);
    operations.reset();
    logBytes = 0;
    secretReads = 0;
    const probe = await runWorkflowScan(0, -2);
    const operationsPerScan = Object.fromEntries(operations.counts);
    const probeLogBytes = logBytes;
    const probeSecretReads = secretReads;
    const history = await workflows.history(probe.arn, { limit: 1000 });
    const transitions = history.events.filter((event) => event.type.endsWith('StateEntered')).length;
    const invocations: Record<string, number> = {};
    const taskTimes: Record<string, number[]> = {};
    for (let run = 0; run < 5; run += 1) {
      const timed = run === 0 ? probe : await runWorkflowScan(0, -10 - run);
      const events = (await workflows.history(timed.arn, { limit: 1000 })).events;
      for (const [index, event] of events.entries()) {
        const token = event.stateName ? TASK_TOKEN_OF_STATE[event.stateName] : undefined;
        if (event.type !== 'TaskStateEntered' || !token) continue;
        const exited = events.slice(index + 1).find((later) => later.type === 'TaskStateExited');
        if (run === 0) invocations[token] = (invocations[token] ?? 0) + 1;
        if (!exited) continue;
        const times = taskTimes[token] ?? [];
        times.push(Date.parse(exited.timestamp) - Date.parse(event.timestamp));
        taskTimes[token] = times;
      }
    }

    // A run of a schedule: what it adds (the schedule read at the claim, its counters at the end).
    const scheduledAccount = accounts[0] as string;
    const schedule = await repositories.schedules.create({
      tenant_id: tenant.tenant_id,
      account_id: scheduledAccount,
      name: 'Bench daily',
      schedule_type: 'cron',
      cron_expression: '0 2 * * *',
      schedule_expression: 'cron(0 2 * * ? *)',
      status: 'active',
      enabled: 'true',
    });
    operations.reset();
    const scheduled = await workflows.start({
      workflow: 'scan',
      name: `bench-scheduled-${Date.now()}`,
      input: {
        tenant_id: tenant.tenant_id,
        account_id: scheduledAccount,
        schedule_id: schedule.schedule_id,
        scheduled_time: toIsoUtc(new Date()),
        triggered_by: 'scheduler',
      },
    });
    await workflows.waitForCompletion(scheduled.executionArn, 60_000);
    const operationsPerScheduledScan = Object.fromEntries(operations.counts);
    const reads = Object.entries(operationsPerScan)
      .filter(([name]) => READ_COMMAND.test(/\((\w+)\)$/.exec(name)?.[1] ?? ''))
      .reduce((sum, [, count]) => sum + count, 0);
    const total = Object.values(operationsPerScan).reduce((sum, count) => sum + count, 0);

    // The workflow, the floor and the calls floor alternate in rounds, so all meet the same machine
    // load. In each round, lane i scans account i only (no two concurrent scans share an account).
    // Short rounds (about ten scans a lane), so a change in the machine's speed meets every side.
    const rounds = Math.max(5, Math.round(options.scans / options.concurrency / SCANS_PER_LANE_AND_ROUND));
    const perLane = Math.max(1, Math.ceil(options.scans / options.concurrency / rounds));
    /** CPU time so far (µs) of each process: asked of the two services at once. */
    const cpuNow = async (): Promise<RoundCpu> => {
      const [tables, engine] = await Promise.all([tableServer.cpuMicros(), simulator.cpuMicros()]);
      const own = process.cpuUsage();
      return { bench: own.user + own.system, tables, engine };
    };
    operations.reset();
    await floorScan(repositories, tenant.tenant_id, accounts[0] as string, `floor--1-0-${Date.now()}`);
    const floorOperationsPerScan = Object.fromEntries(operations.counts);
    operations.stop();

    /** One side of the comparison: how it scans an account, and what it measured so far. */
    interface Side {
      scan(lane: number, index: number): Promise<{ latency: number; ok: boolean }>;
      latencies: number[];
      seconds: number;
      cpu: RoundCpu;
      failed: number;
    }
    const side = (scan: Side['scan']): Side => ({
      scan,
      latencies: [],
      seconds: 0,
      cpu: { bench: 0, tables: 0, engine: 0 },
      failed: 0,
    });
    const timedFloorScan = (calls?: FloorCalls) => async (lane: number, index: number) => {
      const started = performance.now();
      const name = `floor-${index}-${lane}-${Date.now()}`;
      await floorScan(repositories, tenant.tenant_id, accounts[lane] as string, name, calls);
      return { latency: performance.now() - started, ok: true };
    };
    const workflowSide = side(runWorkflowScan);
    const floorSide = side(timedFloorScan());
    const callsFloorSide = side(timedFloorScan(floorCalls));
    const sides = [workflowSide, floorSide, callsFloorSide];

    /**
     * One round: each side in turn, every lane scanning its own account perLane times. Returns each
     * side's seconds; adds its latencies and CPU to the side's totals when `measured`.
     */
    const runRound = async (round: number, measured: boolean) => {
      const seconds: number[] = [];
      for (const each of sides) {
        const cpuStart = await cpuNow();
        const started = performance.now();
        const results = await Promise.all(
          accounts.map(async (_, lane) => {
            const laneResults = [];
            for (let i = 0; i < perLane; i += 1) laneResults.push(await each.scan(lane, round * 1000 + i));
            return laneResults;
          }),
        );
        const elapsed = (performance.now() - started) / 1000;
        const cpuEnd = await cpuNow();
        seconds.push(elapsed);
        if (!measured) continue;
        each.seconds += elapsed;
        each.cpu.bench += cpuEnd.bench - cpuStart.bench;
        each.cpu.tables += cpuEnd.tables - cpuStart.tables;
        each.cpu.engine += cpuEnd.engine - cpuStart.engine;
        for (const result of results.flat()) {
          each.latencies.push(result.latency);
          if (!result.ok) each.failed += 1;
        }
      }
      return seconds;
    };

    // Warm-up, as the API bench has: rounds for WARM_UP_MS before anything is measured, so every
    // side is compiled by the JIT (the first rounds of the workflow cost twice the CPU of later
    // ones; on AWS the same cold start is the Lambda bench's "init"). Reported apart.
    const warmUpStart = performance.now();
    let warmUpRounds = 0;
    let warmUpWorkflowSeconds = 0;
    let warmUpFloorSeconds = 0;
    while (warmUpRounds === 0 || performance.now() - warmUpStart < options.warmUpMs) {
      const [workflowSeconds = 0, floorSeconds = 0] = await runRound(-1 - warmUpRounds, false);
      warmUpRounds += 1;
      warmUpWorkflowSeconds += workflowSeconds;
      warmUpFloorSeconds += floorSeconds;
    }
    for (let round = 0; round < rounds; round += 1) await runRound(round, true);

    const [workflow, floor, callsFloor] = sides.map((each) =>
      summarize(each.latencies, each.seconds, each.cpu),
    ) as [LatencySummary, LatencySummary, LatencySummary];
    const ratio = ratioOf(workflow, floor);
    return {
      scans: workflow.count,
      concurrency: options.concurrency,
      workflow,
      floor,
      calls_floor: callsFloor,
      ratio_p50: ratio.p50,
      ratio_throughput: ratio.throughput,
      ratio_total_cpu: ratio.total_cpu,
      calls_over_floor: ratioOf(callsFloor, floor),
      workflow_over_calls_floor: ratioOf(workflow, callsFloor),
      warm_up: {
        rounds: warmUpRounds,
        scans: warmUpRounds * perLane * accounts.length,
        ratio_throughput: Number((warmUpWorkflowSeconds / warmUpFloorSeconds).toFixed(2)),
      },
      dynamodb_operations_per_scan: operationsPerScan,
      floor_dynamodb_operations_per_scan: floorOperationsPerScan,
      state_transitions_per_scan: transitions,
      dynamodb_operations_per_scheduled_scan: operationsPerScheduledScan,
      dynamodb_reads_per_scan: reads,
      dynamodb_writes_per_scan: total - reads,
      invocations_per_scan: invocations,
      task_ms: Object.fromEntries(Object.entries(taskTimes).map(([token, times]) => [token, median(times)])),
      secret_reads_per_scan: probeSecretReads,
      log_bytes_per_scan: probeLogBytes,
      failed_scans: workflowSide.failed,
    };
  } finally {
    await workflows.close({ gracePeriodMs: 500 });
    await simulator.close();
    await tableServer.close();
    await rm(directory, { recursive: true, force: true });
  }
}
