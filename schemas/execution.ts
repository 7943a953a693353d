import * as z from 'zod/mini';
import { IdSchema, ProviderTypeSchema, TimestampSchema } from './common';

/** Legacy: running, completed, failed, cancelled. New terminal outcomes are listed after them. */
export const ExecutionStatusSchema = z.enum([
  'running',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'aborted',
  'skipped',
  'duplicate',
]);
export type ExecutionStatus = z.infer<typeof ExecutionStatusSchema>;
export const TERMINAL_EXECUTION_STATUSES = ExecutionStatusSchema.options.filter(
  (status) => status !== 'running',
);

export const TriggeredBySchema = z.enum(['scheduler', 'manual', 'api']);
export type TriggeredBy = z.infer<typeof TriggeredBySchema>;

export const ExecutionSchema = z.looseObject({
  execution_id: IdSchema,
  schedule_id: z.nullish(z.string()),
  account_id: IdSchema,
  started_at: TimestampSchema,
  completed_at: z.nullish(TimestampSchema),
  status: ExecutionStatusSchema,
  triggered_by: z._default(TriggeredBySchema, 'scheduler'),
  scan_id: z.nullish(z.string()),
  total_checks: z.nullish(z.number().check(z.int(), z.nonnegative())),
  passed_checks: z.nullish(z.number().check(z.int(), z.nonnegative())),
  failed_checks: z.nullish(z.number().check(z.int(), z.nonnegative())),
  error_message: z.nullish(z.string()),
  execution_time_seconds: z.nullish(z.number().check(z.nonnegative())),
  // New fields.
  tenant_id: z.optional(IdSchema),
  provider_type: z.optional(ProviderTypeSchema),
  scheduled_time: z.nullish(TimestampSchema),
  workflow_execution_name: z.nullish(z.string()),
  workflow_execution_arn: z.nullish(z.string()),
  current_step: z.nullish(z.string()),
  progress_percent: z.nullish(z.number().check(z.gte(0), z.lte(100))),
  engine_scan_id: z.nullish(z.string()),
  error_code: z.nullish(z.string()),
  updated_at: z.nullish(TimestampSchema),
});
export type Execution = z.infer<typeof ExecutionSchema>;
