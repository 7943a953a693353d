import { Command, CommanderError, Option } from 'commander';
import { CommandOutcome } from './command-context';
import { registerAccountsCommand } from './commands/accounts';
import { registerExecutionsCommand } from './commands/executions';
import { registerHealthCommand } from './commands/health';
import { registerMigrateCommand } from './commands/migrate';
import { registerScanResultsCommand } from './commands/scan-results';
import { registerSchedulerCommand } from './commands/scheduler';
import { registerSchedulesCommand } from './commands/schedules';
import { registerTenantsCommand } from './commands/tenants';
import { registerTokenCommand } from './commands/token';
import { CliError, EXIT, type ExitCode } from './exit-codes';

/** Options every command accepts (given before or after the command name). */
export interface GlobalOptions {
  /** Base URL of the API (default: the local runtime at http://127.0.0.1:$PORT). */
  url?: string;
  /** Bearer token (default: $THREAT_ENGINE_TOKEN, else the local runtime's admin.token). */
  token?: string;
  /** Machine output: the API's own JSON, one document per command. */
  json: boolean;
}

/** The global options as seen from inside any subcommand's action. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The `threat-engine` program: every command registers itself here. */
export function buildProgram(): Command {
  const program = new Command('threat-engine')
    .description('Operate the threat-engine orchestrator: the local runtime or a deployed API.')
    .addOption(new Option('--url <base>', 'API base URL (default: http://127.0.0.1:$PORT, PORT=3000)'))
    .addOption(
      new Option(
        '--token <jwt>',
        'bearer token (default: $THREAT_ENGINE_TOKEN, else $THREAT_ENGINE_DATA_DIR/admin.token)',
      ),
    )
    .option('--json', "machine output: the API's own JSON", false)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerTokenCommand(program);
  registerHealthCommand(program);
  registerTenantsCommand(program);
  registerAccountsCommand(program);
  registerSchedulesCommand(program);
  registerExecutionsCommand(program);
  registerScanResultsCommand(program);
  registerSchedulerCommand(program);
  registerMigrateCommand(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Runs the command line and answers its exit code; errors are one line on stderr, no stack. */
export async function runCli(argv: readonly string[]): Promise<ExitCode> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exits without failure; commander has already printed its message.
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof CommandOutcome) return error.exitCode;
    if (error instanceof CliError) {
      process.stderr.write(`threat-engine: ${oneLine(error.message)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`threat-engine: ${oneLine(message)}\n`);
    return EXIT.failed;
  }
}
