import { z } from 'zod';
import { IdSchema, ProviderTypeSchema, TimestampSchema } from './common';

export const ScheduleTypeSchema = z.enum(['cron', 'interval', 'one_time']);
export type ScheduleType = z.infer<typeof ScheduleTypeSchema>;

export const ScheduleStatusSchema = z.enum(['active', 'paused', 'disabled']);
export type ScheduleStatus = z.infer<typeof ScheduleStatusSchema>;

export const OverlapPolicySchema = z.enum(['skip', 'buffer_one']);
export type OverlapPolicy = z.infer<typeof OverlapPolicySchema>;

/** Legacy stored `enabled` as the strings 'true'/'false' (it is a GSI key); booleans still read. */
export const EnabledFlagSchema = z.union([
  z.enum(['true', 'false']),
  z.boolean().transform((v) => (v ? 'true' : 'false')),
]);

const countField = z.number().int().nonnegative().default(0);

/** A schedule item as stored: the legacy fields, then the new ones (all optional on read). */
export const ScheduleSchema = z.looseObject({
  schedule_id: IdSchema,
  tenant_id: IdSchema,
  account_id: IdSchema,
  name: z.string(),
  description: z.string().nullish(),
  schedule_type: ScheduleTypeSchema,
  cron_expression: z.string().nullish(),
  interval_seconds: z.number().int().positive().nullish(),
  timezone: z.string().default('UTC'),
  regions: z.array(z.string()).default([]),
  services: z.array(z.string()).default([]),
  exclude_services: z.array(z.string()).default([]),
  status: ScheduleStatusSchema,
  enabled: EnabledFlagSchema,
  provider_type: ProviderTypeSchema.nullish(),
  run_count: countField,
  success_count: countField,
  failure_count: countField,
  last_run_at: TimestampSchema.nullish(),
  next_run_at: TimestampSchema.nullish(),
  notify_on_success: z.boolean().default(false),
  notify_on_failure: z.boolean().default(true),
  notification_channels: z.unknown().optional(),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  // New fields.
  schedule_expression: z.string().nullish(),
  start_date: TimestampSchema.nullish(),
  end_date: TimestampSchema.nullish(),
  flexible_window_minutes: z.number().int().min(0).max(1440).nullish(),
  overlap_policy: OverlapPolicySchema.nullish(),
  skipped_count: countField,
  missed_count: countField,
  consecutive_failures: countField,
  auto_pause_after_failures: z.number().int().min(0).nullish(),
  paused_at: TimestampSchema.nullish(),
  paused_by: z.string().nullish(),
  pause_note: z.string().nullish(),
  scheduler_entry_name: z.string().nullish(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

/** The counters a finished run adds to (atomic ADD, never read-modify-write). */
export const ScheduleCounterSchema = z.enum([
  'run_count',
  'success_count',
  'failure_count',
  'skipped_count',
  'missed_count',
]);
export type ScheduleCounter = z.infer<typeof ScheduleCounterSchema>;
