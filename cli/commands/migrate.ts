import { open, rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { loadConfig } from '../../functions/core/config';
import { ConfigurationError } from '../../functions/core/errors';
import type { Config } from '../../schemas/config';
import { CliError, EXIT } from '../exit-codes';
import { globalOptions } from '../main';
import { runDynamoDbAdoption } from '../migrate/dynamodb-adoption';
import { FernetKeyError, parseFernetKey } from '../migrate/fernet';
import { createMigrationProgress } from '../migrate/migration-progress';
import { formatReport, type MigrationMode, type MigrationReport } from '../migrate/migration-report';
import { type MigrationTarget, openAwsTarget, openLocalTarget } from '../migrate/migration-target';
import { runPostgresMigration } from '../migrate/postgres-migration';
import { PostgresSource } from '../migrate/postgres-source';

interface MigrateOptions {
  dryRun?: boolean;
  verify?: boolean;
  report?: string;
  target: 'local' | 'aws';
}

function modeOf(options: MigrateOptions): MigrationMode {
  if (options.dryRun && options.verify) {
    throw new CliError('give either --dry-run or --verify, not both', EXIT.usage);
  }
  return options.verify ? 'verify' : options.dryRun ? 'dry-run' : 'migrate';
}

function configOf(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliError(error.message, EXIT.usage, { cause: error });
    throw error;
  }
}

async function openTarget(
  config: Config,
  options: MigrateOptions,
  mode: MigrationMode,
): Promise<MigrationTarget> {
  if (options.target === 'aws') {
    try {
      return openAwsTarget(config);
    } catch (error) {
      if (error instanceof ConfigurationError)
        throw new CliError(error.message, EXIT.usage, { cause: error });
      throw error;
    }
  }
  return openLocalTarget(config, { dryRun: mode !== 'migrate' });
}

/** Writes the report next to where it is asked for, then renames it into place (never half-written). */
async function writeReport(path: string, report: MigrationReport): Promise<void> {
  const destination = resolve(process.cwd(), path);
  const temporary = `${destination}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(report, null, 2)}\n`, 'utf8');
  } finally {
    await handle.close();
  }
  await rename(temporary, destination);
}

async function finish(command: Command, options: MigrateOptions, report: MigrationReport): Promise<void> {
  if (options.report) await writeReport(options.report, report);
  process.stdout.write(
    globalOptions(command).json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
  );
  if (!report.ok) {
    const problems = report.failures.length;
    throw new CliError(
      report.mode === 'verify'
        ? `verification found ${problems} records that do not match the source`
        : `${problems} records failed (named in the report with the reason); the others were ${report.mode === 'dry-run' ? 'checked' : 'migrated'}`,
      EXIT.failed,
    );
  }
}

function withCommonOptions(command: Command): Command {
  return command
    .option('--dry-run', 'write nothing; report exactly what a run would create, change or skip')
    .option(
      '--verify',
      'write nothing; compare every source record with the target field by field, and every credential in memory (exit 0 only when all match)',
    )
    .option('--report <file.json>', 'also write the report (counts per table and every failure) to this file')
    .addOption(
      new Option('--target <target>', "where to write: the local runtime's data directory, or AWS")
        .choices(['local', 'aws'])
        .default('local'),
    );
}

/** `threat-engine migrate postgres|dynamodb`: moves the legacy service's data into this one. */
export function registerMigrateCommand(program: Command): void {
  const migrate = program
    .command('migrate')
    .description(
      'move the legacy service\'s data here, ids kept: "postgres" from its PostgreSQL database, "dynamodb" adopting its DynamoDB tables in place',
    );

  withCommonOptions(
    migrate
      .command('postgres')
      .description(
        'migrate the PostgreSQL-era database (credentials decrypted with $CREDENTIAL_ENCRYPTION_KEY, straight into the secret store)',
      )
      .option('--source <postgresql-url>', 'the legacy database (default: $DATABASE_URL)'),
  ).action(async (options: MigrateOptions & { source?: string }, command: Command) => {
    const mode = modeOf(options);
    const sourceUrl = options.source ?? process.env.DATABASE_URL;
    if (!sourceUrl)
      throw new CliError('--source <postgresql-url> is required (or set DATABASE_URL)', EXIT.usage);
    const keyText = process.env.CREDENTIAL_ENCRYPTION_KEY;
    if (!keyText) {
      throw new CliError(
        'CREDENTIAL_ENCRYPTION_KEY must hold the legacy Fernet key (environment only, never a flag)',
        EXIT.usage,
      );
    }
    let key: ReturnType<typeof parseFernetKey>;
    try {
      key = parseFernetKey(keyText);
    } catch (error) {
      if (error instanceof FernetKeyError) {
        throw new CliError(`CREDENTIAL_ENCRYPTION_KEY: ${error.message}`, EXIT.usage, { cause: error });
      }
      throw error;
    }
    const config = configOf(process.env);
    const source = await PostgresSource.connect(sourceUrl).catch((error: unknown) => {
      throw new CliError((error as Error).message, EXIT.unavailable, { cause: error });
    });
    let report: MigrationReport;
    try {
      const target = await openTarget(config, options, mode);
      try {
        report = await runPostgresMigration({
          source,
          key,
          target,
          mode,
          progress: createMigrationProgress(),
        });
      } finally {
        await target.close();
      }
    } finally {
      await source.close().catch(() => undefined);
    }
    await finish(command, options, report);
  });

  withCommonOptions(
    migrate
      .command('dynamodb')
      .description(
        'adopt the legacy DynamoDB tables in place: check every item, fill what this service needs, check every secret, set up the scheduler entries',
      ),
  ).action(async (options: MigrateOptions, command: Command) => {
    const mode = modeOf(options);
    const config = configOf(process.env);
    const target = await openTarget(config, options, mode);
    let report: MigrationReport;
    try {
      report = await runDynamoDbAdoption({ target, mode, progress: createMigrationProgress() });
    } finally {
      await target.close();
    }
    await finish(command, options, report);
  });

  migrate.exitOverride();
  for (const command of migrate.commands) command.exitOverride();
}
