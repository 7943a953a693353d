import { type Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient } from './api-client';
import { CliError, type ExitCode } from './exit-codes';
import type { GlobalOptions } from './main';
import { colours, writeOut } from './output';

/** What every API command works with: the client and whether to print JSON. */
export interface CommandContext {
  api: ApiClient;
  json: boolean;
}

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  return { api: ApiClient.from({ url: options.url, token: options.token }), json: Boolean(options.json) };
}

/** A whole number from `min` to `max` (commander argument parser). */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`not a whole number from ${min} to ${max}`);
    const number = Number(value);
    if (number < min || number > max)
      throw new InvalidArgumentError(`not a whole number from ${min} to ${max}`);
    return number;
  };
}

/** `--limit` and `--cursor` of a paginated listing. */
export function pageOptions(command: Command, defaultLimit = 25): Command {
  return command
    .addOption(
      new Option('--limit <n>', 'at most this many (1..100)')
        .argParser(integerIn(1, 100))
        .default(defaultLimit),
    )
    .option('--cursor <cursor>', 'the next page: the cursor a previous page printed');
}

/** Under a human listing: how to get the next page. */
export function printNextPage(nextCursor: string | null | undefined): void {
  if (nextCursor) writeOut(colours().dim(`more: add --cursor ${nextCursor}`));
}

/** Sets the exit code the command ends with (without an error line). */
export function endWith(code: ExitCode): void {
  if (code !== 0) throw new CommandOutcome(code);
}

/** Not an error: the command printed what it had to and ends with a non-zero code. */
export class CommandOutcome extends CliError {
  override name = 'CommandOutcome';
  constructor(exitCode: ExitCode) {
    super('', exitCode);
  }
}
