/**
 * The monthly bill of one deployment, from what its template holds (fixed costs, memory sizes,
 * log retention), what the bench measured per scan, the usage asked for, and list prices. Pure:
 * every input is passed in.
 */

export interface Price {
  usd: number;
  source: string;
  read_on: string;
  region_confirmed: boolean;
}

export type PriceName =
  | 'stepFunctionsPerThousandTransitions'
  | 'lambdaPerMillionRequests'
  | 'lambdaArmPerGbSecond'
  | 'dynamoDbPerMillionWriteRequestUnits'
  | 'dynamoDbPerMillionReadRequestUnits'
  | 'dynamoDbPerGbMonth'
  | 'schedulerPerMillionInvocations'
  | 'eventBridgePerMillionEvents'
  | 'secretsManagerPerSecretMonth'
  | 'secretsManagerPerTenThousandCalls'
  | 'kmsPerKeyMonth'
  | 'kmsPerTenThousandRequests'
  | 'cloudWatchPerAlarmMonth'
  | 'cloudWatchPerDashboardMonth'
  | 'cloudWatchLogsPerGbIngested'
  | 'cloudWatchLogsPerGbMonthStored'
  | 'apiGatewayHttpPerMillionRequests'
  | 'xRayPerMillionTraces';

export type RegionPrices = Record<PriceName, Price>;

export interface FreeTier {
  stepFunctionsTransitions: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  schedulerInvocations: number;
  kmsRequests: number;
  cloudWatchAlarms: number;
  cloudWatchDashboards: number;
  cloudWatchLogsGb: number;
  xRayTraces: number;
}

/** What the synthesized template says about the deployment. */
export interface TemplateFacts {
  /** Memory (MB) of each function, by task token or `ApiFunction`. */
  functionMemoryMb: Record<string, number>;
  alarms: number;
  dashboards: number;
  kmsKeys: number;
  /** Retention of the function and state machine log groups (days; the longest is used). */
  logRetentionDays: number;
}

/** Per-scan figures measured by `npm run bench` (cost/scan-figures.json). */
export interface ScanFigures {
  measured_on: string;
  command: string;
  /** A synchronous-engine scan, end to end. */
  scan: {
    state_transitions: number;
    /** Invocations per scan, by task token. */
    invocations: Record<string, number>;
    /** Median handler time per invocation on the local runtime (ms), by task token. */
    handler_ms: Record<string, number>;
    dynamodb_reads: number;
    dynamodb_writes: number;
    secret_reads: number;
    log_bytes: number;
  };
  /** One poll of an asynchronous engine (Choice, Wait, Poll task). */
  poll: {
    state_transitions: number;
    handler_ms: number;
    dynamodb_reads: number;
    dynamodb_writes: number;
  };
  /** Cold start (import and composition over bare node, ms) by task token and `ApiFunction`. */
  init_ms: Record<string, number>;
  /** Median API handler time (ms), from the API bench. */
  api_handler_ms: number;
}

export interface Usage {
  accounts: number;
  scansPerDay: number;
  engine: 'sync' | 'async';
  /** How long the engine takes to scan one account. */
  scanMinutes: number;
  /** API requests per scan (people and tools reading results, statuses, histories). */
  apiRequestsPerScan: number;
  /** Share of invocations that start a new execution environment (billed init since Aug 2025). */
  coldStartShare: number;
  applyFreeTier: boolean;
  /** First poll wait and the cap, as the scan settings have them. */
  firstPollWaitSeconds: number;
  maxPollWaitSeconds: number;
}

export interface BillLine {
  service: string;
  detail: string;
  monthly_usd: number;
  /** Charged whatever the usage (per secret, key, alarm, dashboard). */
  fixed: boolean;
}

export interface Bill {
  lines: BillLine[];
  monthly_total_usd: number;
  scans_per_month: number;
}

const DAYS_PER_MONTH = 30;
const START_SCAN = 'StartScanFunctionArn';
const POLL_SCAN = 'PollScanFunctionArn';

/** Polls an asynchronous engine needs for a scan of `seconds`: waits 5, 10, 20 … seconds, capped. */
export function pollsFor(seconds: number, firstWait: number, maxWait: number): number {
  let waited = 0;
  let polls = 0;
  while (waited < seconds) {
    waited += Math.min(maxWait, firstWait * 2 ** Math.min(polls, 20));
    polls += 1;
  }
  return Math.max(1, polls);
}

const afterFree = (amount: number, free: number, apply: boolean) => Math.max(0, amount - (apply ? free : 0));
const round = (usd: number) => Math.round(usd * 100) / 100;

export function monthlyBill(
  usage: Usage,
  template: TemplateFacts,
  figures: ScanFigures,
  prices: RegionPrices,
  freeTier: FreeTier,
): Bill {
  const scans = usage.accounts * usage.scansPerDay * DAYS_PER_MONTH;
  const free = usage.applyFreeTier;
  const polls =
    usage.engine === 'async'
      ? pollsFor(usage.scanMinutes * 60, usage.firstPollWaitSeconds, usage.maxPollWaitSeconds)
      : 0;
  const lines: BillLine[] = [];
  const add = (service: string, detail: string, usd: number, fixed = false) =>
    lines.push({ service, detail, monthly_usd: round(usd), fixed });

  const transitions = scans * (figures.scan.state_transitions + polls * figures.poll.state_transitions);
  add(
    'Step Functions',
    `${Math.round(transitions).toLocaleString('en-US')} state transitions`,
    (afterFree(transitions, freeTier.stepFunctionsTransitions, free) / 1000) *
      prices.stepFunctionsPerThousandTransitions.usd,
  );

  // Lambda: each invocation's handler time, plus the init of the cold share, at its memory size.
  let requests = 0;
  let gbSeconds = 0;
  const invocations: Record<string, number> = { ...figures.scan.invocations };
  if (polls > 0) invocations[POLL_SCAN] = (invocations[POLL_SCAN] ?? 0) + polls;
  for (const [token, perScan] of Object.entries(invocations)) {
    const memoryGb = (template.functionMemoryMb[token] ?? 256) / 1024;
    let handlerMs = token === POLL_SCAN ? figures.poll.handler_ms : (figures.scan.handler_ms[token] ?? 0);
    // A synchronous engine answers at the end of the scan: the start task waits for it.
    if (token === START_SCAN && usage.engine === 'sync') handlerMs += usage.scanMinutes * 60_000;
    const initMs = (figures.init_ms[token] ?? 0) * usage.coldStartShare;
    requests += scans * perScan;
    gbSeconds += scans * perScan * memoryGb * ((handlerMs + initMs) / 1000);
  }
  const apiRequests = scans * usage.apiRequestsPerScan;
  requests += apiRequests;
  gbSeconds +=
    apiRequests *
    ((template.functionMemoryMb.ApiFunction ?? 512) / 1024) *
    ((figures.api_handler_ms + (figures.init_ms.ApiFunction ?? 0) * usage.coldStartShare) / 1000);
  add(
    'Lambda',
    `${Math.round(requests).toLocaleString('en-US')} requests, ${Math.round(gbSeconds).toLocaleString('en-US')} GB-s (Arm)`,
    (afterFree(requests, freeTier.lambdaRequests, free) / 1e6) * prices.lambdaPerMillionRequests.usd +
      afterFree(gbSeconds, freeTier.lambdaGbSeconds, free) * prices.lambdaArmPerGbSecond.usd,
  );

  // DynamoDB on demand: items here are under 1 KB written and 4 KB read (one unit each);
  // reads counted as strongly consistent (the upper bound). The API's reads: two per request.
  const reads = scans * (figures.scan.dynamodb_reads + polls * figures.poll.dynamodb_reads) + apiRequests * 2;
  const writes = scans * (figures.scan.dynamodb_writes + polls * figures.poll.dynamodb_writes);
  const storageGb = (scans * 12 * 2 * 1024) / 1024 ** 3; // a year of executions and results, ~1 KB each
  add(
    'DynamoDB',
    `${Math.round(reads).toLocaleString('en-US')} read units, ${Math.round(writes).toLocaleString('en-US')} write units, ~${storageGb.toFixed(2)} GB`,
    (reads / 1e6) * prices.dynamoDbPerMillionReadRequestUnits.usd +
      (writes / 1e6) * prices.dynamoDbPerMillionWriteRequestUnits.usd +
      storageGb * prices.dynamoDbPerGbMonth.usd,
  );

  add(
    'EventBridge Scheduler',
    `${scans.toLocaleString('en-US')} invocations`,
    (afterFree(scans, freeTier.schedulerInvocations, free) / 1e6) * prices.schedulerPerMillionInvocations.usd,
  );
  add(
    'EventBridge',
    'the terminated-execution rule (AWS service events: free)',
    0 * prices.eventBridgePerMillionEvents.usd,
  );

  const secretCalls = scans * figures.scan.secret_reads;
  add(
    'Secrets Manager',
    `${usage.accounts} secrets (one per account)`,
    usage.accounts * prices.secretsManagerPerSecretMonth.usd,
    true,
  );
  add(
    'Secrets Manager',
    `${secretCalls.toLocaleString('en-US')} API calls`,
    (secretCalls / 10_000) * prices.secretsManagerPerTenThousandCalls.usd,
  );

  add('KMS', `${template.kmsKeys} customer-managed keys`, template.kmsKeys * prices.kmsPerKeyMonth.usd, true);
  // Secrets Manager decrypts each secret read with the key.
  add(
    'KMS',
    `${secretCalls.toLocaleString('en-US')} requests`,
    (afterFree(secretCalls, freeTier.kmsRequests, free) / 10_000) * prices.kmsPerTenThousandRequests.usd,
  );

  add(
    'CloudWatch',
    `${template.alarms} alarms`,
    afterFree(template.alarms, freeTier.cloudWatchAlarms, free) * prices.cloudWatchPerAlarmMonth.usd,
    true,
  );
  add(
    'CloudWatch',
    `${template.dashboards} dashboard${template.dashboards === 1 ? '' : 's'}`,
    afterFree(template.dashboards, freeTier.cloudWatchDashboards, free) *
      prices.cloudWatchPerDashboardMonth.usd,
    true,
  );
  const logGb = (scans * figures.scan.log_bytes + apiRequests * 400) / 1024 ** 3;
  const storedGb = logGb * Math.min(12, template.logRetentionDays / 30);
  add(
    'CloudWatch',
    `logs: ${logGb.toFixed(3)} GB ingested, ${storedGb.toFixed(3)} GB kept (${template.logRetentionDays}-day retention)`,
    afterFree(logGb, freeTier.cloudWatchLogsGb, free) * prices.cloudWatchLogsPerGbIngested.usd +
      storedGb * prices.cloudWatchLogsPerGbMonthStored.usd,
  );

  add(
    'API Gateway',
    `${Math.round(apiRequests).toLocaleString('en-US')} HTTP API requests`,
    (apiRequests / 1e6) * prices.apiGatewayHttpPerMillionRequests.usd,
  );
  const traces = scans + apiRequests;
  add(
    'X-Ray',
    `${Math.round(traces).toLocaleString('en-US')} traces`,
    (afterFree(traces, freeTier.xRayTraces, free) / 1e6) * prices.xRayPerMillionTraces.usd,
  );

  return {
    lines,
    monthly_total_usd: round(lines.reduce((sum, line) => sum + line.monthly_usd, 0)),
    scans_per_month: scans,
  };
}
