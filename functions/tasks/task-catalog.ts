import type { TableLogicalName } from '../../schemas/tables';

/**
 * Every Lambda task the workflows use, as data: the resource token its definitions name, its
 * entry file, and exactly what it may touch. The CDK app derives functions and least-privilege
 * grants from this list; the local runtime maps the same tokens to the same handlers.
 */

export type TableAccess = 'read' | 'write' | 'readWrite';
export type SecretAccess = 'read' | 'stage' | 'promote' | 'none';

export interface TaskDefinition {
  /** The `${Token}` used as Resource in workflows/*.asl.json. */
  readonly token: string;
  /** File under functions/tasks/ exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly tables: Partial<Record<TableLogicalName, TableAccess>>;
  readonly secrets: SecretAccess;
  /** Calls the provider scan engines (needs the engine URLs and network egress). */
  readonly callsEngines: boolean;
  /** Calls cloud providers' APIs to validate credentials. */
  readonly callsProviders: boolean;
  /** Creates or updates scheduler entries (scheduling port). */
  readonly managesSchedules: boolean;
  /** Publishes domain events (scan failed, credentials rejected…) to the notifications bus. */
  readonly publishesEvents: boolean;
  /** Reads the status of the state machines' executions (states:DescribeExecution). */
  readonly describesExecutions: boolean;
}

type TaskFlag =
  | 'callsEngines'
  | 'callsProviders'
  | 'managesSchedules'
  | 'publishesEvents'
  | 'describesExecutions';

const task = (
  definition: Omit<TaskDefinition, 'memoryMb' | TaskFlag> & Partial<TaskDefinition>,
): TaskDefinition => ({
  memoryMb: 256,
  callsEngines: false,
  callsProviders: false,
  managesSchedules: false,
  publishesEvents: false,
  describesExecutions: false,
  ...definition,
});

export const TASKS = [
  task({
    token: 'ClaimScanFunctionArn',
    entry: 'claim-scan.ts',
    description: 'Claim a scan slot, apply the overlap policy and lock the account',
    timeoutSeconds: 25,
    tables: { accounts: 'readWrite', schedules: 'readWrite', executions: 'readWrite', claims: 'readWrite' },
    secrets: 'none',
    // Counting a run may pause its schedule (consecutive failures) or end a one-time one.
    managesSchedules: true,
  }),
  task({
    token: 'VerifyStoredCredentialsFunctionArn',
    entry: 'verify-stored-credentials.ts',
    description: "Check an account's current credentials with its provider",
    timeoutSeconds: 80,
    tables: { accounts: 'readWrite', executions: 'readWrite' },
    secrets: 'read',
    callsProviders: true,
  }),
  task({
    token: 'StartScanFunctionArn',
    entry: 'start-scan.ts',
    description: "Start a scan on the provider's engine",
    timeoutSeconds: 340,
    tables: { accounts: 'read', schedules: 'read', executions: 'readWrite' },
    secrets: 'read',
    callsEngines: true,
  }),
  task({
    token: 'PollScanFunctionArn',
    entry: 'poll-scan.ts',
    description: "Poll the engine for a scan's status",
    timeoutSeconds: 50,
    tables: { accounts: 'readWrite', executions: 'readWrite' },
    secrets: 'none',
    callsEngines: true,
  }),
  task({
    token: 'CompleteScanFunctionArn',
    entry: 'complete-scan.ts',
    description: 'Record a finished scan and release the account lock',
    timeoutSeconds: 25,
    tables: {
      accounts: 'readWrite',
      schedules: 'readWrite',
      executions: 'readWrite',
      scanResults: 'readWrite',
      // The tenant's bound on running scans (its place is freed here).
      claims: 'readWrite',
    },
    secrets: 'none',
    // Counting a run may pause its schedule (consecutive failures) or end a one-time one.
    managesSchedules: true,
    publishesEvents: true,
  }),
  task({
    token: 'FailScanFunctionArn',
    entry: 'fail-scan.ts',
    description: 'Record a failed scan and release the account lock',
    timeoutSeconds: 25,
    tables: {
      accounts: 'readWrite',
      schedules: 'readWrite',
      executions: 'readWrite',
      scanResults: 'readWrite',
      // The tenant's bound on running scans (its place is freed here).
      claims: 'readWrite',
    },
    secrets: 'none',
    // Counting a run may pause its schedule (consecutive failures) or end a one-time one.
    managesSchedules: true,
    publishesEvents: true,
  }),
  task({
    token: 'VerifyStagedCredentialsFunctionArn',
    entry: 'verify-staged-credentials.ts',
    description: 'Check staged credentials with the provider during onboarding',
    timeoutSeconds: 80,
    tables: { accounts: 'read' },
    secrets: 'read',
    callsProviders: true,
  }),
  task({
    token: 'PromoteCredentialsFunctionArn',
    entry: 'promote-credentials.ts',
    description: 'Promote verified credentials to current',
    timeoutSeconds: 25,
    tables: {},
    secrets: 'promote',
  }),
  task({
    token: 'CompleteOnboardingFunctionArn',
    entry: 'complete-onboarding.ts',
    description: 'Record an account as onboarded',
    timeoutSeconds: 25,
    tables: { accounts: 'readWrite' },
    secrets: 'none',
  }),
  task({
    token: 'CreateFirstScheduleFunctionArn',
    entry: 'create-first-schedule.ts',
    description: "Create an account's first scan schedule",
    timeoutSeconds: 25,
    tables: { accounts: 'read', schedules: 'readWrite' },
    secrets: 'none',
    managesSchedules: true,
  }),
  task({
    token: 'FailOnboardingFunctionArn',
    entry: 'fail-onboarding.ts',
    description: 'Record why onboarding failed and discard the staged credentials',
    timeoutSeconds: 25,
    // The credentials-rejected event goes to the channels of the account's schedules.
    tables: { accounts: 'readWrite', schedules: 'read' },
    secrets: 'promote',
    publishesEvents: true,
  }),
  task({
    token: 'RecordValidationFailureFunctionArn',
    entry: 'record-validation-failure.ts',
    description: 'Record a failed credential validation',
    timeoutSeconds: 25,
    // The credentials-rejected event goes to the channels of the account's schedules.
    tables: { accounts: 'readWrite', schedules: 'read' },
    secrets: 'none',
    publishesEvents: true,
  }),
] as const satisfies readonly TaskDefinition[];

export type TaskToken = (typeof TASKS)[number]['token'];

/**
 * Not a workflow state: invoked by an EventBridge rule (AWS) or by the local orchestrator when an
 * execution ends TIMED_OUT, ABORTED or FAILED without recording it, so nothing stays "running".
 */
export const EXECUTION_TERMINATED_TASK = task({
  token: 'RecordTerminatedExecutionFunctionArn',
  entry: 'record-terminated-execution.ts',
  description: 'Record executions that timed out, were aborted or failed unrecorded',
  timeoutSeconds: 25,
  tables: {
    accounts: 'readWrite',
    schedules: 'readWrite',
    executions: 'readWrite',
    scanResults: 'readWrite',
    claims: 'readWrite',
  },
  secrets: 'promote',
  // Counting a run may pause its schedule (consecutive failures) or end a one-time one.
  managesSchedules: true,
  // Asks the engine to stop the scan of an ended workflow (after recording it).
  callsEngines: true,
  publishesEvents: true,
});

/**
 * Not a workflow state either: run every few minutes by an EventBridge Scheduler entry (AWS) and
 * at start-up by the local runtime. Finds execution records still running past their bound, asks
 * the orchestrator for the real status and records the outcome (functions/core/stuck-run-sweep.ts).
 */
export const STUCK_RUN_SWEEP_TASK = task({
  token: 'SweepStuckRunsFunctionArn',
  entry: 'sweep-stuck-runs.ts',
  description: 'Record runs still marked running whose workflow execution has ended or overrun',
  timeoutSeconds: 120,
  tables: {
    accounts: 'readWrite',
    schedules: 'readWrite',
    executions: 'readWrite',
    scanResults: 'readWrite',
    // Recording a run frees its place among the tenant's running scans.
    claims: 'readWrite',
  },
  secrets: 'none',
  managesSchedules: true,
  callsEngines: true,
  publishesEvents: true,
  describesExecutions: true,
});

/** The functions no state machine names: the terminated-execution recorder and the sweep. */
export const SERVICE_TASKS = [EXECUTION_TERMINATED_TASK, STUCK_RUN_SWEEP_TASK] as const;

/**
 * The bundle-time flags of a task's composition root (functions/adapters/aws/aws-workflow-dependencies.ts):
 * it builds only the clients its catalog entry grants, and the bundler drops the others' code.
 */
export function clientFlagsOf(definition: TaskDefinition): Record<string, 'true' | 'false'> {
  const flag = (used: boolean) => (used ? 'true' : 'false');
  return {
    'process.env.TASK_USES_DYNAMODB': flag(Object.keys(definition.tables).length > 0),
    'process.env.TASK_USES_SECRETS_MANAGER': flag(definition.secrets !== 'none'),
    'process.env.TASK_USES_PROVIDERS': flag(definition.callsProviders),
    'process.env.TASK_USES_ENGINES': flag(definition.callsEngines),
    'process.env.TASK_USES_SCHEDULER': flag(definition.managesSchedules),
  };
}
