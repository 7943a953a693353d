import * as z from 'zod';
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
  schedule_id: z.string().nullish(),
  account_id: IdSchema,
  started_at: TimestampSchema,
  completed_at: TimestampSchema.nullish(),
  status: ExecutionStatusSchema,
  triggered_by: TriggeredBySchema.default('scheduler'),
  scan_id: z.string().nullish(),
  total_checks: z.number().int().nonnegative().nullish(),
  passed_checks: z.number().int().nonnegative().nullish(),
  failed_checks: z.number().int().nonnegative().nullish(),
  error_message: z.string().nullish(),
  execution_time_seconds: z.number().nonnegative().nullish(),
  // New fields.
  tenant_id: IdSchema.optional(),
  provider_type: ProviderTypeSchema.optional(),
  scheduled_time: TimestampSchema.nullish(),
  workflow_execution_name: z.string().nullish(),
  workflow_execution_arn: z.string().nullish(),
  current_step: z.string().nullish(),
  progress_percent: z.number().min(0).max(100).nullish(),
  engine_scan_id: z.string().nullish(),
  error_code: z.string().nullish(),
  updated_at: TimestampSchema.nullish(),
});
export type Execution = z.infer<typeof ExecutionSchema>;
