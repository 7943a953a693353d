import * as z from 'zod/mini';
import { IdSchema, ProviderTypeSchema, preprocessed, TimestampSchema } from './common';
import { TriggeredBySchema } from './execution';

/**
 * What flows between workflow states: ids, references, counts and statuses. Every schema is
 * strict about what a task reads; none has room for a credential value.
 */

export const ScanRequestSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  schedule_id: z.nullish(IdSchema),
  /** `<aws.scheduler.scheduled-time>` on AWS; the slot's time locally. */
  scheduled_time: z.nullish(TimestampSchema),
  triggered_by: TriggeredBySchema,
  /** Set by the API for manual runs so it can answer with the id at once. */
  execution_id: z.nullish(IdSchema),
});
export type ScanRequest = z.infer<typeof ScanRequestSchema>;

export const ClaimScanInputSchema = z.object({
  request: ScanRequestSchema,
  workflow_execution_name: z.string().check(z.minLength(1)),
  workflow_execution_arn: z.string().check(z.minLength(1)),
  workflow_started_at: z.optional(z.string()),
});
export type ClaimScanInput = z.infer<typeof ClaimScanInputSchema>;

export const ClaimOutcomeSchema = z.enum([
  'claimed',
  'buffered',
  /** Waiting for one of the tenant's running-scan places (its bound), in order. */
  'queued',
  'duplicate',
  'skipped_overlap',
  'account_not_active',
  'schedule_not_active',
]);
export type ClaimOutcome = z.infer<typeof ClaimOutcomeSchema>;

/**
 * What the claim read and the later scan steps need (no credential, nothing secret), so they do
 * not read the execution, account and schedule records again. Optional in the steps' inputs:
 * without it they read the records.
 */
export const ScanContextSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  provider_type: ProviderTypeSchema,
  account_number: z.nullish(z.string()),
  /** For the run's notification (the name at the claim). */
  account_name: z.nullish(z.string()),
  schedule_id: z.nullish(IdSchema),
  triggered_by: TriggeredBySchema,
  /** The execution record's start time. */
  started_at: TimestampSchema,
  /** The schedule's scope (empty lists: everything). */
  regions: z._default(z.array(z.string()), []),
  services: z._default(z.array(z.string()), []),
  exclude_services: z._default(z.array(z.string()), []),
});
export type ScanContext = z.infer<typeof ScanContextSchema>;

export const ClaimScanOutputSchema = z.object({
  outcome: ClaimOutcomeSchema,
  execution_id: IdSchema,
  /** Buffered or queued: how long the workflow waits before claiming again. */
  wait_seconds: z.optional(z.number().check(z.int(), z.gte(1))),
  /** Set when the slot was claimed. */
  scan: z.optional(ScanContextSchema),
});
export type ClaimScanOutput = z.infer<typeof ClaimScanOutputSchema>;

export const VerifyStoredCredentialsInputSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  execution_id: z.optional(IdSchema),
});
export type VerifyStoredCredentialsInput = z.infer<typeof VerifyStoredCredentialsInputSchema>;

export const VerificationSchema = z.object({
  account_number: z.string(),
  validated_at: z.string(),
  validated_offline: z.boolean(),
});
export type Verification = z.infer<typeof VerificationSchema>;

export const ScanSummaryStateSchema = z.object({
  total_checks: z.number().check(z.int(), z.nonnegative()),
  passed_checks: z.number().check(z.int(), z.nonnegative()),
  failed_checks: z.number().check(z.int(), z.nonnegative()),
  error_checks: z.number().check(z.int(), z.nonnegative()),
});

/** The engine's side of a scan, as carried between the start, poll and record states. */
export const EngineStateSchema = z.object({
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  engine_scan_id: z.string(),
  started_at: z.string(),
  polls: z.number().check(z.int(), z.nonnegative()),
  wait_seconds: z.number().check(z.int(), z.positive()),
  summary: z.nullish(ScanSummaryStateSchema),
  message: z.nullish(z.string()),
});
export type EngineState = z.infer<typeof EngineStateSchema>;

export const StartScanInputSchema = z.object({
  execution_id: IdSchema,
  account_id: IdSchema,
  scan: z.optional(ScanContextSchema),
  /** The validation step's outcome: its account number is the one the provider confirmed. */
  validation: z.optional(z.looseObject({ account_number: z.string() })),
});
export type StartScanInput = z.infer<typeof StartScanInputSchema>;

export const EngineStepInputSchema = z.object({
  execution_id: IdSchema,
  account_id: IdSchema,
  engine: EngineStateSchema,
  scan: z.optional(ScanContextSchema),
});
export type EngineStepInput = z.infer<typeof EngineStepInputSchema>;

export const CaughtFailureSchema = z.nullish(
  z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }),
);

export const FailScanInputSchema = z.object({
  request: z.looseObject({
    tenant_id: z.optional(z.string()),
    account_id: z.optional(z.string()),
    schedule_id: z.nullish(z.string()),
    scheduled_time: z.nullish(z.string()),
    triggered_by: z.optional(z.string()),
    execution_id: z.nullish(z.string()),
    claim: z.optional(ClaimScanOutputSchema),
    engine: z.optional(EngineStateSchema),
    failure: CaughtFailureSchema,
  }),
  workflow_execution_name: z.string().check(z.minLength(1)),
});
export type FailScanInput = z.infer<typeof FailScanInputSchema>;

export const OnboardingRequestSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  onboarding_id: IdSchema,
  secret_version_id: z.string().check(z.minLength(1)),
  first_schedule: z.nullish(z.record(z.string(), z.unknown())),
});
export type OnboardingRequest = z.infer<typeof OnboardingRequestSchema>;

export const VerifyStagedCredentialsInputSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  secret_version_id: z.string().check(z.minLength(1)),
});

export const PromoteCredentialsInputSchema = z.object({
  account_id: IdSchema,
  secret_version_id: z.string().check(z.minLength(1)),
});

export const CompleteOnboardingInputSchema = z.object({
  account_id: IdSchema,
  onboarding_id: IdSchema,
  verification: VerificationSchema,
});

export const CreateFirstScheduleInputSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  onboarding_id: IdSchema,
  schedule: z.record(z.string(), z.unknown()),
});

export const FailOnboardingInputSchema = z.object({
  account_id: IdSchema,
  onboarding_id: IdSchema,
  secret_version_id: z.string().check(z.minLength(1)),
  failure: CaughtFailureSchema,
});

export const ValidationRequestSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  triggered_by: z._default(TriggeredBySchema, 'api'),
});

export const RecordValidationFailureInputSchema = z.object({
  account_id: IdSchema,
  failure: CaughtFailureSchema,
});

const TerminatedStatusSchema = z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']);
const WorkflowNameSchema = z.enum(['onboarding', 'validation', 'scan']);

const parseJsonInput = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return {};
  }
};

/**
 * An execution that ended without its own states recording it. Locally the orchestrator sends
 * this shape; on AWS an EventBridge "Step Functions Execution Status Change" event arrives and is
 * mapped here (the workflow is the suffix of the state machine's name).
 */
export const ExecutionTerminatedEventSchema = preprocessed(
  (value) => {
    if (!value || typeof value !== 'object' || !('detail' in value)) return value;
    const detail = (value as { detail: Record<string, unknown> }).detail;
    const stateMachineArn = String(detail.stateMachineArn ?? '');
    const workflow = /(onboarding|validation|scan)$/.exec(stateMachineArn)?.[1];
    return {
      workflow,
      executionArn: detail.executionArn,
      name: detail.name,
      status: detail.status,
      input: detail.input,
      error: detail.error ?? undefined,
      cause: detail.cause ?? undefined,
    };
  },
  z.object({
    workflow: WorkflowNameSchema,
    executionArn: z.string().check(z.minLength(1)),
    name: z.string().check(z.minLength(1)),
    status: TerminatedStatusSchema,
    input: preprocessed(parseJsonInput, z.record(z.string(), z.unknown())),
    error: z.nullish(z.string()),
    cause: z.nullish(z.string()),
  }),
);
export type ExecutionTerminated = z.infer<typeof ExecutionTerminatedEventSchema>;
