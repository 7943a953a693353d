import { type Command, Option } from 'commander';
import { type ApiClient, segment } from '../api-client';
import { contextOf, endWith, integerIn, pageOptions, printNextPage } from '../command-context';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import {
  colours,
  printFields,
  printJson,
  printTable,
  progressBar,
  status,
  truncate,
  when,
  writeOut,
} from '../output';
import { EXECUTION_HEAD, type ExecutionRow, executionRows } from './executions';

interface ScheduleView {
  schedule_id: string;
  tenant_id: string;
  account_id: string;
  name: string;
  description?: string | null;
  schedule_type: string;
  schedule_expression?: string | null;
  cron_expression?: string | null;
  interval_seconds?: number | null;
  timezone: string;
  status: string;
  overlap_policy?: string | null;
  run_count: number;
  success_count: number;
  failure_count: number;
  last_run_at?: string | null;
  next_run_at?: string | null;
  paused_at?: string | null;
  paused_by?: string | null;
  pause_note?: string | null;
  regions: string[];
  services: string[];
}

interface ScheduleDetails extends ScheduleView {
  next_fire_times: string[];
  recent_runs: ExecutionRow[];
  counters: Record<string, number>;
  timing_error?: string;
}

interface SchedulePage {
  schedules: ScheduleView[];
  next_cursor: string | null;
}

const expressionOf = (schedule: ScheduleView) =>
  schedule.schedule_expression ??
  schedule.cron_expression ??
  (schedule.interval_seconds ? `every ${schedule.interval_seconds} s` : schedule.schedule_type);

/** A paused or disabled schedule keeps its last computed next_run_at: it will not fire then. */
const nextRun = (schedule: ScheduleView) =>
  schedule.status === 'active' ? when(schedule.next_run_at) : `- (${schedule.status})`;

const list = (value: string) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** Every schedule of an account or a tenant (of one status), page by page. */
async function allSchedules(
  api: ApiClient,
  filter: { account?: string | undefined; tenant?: string | undefined; status: string },
): Promise<ScheduleView[]> {
  const schedules: ScheduleView[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<SchedulePage>('/schedules', {
      account_id: filter.account,
      tenant_id: filter.tenant,
      status: filter.status,
      limit: 100,
      cursor,
    });
    schedules.push(...page.schedules);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return schedules;
}

interface BulkOptions {
  account?: string;
  tenant?: string;
  note?: string;
}

/**
 * `pause` and `resume`: the ids given, or (bulk) every active (paused) schedule of an account or
 * a tenant, one request each, with a progress bar. One id prints the API's answer; several print
 * `{schedules: [answers], failed: [{schedule_id, error}]}`.
 */
async function changeSchedules(
  action: 'pause' | 'resume',
  ids: string[],
  options: BulkOptions,
  command: Command,
): Promise<void> {
  const { api, json } = contextOf(command);
  const bulk = options.account !== undefined || options.tenant !== undefined;
  if (bulk && ids.length > 0) {
    throw new CliError(`give schedule ids or --account / --tenant, not both`, EXIT.usage);
  }
  if (options.account !== undefined && options.tenant !== undefined) {
    throw new CliError('give --account or --tenant, not both', EXIT.usage);
  }
  if (!bulk && ids.length === 0) {
    throw new CliError(
      `name the schedules to ${action}: ids, or --account <id> or --tenant <id>`,
      EXIT.usage,
    );
  }
  const targets = bulk
    ? (
        await allSchedules(api, {
          account: options.account,
          tenant: options.tenant,
          status: action === 'pause' ? 'active' : 'paused',
        })
      ).map((schedule) => schedule.schedule_id)
    : ids;
  const done: ScheduleView[] = [];
  const failed: { schedule_id: string; error: string; exitCode: ExitCode }[] = [];
  const bar = progressBar(targets.length, action === 'pause' ? 'pausing' : 'resuming', json);
  for (const scheduleId of targets) {
    try {
      done.push(
        await api.post<ScheduleView>(
          `/schedules/${segment(scheduleId)}/${action}`,
          options.note !== undefined ? { note: options.note } : undefined,
        ),
      );
    } catch (error) {
      // One schedule named: its error is the command's error.
      if (!(error instanceof CliError) || error.exitCode === EXIT.usage || (!bulk && targets.length === 1)) {
        throw error;
      }
      failed.push({ schedule_id: scheduleId, error: error.message, exitCode: error.exitCode });
    }
    bar.tick();
  }
  bar.stop();
  if (json) {
    if (!bulk && targets.length === 1 && done.length === 1) printJson(done[0]);
    else printJson({ schedules: done, failed: failed.map(({ exitCode: _code, ...rest }) => rest) });
  } else {
    const pastTense = action === 'pause' ? 'paused' : 'resumed';
    if (bulk && targets.length === 0) {
      writeOut(
        `no ${action === 'pause' ? 'active' : 'paused'} schedules of ${options.account ? `account ${options.account}` : `tenant ${options.tenant}`}: nothing to ${action}`,
      );
    } else {
      printTable(
        ['SCHEDULE ID', 'NAME', 'STATUS', 'NEXT RUN', 'RESULT'],
        [
          ...done.map((schedule) => [
            schedule.schedule_id,
            schedule.name,
            status(schedule.status),
            nextRun(schedule),
            pastTense,
          ]),
          ...failed.map((failure) => [failure.schedule_id, '', '', '', colours().red(failure.error)]),
        ],
      );
      writeOut(`${done.length} ${pastTense}${failed.length > 0 ? `, ${failed.length} failed` : ''}`);
    }
  }
  if (failed.length > 0) {
    endWith(failed[0]?.exitCode ?? EXIT.failed);
  }
}

/** `threat-engine schedules ...`. */
export function registerSchedulesCommand(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('scan schedules: list, inspect, create, pause, resume, trigger, delete');

  pageOptions(
    schedules
      .command('list')
      .description("the schedules of a tenant (the token's own) or of one account")
      .option('--tenant <id>', 'the tenant (platform admins)')
      .option('--account <id>', "only this account's")
      .addOption(
        new Option('--status <status>', 'only this status').choices(['active', 'paused', 'disabled']),
      ),
  ).action(
    async (
      options: { tenant?: string; account?: string; status?: string; limit: number; cursor?: string },
      command: Command,
    ) => {
      const { api, json } = contextOf(command);
      const page = await api.get<SchedulePage>('/schedules', {
        tenant_id: options.tenant,
        account_id: options.account,
        status: options.status,
        limit: options.limit,
        cursor: options.cursor,
      });
      if (json) return printJson(page);
      printTable(
        ['SCHEDULE ID', 'NAME', 'ACCOUNT', 'WHEN', 'STATUS', 'NEXT RUN', 'LAST RUN', 'RUNS OK/FAILED'],
        page.schedules.map((schedule) => [
          schedule.schedule_id,
          truncate(schedule.name, 32),
          schedule.account_id,
          expressionOf(schedule),
          status(schedule.status),
          nextRun(schedule),
          when(schedule.last_run_at),
          `${schedule.run_count} ${schedule.success_count}/${schedule.failure_count}`,
        ]),
        'no schedules',
      );
      printNextPage(page.next_cursor);
    },
  );

  schedules
    .command('show')
    .description('one schedule: its definition, next fire times, recent runs and counters')
    .argument('<schedule_id>')
    .addOption(new Option('--fire-times <n>', 'how many next fire times (0..50)').argParser(integerIn(0, 50)))
    .addOption(new Option('--recent-runs <n>', 'how many recent runs (0..100)').argParser(integerIn(0, 100)))
    .action(
      async (scheduleId: string, options: { fireTimes?: number; recentRuns?: number }, command: Command) => {
        const { api, json } = contextOf(command);
        const details = await api.get<ScheduleDetails>(`/schedules/${segment(scheduleId)}`, {
          fire_times: options.fireTimes,
          recent_runs: options.recentRuns,
        });
        if (json) return printJson(details);
        printFields([
          ['schedule', details.schedule_id],
          ['name', details.name],
          ['account', details.account_id],
          ['tenant', details.tenant_id],
          ['when', `${expressionOf(details)} (${details.timezone})`],
          ['status', status(details.status)],
          ...(details.paused_at
            ? [
                [
                  'paused',
                  `${when(details.paused_at)}${details.paused_by ? ` by ${details.paused_by}` : ''}${details.pause_note ? `: ${details.pause_note}` : ''}`,
                ] as const,
              ]
            : []),
          ['overlap', details.overlap_policy ?? 'skip'],
          ['regions', details.regions.length > 0 ? details.regions.join(', ') : 'all'],
          ['services', details.services.length > 0 ? details.services.join(', ') : 'all'],
          ['last run', when(details.last_run_at)],
          [
            'counters',
            Object.entries(details.counters)
              .map(([name, value]) => `${name.replace(/_/g, ' ')} ${value}`)
              .join(', '),
          ],
          ...(details.timing_error ? [['timing error', colours().red(details.timing_error)] as const] : []),
        ]);
        writeOut('');
        writeOut(colours().bold('Next fire times'));
        if (details.next_fire_times.length === 0) writeOut('(none)');
        else writeOut(details.next_fire_times.map((time) => `  ${when(time)}`).join('\n'));
        writeOut('');
        writeOut(colours().bold('Recent runs'));
        printTable(EXECUTION_HEAD, executionRows(details.recent_runs), '(none)');
      },
    );

  schedules
    .command('create')
    .description('create a schedule for an account (tenant admins)')
    .requiredOption('--account <id>', 'the account to scan')
    .requiredOption('--name <name>', 'a name for the schedule')
    .option('--expression <expression>', 'cron(m h dom mon dow y), rate(n unit) or at(yyyy-mm-ddThh:mm:ss)')
    .addOption(
      new Option('--preset <preset>', 'instead of --expression').choices([
        'hourly',
        'daily',
        'weekly',
        'monthly',
        'every_6_hours',
        'every_12_hours',
      ]),
    )
    .option('--timezone <iana>', 'the time zone of the expression', 'UTC')
    .option('--regions <list>', 'comma-separated regions (default: all)', list)
    .option('--services <list>', 'comma-separated services (default: all)', list)
    .option('--exclude-services <list>', 'comma-separated services to leave out', list)
    .addOption(new Option('--overlap <policy>', 'when a run is still going').choices(['skip', 'buffer_one']))
    .addOption(
      new Option('--auto-pause-after <n>', 'pause after n consecutive failures (0 = never)').argParser(
        integerIn(0, 1000),
      ),
    )
    .option('--description <text>')
    .option('--tenant <id>', 'the tenant (platform admins)')
    .action(
      async (
        options: {
          account: string;
          name: string;
          expression?: string;
          preset?: string;
          timezone: string;
          regions?: string[];
          services?: string[];
          excludeServices?: string[];
          overlap?: string;
          autoPauseAfter?: number;
          description?: string;
          tenant?: string;
        },
        command: Command,
      ) => {
        const { api, json } = contextOf(command);
        if (!options.expression && !options.preset) {
          throw new CliError('give --expression or --preset', EXIT.usage);
        }
        const body = Object.fromEntries(
          Object.entries({
            tenant_id: options.tenant,
            account_id: options.account,
            name: options.name,
            description: options.description,
            schedule_expression: options.expression,
            preset: options.preset,
            timezone: options.timezone,
            regions: options.regions,
            services: options.services,
            exclude_services: options.excludeServices,
            overlap_policy: options.overlap,
            auto_pause_after_failures: options.autoPauseAfter,
          }).filter(([, value]) => value !== undefined),
        );
        const schedule = await api.post<ScheduleView>('/schedules', body);
        if (json) return printJson(schedule);
        printFields([
          ['schedule', schedule.schedule_id],
          ['name', schedule.name],
          ['when', `${expressionOf(schedule)} (${schedule.timezone})`],
          ['status', status(schedule.status)],
          ['next run', nextRun(schedule)],
        ]);
      },
    );

  schedules
    .command('pause')
    .description(
      'pause schedules: the ids given, or every active one of an account or a tenant (--account / --tenant)',
    )
    .argument('[schedule_id...]', 'the schedules to pause')
    .option('--account <id>', 'pause every active schedule of this account')
    .option('--tenant <id>', 'pause every active schedule of this tenant')
    .option('--note <text>', 'why (kept on the schedule)')
    .action((ids: string[], options: BulkOptions, command: Command) =>
      changeSchedules('pause', ids, options, command),
    );

  schedules
    .command('resume')
    .description(
      'resume schedules: the ids given, or every paused one of an account or a tenant (--account / --tenant)',
    )
    .argument('[schedule_id...]', 'the schedules to resume')
    .option('--account <id>', 'resume every paused schedule of this account')
    .option('--tenant <id>', 'resume every paused schedule of this tenant')
    .option('--note <text>', 'why')
    .action((ids: string[], options: BulkOptions, command: Command) =>
      changeSchedules('resume', ids, options, command),
    );

  schedules
    .command('trigger')
    .description('start a scan of the schedule now (follow it with: executions history <id> --follow)')
    .argument('<schedule_id>')
    .action(async (scheduleId: string, _options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const answer = await api.post<{ execution_id: string; already_started: boolean; message: string }>(
        `/schedules/${segment(scheduleId)}/trigger`,
      );
      if (json) return printJson(answer);
      writeOut(`${answer.message}: execution ${answer.execution_id}`);
    });

  schedules
    .command('delete')
    .description('delete a schedule and its scheduler entry (its runs stay as history)')
    .argument('<schedule_id>')
    .action(async (scheduleId: string, _options: unknown, command: Command) => {
      const { api, json } = contextOf(command);
      const answer = await api.request<{ message: string }>('DELETE', `/schedules/${segment(scheduleId)}`);
      if (json) return printJson(answer.body);
      writeOut(`deleted schedule ${scheduleId}`);
    });
}
