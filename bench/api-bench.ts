import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AutocannonOptions, AutocannonResult } from 'autocannon';
import { createJsonLogger } from '../functions/core/json-logger';
import { ApiHarness, startTomorrow } from '../test/support/api-harness';

export interface ApiBenchmarkOptions {
  /** Requests per second, the whole run (default 200). */
  rate: number;
  /** Seconds per run (default 20): one run of the reads, one of onboarding init. */
  seconds: number;
  /**
   * `paced` (default): one request every 1/rate s (bench/paced-load-process.mjs). `autocannon`:
   * autocannon 9's `overallRate`, which sends each second's requests as one burst at its start.
   */
  generator?: 'paced' | 'autocannon';
  /**
   * Seconds at the same rate before each paced run, reported apart (default 2): the runtime has
   * just started, and V8 optimizes its handlers only once they have run many times.
   */
  warmupSeconds?: number;
  /** Called about once a second while a run lasts. */
  onProgress?: (secondsDone: number) => void;
}

export interface ApiRunFigures {
  requests: number;
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  /** CPU time of the runtime's process per request sent (user + system, warm-up included). */
  runtime_cpu_ms_per_request?: number;
  /** The paced generator's warm-up before the measured seconds (same rate, same requests). */
  warmup?: Omit<ApiRunFigures, 'warmup' | 'runtime_cpu_ms_per_request'>;
}

export interface ApiBenchmarkResult {
  rate: number;
  seconds: number;
  generator: 'paced' | 'autocannon';
  /** List accounts, describe a schedule, an execution's history, in turn. */
  reads: ApiRunFigures;
  /** POST /onboarding/aws/init (each creates an account). */
  init: ApiRunFigures;
}

interface PacedLoadOptions {
  url: string;
  rate: number;
  duration: number;
  warmup: number;
  connections: number;
  timeout: number;
  requests: Array<{ method: string; path: string; headers: Record<string, string>; body?: string }>;
}

function loadInOwnProcess<Options extends object, Result>(script: string, options: Options): Promise<Result> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (result) => resolve(result as Result));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the load generator exited with ${code}`));
    });
    child.send(options);
  });
}

function figuresOf(result: AutocannonResult): ApiRunFigures {
  return {
    requests: result.requests.total,
    requests_per_second: Number(result.requests.average.toFixed(1)),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * The local runtime's API under a fixed request rate (the load generator in its own process, so
 * it does not share the runtime's event loop): first the reads, then onboarding init, each for
 * `seconds` at `rate` requests per second over up to 50 connections (enough that a slow answer
 * does not lower the rate).
 */
export async function runApiBenchmark(options: ApiBenchmarkOptions): Promise<ApiBenchmarkResult> {
  // Lines formatted as `npm start` writes them (INFO), but not printed over the bench's output.
  const logger = createJsonLogger({ level: 'INFO', service: 'threat-engine-local', write: () => {} });
  const harness = await ApiHarness.start({ logger });
  try {
    const tenant = await harness.createTenant();
    const account = await harness.activeAccount(tenant);
    const created = await harness.request<{ schedule_id: string }>('POST', '/api/v1/schedules', {
      token: tenant.tokens.tenant_admin,
      // Starting tomorrow: a rate fires first at the next whole minute, a scan amid the timed reads.
      json: {
        account_id: account.accountId,
        name: 'Bench daily',
        schedule_expression: 'rate(1 day)',
        start_date: startTomorrow(),
      },
    });
    if (created.status !== 201)
      throw new Error(`schedule creation failed: ${created.status} ${created.text}`);
    const scheduleId = created.body.schedule_id;
    const triggered = await harness.request<{ execution_id: string }>(
      'POST',
      `/api/v1/schedules/${scheduleId}/trigger`,
      { token: tenant.tokens.operator },
    );
    if (triggered.status !== 202) throw new Error(`trigger failed: ${triggered.status} ${triggered.text}`);
    const executionId = triggered.body.execution_id;
    // The history is read once the scan has ended (its full length).
    for (let attempt = 0; attempt < 400; attempt += 1) {
      const execution = await harness.request<{ status: string }>(
        'GET',
        `/api/v1/executions/${executionId}`,
        {
          token: tenant.tokens.viewer,
        },
      );
      if (execution.status === 200 && execution.body.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const generator = options.generator ?? 'paced';
    const load = async (requests: PacedLoadOptions['requests']): Promise<ApiRunFigures> => {
      let done = 0;
      const ticker = setInterval(() => {
        done += 1;
        options.onProgress?.(done);
      }, 1000);
      try {
        if (generator === 'paced') {
          return await loadInOwnProcess<PacedLoadOptions, ApiRunFigures>('./paced-load-process.mjs', {
            url: harness.url,
            rate: options.rate,
            duration: options.seconds,
            warmup: options.warmupSeconds ?? 2,
            connections: 50,
            timeout: 10,
            requests,
          });
        }
        return figuresOf(
          await loadInOwnProcess<AutocannonOptions, AutocannonResult>('./autocannon-process.mjs', {
            url: harness.url,
            connections: 50,
            overallRate: options.rate,
            duration: options.seconds,
            timeout: 10,
            requests,
          }),
        );
      } finally {
        clearInterval(ticker);
      }
    };
    // The runtime's CPU per request (this process; the load generator has its own): steadier than
    // latency on a shared machine, since waiting for a core costs no CPU time. Warm-up included.
    const run = async (requests: PacedLoadOptions['requests']): Promise<ApiRunFigures> => {
      const before = process.cpuUsage();
      const figures = await load(requests);
      const used = process.cpuUsage(before);
      const sent = figures.requests + (figures.warmup?.requests ?? 0);
      return {
        ...figures,
        runtime_cpu_ms_per_request: Number(((used.user + used.system) / 1000 / sent).toFixed(2)),
      };
    };

    const viewer = { authorization: `Bearer ${tenant.tokens.viewer}` };
    const reads = await run([
      { method: 'GET', path: '/api/v1/onboarding/accounts', headers: viewer },
      { method: 'GET', path: `/api/v1/schedules/${scheduleId}`, headers: viewer },
      { method: 'GET', path: `/api/v1/executions/${executionId}/history`, headers: viewer },
    ]);
    // Another tenant, so the accounts init creates do not lengthen the list read above.
    const initTenant = await harness.createTenant();
    const init = await run([
      {
        method: 'POST',
        path: '/api/v1/onboarding/aws/init',
        headers: {
          authorization: `Bearer ${initTenant.tokens.tenant_admin}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ account_name: 'Bench account', auth_method: 'access_key' }),
      },
    ]);
    return { rate: options.rate, seconds: options.seconds, generator, reads, init };
  } finally {
    await harness.close();
  }
}
