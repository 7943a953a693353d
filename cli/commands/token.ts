import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ROLES, type Role } from '../../functions/api/api-context';
import { loadConfig } from '../../functions/core/config';
import { ValidationError } from '../../functions/core/errors';
import { openLocalTokenIssuer, rotateLocalSigningKey } from '../../local/local-token-issuer';
import { CliError, EXIT } from '../exit-codes';

/** A duration in seconds: a number, or a number with s / m / h / d. */
export function parseDurationSeconds(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('not a duration such as 3600, 30m, 12h or 7d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `threat-engine token`: a token signed with the local runtime's key (prints the token only). */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description(
      "issue a token for the local API, signed with the local runtime's key in $THREAT_ENGINE_DATA_DIR (start the runtime once first); prints the token only, so TOKEN=$(npx threat-engine token ...) works",
    )
    .option('--tenant <tenant_id>', 'the tenant the token acts for (platform_admin needs none)')
    .addOption(new Option('--role <role>', 'role of the token').choices(ROLES).default('tenant_admin'))
    .option('--subject <name>', 'subject (sub) of the token')
    .option(
      '--ttl <duration>',
      'lifetime: seconds, or with s / m / h / d (at most 90d)',
      parseDurationSeconds,
      12 * 3600,
    )
    .option(
      '--rotate-key',
      'revoke every token issued so far: replace the signing key (a running runtime refuses the old tokens at once) and write a new admin.token',
    )
    .action(
      async (options: {
        tenant?: string;
        role: Role;
        subject?: string;
        ttl: number;
        rotateKey?: boolean;
      }) => {
        const config = loadConfig(process.env);
        const dataDirectory = resolve(process.cwd(), config.THREAT_ENGINE_DATA_DIR);
        if (options.rotateKey) {
          await rotateLocalSigningKey(dataDirectory);
          const adminTokenPath = await (
            await openLocalTokenIssuer({ dataDirectory, create: false })
          ).writeAdminToken();
          process.stdout.write(
            `signing key rotated: every token issued before is refused from now on; a new platform-admin token is in ${adminTokenPath}\n`,
          );
          return;
        }
        const issuer = await openLocalTokenIssuer({ dataDirectory, create: false });
        const token = await issuer
          .issue({
            role: options.role,
            tenantId: options.tenant ?? null,
            subject: options.subject,
            ttlSeconds: options.ttl,
          })
          .catch((error: unknown) => {
            throw error instanceof ValidationError
              ? new CliError(error.message, EXIT.usage, { cause: error })
              : error;
          });
        process.stdout.write(`${token}\n`);
      },
    );
}
