import * as z from 'zod/mini';
import { DisplayTextSchema, IdSchema, ProviderTypeSchema, quoted, TimestampSchema } from './common';
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
  z.pipe(
    z.boolean(),
    z.transform((v) => (v ? 'true' : 'false')),
  ),
]);

const countField = z._default(z.number().check(z.int(), z.nonnegative()), 0);

/** A schedule item as stored: the legacy fields, then the new ones (all optional on read). */
export const ScheduleSchema = z.looseObject({
  schedule_id: IdSchema,
  tenant_id: IdSchema,
  account_id: IdSchema,
  name: z.string(),
  description: z.nullish(z.string()),
  schedule_type: ScheduleTypeSchema,
  cron_expression: z.nullish(z.string()),
  interval_seconds: z.nullish(z.number().check(z.int(), z.positive())),
  timezone: z._default(z.string(), 'UTC'),
  regions: z._default(z.array(z.string()), []),
  services: z._default(z.array(z.string()), []),
  exclude_services: z._default(z.array(z.string()), []),
  status: ScheduleStatusSchema,
  enabled: EnabledFlagSchema,
  provider_type: z.nullish(ProviderTypeSchema),
  run_count: countField,
  success_count: countField,
  failure_count: countField,
  last_run_at: z.nullish(TimestampSchema),
  next_run_at: z.nullish(TimestampSchema),
  notify_on_success: z._default(z.boolean(), false),
  notify_on_failure: z._default(z.boolean(), true),
  notification_channels: z.optional(z.unknown()),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  // New fields.
  schedule_expression: z.nullish(z.string()),
  start_date: z.nullish(TimestampSchema),
  end_date: z.nullish(TimestampSchema),
  flexible_window_minutes: z.nullish(z.number().check(z.int(), z.gte(0), z.lte(1440))),
  overlap_policy: z.nullish(OverlapPolicySchema),
  skipped_count: countField,
  missed_count: countField,
  consecutive_failures: countField,
  auto_pause_after_failures: z.nullish(z.number().check(z.int(), z.gte(0))),
  paused_at: z.nullish(TimestampSchema),
  paused_by: z.nullish(z.string()),
  pause_note: z.nullish(z.string()),
  resumed_at: z.nullish(TimestampSchema),
  resumed_by: z.nullish(z.string()),
  resume_note: z.nullish(z.string()),
  scheduler_entry_name: z.nullish(z.string()),
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
      .check(
        z.trim(),
        z.minLength(1, 'must not be empty'),
        z.maxLength(64, 'must be at most 64 characters'),
        z.regex(/^[A-Za-z0-9_.:-]+$/, 'must be a region or service name'),
      ),
  )
  .check(z.maxLength(200, 'must hold at most 200 names'));

const ScheduleNameSchema = z.pipe(
  DisplayTextSchema(256),
  z.string().check(z.minLength(1, 'must not be empty')),
);
const DescriptionSchema = z.string().check(z.maxLength(1024, 'must be at most 1024 characters'));
const ChannelTextSchema = z
  .string()
  .check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(512, 'must be at most 512 characters'));
/**
 * Where run notifications go: the legacy object (`{"email": ["ops@example.com"], "slack": "…"}`,
 * channel name → a target, a list of targets or an on/off flag), or a list of targets.
 */
export const NotificationChannelsSchema = z.union(
  [
    z.array(ChannelTextSchema).check(z.maxLength(20, 'must hold at most 20 channels')),
    z
      .record(
        z
          .string()
          .check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'channel names are 1-64 characters of A-Z a-z 0-9 _ . -')),
        z.union([ChannelTextSchema, z.boolean(), z.array(ChannelTextSchema).check(z.maxLength(20))]),
      )
      .check(z.refine((channels) => Object.keys(channels).length <= 20, 'must hold at most 20 channels')),
  ],
  { error: 'expected an object of channels ({"email": ["ops@example.com"]}) or a list of targets' },
);
/** Legacy clients may send the number of a form field as text ("3600"), as the legacy service accepted. */
const IntervalSecondsSchema = z.pipe(
  z.union([
    z.number(),
    z.pipe(
      z.string().check(z.trim(), z.regex(/^\d{1,10}$/, 'must be a whole number of seconds')),
      z.transform(Number),
    ),
  ]),
  z
    .number()
    .check(z.int('must be a whole number of seconds'), z.positive('must be a positive number of seconds')),
);
const FlexibleWindowSchema = z
  .number()
  .check(
    z.int('must be a whole number of minutes'),
    z.gte(0, 'must be 0 (off) to 1440 minutes'),
    z.lte(1440, 'must be 0 (off) to 1440 minutes'),
  );
const AutoPauseSchema = z
  .number()
  .check(
    z.int('must be a whole number of failures'),
    z.gte(0, 'must be 0 (never) to 1000'),
    z.lte(1000, 'must be 0 (never) to 1000'),
  );
const LegacyCronSchema = z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(256));

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
function checkDefinition(
  value: DefinitionFields,
  ctx: z.core.$RefinementCtx<DefinitionFields>,
  complete: boolean,
): void {
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
      message: `is ${quoted(value.schedule_type)} but ${value.preset ? 'the preset' : 'schedule_expression'} is a ${scheduleTypeOfExpression(expression)} expression: omit schedule_type or make them agree`,
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
export const CreateScheduleInputSchema = z.pipe(
  z
    .strictObject({
      tenant_id: z.optional(IdSchema),
      account_id: z.optional(IdSchema),
      name: ScheduleNameSchema,
      description: z.nullish(DescriptionSchema),
      schedule_type: z.optional(ScheduleTypeSchema),
      cron_expression: z.nullish(LegacyCronSchema),
      interval_seconds: z.nullish(IntervalSecondsSchema),
      schedule_expression: z.nullish(ScheduleExpressionSchema),
      preset: z.optional(SchedulePresetSchema),
      next_run_at: z.nullish(TimestampSchema),
      timezone: z._default(TimezoneSchema, 'UTC'),
      regions: z._default(NameListSchema, []),
      services: z._default(NameListSchema, []),
      exclude_services: z._default(NameListSchema, []),
      notify_on_success: z._default(z.boolean(), false),
      notify_on_failure: z._default(z.boolean(), true),
      notification_channels: z._default(NotificationChannelsSchema, {}),
      overlap_policy: z._default(OverlapPolicySchema, 'skip'),
      flexible_window_minutes: z._default(FlexibleWindowSchema, 0),
      start_date: z.nullish(TimestampSchema),
      end_date: z.nullish(TimestampSchema),
      auto_pause_after_failures: z.nullish(AutoPauseSchema),
    })
    .check(z.superRefine((value, ctx) => checkDefinition(value, ctx, true))),
  z.transform((value) => {
    const normalized = normalizeDefinition(value);
    return { ...normalized, schedule_type: normalized.schedule_type ?? 'cron' };
  }),
);
export type CreateScheduleInput = z.input<typeof CreateScheduleInputSchema>;
export type CreateScheduleRequest = z.output<typeof CreateScheduleInputSchema>;

/**
 * The body that changes a schedule (PUT /schedules/{id}): any definition field, at least one;
 * `null` clears an optional one. The account and tenant of a schedule never change. The merged
 * result is checked again by the service (it knows the stored fields).
 */
export const UpdateScheduleInputSchema = z.pipe(
  z
    .strictObject({
      name: z.optional(ScheduleNameSchema),
      description: z.nullish(DescriptionSchema),
      schedule_type: z.optional(ScheduleTypeSchema),
      cron_expression: z.nullish(LegacyCronSchema),
      interval_seconds: z.nullish(IntervalSecondsSchema),
      schedule_expression: z.nullish(ScheduleExpressionSchema),
      preset: z.optional(SchedulePresetSchema),
      next_run_at: z.nullish(TimestampSchema),
      timezone: z.optional(TimezoneSchema),
      regions: z.optional(NameListSchema),
      services: z.optional(NameListSchema),
      exclude_services: z.optional(NameListSchema),
      notify_on_success: z.optional(z.boolean()),
      notify_on_failure: z.optional(z.boolean()),
      notification_channels: z.nullish(NotificationChannelsSchema),
      overlap_policy: z.optional(OverlapPolicySchema),
      flexible_window_minutes: z.optional(FlexibleWindowSchema),
      start_date: z.nullish(TimestampSchema),
      end_date: z.nullish(TimestampSchema),
      auto_pause_after_failures: z.nullish(AutoPauseSchema),
    })
    .check(
      z.superRefine((value, ctx) => {
        if (Object.values(value).every((field) => field === undefined)) {
          ctx.addIssue({ code: 'custom', path: [], message: 'at least one field must be given' });
        }
        checkDefinition(value, ctx, false);
      }),
    ),
  z.transform((value) => normalizeDefinition(value)),
);
export type UpdateScheduleInput = z.input<typeof UpdateScheduleInputSchema>;
export type UpdateScheduleRequest = z.output<typeof UpdateScheduleInputSchema>;

/** The body of POST /schedules/{id}/pause (who pauses comes from the caller's identity). */
export const PauseScheduleInputSchema = z.strictObject({
  note: z.optional(DisplayTextSchema(1024)),
});
export type PauseScheduleInput = z.infer<typeof PauseScheduleInputSchema>;

/** The body of POST /schedules/{id}/resume. */
export const ResumeScheduleInputSchema = z.strictObject({
  note: z.optional(DisplayTextSchema(1024)),
});
export type ResumeScheduleInput = z.infer<typeof ResumeScheduleInputSchema>;
