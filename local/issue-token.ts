import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../functions/api/api-context';
import { loadConfig } from '../functions/core/config';
import { DomainError } from '../functions/core/errors';
import { openLocalTokenIssuer } from './local-token-issuer';

const USAGE = `usage: npm run token -- --tenant <tenant_id> [--role tenant_admin] [--subject <name>] [--ttl 12h]
  --role     one of ${ROLES.join(', ')} (default tenant_admin; platform_admin needs no --tenant)
  --ttl      lifetime: a number of seconds, or with s / m / h / d (default 12h, at most 90d)
Signs with the local runtime's key in $THREAT_ENGINE_DATA_DIR (start the runtime once first).
Prints the token only, so that TOKEN=$(npm run -s token -- ...) works.`;

function seconds(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match)
    throw new Error(`--ttl ${JSON.stringify(value)} is not a duration such as 3600, 30m, 12h or 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `npm run token -- --tenant <id> --role tenant_admin`: a tenant-scoped token for the local API. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      role: { type: 'string', default: 'tenant_admin' },
      subject: { type: 'string' },
      ttl: { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const role = values.role as string;
  if (!(ROLES as readonly string[]).includes(role))
    throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const config = loadConfig(process.env);
  const issuer = await openLocalTokenIssuer({
    dataDirectory: resolve(process.cwd(), config.THREAT_ENGINE_DATA_DIR),
    create: false,
  });
  const token = await issuer.issue({
    role: role as Role,
    tenantId: values.tenant ?? null,
    subject: values.subject,
    ttlSeconds: seconds(values.ttl as string),
  });
  process.stdout.write(`${token}\n`);
}

try {
  await main();
} catch (error) {
  const message = error instanceof DomainError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`threat-engine token: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}
