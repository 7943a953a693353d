import { z } from 'zod';

/**
 * The environment this service reads, with the legacy variable names and defaults
 * (see the legacy README) plus what the local runtime needs. Parsed once at start-up.
 */

const tableName = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)')
    .default(fallback);

const optionalUrl = z
  .string()
  .url('expected an http(s) URL')
  .refine((value) => /^https?:\/\//.test(value), 'expected an http(s) URL')
  .optional();

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;

const arn = z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/, 'expected an ARN');

const seconds = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a number of seconds' })
    .int('expected a whole number of seconds')
    .min(min, `expected at least ${min} seconds`)
    .max(max, `expected at most ${max} seconds`);

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const ConfigSchema = z.object({
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'expected an AWS region such as ap-south-1')
    .default('ap-south-1'),
  DYNAMODB_TENANTS_TABLE: tableName('threat-engine-tenants'),
  DYNAMODB_PROVIDERS_TABLE: tableName('threat-engine-providers'),
  DYNAMODB_ACCOUNTS_TABLE: tableName('threat-engine-accounts'),
  DYNAMODB_SCHEDULES_TABLE: tableName('threat-engine-schedules'),
  DYNAMODB_EXECUTIONS_TABLE: tableName('threat-engine-executions'),
  DYNAMODB_SCAN_RESULTS_TABLE: tableName('threat-engine-scan-results'),
  /** New (not legacy): unique-name claims and API idempotency records. */
  DYNAMODB_CLAIMS_TABLE: tableName('threat-engine-claims'),
  SECRETS_MANAGER_PREFIX: z
    .string()
    .regex(
      /^[A-Za-z0-9/_+=.@-]{1,256}$/,
      'expected a Secrets Manager name prefix (A-Z a-z 0-9 / _ + = . @ -)',
    )
    .transform((value) => value.replace(/\/+$/, ''))
    .default('threat-engine'),
  SECRETS_MANAGER_KMS_KEY_ID: z.string().min(1, 'expected a KMS key id, ARN or alias').optional(),
  PLATFORM_AWS_ACCOUNT_ID: z
    .string()
    .regex(/^(\d{12})?$/, 'expected a 12-digit AWS account id or an empty value')
    .default(''),
  AWS_ENGINE_URL: optionalUrl,
  AZURE_ENGINE_URL: optionalUrl,
  GCP_ENGINE_URL: optionalUrl,
  ALICLOUD_ENGINE_URL: optionalUrl,
  OCI_ENGINE_URL: optionalUrl,
  IBM_ENGINE_URL: optionalUrl,
  LOG_LEVEL: z
    .string()
    .transform((value) => {
      const upper = value.toUpperCase();
      return upper === 'WARNING' ? 'WARN' : upper;
    })
    .pipe(z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }))
    .default('INFO'),
  // Set by the CDK app on AWS: where workflows and scheduler entries live.
  ONBOARDING_STATE_MACHINE_ARN: arn.optional(),
  VALIDATION_STATE_MACHINE_ARN: arn.optional(),
  SCAN_STATE_MACHINE_ARN: arn.optional(),
  SCHEDULE_GROUP_NAME: z
    .string()
    .regex(/^[0-9a-zA-Z-_.]{1,64}$/, 'expected a schedule group name')
    .default('threat-engine-scans'),
  SCHEDULER_ROLE_ARN: arn.optional(),
  SCHEDULER_DLQ_ARN: arn.optional(),
  /** Tunables of the scan workflow (seconds). */
  ENGINE_REQUEST_TIMEOUT_SECONDS: seconds(1, 900).default(300),
  SCAN_LOCK_LEASE_SECONDS: seconds(60, 86_400).default(900),
  SCAN_MAX_SECONDS: seconds(60, 7 * 86_400).default(4 * 3600),
  /** How long a run may wait behind a running scan of its account (overlap policy buffer_one). */
  SCAN_BUFFER_MAX_WAIT_SECONDS: seconds(60, 86_400).default(3600),
  /** The stuck-run sweep leaves records younger than this alone (their workflow may still record them). */
  STUCK_RUN_MIN_AGE_SECONDS: seconds(60, 86_400).default(900),
  /** Set by the CDK app: the bus the tasks publish domain events to. */
  EVENT_BUS_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._\-/]{1,256}$/, 'expected an EventBridge event bus name')
    .optional(),
  /** Base URL of the operator console, for the links notifications carry. */
  CONSOLE_BASE_URL: optionalUrl,
  /** Local runtime: webhook channels of the in-process bus (a Slack incoming webhook, a generic one). */
  THREAT_ENGINE_SLACK_WEBHOOK_URL: optionalUrl,
  THREAT_ENGINE_WEBHOOK_URL: optionalUrl,
  SCHEDULE_AUTO_PAUSE_AFTER_FAILURES: z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(0, 'expected 0 (never) or more')
    .default(5),
  // Local runtime only.
  PORT: z.coerce
    .number({ message: 'expected a port number' })
    .int('expected a whole port number')
    .min(0, 'expected a port between 0 (any free port) and 65535')
    .max(65535, 'expected a port between 0 (any free port) and 65535')
    .default(3000),
  THREAT_ENGINE_DATA_DIR: z.string().min(1, 'expected a directory path').default('.threat-engine'),
  /** Accept structurally valid credentials without the provider's live check (offline trials only). */
  THREAT_ENGINE_VALIDATE_OFFLINE: booleanFlag.default(false),
  /** How the local engine simulator answers when no *_ENGINE_URL is set. */
  THREAT_ENGINE_SIMULATOR_MODE: z
    .enum(['sync', 'async'], { message: 'expected sync or async' })
    .default('sync'),
  /** Local scheduler: run the latest slot missed while stopped if it is at most this many minutes old. */
  THREAT_ENGINE_CATCH_UP_MINUTES: z.coerce
    .number({ message: 'expected a number of minutes' })
    .int('expected a whole number of minutes')
    .min(0, 'expected 0 or more minutes')
    .default(0),
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
