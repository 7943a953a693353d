import * as z from 'zod';
import { IdSchema, ProviderTypeSchema, TimestampSchema } from './common';
import { TriggeredBySchema } from './execution';

/**
 * What flows between workflow states: ids, references, counts and statuses. Every schema is
 * strict about what a task reads; none has room for a credential value.
 */

export const ScanRequestSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  schedule_id: IdSchema.nullish(),
  /** `<aws.scheduler.scheduled-time>` on AWS; the slot's time locally. */
  scheduled_time: TimestampSchema.nullish(),
  triggered_by: TriggeredBySchema,
  /** Set by the API for manual runs so it can answer with the id at once. */
  execution_id: IdSchema.nullish(),
});
export type ScanRequest = z.infer<typeof ScanRequestSchema>;

export const ClaimScanInputSchema = z.object({
  request: ScanRequestSchema,
  workflow_execution_name: z.string().min(1),
  workflow_execution_arn: z.string().min(1),
  workflow_started_at: z.string().optional(),
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
  account_number: z.string().nullish(),
  /** For the run's notification (the name at the claim). */
  account_name: z.string().nullish(),
  schedule_id: IdSchema.nullish(),
  triggered_by: TriggeredBySchema,
  /** The execution record's start time. */
  started_at: TimestampSchema,
  /** The schedule's scope (empty lists: everything). */
  regions: z.array(z.string()).default([]),
  services: z.array(z.string()).default([]),
  exclude_services: z.array(z.string()).default([]),
});
export type ScanContext = z.infer<typeof ScanContextSchema>;

export const ClaimScanOutputSchema = z.object({
  outcome: ClaimOutcomeSchema,
  execution_id: IdSchema,
  /** Buffered or queued: how long the workflow waits before claiming again. */
  wait_seconds: z.number().int().min(1).optional(),
  /** Set when the slot was claimed. */
  scan: ScanContextSchema.optional(),
});
export type ClaimScanOutput = z.infer<typeof ClaimScanOutputSchema>;

export const VerifyStoredCredentialsInputSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  execution_id: IdSchema.optional(),
});
export type VerifyStoredCredentialsInput = z.infer<typeof VerifyStoredCredentialsInputSchema>;

export const VerificationSchema = z.object({
  account_number: z.string(),
  validated_at: z.string(),
  validated_offline: z.boolean(),
});
export type Verification = z.infer<typeof VerificationSchema>;

export const ScanSummaryStateSchema = z.object({
  total_checks: z.number().int().nonnegative(),
  passed_checks: z.number().int().nonnegative(),
  failed_checks: z.number().int().nonnegative(),
  error_checks: z.number().int().nonnegative(),
});

/** The engine's side of a scan, as carried between the start, poll and record states. */
export const EngineStateSchema = z.object({
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  engine_scan_id: z.string(),
  started_at: z.string(),
  polls: z.number().int().nonnegative(),
  wait_seconds: z.number().int().positive(),
  summary: ScanSummaryStateSchema.nullish(),
  message: z.string().nullish(),
});
export type EngineState = z.infer<typeof EngineStateSchema>;

export const StartScanInputSchema = z.object({
  execution_id: IdSchema,
  account_id: IdSchema,
  scan: ScanContextSchema.optional(),
  /** The validation step's outcome: its account number is the one the provider confirmed. */
  validation: z.object({ account_number: z.string() }).loose().optional(),
});
export type StartScanInput = z.infer<typeof StartScanInputSchema>;

export const EngineStepInputSchema = z.object({
  execution_id: IdSchema,
  account_id: IdSchema,
  engine: EngineStateSchema,
  scan: ScanContextSchema.optional(),
});
export type EngineStepInput = z.infer<typeof EngineStepInputSchema>;

export const CaughtFailureSchema = z
  .object({ Error: z.string().optional(), Cause: z.string().optional() })
  .nullish();

export const FailScanInputSchema = z.object({
  request: z
    .object({
      tenant_id: z.string().optional(),
      account_id: z.string().optional(),
      schedule_id: z.string().nullish(),
      scheduled_time: z.string().nullish(),
      triggered_by: z.string().optional(),
      execution_id: z.string().nullish(),
      claim: ClaimScanOutputSchema.optional(),
      engine: EngineStateSchema.optional(),
      failure: CaughtFailureSchema,
    })
    .loose(),
  workflow_execution_name: z.string().min(1),
});
export type FailScanInput = z.infer<typeof FailScanInputSchema>;

export const OnboardingRequestSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  onboarding_id: IdSchema,
  secret_version_id: z.string().min(1),
  first_schedule: z.record(z.string(), z.unknown()).nullish(),
});
export type OnboardingRequest = z.infer<typeof OnboardingRequestSchema>;

export const VerifyStagedCredentialsInputSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  secret_version_id: z.string().min(1),
});

export const PromoteCredentialsInputSchema = z.object({
  account_id: IdSchema,
  secret_version_id: z.string().min(1),
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
  secret_version_id: z.string().min(1),
  failure: CaughtFailureSchema,
});

export const ValidationRequestSchema = z.object({
  tenant_id: IdSchema,
  account_id: IdSchema,
  triggered_by: TriggeredBySchema.default('api'),
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
export const ExecutionTerminatedEventSchema = z.preprocess(
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
    executionArn: z.string().min(1),
    name: z.string().min(1),
    status: TerminatedStatusSchema,
    input: z.preprocess(parseJsonInput, z.record(z.string(), z.unknown())),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
);
export type ExecutionTerminated = z.infer<typeof ExecutionTerminatedEventSchema>;
