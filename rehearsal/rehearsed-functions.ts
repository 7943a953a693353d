import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SERVICE_TASKS, TASKS } from '../functions/tasks/task-catalog';
import { API_ACCESS, PROJECT_ROOT, SCHEDULING_API_ACCESS } from '../infra/constructs/functions';
import type { FunctionWorkerData, WorkerRequest, WorkerResponse } from './function-worker';
import type { RecordedAwsCall } from './recorded-call';
import type { ResolvedTemplate } from './resolved-template';

/** A Lambda function of the template, ready to be run by the rehearsal. */
export interface RehearsedFunction {
  logicalId: string;
  /** The logical id without its hash, e.g. `FunctionsClaimScanFunction`. */
  label: string;
  name: string;
  arn: string;
  roleLogicalId: string;
  roleArn: string;
  /** The principal its calls are made as: a session of its role. */
  sessionArn: string;
  entry: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** The access key id its worker signs with (tells its calls from a customer's). */
  accessKeyId: string;
}

/** Handlers by the description the catalog (and so the template) gives each function. */
function entriesByDescription(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const task of [...TASKS, ...SERVICE_TASKS]) {
    entries.set(task.description, join(PROJECT_ROOT, 'functions', 'tasks', task.entry));
  }
  for (const api of [API_ACCESS, SCHEDULING_API_ACCESS])
    entries.set(api.description, join(PROJECT_ROOT, api.entry));
  return entries;
}

export const labelOf = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/** Every function of the template with its handler, role and environment; throws on one it cannot map. */
export function rehearsedFunctionsOf(template: ResolvedTemplate): RehearsedFunction[] {
  const entries = entriesByDescription();
  return Object.entries(template.resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource], index) => {
      const properties = resource.Properties ?? {};
      const description = String(properties.Description ?? '');
      const entry = entries.get(description);
      if (!entry) {
        throw new Error(
          `the rehearsal does not know the handler of function ${logicalId} (${JSON.stringify(description)}): map it in rehearsal/rehearsed-functions.ts`,
        );
      }
      const roleArn = String(properties.Role);
      const roleLogicalId = Object.entries(template.physical).find(
        ([id, physical]) =>
          physical.attributes.Arn === roleArn && template.resources[id]?.Type === 'AWS::IAM::Role',
      )?.[0];
      if (!roleLogicalId)
        throw new Error(`function ${logicalId} runs as ${roleArn}, which is not a role of the template`);
      const name = template.physical[logicalId]?.ref ?? logicalId;
      const roleName = roleArn.slice(roleArn.indexOf('/') + 1);
      return {
        logicalId,
        label: labelOf(logicalId),
        name,
        arn: String(template.physical[logicalId]?.attributes.Arn),
        roleLogicalId,
        roleArn,
        sessionArn: `arn:aws:sts::${template.account}:assumed-role/${roleName}/${name}`,
        entry,
        environment: Object.fromEntries(
          Object.entries(
            (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
          ).map(([key, value]) => [key, String(value)]),
        ),
        timeoutSeconds: Number(properties.Timeout ?? 3),
        memoryMb: Number(properties.MemorySize ?? 128),
        accessKeyId: `ASIAREHEARSALFN${String(index).padStart(4, '0')}`,
      };
    });
}

export interface Invocation {
  fn: RehearsedFunction;
  calls: RecordedAwsCall[];
}

/** Thrown for a function's error: carries its name, as Lambda reports the error type. */
export class RehearsedFunctionError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * One worker thread per function, started on its first invocation, with what Lambda gives an
 * execution environment: the template's variables, the region, the function's name, memory and
 * version, and role credentials (obviously fake; the stand-ins do not check signatures).
 */
export class FunctionWorkers {
  readonly #workers = new Map<
    string,
    { worker: Worker; pending: Map<number, (response: WorkerResponse) => void> }
  >();
  #next = 0;

  constructor(
    private readonly region: string,
    /** Stand-in URL by SDK client name. */
    private readonly standIns: Record<string, string>,
    /** Called with every invocation's recorded calls. */
    private readonly onInvoked: (invocation: Invocation) => void,
    /** Where Lambda unpacks a function's asset (the API finds the console's files there). */
    private readonly taskRoot: string,
  ) {}

  async invoke(fn: RehearsedFunction, event: unknown): Promise<unknown> {
    const { worker, pending } = this.#workerOf(fn);
    const id = ++this.#next;
    let timer: NodeJS.Timeout | undefined;
    const response = await new Promise<WorkerResponse>((resolve) => {
      pending.set(id, resolve);
      // Lambda ends an invocation at the function's timeout (the worker is then replaced).
      timer = setTimeout(() => {
        pending.delete(id);
        resolve({
          id,
          calls: [],
          error: { name: 'Sandbox.Timedout', message: `${fn.label} timed out after ${fn.timeoutSeconds} s` },
        });
        void this.#workers.get(fn.logicalId)?.worker.terminate();
        this.#workers.delete(fn.logicalId);
      }, fn.timeoutSeconds * 1000);
      worker.postMessage({ id, event } satisfies WorkerRequest);
    });
    clearTimeout(timer);
    this.onInvoked({ fn, calls: response.calls });
    if ('error' in response) throw new RehearsedFunctionError(response.error.name, response.error.message);
    return response.result;
  }

  #workerOf(fn: RehearsedFunction) {
    const existing = this.#workers.get(fn.logicalId);
    if (existing) return existing;
    const data: FunctionWorkerData = {
      entry: fn.entry,
      functionName: fn.name,
      functionArn: fn.arn,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      standIns: this.standIns,
    };
    const worker = new Worker(new URL('./function-worker-bootstrap.mjs', import.meta.url), {
      workerData: data,
      // Not the parent's flags (its --import of the polyfill comes before tsx is registered here).
      execArgv: [],
      stdout: true,
      stderr: true,
      env: {
        ...fn.environment,
        AWS_REGION: this.region,
        AWS_DEFAULT_REGION: this.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        LAMBDA_TASK_ROOT: this.taskRoot,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_ACCESS_KEY_ID: fn.accessKeyId,
        AWS_SECRET_ACCESS_KEY: 'rehearsal-not-a-secret',
        AWS_SESSION_TOKEN: 'rehearsal-session',
        // Any client that escaped the instrumentation would still stay on the machine (and fail).
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    // Function logs are not part of the report (REHEARSAL_FUNCTION_LOGS=1 shows them).
    if (process.env.REHEARSAL_FUNCTION_LOGS === '1') {
      worker.stdout.pipe(process.stderr);
      worker.stderr.pipe(process.stderr);
    } else {
      worker.stdout.resume();
      worker.stderr.resume();
    }
    const pending = new Map<number, (response: WorkerResponse) => void>();
    worker.on('message', (response: WorkerResponse) => {
      pending.get(response.id)?.(response);
      pending.delete(response.id);
    });
    worker.on('error', (error) => {
      for (const [id, resolve] of pending) {
        resolve({ id, calls: [], error: { name: 'Runtime.WorkerFailed', message: String(error) } });
      }
      pending.clear();
    });
    const created = { worker, pending };
    this.#workers.set(fn.logicalId, created);
    return created;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers.values()].map(({ worker }) => worker.terminate()));
    this.#workers.clear();
  }
}
