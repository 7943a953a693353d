import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../functions/adapters/aws/dynamodb-client';
import type {
  Orchestrator,
  StartWorkflowRequest,
  WorkflowExecutionHandle,
} from '../functions/core/ports/orchestrator';
import { ScheduleRepository } from '../functions/core/repositories/schedule-repository';
import { createMissingTables } from '../local/create-tables';
import { LocalScheduler } from '../local/local-scheduler';
import { toIsoUtc } from '../schemas/common';
import { ConfigSchema } from '../schemas/config';
import { ScheduleSchema } from '../schemas/schedule';
import { tableNamesFrom } from '../schemas/tables';
import { startTableServerProcess } from './service-process';
import { percentile } from './statistics';

export interface SchedulerBenchmarkOptions {
  /** Schedules due in the same minute (default 10,000). */
  schedules: number;
  /** How long nothing is due while reads are counted (default 2,000 ms). */
  idleMs?: number;
  /** Called once a batch of 25 schedules is written, and once all are. */
  onWritten?: (written: number) => void;
  onLoaded?: () => void;
}

export interface SchedulerBenchmarkResult {
  schedules: number;
  /** Each start's delay after its slot (the fake orchestrator's clock at start minus the slot). */
  lateness_p50_ms: number;
  lateness_p99_ms: number;
  lateness_max_ms: number;
  /** Starts of a (schedule, slot) already started (target 0). */
  duplicates: number;
  /** Slots started (target: one per schedule). */
  starts: number;
  /** The scheduler process's peak resident set (the table server runs in a child process). */
  peak_rss_mb: number;
  /** DynamoDB reads by the scheduling path while nothing is due (target 0: no polling). */
  reads_while_idle: number;
  /** Loading the schedules (in ms) is not part of the figures; how long writing them took. */
  load_ms: number;
  /** DynamoDB reads of the one start-up listing (a paginated Scan). */
  reads_at_startup: number;
  startup_ms: number;
  /** From the slot to the last start of the batch. */
  batch_ms: number;
}

const READ_COMMANDS = new Set([
  'GetItemCommand',
  'GetCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchGetCommand',
  'TransactGetItemsCommand',
  'TransactGetCommand',
]);

/** Counts the reads sent through a document client (a middleware on its stack). */
function countReads(client: DynamoDBDocumentClient): { readonly count: number; reset(): void } {
  let count = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (READ_COMMANDS.has(context.commandName ?? '')) count += 1;
      return next(args);
    },
    { step: 'initialize', name: 'schedulerBenchReadCounter' },
  );
  return {
    get count() {
      return count;
    },
    reset: () => {
      count = 0;
    },
  };
}

/** Records each start's lateness against its slot and every (name) seen twice. */
class TimingOrchestrator implements Orchestrator {
  readonly lateness: number[] = [];
  readonly names = new Set<string>();
  duplicates = 0;
  lastStartAt = 0;
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly clock: () => Date) {}

  async start(request: StartWorkflowRequest): Promise<WorkflowExecutionHandle> {
    const at = this.clock().getTime();
    const duplicate = this.names.has(request.name);
    if (duplicate) this.duplicates += 1;
    this.names.add(request.name);
    this.lateness.push(at - Date.parse(String(request.input.scheduled_time)));
    this.lastStartAt = at;
    for (const waiter of this.#waiters.filter((item) => this.lateness.length >= item.count)) waiter.resolve();
    return {
      workflow: request.workflow,
      name: request.name,
      executionArn: `arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:${request.name}`,
      startedAt: toIsoUtc(new Date(at)),
      alreadyStarted: duplicate,
    };
  }

  /** Resolves once `count` starts were seen (or after `timeoutMs`). */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.lateness.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  describe(): never {
    throw new Error('not used by the scheduler');
  }
  list(): never {
    throw new Error('not used by the scheduler');
  }
  history(): never {
    throw new Error('not used by the scheduler');
  }
  stop(): never {
    throw new Error('not used by the scheduler');
  }
}

/**
 * 10,000 schedules (`cron(* * * * ? *)`) due in the same minute on the local scheduler, with the
 * schedules table on dynalite: start-up reads them once, then nothing is due for `idleMs` (reads
 * counted: the target is 0), then the slot comes and every start's lateness is recorded by a fake
 * orchestrator. The scheduler's clock is the system clock shifted so the slot comes `idleMs` plus
 * a second after start-up, and held still during start-up (so the wait does not depend on how
 * long loading takes); its one real timer drives the fire.
 */
export async function runSchedulerBenchmark(
  options: SchedulerBenchmarkOptions = { schedules: 10_000 },
): Promise<SchedulerBenchmarkResult> {
  const count = options.schedules;
  const idleMs = options.idleMs ?? 2_000;
  const leadMs = idleMs + 1_000;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 25);

  const directory = await mkdtemp(join(tmpdir(), 'scheduler-bench-'));
  const server = await startTableServerProcess();
  const rawClient = createDynamoDbClient({
    region: 'ap-south-1',
    endpoint: server.endpoint,
    credentials: LOCAL_ENDPOINT_CREDENTIALS,
  });
  const client = toDocumentClient(rawClient);
  const defaults = tableNamesFrom(ConfigSchema.parse({}));
  const tables = { ...defaults, schedules: `bench-${defaults.schedules}` };
  let scheduler: LocalScheduler | undefined;
  try {
    await createMissingTables(rawClient, tables);

    // The slot: a minute boundary of the scheduler's clock; the clock is frozen leadMs before it.
    const slot = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
    let frozen: number | undefined = slot - leadMs;
    let offset = 0;
    const clock = () => new Date(frozen ?? Date.now() + offset);

    const loadStarted = performance.now();
    const createdAt = toIsoUtc(new Date(slot - 3_600_000));
    const items = Array.from({ length: count }, (_, index) =>
      ScheduleSchema.parse({
        schedule_id: `bench-${String(index).padStart(6, '0')}`,
        tenant_id: `tenant-${index % 50}`,
        account_id: `account-${index}`,
        name: `Bench ${index}`,
        schedule_type: 'cron',
        schedule_expression: 'cron(* * * * ? *)',
        timezone: 'UTC',
        status: 'active',
        enabled: 'true',
        created_at: createdAt,
        updated_at: createdAt,
      }),
    );
    for (let index = 0; index < items.length; index += 25) {
      let requests: Record<string, unknown>[] = items
        .slice(index, index + 25)
        .map((item) => ({ PutRequest: { Item: item } }));
      while (requests.length > 0) {
        const result = await client.send(
          new BatchWriteCommand({ RequestItems: { [tables.schedules]: requests } }),
        );
        requests = (result.UnprocessedItems?.[tables.schedules] ?? []) as Record<string, unknown>[];
      }
      options.onWritten?.(Math.min(items.length, index + 25));
    }

    const loadMs = performance.now() - loadStarted;
    options.onLoaded?.();
    // The figures start here: what loading the table cost this process is not the scheduler's.
    peakRss = process.memoryUsage().rss;
    const reads = countReads(client);
    const orchestrator = new TimingOrchestrator(clock);
    scheduler = new LocalScheduler({
      orchestrator,
      schedules: new ScheduleRepository({ client, tableName: tables.schedules, clock }),
      stateFile: join(directory, 'scheduler', 'state.json'),
      clock,
    });
    const startedAt = performance.now();
    await scheduler.start();
    const startupMs = performance.now() - startedAt;
    // Time flows again from where it was held.
    offset = (frozen as number) - Date.now();
    frozen = undefined;
    const readsAtStartup = reads.count;

    reads.reset();
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const readsWhileIdle = reads.count;

    await orchestrator.waitFor(count, leadMs + 60_000);
    await scheduler.idle();
    const sorted = [...orchestrator.lateness].sort((a, b) => a - b);
    return {
      schedules: count,
      lateness_p50_ms: percentile(sorted, 0.5),
      lateness_p99_ms: percentile(sorted, 0.99),
      lateness_max_ms: sorted.at(-1) ?? 0,
      duplicates: orchestrator.duplicates,
      starts: orchestrator.lateness.length,
      peak_rss_mb: Math.round(peakRss / 1_048_576),
      reads_while_idle: readsWhileIdle,
      reads_at_startup: readsAtStartup,
      startup_ms: Math.round(startupMs),
      load_ms: Math.round(loadMs),
      batch_ms: orchestrator.lastStartAt - slot,
    };
  } finally {
    clearInterval(sampler);
    await scheduler?.close();
    rawClient.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
}
