import * as z from 'zod/mini';
import './zod-locale';

/**
 * The environment this service reads, with the legacy variable names and defaults
 * (see the legacy README) plus what the local runtime needs. Parsed once at start-up.
 */

const tableName = (fallback: string) =>
  z._default(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)'),
      ),
    fallback,
  );

const optionalUrl = z.optional(
  z.string().check(
    z.url('expected an http(s) URL'),
    z.refine((value) => /^https?:\/\//.test(value), 'expected an http(s) URL'),
  ),
);

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;

const arn = z.string().check(z.regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/, 'expected an ARN'));

const seconds = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a number of seconds' })
    .check(
      z.int('expected a whole number of seconds'),
      z.gte(min, `expected at least ${min} seconds`),
      z.lte(max, `expected at most ${max} seconds`),
    );

const booleanFlag = z.pipe(
  z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' }),
  z.transform((value) => value === 'true' || value === '1' || value === 'yes'),
);

export const ConfigSchema = z.object({
  AWS_REGION: z._default(
    z
      .string()
      .check(z.regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region such as ap-south-1')),
    'ap-south-1',
  ),
  DYNAMODB_TENANTS_TABLE: tableName('threat-engine-tenants'),
  DYNAMODB_PROVIDERS_TABLE: tableName('threat-engine-providers'),
  DYNAMODB_ACCOUNTS_TABLE: tableName('threat-engine-accounts'),
  DYNAMODB_SCHEDULES_TABLE: tableName('threat-engine-schedules'),
  DYNAMODB_EXECUTIONS_TABLE: tableName('threat-engine-executions'),
  DYNAMODB_SCAN_RESULTS_TABLE: tableName('threat-engine-scan-results'),
  /** New (not legacy): unique-name claims and API idempotency records. */
  DYNAMODB_CLAIMS_TABLE: tableName('threat-engine-claims'),
  SECRETS_MANAGER_PREFIX: z._default(
    z.pipe(
      z
        .string()
        .check(
          z.regex(
            /^[A-Za-z0-9/_+=.@-]{1,256}$/,
            'expected a Secrets Manager name prefix (A-Z a-z 0-9 / _ + = . @ -)',
          ),
        ),
      z.transform((value) => value.replace(/\/+$/, '')),
    ),
    'threat-engine',
  ),
  SECRETS_MANAGER_KMS_KEY_ID: z.optional(
    z.string().check(z.minLength(1, 'expected a KMS key id, ARN or alias')),
  ),
  PLATFORM_AWS_ACCOUNT_ID: z._default(
    z.string().check(z.regex(/^(\d{12})?$/, 'expected a 12-digit AWS account id or an empty value')),
    '',
  ),
  AWS_ENGINE_URL: optionalUrl,
  AZURE_ENGINE_URL: optionalUrl,
  GCP_ENGINE_URL: optionalUrl,
  ALICLOUD_ENGINE_URL: optionalUrl,
  OCI_ENGINE_URL: optionalUrl,
  IBM_ENGINE_URL: optionalUrl,
  LOG_LEVEL: z._default(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((value) => {
          const upper = value.toUpperCase();
          return upper === 'WARNING' ? 'WARN' : upper;
        }),
      ),
      z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }),
    ),
    'INFO',
  ),
  // Set by the CDK app on AWS: where workflows and scheduler entries live.
  ONBOARDING_STATE_MACHINE_ARN: z.optional(arn),
  VALIDATION_STATE_MACHINE_ARN: z.optional(arn),
  SCAN_STATE_MACHINE_ARN: z.optional(arn),
  SCHEDULE_GROUP_NAME: z._default(
    z.string().check(z.regex(/^[0-9a-zA-Z-_.]{1,64}$/, 'expected a schedule group name')),
    'threat-engine-scans',
  ),
  SCHEDULER_ROLE_ARN: z.optional(arn),
  SCHEDULER_DLQ_ARN: z.optional(arn),
  /** Tunables of the scan workflow (seconds). */
  ENGINE_REQUEST_TIMEOUT_SECONDS: z._default(seconds(1, 900), 300),
  SCAN_LOCK_LEASE_SECONDS: z._default(seconds(60, 86_400), 900),
  SCAN_MAX_SECONDS: z._default(seconds(60, 7 * 86_400), 4 * 3600),
  /** How long a run may wait behind a running scan of its account (overlap policy buffer_one). */
  SCAN_BUFFER_MAX_WAIT_SECONDS: z._default(seconds(60, 86_400), 3600),
  /** The stuck-run sweep leaves records younger than this alone (their workflow may still record them). */
  STUCK_RUN_MIN_AGE_SECONDS: z._default(seconds(60, 86_400), 900),
  /** Set by the CDK app: the bus the tasks publish domain events to. */
  EVENT_BUS_NAME: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9._\-/]{1,256}$/, 'expected an EventBridge event bus name')),
  ),
  /** Base URL of the operator console, for the links notifications carry. */
  CONSOLE_BASE_URL: optionalUrl,
  /** Local runtime: webhook channels of the in-process bus (a Slack incoming webhook, a generic one). */
  THREAT_ENGINE_SLACK_WEBHOOK_URL: optionalUrl,
  THREAT_ENGINE_WEBHOOK_URL: optionalUrl,
  /** Scans of one tenant running at once (the others wait in order); 0 = no bound. */
  SCAN_MAX_RUNNING_PER_TENANT: z._default(
    z.coerce
      .number({ message: 'expected a whole number' })
      .check(
        z.int('expected a whole number'),
        z.gte(0, 'expected 0 (no bound) or more'),
        z.lte(1000, 'expected at most 1000'),
      ),
    10,
  ),
  SCHEDULE_AUTO_PAUSE_AFTER_FAILURES: z._default(
    z.coerce
      .number({ message: 'expected a whole number' })
      .check(z.int('expected a whole number'), z.gte(0, 'expected 0 (never) or more')),
    5,
  ),
  // Local runtime only.
  PORT: z._default(
    z.coerce
      .number({ message: 'expected a port number' })
      .check(
        z.int('expected a whole port number'),
        z.gte(0, 'expected a port between 0 (any free port) and 65535'),
        z.lte(65535, 'expected a port between 0 (any free port) and 65535'),
      ),
    3000,
  ),
  THREAT_ENGINE_DATA_DIR: z._default(
    z.string().check(z.minLength(1, 'expected a directory path')),
    '.threat-engine',
  ),
  /** Accept structurally valid credentials without the provider's live check (offline trials only). */
  THREAT_ENGINE_VALIDATE_OFFLINE: z._default(booleanFlag, false),
  /** How the local engine simulator answers when no *_ENGINE_URL is set. */
  THREAT_ENGINE_SIMULATOR_MODE: z._default(
    z.enum(['sync', 'async'], { message: 'expected sync or async' }),
    'sync',
  ),
  /** Local scheduler: run the latest slot missed while stopped if it is at most this many minutes old. */
  THREAT_ENGINE_CATCH_UP_MINUTES: z._default(
    z.coerce
      .number({ message: 'expected a number of minutes' })
      .check(z.int('expected a whole number of minutes'), z.gte(0, 'expected 0 or more minutes')),
    0,
  ),
});

export type Config = z.infer<typeof ConfigSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Names of the variables that hold table names, keyed by logical table. */
export const TABLE_NAME_VARIABLES = {
  tenants: 'DYNAMODB_TENANTS_TABLE',
  providers: 'DYNAMODB_PROVIDERS_TABLE',
  accounts: 'DYNAMODB_ACCOUNTS_TABLE',
  schedules: 'DYNAMODB_SCHEDULES_TABLE',
  executions: 'DYNAMODB_EXECUTIONS_TABLE',
  scanResults: 'DYNAMODB_SCAN_RESULTS_TABLE',
  claims: 'DYNAMODB_CLAIMS_TABLE',
} as const satisfies Record<string, keyof Config>;
