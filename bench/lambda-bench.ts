import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../infra/constructs/functions';
import { median } from './statistics';

export interface LambdaBenchmarkOptions {
  /** A synthesized cloud assembly (`cdk synth` output) inside the project, so externals resolve. */
  assemblyDirectory: string;
  /** Fresh processes per measurement (median taken; at least 7). */
  runs: number;
  onProgress?: (done: number, total: number) => void;
}

export interface LambdaFunctionFigures {
  function: string;
  memory_mb: number;
  bundle_kb: number;
  /**
   * Median wall time of `node -e 'require(bundle)'` with the function's environment, minus the
   * median of the bare `node -e 0` runs interleaved with this function's.
   */
  init_over_bare_ms: number;
  /**
   * The same plus the first invocation's composition (configuration, the SDK clients the task
   * loads), ended by an input the task rejects before any network call.
   */
  init_and_compose_over_bare_ms: number;
  /**
   * CPU time (user + system, every thread) of the import-only process over bare node's, medians:
   * what the import costs, much less sensitive than wall time to other work on the machine.
   */
  init_cpu_over_bare_ms: number;
  /** SDK packages loaded by then (what this function's cold start pays for). */
  sdk_packages_loaded: string[];
}

export interface LambdaBenchmarkResult {
  bare_node_ms: number;
  functions: LambdaFunctionFigures[];
  max_bundle_kb: number;
  max_init_over_bare_ms: number;
  max_init_and_compose_over_bare_ms: number;
  max_init_cpu_over_bare_ms: number;
}

interface TemplateFunction {
  logicalId: string;
  assetDirectory: string;
  memoryMb: number;
  environment: Record<string, string>;
  isApi: boolean;
}

/** Placeholder for a CloudFormation intrinsic in an environment value (a table name, an ARN). */
function resolved(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (name === 'PLATFORM_AWS_ACCOUNT_ID') return '111122223333';
  if (name === 'SECRETS_MANAGER_KMS_KEY_ID')
    return 'arn:aws:kms:ap-south-1:111122223333:key/00000000-0000-4000-8000-000000000000';
  if (name.endsWith('_ARN') || name.endsWith('_KEY_ID'))
    return `arn:aws:states:ap-south-1:111122223333:stateMachine:bench-${name.toLowerCase()}`;
  if (name === 'OIDC_ISSUER') return 'https://issuer.bench.invalid';
  if (name.endsWith('_URL')) return `https://${name.toLowerCase().replaceAll('_', '-')}.bench.invalid`;
  return `bench-${name.toLowerCase().replaceAll('_', '-')}`;
}

function functionsOf(assemblyDirectory: string): TemplateFunction[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDirectory, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stack = Object.values(manifest.artifacts).find(
    (artifact) => artifact.type === 'aws:cloudformation:stack',
  );
  const templateFile = stack?.properties?.templateFile;
  if (!templateFile) throw new Error(`no stack template in ${assemblyDirectory}`);
  const template = JSON.parse(readFileSync(join(assemblyDirectory, templateFile), 'utf8')) as {
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: Record<string, unknown>;
        Properties?: { MemorySize?: number; Environment?: { Variables?: Record<string, unknown> } };
      }
    >;
  };
  return Object.entries(template.Resources)
    .filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.['aws:asset:path'],
    )
    .map(([logicalId, resource]) => {
      const variables = resource.Properties?.Environment?.Variables ?? {};
      return {
        logicalId,
        assetDirectory: join(assemblyDirectory, String(resource.Metadata?.['aws:asset:path'])),
        memoryMb: resource.Properties?.MemorySize ?? 128,
        environment: Object.fromEntries(
          Object.entries(variables).map(([name, value]) => [name, resolved(name, value)]),
        ),
        // Only the API verifies callers (the stuck-run sweep has the state machine ARNs too).
        isApi: 'OIDC_ISSUER' in variables,
      };
    })
    .filter(
      (fn) =>
        existsSync(join(fn.assetDirectory, 'index.js')) || existsSync(join(fn.assetDirectory, 'index.mjs')),
    );
}

/** Bare node: nothing but reporting its own CPU time (as `node -e 0`, plus one write). */
const BARE_SCRIPT =
  'const c=process.cpuUsage();process.stdout.write(JSON.stringify({cpu:(c.user+c.system)/1000}))';

/** What a fresh process runs: import the bundle and, with `compose`, invoke it once. */
function probeScript(bundle: string, compose: boolean, isApi: boolean): string {
  const load = bundle.endsWith('.mjs')
    ? `await import(${JSON.stringify(bundle)})`
    : `require(${JSON.stringify(bundle)})`;
  // Tasks: an input without their fields (and a negative sweep age) fails validation after the composition, before any network call. API:
  // an unauthenticated request to an unknown route answers 4xx after the app is composed.
  const event = isApi
    ? `{version:'2.0',routeKey:'$default',rawPath:'/bench-unknown-route',rawQueryString:'',headers:{},requestContext:{http:{method:'GET',path:'/bench-unknown-route',sourceIp:'127.0.0.1'},requestId:'bench',stage:'$default'},isBase64Encoded:false}`
    : '{min_age_seconds:-1}';
  const invoke = compose
    ? `const r=await m.handler(${event},{awsRequestId:'bench',functionName:'bench',getRemainingTimeInMillis:()=>30000}).catch((e)=>e);if(process.env.BENCH_DEBUG)console.error(r);o=r?.name??r?.statusCode;`
    : '';
  const report = `const l=Object.keys(require.cache);const c=process.cpuUsage();process.stdout.write(JSON.stringify({outcome:o,cpu:(c.user+c.system)/1000,sdk:[...new Set(l.map(p=>(p.match(/node_modules\\/(@aws-sdk\\/[^/]+)/)||[])[1]).filter(Boolean))]}));`;
  return `(async()=>{let o;const m=${load};${invoke}${report}})()`;
}

function wallMs(args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (process.env.BENCH_DEBUG && result.stderr) process.stderr.write(result.stderr.slice(0, 400));
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ').slice(0, 80)} failed: ${result.stderr.slice(0, 500)}`);
  return { ms, stdout: result.stdout };
}

/**
 * Every Lambda bundle of a synthesized assembly: its size and how much longer than bare
 * `node -e 0` a fresh process takes to import it with the environment its template gives it (and
 * to compose its dependencies on a first invocation). Bare node is measured interleaved with
 * the bundles, in the same run.
 */
export function runLambdaBenchmark(options: LambdaBenchmarkOptions): LambdaBenchmarkResult {
  const runs = Math.max(7, options.runs);
  // On Lambda the asset directory is the package root (no package.json: CommonJS); here the
  // project's `"type": "module"` would otherwise apply to it.
  writeFileSync(join(resolve(options.assemblyDirectory), 'package.json'), '{ "type": "commonjs" }\n');
  const functions = functionsOf(resolve(options.assemblyDirectory));
  if (functions.length === 0) throw new Error(`no bundled functions in ${options.assemblyDirectory}`);
  const baseEnv = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'ap-south-1',
    AWS_DEFAULT_REGION: 'ap-south-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    ...(process.env.BENCH_DEBUG ? { BENCH_DEBUG: '1' } : {}),
  };
  const bare: number[] = [];
  const figures: LambdaFunctionFigures[] = [];
  for (const fn of functions) {
    const bundle = existsSync(join(fn.assetDirectory, 'index.js'))
      ? join(fn.assetDirectory, 'index.js')
      : join(fn.assetDirectory, 'index.mjs');
    const env = { ...baseEnv, ...fn.environment };
    const localBare: number[] = [];
    const bareCpu: number[] = [];
    const importCpu: number[] = [];
    const importOnly: number[] = [];
    const composed: number[] = [];
    let loaded: string[] = [];
    for (let run = 0; run < runs; run += 1) {
      const bareRun = wallMs(['-e', BARE_SCRIPT], env);
      bare.push(bareRun.ms);
      localBare.push(bareRun.ms);
      bareCpu.push((JSON.parse(bareRun.stdout) as { cpu: number }).cpu);
      const importRun = wallMs(['-e', probeScript(bundle, false, fn.isApi)], env);
      importOnly.push(importRun.ms);
      importCpu.push((JSON.parse(importRun.stdout) as { cpu: number }).cpu);
      const probe = wallMs(['-e', probeScript(bundle, true, fn.isApi)], env);
      composed.push(probe.ms);
      const reported = JSON.parse(probe.stdout) as { outcome?: string | number; sdk: string[] };
      // The probe must have got past the composition: a task rejects the empty input, the API
      // answers the unauthenticated request with a 4xx.
      const composedOk = fn.isApi
        ? typeof reported.outcome === 'number' && reported.outcome >= 400 && reported.outcome < 500
        : reported.outcome === 'ValidationError';
      if (!composedOk)
        throw new Error(
          `${fn.logicalId}: the probe ended with ${String(reported.outcome)}, not past the composition`,
        );
      loaded = reported.sdk;
    }
    figures.push({
      function: fn.logicalId.replace(/[0-9A-F]{8}$/, ''),
      memory_mb: fn.memoryMb,
      bundle_kb: Math.round(statSync(bundle).size / 1024),
      // Against the bare runs interleaved with this function's: the machine's load drifts
      // during the benchmark, and a global bare median would charge that drift to one function.
      init_over_bare_ms: Math.round(median(importOnly) - median(localBare)),
      init_and_compose_over_bare_ms: Math.round(median(composed) - median(localBare)),
      init_cpu_over_bare_ms: Math.round(median(importCpu) - median(bareCpu)),
      sdk_packages_loaded: loaded.sort(),
    });
    options.onProgress?.(figures.length, functions.length);
  }
  const bareMs = median(bare);
  return {
    bare_node_ms: Math.round(bareMs),
    functions: figures,
    max_bundle_kb: Math.max(...figures.map((figure) => figure.bundle_kb)),
    max_init_over_bare_ms: Math.max(...figures.map((figure) => figure.init_over_bare_ms)),
    max_init_and_compose_over_bare_ms: Math.max(
      ...figures.map((figure) => figure.init_and_compose_over_bare_ms),
    ),
    max_init_cpu_over_bare_ms: Math.max(...figures.map((figure) => figure.init_cpu_over_bare_ms)),
  };
}

/** The default assembly directory: the project's own cdk.out (externals resolve from node_modules). */
export const DEFAULT_ASSEMBLY_DIRECTORY = join(PROJECT_ROOT, 'cdk.out');
