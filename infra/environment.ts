import type { Construct } from 'constructs';
import { z } from 'zod';
import { PROVIDER_TYPES, type ProviderType } from '../schemas/common';

/**
 * One deployment environment, read from CDK context. `cdk.json` holds named environments under
 * `environments`; `-c env=<name>` selects one (default `dev`) and any key below passed as
 * `-c key=value` overrides it. Nothing account-specific is hard-coded: without `account`/`region`
 * the stack is environment-agnostic and takes both from the deploying credentials.
 */

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** `-c key=value` always yields strings; cdk.json yields JSON values. Accept both. */
const contextBoolean = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ message: 'expected true or false' }),
);

const contextInteger = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    z
      .number({ message: `expected a whole number between ${min} and ${max}` })
      .int(`expected a whole number between ${min} and ${max}`)
      .min(min, `expected a whole number between ${min} and ${max}`)
      .max(max, `expected a whole number between ${min} and ${max}`),
  );

const contextJson = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);

const httpsUrl = (what: string) =>
  z
    .string({ message: `expected ${what} as an https URL` })
    .url(`expected ${what} as an https URL`)
    .refine((value) => value.startsWith('https://'), `expected ${what} as an https URL`);

const engineUrl = z
  .string()
  .url('expected an http(s) URL')
  .refine((value) => /^https?:\/\//.test(value), 'expected an http(s) URL');

const EngineUrlsSchema = z
  .object(Object.fromEntries(PROVIDER_TYPES.map((provider) => [provider, engineUrl.optional()])))
  .strict()
  .transform((value) => value as Partial<Record<ProviderType, string>>);

export const ThreatEngineEnvironmentSchema = z.object({
  /** Short name used in the stack name and resource descriptions (e.g. dev, staging, prod). */
  envName: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,19}$/,
      'expected 1-20 lower-case letters, digits or dashes, starting with a letter',
    ),
  /** Target account (12 digits); omit for an environment-agnostic template. */
  account: z
    .string()
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region such as ap-south-1')
    .optional(),
  /** Use the six legacy tables that already exist (exact legacy names) instead of creating them. */
  adoptLegacyTables: contextBoolean.default(false),
  /**
   * Prefix of the physical names this stack creates: tables (unless adopted), the schedule group
   * and the key aliases. Empty keeps the legacy names. Lets several environments share an account.
   */
  namePrefix: z
    .string()
    .regex(
      /^([a-z0-9][a-z0-9-]{0,30}-)?$/,
      'expected lower-case letters, digits and dashes ending with a dash',
    )
    .default(''),
  /** SECRETS_MANAGER_PREFIX: secrets live at `{prefix}/account/{account_id}`. */
  secretsPrefix: z
    .string()
    .regex(
      /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/,
      'expected a Secrets Manager name prefix without a trailing slash',
    )
    .default('threat-engine'),
  /**
   * An existing KMS key (ARN) that already encrypts the legacy secrets. When set, no key is
   * created and the functions are granted through IAM (the key policy must delegate to IAM).
   */
  secretsKmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'expected a KMS key ARN')
    .optional(),
  /** Scan-engine base URLs per provider (*_ENGINE_URL); providers without one cannot be scanned. */
  engineUrls: contextJson(EngineUrlsSchema).default({}),
  /** JWT issuer the API authorizer trusts; when unset it is a required stack parameter. */
  oidcIssuer: httpsUrl('the OIDC issuer').optional(),
  /** JWT audiences (client ids) the API authorizer accepts; when unset, a stack parameter. */
  oidcAudience: contextJson(
    z.union([
      z
        .string()
        .min(1)
        .transform((value) => value.split(',').map((part) => part.trim())),
      z.array(z.string().min(1)).min(1),
    ]),
  ).optional(),
  /**
   * The operator console's public OIDC client (hosted login, authorization code + PKCE) at the
   * issuer; it must be one of the accepted audiences. Unset: operators paste a token.
   */
  consoleOidcClientId: z
    .string()
    .regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'expected a client id of A-Z a-z 0-9 _ : . -')
    .optional(),
  /** The account customers' roles trust (PLATFORM_AWS_ACCOUNT_ID); default: the deploying account. */
  platformAwsAccountId: z
    .string()
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
    .optional(),
  logRetentionDays: contextInteger(1, 3653)
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `expected one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .default(90),
  /** Sets TimeToLiveSpecification on created executions/claims tables (attribute from the table definitions). */
  executionsTtlAttributeEnabled: contextBoolean.default(true),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL']).default('INFO'),
  /** Subscribed (after confirmation) to the notification topic: failed executions and alarms. */
  alarmEmail: z.email('expected an e-mail address').optional(),
  /** Steady-state requests per second and burst accepted by the API stage. */
  apiThrottleRateLimit: contextInteger(1, 10_000).default(50),
  apiThrottleBurstLimit: contextInteger(1, 5_000).default(100),
  /** Browser origins allowed by CORS; none by default (the legacy `*` was a defect). */
  corsAllowOrigins: contextJson(
    z.array(
      z
        .string()
        .regex(
          /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/,
          'expected origins such as https://console.example.com (never *)',
        ),
    ),
  ).default([]),
  /** Optional reserved concurrency for the API function and for each task function. */
  apiReservedConcurrency: contextInteger(1, 1000).optional(),
  taskReservedConcurrency: contextInteger(1, 1000).optional(),
});

export type ThreatEngineEnvironment = z.infer<typeof ThreatEngineEnvironmentSchema>;

/** The context keys this app reads (besides `env` and `environments`). */
export const ENVIRONMENT_CONTEXT_KEYS = Object.keys(ThreatEngineEnvironmentSchema.shape).filter(
  (key) => key !== 'envName',
);

export class EnvironmentContextError extends Error {
  override readonly name = 'EnvironmentContextError';
  constructor(
    message: string,
    readonly issues: readonly { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Parses one environment's settings; every problem names its context key. */
export function parseEnvironment(settings: Record<string, unknown>): ThreatEngineEnvironment {
  const result = ThreatEngineEnvironmentSchema.safeParse(settings);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(context)',
    message: issue.message,
  }));
  throw new EnvironmentContextError(
    `invalid CDK context for environment ${JSON.stringify(settings.envName)}: ${issues
      .map((issue) => `${issue.field}: ${issue.message}`)
      .join('; ')}`,
    issues,
  );
}

/** Reads the selected environment from a construct's context (cdk.json and `-c` flags). */
export function environmentFromContext(scope: Construct): ThreatEngineEnvironment {
  const envName = String(scope.node.tryGetContext('env') ?? 'dev');
  const environments: unknown = scope.node.tryGetContext('environments') ?? {};
  if (typeof environments !== 'object' || environments === null || Array.isArray(environments)) {
    throw new EnvironmentContextError(
      'invalid CDK context: environments: expected an object of named environments',
    );
  }
  const named = (environments as Record<string, unknown>)[envName];
  if (named !== undefined && (typeof named !== 'object' || named === null || Array.isArray(named))) {
    throw new EnvironmentContextError(`invalid CDK context: environments.${envName}: expected an object`);
  }
  const overrides = Object.fromEntries(
    ENVIRONMENT_CONTEXT_KEYS.flatMap((key) => {
      const value: unknown = scope.node.tryGetContext(key);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  return parseEnvironment({ ...(named as Record<string, unknown> | undefined), ...overrides, envName });
}
