import { parseTimestamp } from '../../../schemas/common';
import { type Schedule, type ScheduleType, scheduleTypeOfExpression } from '../../../schemas/schedule';
import { ValidationError } from '../errors';
import {
  nextFireTimes,
  type ParsedScheduleExpression,
  parseScheduleExpression,
  toScheduleExpression,
  wallTimeToInstant,
} from './schedule-expression';

/**
 * When a schedule fires: its stored fields (schedule_expression, or the legacy fields) read as one
 * EventBridge Scheduler expression, its dates and zone, and its next fire times. Shared by the
 * schedule service and both scheduler adapters; every refusal names the field at fault.
 */

/** What decides when a schedule fires. */
export interface ScheduleTiming {
  expression: ParsedScheduleExpression;
  timezone: string;
  /** Inclusive (cron and rate only). */
  startDate?: Date;
  /** Exclusive (cron and rate only). */
  endDate?: Date;
  /** Where a rate counts from: the start date, else the creation time. */
  anchor: Date;
}

export type TimingFields = Pick<
  Schedule,
  | 'schedule_type'
  | 'cron_expression'
  | 'interval_seconds'
  | 'schedule_expression'
  | 'next_run_at'
  | 'timezone'
  | 'start_date'
  | 'end_date'
>;

const LEGACY_TIMING_FIELD: Record<ScheduleType, 'cron_expression' | 'interval_seconds' | 'next_run_at'> = {
  cron: 'cron_expression',
  interval: 'interval_seconds',
  one_time: 'next_run_at',
};

export function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }]);
}

function dateOf(field: string, value: string | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  const date = parseTimestamp(value);
  if (!date) throw invalid(field, 'must be an ISO-8601 timestamp');
  return date;
}

/**
 * The EventBridge Scheduler expression of a schedule: `schedule_expression` when set, else the
 * one its legacy fields map to (cron_expression, interval_seconds, or next_run_at for one_time).
 * Throws a ValidationError naming the field at fault.
 */
export function scheduleExpressionOf(schedule: TimingFields): string {
  return parsedExpressionOf(schedule).expression.expression;
}

/**
 * Parsed expressions by text: a parse builds a croner evaluator (~0.1 ms), and thousands of
 * schedules share a few expressions (presets). Bounded; the parsed values are never mutated.
 */
const parsedExpressions = new Map<string, ParsedScheduleExpression>();
const MAX_PARSED_EXPRESSIONS = 4096;

function parseCached(expression: string): ParsedScheduleExpression {
  let parsed = parsedExpressions.get(expression);
  if (!parsed) {
    parsed = parseScheduleExpression(expression);
    if (parsedExpressions.size >= MAX_PARSED_EXPRESSIONS) parsedExpressions.clear();
    parsedExpressions.set(expression, parsed);
  }
  return parsed;
}

function parsedExpressionOf(schedule: TimingFields): { expression: ParsedScheduleExpression; field: string } {
  if (schedule.schedule_expression) {
    return {
      expression: parseCached(schedule.schedule_expression),
      field: 'schedule_expression',
    };
  }
  const expression = toScheduleExpression({
    schedule_type: schedule.schedule_type,
    cron_expression: schedule.cron_expression ?? null,
    interval_seconds: schedule.interval_seconds ?? null,
    next_run_at: schedule.next_run_at ?? null,
    timezone: schedule.timezone,
  });
  return {
    expression: parseScheduleExpression(expression),
    field: LEGACY_TIMING_FIELD[schedule.schedule_type],
  };
}

/** The timing of a stored schedule (ValidationError naming the field when it cannot fire). */
export function scheduleTimingOf(schedule: TimingFields & Pick<Schedule, 'created_at'>): ScheduleTiming {
  const { expression } = parsedExpressionOf(schedule);
  const startDate = dateOf('start_date', schedule.start_date);
  const endDate = dateOf('end_date', schedule.end_date);
  const anchor = startDate ?? dateOf('created_at', schedule.created_at) ?? new Date(0);
  return {
    expression,
    timezone: schedule.timezone,
    anchor,
    ...(startDate ? { startDate } : {}),
    ...(endDate ? { endDate } : {}),
  };
}

/** The next `count` fire times strictly after `after` (EventBridge Scheduler semantics, DST included). */
export function fireTimesAfter(timing: ScheduleTiming, after: Date, count: number): Date[] {
  return nextFireTimes(timing.expression, {
    timezone: timing.timezone,
    after,
    count,
    anchor: timing.anchor,
    ...(timing.startDate ? { startDate: timing.startDate } : {}),
    ...(timing.endDate ? { endDate: timing.endDate } : {}),
  });
}

export { isScheduleActive } from './schedule-status';

/** True for a one-time schedule (at(…), or the legacy one_time type). */
export function isOneTimeSchedule(
  schedule: Pick<Schedule, 'schedule_type' | 'schedule_expression'>,
): boolean {
  return schedule.schedule_expression
    ? scheduleTypeOfExpression(schedule.schedule_expression) === 'one_time'
    : schedule.schedule_type === 'one_time';
}

/**
 * Resolves the timing of a definition about to be written and its next fire time after `now`.
 * Every refusal is a ValidationError naming the field the caller gave.
 */
export function resolveTiming(
  fields: TimingFields,
  now: Date,
  createdAt: Date,
): { expression: string; schedule_type: ScheduleType; next: Date } {
  const { expression, field } = parsedExpressionOf(fields);
  const scheduleType = scheduleTypeOfExpression(expression.expression);
  const startDate = dateOf('start_date', fields.start_date);
  const endDate = dateOf('end_date', fields.end_date);
  if (startDate && endDate && endDate.getTime() <= startDate.getTime()) {
    throw invalid('end_date', 'must be after start_date');
  }
  const timing: ScheduleTiming = {
    expression,
    timezone: fields.timezone,
    anchor: startDate ?? createdAt,
    ...(startDate ? { startDate } : {}),
    ...(endDate ? { endDate } : {}),
  };
  const [next] = fireTimesAfter(timing, now, 1);
  if (!next) {
    if (expression.kind === 'at') {
      const instant = wallTimeToInstant(expression.wallTime, fields.timezone);
      throw invalid(
        field,
        instant
          ? `${expression.expression} in ${fields.timezone} is in the past: a one-time schedule must run in the future`
          : `${expression.expression} does not exist in ${fields.timezone} (a daylight-saving gap skips it)`,
      );
    }
    if (endDate && endDate.getTime() <= now.getTime()) {
      throw invalid('end_date', 'is in the past: the schedule would never run');
    }
    throw invalid(
      field,
      `${expression.expression} never fires after now${endDate ? ' and before end_date' : ''}`,
    );
  }
  return { expression: expression.expression, schedule_type: scheduleType, next };
}
