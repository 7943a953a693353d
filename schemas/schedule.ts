import { z } from 'zod';
import { DisplayTextSchema, IdSchema, ProviderTypeSchema, TimestampSchema } from './common';
import {
  SCHEDULE_PRESETS,
  ScheduleExpressionSchema,
  SchedulePresetSchema,
  TimezoneSchema,
} from './schedule-expression';

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

// ---------------------------------------------------------------------------------------------
// Request bodies (POST /schedules, PUT /schedules/{id}, pause and resume)

const NameListSchema = z
  .array(
    z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .regex(/^[A-Za-z0-9_.:-]+$/, 'must be a region or service name'),
  )
  .max(200, 'must hold at most 200 names');

const ScheduleNameSchema = DisplayTextSchema(256).pipe(z.string().min(1, 'must not be empty'));
const DescriptionSchema = z.string().max(1024, 'must be at most 1024 characters');
const ChannelTextSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters');
/**
 * Where run notifications go: the legacy object (`{"email": ["ops@example.com"], "slack": "…"}`,
 * channel name → a target, a list of targets or an on/off flag), or a list of targets.
 */
export const NotificationChannelsSchema = z.union(
  [
    z.array(ChannelTextSchema).max(20, 'must hold at most 20 channels'),
    z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'channel names are 1-64 characters of A-Z a-z 0-9 _ . -'),
        z.union([ChannelTextSchema, z.boolean(), z.array(ChannelTextSchema).max(20)]),
      )
      .refine((channels) => Object.keys(channels).length <= 20, 'must hold at most 20 channels'),
  ],
  { error: 'expected an object of channels ({"email": ["ops@example.com"]}) or a list of targets' },
);
/** Legacy clients may send the number of a form field as text ("3600"), as the legacy service accepted. */
const IntervalSecondsSchema = z
  .union([
    z.number(),
    z
      .string()
      .trim()
      .regex(/^\d{1,10}$/, 'must be a whole number of seconds')
      .transform(Number),
  ])
  .pipe(z.number().int('must be a whole number of seconds').positive('must be a positive number of seconds'));
const FlexibleWindowSchema = z
  .number()
  .int('must be a whole number of minutes')
  .min(0, 'must be 0 (off) to 1440 minutes')
  .max(1440, 'must be 0 (off) to 1440 minutes');
const AutoPauseSchema = z
  .number()
  .int('must be a whole number of failures')
  .min(0, 'must be 0 (never) to 1000')
  .max(1000, 'must be 0 (never) to 1000');
const LegacyCronSchema = z.string().trim().min(1, 'must not be empty').max(256);

/** The schedule type an expression's form implies: cron(…) → cron, rate(…) → interval, at(…) → one_time. */
export function scheduleTypeOfExpression(expression: string): ScheduleType {
  const text = expression.trim();
  if (text.startsWith('rate(')) return 'interval';
  if (text.startsWith('at(')) return 'one_time';
  return 'cron';
}

interface DefinitionFields {
  schedule_type?: ScheduleType | undefined;
  cron_expression?: string | null | undefined;
  interval_seconds?: number | null | undefined;
  schedule_expression?: string | null | undefined;
  preset?: keyof typeof SCHEDULE_PRESETS | undefined;
  next_run_at?: string | null | undefined;
  start_date?: string | null | undefined;
  end_date?: string | null | undefined;
}

const LEGACY_FIELD_OF_TYPE = {
  cron: ['cron_expression', 'a 5-field cron (or cron(…) in AWS syntax)'],
  interval: ['interval_seconds', 'the interval in seconds (a multiple of 60)'],
  one_time: ['next_run_at', 'the ISO-8601 time the one_time schedule runs'],
} as const satisfies Record<ScheduleType, readonly [keyof DefinitionFields, string]>;

/**
 * The checks a body can make on its own (every issue names its field): one way of saying when
 * (schedule_expression, preset, or the legacy fields of schedule_type), a schedule_type that
 * agrees with the expression, and an end after the start. What needs the expression parser
 * (ranges, L/W/#, the time zone of an at(), fire times) is checked by the schedule service.
 */
function checkDefinition(value: DefinitionFields, ctx: z.RefinementCtx, complete: boolean): void {
  if (value.schedule_expression && value.preset) {
    ctx.addIssue({
      code: 'custom',
      path: ['preset'],
      message: 'give either schedule_expression or preset, not both',
    });
  }
  const expression = value.schedule_expression ?? (value.preset ? SCHEDULE_PRESETS[value.preset] : undefined);
  if (expression && value.schedule_type && scheduleTypeOfExpression(expression) !== value.schedule_type) {
    ctx.addIssue({
      code: 'custom',
      path: ['schedule_type'],
      message: `is '${value.schedule_type}' but ${value.preset ? 'the preset' : 'schedule_expression'} is a ${scheduleTypeOfExpression(expression)} expression: omit schedule_type or make them agree`,
    });
  }
  if (complete && !expression) {
    const type = value.schedule_type ?? 'cron';
    const [field, what] = LEGACY_FIELD_OF_TYPE[type];
    const given = value[field];
    if (given === undefined || given === null || given === '') {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `is required when schedule_type is ${type} and neither schedule_expression nor preset is given: ${what}`,
      });
    }
  }
  if (value.start_date && value.end_date && Date.parse(value.end_date) <= Date.parse(value.start_date)) {
    ctx.addIssue({ code: 'custom', path: ['end_date'], message: 'must be after start_date' });
  }
}

/** A preset becomes its expression, and schedule_type follows the expression when not given. */
function normalizeDefinition<T extends DefinitionFields>(
  value: T,
): Omit<T, 'preset'> & { schedule_expression?: string | null | undefined } {
  const { preset, ...rest } = value;
  const expression = rest.schedule_expression ?? (preset ? SCHEDULE_PRESETS[preset] : undefined);
  return {
    ...rest,
    ...(expression ? { schedule_expression: expression } : {}),
    ...(expression && !rest.schedule_type ? { schedule_type: scheduleTypeOfExpression(expression) } : {}),
  };
}

/**
 * The body that creates a schedule: the legacy fields (schedule_type with cron_expression,
 * interval_seconds, or next_run_at for one_time) or the new `schedule_expression` (EventBridge
 * Scheduler syntax: cron(6 fields), rate(n unit), at(yyyy-mm-ddThh:mm:ss)) or a `preset`; an IANA
 * time zone; start and end dates (end after start); a flexible window; the overlap policy;
 * auto-pause after N consecutive failures (0 = never; absent = the service's default);
 * notification settings. `account_id` is required by POST /schedules (the service says so, naming
 * it); the onboarding workflow's first schedule takes it from the account being onboarded.
 * `tenant_id`, when given (legacy clients send it), must be the caller's tenant.
 * Output: the preset is replaced by its expression and schedule_type follows the expression.
 */
export const CreateScheduleInputSchema = z
  .strictObject({
    tenant_id: IdSchema.optional(),
    account_id: IdSchema.optional(),
    name: ScheduleNameSchema,
    description: DescriptionSchema.nullish(),
    schedule_type: ScheduleTypeSchema.optional(),
    cron_expression: LegacyCronSchema.nullish(),
    interval_seconds: IntervalSecondsSchema.nullish(),
    schedule_expression: ScheduleExpressionSchema.nullish(),
    preset: SchedulePresetSchema.optional(),
    next_run_at: TimestampSchema.nullish(),
    timezone: TimezoneSchema.default('UTC'),
    regions: NameListSchema.default([]),
    services: NameListSchema.default([]),
    exclude_services: NameListSchema.default([]),
    notify_on_success: z.boolean().default(false),
    notify_on_failure: z.boolean().default(true),
    notification_channels: NotificationChannelsSchema.default({}),
    overlap_policy: OverlapPolicySchema.default('skip'),
    flexible_window_minutes: FlexibleWindowSchema.default(0),
    start_date: TimestampSchema.nullish(),
    end_date: TimestampSchema.nullish(),
    auto_pause_after_failures: AutoPauseSchema.nullish(),
  })
  .superRefine((value, ctx) => checkDefinition(value, ctx, true))
  .transform((value) => {
    const normalized = normalizeDefinition(value);
    return { ...normalized, schedule_type: normalized.schedule_type ?? 'cron' };
  });
export type CreateScheduleInput = z.input<typeof CreateScheduleInputSchema>;
export type CreateScheduleRequest = z.output<typeof CreateScheduleInputSchema>;

/**
 * The body that changes a schedule (PUT /schedules/{id}): any definition field, at least one;
 * `null` clears an optional one. The account and tenant of a schedule never change. The merged
 * result is checked again by the service (it knows the stored fields).
 */
export const UpdateScheduleInputSchema = z
  .strictObject({
    name: ScheduleNameSchema.optional(),
    description: DescriptionSchema.nullish(),
    schedule_type: ScheduleTypeSchema.optional(),
    cron_expression: LegacyCronSchema.nullish(),
    interval_seconds: IntervalSecondsSchema.nullish(),
    schedule_expression: ScheduleExpressionSchema.nullish(),
    preset: SchedulePresetSchema.optional(),
    next_run_at: TimestampSchema.nullish(),
    timezone: TimezoneSchema.optional(),
    regions: NameListSchema.optional(),
    services: NameListSchema.optional(),
    exclude_services: NameListSchema.optional(),
    notify_on_success: z.boolean().optional(),
    notify_on_failure: z.boolean().optional(),
    notification_channels: NotificationChannelsSchema.nullish(),
    overlap_policy: OverlapPolicySchema.optional(),
    flexible_window_minutes: FlexibleWindowSchema.optional(),
    start_date: TimestampSchema.nullish(),
    end_date: TimestampSchema.nullish(),
    auto_pause_after_failures: AutoPauseSchema.nullish(),
  })
  .superRefine((value, ctx) => {
    if (Object.values(value).every((field) => field === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'at least one field must be given' });
    }
    checkDefinition(value, ctx, false);
  })
  .transform((value) => normalizeDefinition(value));
export type UpdateScheduleInput = z.input<typeof UpdateScheduleInputSchema>;
export type UpdateScheduleRequest = z.output<typeof UpdateScheduleInputSchema>;

/** The body of POST /schedules/{id}/pause (who pauses comes from the caller's identity). */
export const PauseScheduleInputSchema = z.strictObject({
  note: DisplayTextSchema(1024).optional(),
});
export type PauseScheduleInput = z.infer<typeof PauseScheduleInputSchema>;

/** The body of POST /schedules/{id}/resume. */
export const ResumeScheduleInputSchema = z.strictObject({
  note: DisplayTextSchema(1024).optional(),
});
export type ResumeScheduleInput = z.infer<typeof ResumeScheduleInputSchema>;
