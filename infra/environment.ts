import type { Construct } from 'constructs';
import * as z from 'zod/mini';
import { PROVIDER_TYPES, type ProviderType, preprocessed } from '../schemas/common';

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
const contextBoolean = preprocessed(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ message: 'expected true or false' }),
);

const contextInteger = (min: number, max: number) =>
  preprocessed(
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    z
      .number({ message: `expected a whole number between ${min} and ${max}` })
      .check(
        z.int(`expected a whole number between ${min} and ${max}`),
        z.gte(min, `expected a whole number between ${min} and ${max}`),
        z.lte(max, `expected a whole number between ${min} and ${max}`),
      ),
  );

const contextJson = <T extends z.ZodMiniType>(schema: T) =>
  preprocessed((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);

const httpsUrl = (what: string) =>
  z.string({ message: `expected ${what} as an https URL` }).check(
    z.url(`expected ${what} as an https URL`),
    z.refine((value) => value.startsWith('https://'), `expected ${what} as an https URL`),
  );

const engineUrl = z.string().check(
  z.url('expected an http(s) URL'),
  z.refine((value) => /^https?:\/\//.test(value), 'expected an http(s) URL'),
);

const EngineUrlsSchema = z.pipe(
  z.strictObject(Object.fromEntries(PROVIDER_TYPES.map((provider) => [provider, z.optional(engineUrl)]))),
  z.transform((value) => value as Partial<Record<ProviderType, string>>),
);

const awsId = (prefix: string) =>
  z
    .string()
    .check(
      z.regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `expected an id such as ${prefix}-0123456789abcdef0`),
    );

/**
 * Where the engine-calling functions run when the engines are private (the legacy engines are
 * in-cluster services on EKS): the VPC, the subnets that reach the engines, and how those
 * functions reach AWS services from there (interface endpoints the stack creates, or a NAT the
 * subnets already route to).
 */
export const EngineVpcSchema = z
  .strictObject({
    vpcId: awsId('vpc'),
    subnetIds: z.array(awsId('subnet')).check(z.minLength(1, 'expected at least one subnet id')),
    /** Security groups the functions join (e.g. the EKS cluster security group); default: one the stack creates. */
    securityGroupIds: z._default(z.array(awsId('sg')), []),
    /** `endpoints`: the stack creates the VPC endpoints the functions need; `nat`: the subnets route to a NAT. */
    awsServiceAccess: z._default(z.enum(['endpoints', 'nat']), 'endpoints'),
    /** Route tables of the subnets, for the DynamoDB gateway endpoint (endpoints mode). */
    routeTableIds: z._default(z.array(awsId('rtb')), []),
  })
  .check(
    z.superRefine((value, ctx) => {
      if (value.awsServiceAccess === 'endpoints' && value.routeTableIds.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['routeTableIds'],
          message:
            'expected the route tables of the subnets (the DynamoDB gateway endpoint needs them), or awsServiceAccess "nat"',
        });
      }
    }),
  );
export type EngineVpcSettings = z.infer<typeof EngineVpcSchema>;

/** Channels the stack creates for the domain events (scan failed, credentials rejected…), per kind. */
export const NotificationChannelsSchema = z.strictObject({
  /** E-mail addresses subscribed (after confirmation) to the notifications topic. */
  email: z._default(z.array(z.email('expected an e-mail address')), []),
  /** A Slack incoming webhook (its URL is a secret: given at deploy as the NoEcho SlackWebhookUrl parameter). */
  slack: z._default(contextBoolean, false),
  /** A generic webhook receiving the event as JSON; its API key is the NoEcho WebhookApiKey parameter. */
  webhookUrl: z.optional(httpsUrl('the webhook')),
});

export const ThreatEngineEnvironmentSchema = z
  .object({
    /** Short name used in the stack name and resource descriptions (e.g. dev, staging, prod). */
    envName: z
      .string()
      .check(
        z.regex(
          /^[a-z][a-z0-9-]{0,19}$/,
          'expected 1-20 lower-case letters, digits or dashes, starting with a letter',
        ),
      ),
    /** Target account (12 digits); omit for an environment-agnostic template. */
    account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id'))),
    region: z.optional(
      z
        .string()
        .check(
          z.regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region such as ap-south-1'),
        ),
    ),
    /** Use the six legacy tables that already exist (exact legacy names) instead of creating them. */
    adoptLegacyTables: z._default(contextBoolean, false),
    /**
     * Prefix of the physical names this stack creates: tables (unless adopted), the schedule group
     * and the key aliases. Empty keeps the legacy names. Lets several environments share an account.
     */
    namePrefix: z._default(
      z
        .string()
        .check(
          z.regex(
            /^([a-z0-9][a-z0-9-]{0,30}-)?$/,
            'expected lower-case letters, digits and dashes ending with a dash',
          ),
        ),
      '',
    ),
    /** SECRETS_MANAGER_PREFIX: secrets live at `{prefix}/account/{account_id}`. */
    secretsPrefix: z._default(
      z
        .string()
        .check(
          z.regex(
            /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/,
            'expected a Secrets Manager name prefix without a trailing slash',
          ),
        ),
      'threat-engine',
    ),
    /**
     * An existing KMS key (ARN) that already encrypts the legacy secrets. When set, no key is
     * created and the functions are granted through IAM (the key policy must delegate to IAM).
     */
    secretsKmsKeyArn: z.optional(
      z
        .string()
        .check(
          z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'expected a KMS key ARN'),
        ),
    ),
    /** Scan-engine base URLs per provider (*_ENGINE_URL); providers without one cannot be scanned. */
    engineUrls: z._default(contextJson(EngineUrlsSchema), {}),
    /** JWT issuer the API authorizer trusts; when unset it is a required stack parameter. */
    oidcIssuer: z.optional(httpsUrl('the OIDC issuer')),
    /** JWT audiences (client ids) the API authorizer accepts; when unset, a stack parameter. */
    oidcAudience: z.optional(
      contextJson(
        z.union([
          z.pipe(
            z.string().check(z.minLength(1)),
            z.transform((value) => value.split(',').map((part) => part.trim())),
          ),
          z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
        ]),
      ),
    ),
    /**
     * The operator console's public OIDC client (hosted login, authorization code + PKCE) at the
     * issuer; it must be one of the accepted audiences. Unset: operators paste a token.
     */
    consoleOidcClientId: z.optional(
      z.string().check(z.regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'expected a client id of A-Z a-z 0-9 _ : . -')),
    ),
    /** The account customers' roles trust (PLATFORM_AWS_ACCOUNT_ID); default: the deploying account. */
    platformAwsAccountId: z.optional(
      z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit AWS account id')),
    ),
    logRetentionDays: z._default(
      contextInteger(1, 3653).check(
        z.refine((days: number) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
          message: `expected one of ${LOG_RETENTION_DAYS.join(', ')}`,
        }),
      ),
      90,
    ),
    /** Sets TimeToLiveSpecification on created executions/claims tables (attribute from the table definitions). */
    executionsTtlAttributeEnabled: z._default(contextBoolean, true),
    logLevel: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL']), 'INFO'),
    /** Subscribed (after confirmation) to the notification topic: failed executions and alarms. */
    alarmEmail: z.optional(z.email('expected an e-mail address')),
    /** Steady-state requests per second and burst accepted by the API stage. */
    apiThrottleRateLimit: z._default(contextInteger(1, 10_000), 50),
    apiThrottleBurstLimit: z._default(contextInteger(1, 5_000), 100),
    /** Browser origins allowed by CORS; none by default (the legacy `*` was a defect). */
    corsAllowOrigins: z._default(
      contextJson(
        z.array(
          z
            .string()
            .check(
              z.regex(
                /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/,
                'expected origins such as https://console.example.com (never *)',
              ),
            ),
        ),
      ),
      [],
    ),
    /**
     * `essential` (default): the execution, API and dead-letter alarms, which every failure a user
     * sees reaches (a failing or throttled task fails its execution; a throttled API answers 5xx);
     * `all`: also an error and a throttle alarm per function, to tell which one (README "Cost").
     */
    operationalAlarms: z._default(z.enum(['all', 'essential']), 'essential'),
    /** Create the CloudWatch dashboard ($3 a month beyond an account's three free ones). */
    dashboard: z._default(contextBoolean, true),
    /** Optional reserved concurrency for the API function and for each task function. */
    apiReservedConcurrency: z.optional(contextInteger(1, 1000)),
    taskReservedConcurrency: z.optional(contextInteger(1, 1000)),
    /** Places the engine-calling functions in a VPC (required for http:// engines). */
    engineVpc: z.optional(contextJson(EngineVpcSchema)),
    /** SCAN_MAX_SECONDS: the longest scan; the scan state machine's timeout is derived from it. */
    scanMaxSeconds: z._default(contextInteger(60, 7 * 86_400), 4 * 3600),
    /** SCAN_BUFFER_MAX_WAIT_SECONDS: how long a buffered run waits behind a running scan. */
    scanBufferMaxWaitSeconds: z._default(contextInteger(60, 86_400), 3600),
    /** How often the stuck-run sweep runs (minutes). */
    stuckRunSweepMinutes: z._default(contextInteger(5, 1440), 15),
    /** Where the domain events are delivered, per channel kind. */
    notificationChannels: z._default(contextJson(NotificationChannelsSchema), { email: [], slack: false }),
    /** Base URL of the operator console, for links in notifications; default: the API URL. */
    consoleUrl: z.optional(httpsUrl('the console')),
    /** OAuth scopes every authenticated route requires (JWT `scope`/`scp`); none by default. */
    oidcRequiredScopes: z._default(
      contextJson(z.array(z.string().check(z.regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected a scope')))),
      [],
    ),
  })
  .check(
    z.superRefine((value, ctx) => {
      // A plain-http engine is acceptable only on a private network path (credentials travel in the body).
      if (value.engineVpc) return;
      for (const [provider, url] of Object.entries(value.engineUrls)) {
        if (url?.startsWith('http://')) {
          ctx.addIssue({
            code: 'custom',
            path: ['engineUrls', provider],
            message: `${url} is plain http: scan credentials would cross the network unencrypted. Use an https:// engine URL, or set engineVpc to call it inside the VPC (see "Deploying next to the legacy EKS engines" in README.md)`,
          });
        }
      }
    }),
  );

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
