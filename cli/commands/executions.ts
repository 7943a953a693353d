import { type Command, Option } from 'commander';
import { type ApiClient, segment } from '../api-client';
import { contextOf, endWith, integerIn, pageOptions, printNextPage } from '../command-context';
import { CliError, EXIT } from '../exit-codes';
import { type HistoryEvent, type Timeline, timelineOf } from '../history-timeline';
import {
  colours,
  duration,
  printFields,
  printJson,
  printTable,
  spinner,
  status,
  truncate,
  when,
  writeOut,
} from '../output';

/** The execution fields the human output shows (the API sends more). */
export interface ExecutionRow {
  execution_id: string;
  account_id: string;
  schedule_id?: string | null;
  status: string;
  triggered_by?: string;
  started_at: string;
  completed_at?: string | null;
  execution_time_seconds?: number | null;
  scheduled_time?: string | null;
  current_step?: string | null;
  progress_percent?: number | null;
  total_checks?: number | null;
  passed_checks?: number | null;
  failed_checks?: number | null;
  error_code?: string | null;
  error_message?: string | null;
  scan_id?: string | null;
}

interface ExecutionView extends ExecutionRow {
  tenant_id?: string;
  provider_type?: string;
  workflow: { name: string | null; arn: string | null; console_url: string | null };
  redrive_of: string | null;
  redriven_by: string | null;
}

interface HistoryPage {
  execution_id: string;
  workflow_execution_name: string | null;
  events: HistoryEvent[];
  next_token: string | null;
}

/** How long --follow waits for a run that is not recorded yet (just triggered). */
const START_WAIT_MS = 30_000;

/** Run statuses an operator reads as "it worked" (exit 0 for `history --follow`). */
const SUCCESSFUL = new Set(['completed', 'skipped', 'duplicate']);

export const EXECUTION_HEAD = [
  'EXECUTION ID',
  'STATUS',
  'ACCOUNT',
  'TRIGGER',
  'STARTED',
  'DURATION',
  'CHECKS',
  'ERROR',
];

const secondsToMs = (seconds: number | null | undefined) =>
  seconds === null || seconds === undefined ? null : seconds * 1000;

export function executionRows(executions: readonly ExecutionRow[]): string[][] {
  return executions.map((execution) => [
    execution.execution_id,
    status(execution.status),
    execution.account_id,
    execution.triggered_by ?? '-',
    when(execution.started_at),
    execution.status === 'running'
      ? `${execution.current_step ?? 'running'}${execution.progress_percent != null ? ` ${execution.progress_percent}%` : ''}`
      : duration(secondsToMs(execution.execution_time_seconds)),
    execution.total_checks != null
      ? `${execution.total_checks} (${execution.passed_checks ?? 0} ok, ${execution.failed_checks ?? 0} failed)`
      : '-',
    truncate([execution.error_code, execution.error_message].filter(Boolean).join(': '), 60),
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every event of the run's history so far (page by page). */
async function fullHistory(api: ApiClient, executionId: string): Promise<HistoryPage> {
  let page = await api.get<HistoryPage>(`/executions/${segment(executionId)}/history`, { limit: 1000 });
  const events = [...page.events];
  while (page.next_token) {
    page = await api.get<HistoryPage>(`/executions/${segment(executionId)}/history`, {
      limit: 1000,
      next_token: page.next_token,
    });
    events.push(...page.events);
  }
  return { ...page, events, next_token: null };
}

/** `10:24:07.829` (UTC), the precision a run's states need. */
function timeOfDay(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toISOString().slice(11, 23);
}

function eventLine(event: HistoryEvent): string {
  const colour = colours();
  const failure = event.error
    ? `  ${colour.red(event.error)}${event.cause ? `: ${truncate(event.cause, 160)}` : ''}`
    : '';
  return `${colour.dim(timeOfDay(event.timestamp))}  ${event.type.padEnd(22)} ${event.stateName ?? ''}${failure}`.trimEnd();
}

const RUN_OUTCOME_WORD: Record<Timeline['outcome'], string> = {
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'timed_out',
  ABORTED: 'aborted',
};

function printTimeline(execution: ExecutionView, timeline: Timeline): void {
  const colour = colours();
  printFields([
    ['execution', execution.execution_id],
    ['workflow', execution.workflow.name ?? '-'],
    ['run', status(execution.status)],
    ['workflow status', status(RUN_OUTCOME_WORD[timeline.outcome])],
    ['started', when(timeline.startedAt ?? execution.started_at)],
    [
      'duration',
      timeline.startedAt
        ? duration(
            Date.parse(timeline.stoppedAt ?? new Date().toISOString()) - Date.parse(timeline.startedAt),
          )
        : '-',
    ],
  ]);
  writeOut('');
  printTable(
    ['STATE', 'TYPE', 'STARTED (UTC)', 'DURATION', 'RETRIES', 'OUTCOME', 'ERROR'],
    timeline.entries.map((entry) => [
      entry.state,
      entry.stateType,
      timeOfDay(entry.enteredAt),
      entry.durationMs === null ? '-' : duration(entry.durationMs),
      String(entry.retries),
      status(entry.outcome),
      entry.error ? truncate(entry.error, 40) : '',
    ]),
    '(no states entered yet)',
  );
  const failures = timeline.entries.filter(
    (entry) => entry.outcome !== 'succeeded' && entry.outcome !== 'running' && entry.error,
  );
  for (const entry of failures) {
    writeOut('');
    writeOut(`${colour.red(`${entry.outcome} in ${entry.state}`)}: ${entry.error}`);
    if (entry.cause) writeOut(`  cause: ${entry.cause}`);
  }
  if (
    timeline.outcome !== 'SUCCEEDED' &&
    timeline.outcome !== 'RUNNING' &&
    timeline.error &&
    failures.length === 0
  ) {
    writeOut('');
    writeOut(`${colour.red(`run ${RUN_OUTCOME_WORD[timeline.outcome]}`)}: ${timeline.error}`);
    if (timeline.cause) writeOut(`  cause: ${timeline.cause}`);
  }
}

/**
 * Streams new history events until the workflow has ended and the run is recorded as ended, then
 * prints the timeline. Resolves with the run and the whole history.
 */
async function follow(
  api: ApiClient,
  executionId: string,
  options: { json: boolean; intervalMs: number },
): Promise<{ execution: ExecutionView; history: HistoryPage }> {
  let lastEventId = 0;
  const progress = spinner(`following execution ${executionId}`, options.json);
  progress.start();
  const startDeadline = Date.now() + START_WAIT_MS;
  try {
    for (;;) {
      let history: HistoryPage;
      try {
        history = await fullHistory(api, executionId);
      } catch (error) {
        // A run just triggered is answered before its record is written: wait for it a little.
        if (!(error instanceof CliError && error.status === 404 && Date.now() < startDeadline)) throw error;
        progress.text = `waiting for execution ${executionId} to start`;
        await sleep(options.intervalMs);
        continue;
      }
      const fresh = history.events.filter((event) => event.id > lastEventId);
      if (fresh.length > 0 && !options.json) {
        progress.clear();
        for (const event of fresh) writeOut(eventLine(event));
        progress.render();
      }
      lastEventId = Math.max(lastEventId, ...history.events.map((event) => event.id));
      const workflowEnded = timelineOf(history.events).outcome !== 'RUNNING';
      const execution = await api.get<ExecutionView>(`/executions/${segment(executionId)}`);
      progress.text = `execution ${executionId}: ${execution.current_step ?? execution.status}`;
      // The run is recorded by the workflow's last task or, when it was stopped, by the
      // terminated-execution handler a moment later: wait for both.
      if (workflowEnded && execution.status !== 'running') return { execution, history };
      await sleep(options.intervalMs);
    }
  } finally {
    progress.stop();
  }
}

type ListOptions = {
  schedule?: string;
  account?: string;
  tenant?: string;
  status?: string;
  limit: number;
  cursor?: string;
};

/** `threat-engine executions ...`. */
export function registerExecutionsCommand(program: Command): void {
  const executions = program
    .command('executions')
    .description('scan runs: list, inspect, trace their workflow history, cancel, redrive');

  pageOptions(
    executions
      .command('list')
      .description(
        "the runs of a schedule, an account or a tenant (default: the token's tenant), newest first",
      )
      .option('--schedule <id>', "the schedule's runs")
      .option('--account <id>', "the account's runs")
      .option('--tenant <id>', "the tenant's runs (all its accounts)")
      .addOption(
        new Option('--status <status>', 'only runs of this status').choices([
          'running',
          'completed',
          'failed',
          'cancelled',
          'timed_out',
          'aborted',
          'skipped',
          'duplicate',
        ]),
      ),
  ).action(async (options: ListOptions, command: Command) => {
    const { api, json } = contextOf(command);
    const scopes = [
      options.schedule && `/schedules/${segment(options.schedule)}/executions`,
      options.account && `/accounts/${segment(options.account)}/executions`,
      options.tenant && `/tenants/${segment(options.tenant)}/executions`,
    ].filter((path): path is string => Boolean(path));
    if (scopes.length > 1) {
      throw new CliError(
        'name one of --schedule <id>, --account <id> or --tenant <id>, not several',
        EXIT.usage,
      );
    }
    if (scopes.length === 0) {
      const tenantId = await api.tokenTenant();
      if (!tenantId) {
        throw new CliError(
          'name --schedule <id>, --account <id> or --tenant <id> (the token names no tenant)',
          EXIT.usage,
        );
      }
      scopes.push(`/tenants/${segment(tenantId)}/executions`);
    }
    const page = await api.get<{ executions: ExecutionRow[]; next_cursor: string | null }>(
      scopes[0] as string,
      {
        status: options.status,
        limit: options.limit,
        cursor: options.cursor,
      },
    );
    if (json) return printJson(page);
    printTable(EXECUTION_HEAD, executionRows(page.executions), 'no runs');
    printNextPage(page.next_cursor);
  });

  executions
    .command('show')
    .description(
      'one run: status, progress, timings, checks, error, its workflow execution and redrive links',
    )
    .argument('<execution_id>')
    .action(async (executionId: string, _options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const execution = await api.get<ExecutionView>(`/executions/${segment(executionId)}`);
      if (json) return printJson(execution);
      printFields([
        ['execution', execution.execution_id],
        ['status', status(execution.status)],
        [
          'account',
          `${execution.account_id}${execution.provider_type ? ` (${execution.provider_type})` : ''}`,
        ],
        ['schedule', execution.schedule_id ?? '-'],
        ['triggered by', execution.triggered_by ?? '-'],
        ['scheduled for', when(execution.scheduled_time)],
        ['started', when(execution.started_at)],
        ['completed', when(execution.completed_at)],
        ['duration', duration(secondsToMs(execution.execution_time_seconds))],
        [
          'progress',
          execution.current_step
            ? `${execution.current_step}${execution.progress_percent != null ? ` (${execution.progress_percent}%)` : ''}`
            : '-',
        ],
        [
          'checks',
          execution.total_checks != null
            ? `${execution.total_checks} total, ${execution.passed_checks ?? 0} passed, ${execution.failed_checks ?? 0} failed`
            : '-',
        ],
        ['scan result', execution.scan_id ?? '-'],
        ...(execution.error_code || execution.error_message
          ? [
              [
                'error',
                colours().red([execution.error_code, execution.error_message].filter(Boolean).join(': ')),
              ] as const,
            ]
          : []),
        ['workflow', execution.workflow.name ?? '-'],
        ...(execution.workflow.console_url ? [['console', execution.workflow.console_url] as const] : []),
        ...(execution.redrive_of ? [['redrive of', execution.redrive_of] as const] : []),
        ...(execution.redriven_by ? [['redriven by', execution.redriven_by] as const] : []),
      ]);
    });

  executions
    .command('history')
    .description(
      'the states the run entered, each with start, duration, retries and outcome, and the error and cause of a failure; --follow streams events until the run ends (exit 0 when it completed, 1 when it failed, was cancelled or timed out)',
    )
    .argument('<execution_id>')
    .option('--follow', 'stream new events until the run ends; the exit code tells how it ended', false)
    .addOption(
      new Option('--interval <ms>', 'how often --follow asks (milliseconds)')
        .argParser(integerIn(10, 60_000))
        .default(1000),
    )
    .action(async (executionId: string, options: { follow: boolean; interval: number }, command: Command) => {
      const { api, json } = contextOf(command);
      if (!options.follow) {
        const history = await fullHistory(api, executionId);
        if (json) return printJson(history);
        const execution = await api.get<ExecutionView>(`/executions/${segment(executionId)}`);
        printTimeline(execution, timelineOf(history.events));
        return;
      }
      const { execution, history } = await follow(api, executionId, { json, intervalMs: options.interval });
      if (json) printJson(history);
      else {
        writeOut('');
        printTimeline(execution, timelineOf(history.events));
      }
      endWith(SUCCESSFUL.has(execution.status) ? EXIT.ok : EXIT.failed);
    });

  executions
    .command('cancel')
    .description('cancel a running run (its workflow execution is stopped; the run is recorded cancelled)')
    .argument('<execution_id>')
    .action(async (executionId: string, _options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const answer = await api.post<{ status: string; message: string }>(
        `/executions/${segment(executionId)}/cancel`,
      );
      if (json) return printJson(answer);
      writeOut(`cancel requested for execution ${executionId}: ${answer.message}`);
    });

  executions
    .command('redrive')
    .description('redrive a failed, timed-out or aborted run: a new scan of the same account, linked to it')
    .argument('<execution_id>')
    .action(async (executionId: string, _options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const answer = await api.post<{ execution_id: string; message: string }>(
        `/executions/${segment(executionId)}/redrive`,
      );
      if (json) return printJson(answer);
      writeOut(
        `${answer.message}: execution ${answer.execution_id} (follow it: executions history ${answer.execution_id} --follow)`,
      );
    });
}
