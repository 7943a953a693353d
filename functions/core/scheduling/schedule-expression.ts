import { Cron } from 'croner';
import { parseTimestamp, quoted } from '../../../schemas/common';
import type { ScheduleType } from '../../../schemas/schedule';
import { isIanaTimeZone, scheduleExpressionStructureProblem } from '../../../schemas/schedule-expression';
import { ValidationError } from '../errors';

/**
 * Schedule expressions with EventBridge Scheduler semantics, so that the local scheduler fires
 * exactly when EventBridge Scheduler would:
 * - `cron(...)` is evaluated on the wall clock of the schedule's IANA time zone. A wall time that a
 *   spring-forward transition skips does not fire; a wall time that an autumn transition repeats
 *   fires once, at its first occurrence.
 * - `rate(n unit)` fires every n units of elapsed time (a day is 24 hours, whatever the clocks do)
 *   from its anchor: the start date, else the creation time.
 * - `at(...)` fires once at that wall time in the zone (the first occurrence if it repeats, never if
 *   it is skipped). Start and end dates do not apply to it, as on EventBridge Scheduler.
 * Start dates are inclusive, end dates exclusive.
 *
 * Cron matching is croner's (AWS fields mapped to its 7-part Quartz mode); croner runs a fixed-time
 * job skipped by spring forward just after the gap and runs interval jobs twice in a repeated hour,
 * so both are filtered out here.
 */

const FIELD = 'schedule_expression';

export interface CronFields {
  minutes: string;
  hours: string;
  dayOfMonth: string;
  month: string;
  dayOfWeek: string;
  year: string;
}

/** A wall-clock time, without a zone (month 1-12). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type RateUnit = 'minute' | 'hour' | 'day';

export type ParsedScheduleExpression =
  | { kind: 'cron'; expression: string; fields: CronFields }
  | { kind: 'rate'; expression: string; value: number; unit: RateUnit; minutes: number }
  | { kind: 'at'; expression: string; at: string; wallTime: WallTime };

export interface NextFireTimesOptions {
  /** IANA zone in which cron and at expressions are evaluated. */
  timezone: string;
  /** Only times strictly after this instant are returned. */
  after: Date;
  /** How many times to return at most. */
  count: number;
  /** Inclusive lower bound (cron and rate); also the anchor of a rate. */
  startDate?: Date;
  /** Exclusive upper bound (cron and rate). */
  endDate?: Date;
  /** Where a rate without a start date counts from (its creation time); defaults to `after`. */
  anchor?: Date;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }]);
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Whether `a/step` and `*\/step` are allowed. */
  steps: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SPECS = {
  minutes: { label: 'minutes', min: 0, max: 59, steps: true },
  hours: { label: 'hours', min: 0, max: 23, steps: true },
  dayOfMonth: { label: 'day-of-month', min: 1, max: 31, steps: true },
  month: { label: 'month', min: 1, max: 12, names: MONTH_NAMES, steps: true },
  dayOfWeek: { label: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, steps: false },
  year: { label: 'year', min: 1970, max: 2199, steps: true },
} as const satisfies Record<keyof CronFields, FieldSpec>;

function fieldValue(text: string, spec: FieldSpec, whole: string): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  const value = named >= 0 ? named + spec.min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(value)) {
    throw invalid(
      FIELD,
      `the ${spec.label} field ${quoted(whole)} holds ${quoted(text)}, which is not a value`,
    );
  }
  if (value < spec.min || value > spec.max) {
    const names = spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : '';
    throw invalid(
      FIELD,
      `the ${spec.label} field ${quoted(whole)} holds ${value}, outside ${spec.min}-${spec.max}${names}`,
    );
  }
  return value;
}

/** Checks a list of values, ranges and steps (`*`, `5`, `1-5`, `0/15`, `*\/15`, `10-40/10`). */
function checkListField(value: string, spec: FieldSpec): void {
  for (const item of value.split(',')) {
    const slash = item.indexOf('/');
    const base = slash >= 0 ? item.slice(0, slash) : item;
    if (slash >= 0) {
      if (!spec.steps) throw invalid(FIELD, `the ${spec.label} field ${quoted(value)} cannot use '/'`);
      const step = item.slice(slash + 1);
      const span = spec.max - spec.min + 1;
      if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > span) {
        throw invalid(
          FIELD,
          `the ${spec.label} field ${quoted(value)} has step ${quoted(step)}, which must be 1-${span}`,
        );
      }
    }
    if (base === '*') continue;
    const dash = base.indexOf('-');
    if (dash < 0) {
      fieldValue(base, spec, value);
      continue;
    }
    const from = fieldValue(base.slice(0, dash), spec, value);
    const to = fieldValue(base.slice(dash + 1), spec, value);
    if (from > to) {
      throw invalid(
        FIELD,
        `the ${spec.label} field ${quoted(value)} has range ${base}, whose start is after its end`,
      );
    }
  }
}

function checkDayOfMonth(value: string): void {
  if (value === '?' || value === 'L' || value === 'LW') return;
  if (value.includes('L'))
    throw invalid(FIELD, `the day-of-month field ${quoted(value)} may use L only as 'L' or 'LW'`);
  if (value.includes('W')) {
    const day = /^(\d+)W$/.exec(value);
    if (!day)
      throw invalid(FIELD, `the day-of-month field ${quoted(value)} may use W only as '<day>W' or 'LW'`);
    fieldValue(day[1] ?? '', SPECS.dayOfMonth, value);
    return;
  }
  checkListField(value, SPECS.dayOfMonth);
}

function checkDayOfWeek(value: string): void {
  if (value === '?' || value === 'L') return;
  if (value.includes('#')) {
    const nth = /^([^#,\-/]+)#(\d+)$/.exec(value);
    if (!nth)
      throw invalid(FIELD, `the day-of-week field ${quoted(value)} may use # only as one '<day>#<n>'`);
    fieldValue(nth[1] ?? '', SPECS.dayOfWeek, value);
    const n = Number(nth[2]);
    if (n < 1 || n > 5)
      throw invalid(
        FIELD,
        `the day-of-week field ${quoted(value)} asks for occurrence ${n}, which must be 1-5`,
      );
    return;
  }
  if (value.includes('L')) {
    const last = /^([^,\-/]+)L$/.exec(value);
    if (!last)
      throw invalid(FIELD, `the day-of-week field ${quoted(value)} may use L only as 'L' or one '<day>L'`);
    fieldValue(last[1] ?? '', SPECS.dayOfWeek, value);
    return;
  }
  checkListField(value, SPECS.dayOfWeek);
}

const FORMATTED_AT = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;

/**
 * Parses and fully validates an EventBridge Scheduler expression. Throws a ValidationError naming
 * `schedule_expression` and saying what is wrong.
 */
export function parseScheduleExpression(expression: string): ParsedScheduleExpression {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw invalid(FIELD, 'is required: cron(<6 fields>), rate(<value> <unit>) or at(yyyy-mm-ddThh:mm:ss)');
  }
  const text = expression.trim();
  const problem = scheduleExpressionStructureProblem(text);
  if (problem !== undefined) throw invalid(FIELD, problem);

  if (text.startsWith('rate(')) {
    const [value = '', unitText = ''] = text.slice(5, -1).split(' ');
    const unit = (unitText.endsWith('s') ? unitText.slice(0, -1) : unitText) as RateUnit;
    const perUnit = unit === 'minute' ? 1 : unit === 'hour' ? 60 : 1440;
    return { kind: 'rate', expression: text, value: Number(value), unit, minutes: Number(value) * perUnit };
  }

  const at = FORMATTED_AT.exec(text);
  if (at) {
    const wall = at[1] ?? '';
    const [date = '', time = ''] = wall.split('T');
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    const [hour, minute, second] = time.split(':').map(Number) as [number, number, number];
    return { kind: 'at', expression: text, at: wall, wallTime: { year, month, day, hour, minute, second } };
  }

  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = text
    .slice(5, -1)
    .trim()
    .split(/\s+/);
  const fields: CronFields = { minutes, hours, dayOfMonth, month, dayOfWeek, year };
  checkListField(minutes, SPECS.minutes);
  checkListField(hours, SPECS.hours);
  checkDayOfMonth(dayOfMonth);
  checkListField(month, SPECS.month);
  checkDayOfWeek(dayOfWeek);
  checkListField(year, SPECS.year);
  const normalized = `cron(${Object.values(fields).join(' ')})`;
  // croner is the evaluator: anything it still refuses is refused here, not at the first run.
  try {
    cronerFor(fields, 'UTC');
  } catch (error) {
    throw invalid(FIELD, `${quoted(normalized)} is not supported: ${(error as Error).message}`);
  }
  return { kind: 'cron', expression: normalized, fields };
}

// ---------------------------------------------------------------------------------------------
// croner mapping

/** `a/step` (AWS: from a to the end of the field) becomes `a-max/step`, which croner reads. */
function expandStartSteps(value: string, max: number): string {
  return value
    .split(',')
    .map((item) => item.replace(/^(\d+|[A-Za-z]{3})\/(\d+)$/, `$1-${max}/$2`))
    .join(',');
}

function toCronerPattern(fields: CronFields): string {
  let dayOfWeek = fields.dayOfWeek;
  if (dayOfWeek === 'L') dayOfWeek = '7'; // AWS: the last day of the week, Saturday.
  dayOfWeek = dayOfWeek.replace(/^([^#,\-/]+)L$/, '$1#L'); // AWS 6L (last Friday) is croner's 6#L.
  return [
    '0',
    expandStartSteps(fields.minutes, 59),
    expandStartSteps(fields.hours, 23),
    expandStartSteps(fields.dayOfMonth, 31),
    expandStartSteps(fields.month, 12),
    dayOfWeek,
    expandStartSteps(fields.year, 2199),
  ].join(' ');
}

function cronerFor(fields: CronFields, timezone: string): Cron {
  // No callback: croner only evaluates, it starts no timer.
  return new Cron(toCronerPattern(fields), { mode: '7-part', alternativeWeekdays: true, timezone });
}

// ---------------------------------------------------------------------------------------------
// Wall-clock arithmetic in IANA zones (Intl only)

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallTimeOf(instantMs: number, timeZone: string): WallTime {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const wall: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter.formatToParts(instantMs)) {
    if (part.type in wall) wall[part.type as keyof WallTime] = Number(part.value);
  }
  return wall;
}

function wallAsUtcMs(wall: WallTime): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/** The zone's offset from UTC at an instant, in milliseconds (whole seconds). */
function offsetMs(instantMs: number, timeZone: string): number {
  const wholeSecond = Math.floor(instantMs / 1000) * 1000;
  return wallAsUtcMs(wallTimeOf(wholeSecond, timeZone)) - wholeSecond;
}

/** Real DST shifts are at most a few hours; a day covers them and date-line moves too. */
const LOOKAROUND_MS = 26 * 3_600_000;

/** True when the instant's wall time already happened earlier (the second pass of a repeated hour). */
function isRepeatedWallTime(instantMs: number, timeZone: string): boolean {
  const now = offsetMs(instantMs, timeZone);
  const before = offsetMs(instantMs - LOOKAROUND_MS, timeZone);
  if (before <= now) return false;
  const earlier = instantMs - (before - now);
  return offsetMs(earlier, timeZone) === before;
}

/** The first instant showing this wall time in the zone, or undefined if the zone skips it. */
export function wallTimeToInstant(wall: WallTime, timeZone: string): Date | undefined {
  const asUtc = wallAsUtcMs(wall);
  const offsets = new Set([
    offsetMs(asUtc - LOOKAROUND_MS, timeZone),
    offsetMs(asUtc, timeZone),
    offsetMs(asUtc + LOOKAROUND_MS, timeZone),
  ]);
  const instants = [...offsets]
    .map((offset) => asUtc - offset)
    .filter((instant) => wallAsUtcMs(wallTimeOf(instant, timeZone)) === asUtc)
    .sort((a, b) => a - b);
  return instants[0] === undefined ? undefined : new Date(instants[0]);
}

// ---------------------------------------------------------------------------------------------
// Next fire times

function checkDate(field: string, value: Date | undefined): void {
  if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
    throw invalid(field, 'must be a valid date');
  }
}

function cronFireTimes(fields: CronFields, options: NextFireTimesOptions): Date[] {
  const { timezone, after, count, startDate, endDate } = options;
  const cron = cronerFor(fields, timezone);
  // startDate is inclusive: search from just before it (croner's enumeration is exclusive).
  const fromMs = Math.max(after.getTime(), startDate ? startDate.getTime() - 1 : Number.NEGATIVE_INFINITY);
  const result: Date[] = [];
  for (const run of cron.enumerate(new Date(fromMs))) {
    if (endDate && run.getTime() >= endDate.getTime()) break;
    // croner moves a fixed-time job out of a spring-forward gap (its wall time no longer matches)
    // and runs interval jobs on both passes of a repeated hour; EventBridge does neither.
    if (run.getTime() > fromMs && cron.match(run) && !isRepeatedWallTime(run.getTime(), timezone)) {
      result.push(run);
      if (result.length >= count) break;
    }
  }
  return result;
}

function rateFireTimes(minutes: number, options: NextFireTimesOptions): Date[] {
  const { after, count, startDate, endDate, anchor } = options;
  const stepMs = minutes * 60_000;
  // EventBridge Scheduler works to the minute: an anchor with seconds starts at the next minute.
  const anchorMs = Math.ceil((startDate ?? anchor ?? after).getTime() / 60_000) * 60_000;
  const afterMs = after.getTime();
  let k = afterMs < anchorMs ? 0 : Math.floor((afterMs - anchorMs) / stepMs) + 1;
  const result: Date[] = [];
  while (result.length < count) {
    const fireMs = anchorMs + k * stepMs;
    if (endDate && fireMs >= endDate.getTime()) break;
    result.push(new Date(fireMs));
    k += 1;
  }
  return result;
}

/**
 * The next `count` times a schedule fires strictly after `after`, as EventBridge Scheduler would
 * fire it (see the top of this file). Throws a ValidationError naming the offending field.
 */
export function nextFireTimes(
  expression: string | ParsedScheduleExpression,
  options: NextFireTimesOptions,
): Date[] {
  const parsed = typeof expression === 'string' ? parseScheduleExpression(expression) : expression;
  if (!isIanaTimeZone(options.timezone)) {
    throw invalid(
      'timezone',
      `${quoted(options.timezone)} is not an IANA time zone name such as UTC or Europe/London`,
    );
  }
  checkDate('after', options.after);
  checkDate('start_date', options.startDate);
  checkDate('end_date', options.endDate);
  checkDate('anchor', options.anchor);
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw invalid('count', 'must be a whole number of at least 0');
  }
  if (options.startDate && options.endDate && options.endDate.getTime() <= options.startDate.getTime()) {
    throw invalid('end_date', 'must be after start_date');
  }
  if (options.count === 0) return [];

  switch (parsed.kind) {
    case 'cron':
      return cronFireTimes(parsed.fields, options);
    case 'rate':
      return rateFireTimes(parsed.minutes, options);
    case 'at': {
      const instant = wallTimeToInstant(parsed.wallTime, options.timezone);
      return instant && instant.getTime() > options.after.getTime() ? [instant] : [];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Legacy fields

/** A Map, not an object literal: a client's `constructor` or `__proto__` must not find anything. */
const LEGACY_NICKNAMES: ReadonlyMap<string, string> = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);

interface LegacySpec {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const LEGACY_FIELD = 'cron_expression';

function legacyValue(text: string, spec: LegacySpec, whole: string): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + spec.min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(value) || value < spec.min || value > spec.max) {
    throw invalid(
      LEGACY_FIELD,
      `the ${spec.label} field ${quoted(whole)} holds ${quoted(text)}, which must be ${spec.min}-${spec.max}`,
    );
  }
  return value;
}

/** Expands a legacy list/range/step field to its values (Vixie cron semantics). */
function expandLegacy(value: string, spec: LegacySpec): number[] {
  const values = new Set<number>();
  for (const item of value.split(',')) {
    const match = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    const base = match?.[1];
    const step = match?.[2] === undefined ? 1 : Number(match[2]);
    if (base === undefined || step < 1) {
      throw invalid(
        LEGACY_FIELD,
        `the ${spec.label} field ${quoted(value)} has an invalid item ${quoted(item)}`,
      );
    }
    let from: number;
    let to: number;
    if (base === '*') {
      from = spec.min;
      to = spec.max;
    } else if (base.includes('-')) {
      const [low = '', high = ''] = base.split('-');
      from = legacyValue(low, spec, value);
      to = legacyValue(high, spec, value);
      if (from > to)
        throw invalid(
          LEGACY_FIELD,
          `the ${spec.label} field ${quoted(value)} has range ${base}, whose start is after its end`,
        );
    } else {
      from = legacyValue(base, spec, value);
      to = match?.[2] === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Renders sorted values as a compact list of values and ranges (`1,3-5`). */
function renderList(values: readonly number[]): string {
  const parts: string[] = [];
  let index = 0;
  while (index < values.length) {
    const start = values[index] as number;
    let end = start;
    while (values[index + 1] === end + 1) {
      index += 1;
      end += 1;
    }
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    index += 1;
  }
  return parts.join(',');
}

/** Legacy minute/hour/day/month fields share AWS syntax, except `*\/n`, written `<min>/n` for AWS. */
function convertLegacyField(value: string, spec: LegacySpec): string {
  expandLegacy(value, spec); // validates
  return value
    .split(',')
    .map((item) => item.replace(/^\*\/(\d+)$/, `${spec.min}/$1`).toUpperCase())
    .join(',');
}

const LEGACY_DAY_OF_WEEK: LegacySpec = { label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES };

/** Legacy day-of-week (0-7, 0 and 7 = SUN) to AWS (1-7 = SUN-SAT). */
function convertLegacyDayOfWeek(value: string): string {
  const nth = /^([^#]+)#(\d+)$/.exec(value);
  if (nth) {
    const day = legacyValue(nth[1] ?? '', LEGACY_DAY_OF_WEEK, value);
    const n = Number(nth[2]);
    if (n < 1 || n > 5)
      throw invalid(
        LEGACY_FIELD,
        `the day-of-week field ${quoted(value)} asks for occurrence ${n}, which must be 1-5`,
      );
    return `${(day % 7) + 1}#${n}`;
  }
  const days = [...new Set(expandLegacy(value, LEGACY_DAY_OF_WEEK).map((day) => (day % 7) + 1))].sort(
    (a, b) => a - b,
  );
  return days.length === 7 ? '*' : renderList(days);
}

/**
 * Converts a legacy five-field cron (`m h dom mon dow`, day-of-week 0-7 with 0 and 7 = Sunday, as
 * the legacy scheduler read it) to `cron(m h dom mon dow year)` in AWS syntax. The legacy scheduler
 * ran a day matching either a restricted day-of-month or a restricted day-of-week; AWS needs one
 * of them to be `?`, so such an expression is refused rather than silently changed. The
 * nicknames @hourly, @daily, @midnight, @weekly, @monthly, @yearly and @annually are accepted.
 */
export function legacyCronToAws(fiveField: string): string {
  const text = fiveField.trim();
  const expanded = LEGACY_NICKNAMES.get(text.toLowerCase()) ?? text;
  const parts = expanded.split(/\s+/);
  if (expanded === '' || parts.length !== 5) {
    throw invalid(
      LEGACY_FIELD,
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${expanded === '' ? 0 : parts.length}`,
    );
  }
  const [minute = '', hour = '', dayOfMonth = '', month = '', dayOfWeek = ''] = parts;
  const minutes = convertLegacyField(minute, { label: 'minute', min: 0, max: 59 });
  const hours = convertLegacyField(hour, { label: 'hour', min: 0, max: 23 });
  const months = convertLegacyField(month, { label: 'month', min: 1, max: 12, names: MONTH_NAMES });
  const anyDayOfMonth = dayOfMonth === '*' || dayOfMonth === '?';
  const anyDayOfWeek = dayOfWeek === '*' || dayOfWeek === '?';
  if (!anyDayOfMonth && !anyDayOfWeek) {
    throw invalid(
      LEGACY_FIELD,
      `day-of-month ${quoted(dayOfMonth)} and day-of-week ${quoted(dayOfWeek)} are both restricted; the legacy scheduler ran on either, which one EventBridge expression cannot say: restrict only one of them`,
    );
  }
  let days: string;
  if (anyDayOfWeek) {
    const dom =
      dayOfMonth === '?'
        ? '*'
        : dayOfMonth.toUpperCase() === 'L'
          ? 'L'
          : convertLegacyField(dayOfMonth, { label: 'day-of-month', min: 1, max: 31 });
    days = `${dom} ${months} ?`;
  } else {
    days = `? ${months} ${convertLegacyDayOfWeek(dayOfWeek)}`;
  }
  const aws = `cron(${minutes} ${hours} ${days} *)`;
  try {
    return parseScheduleExpression(aws).expression;
  } catch (error) {
    const message =
      error instanceof ValidationError ? (error.issues[0]?.message ?? error.message) : String(error);
    throw invalid(
      LEGACY_FIELD,
      `${quoted(fiveField)} converts to ${quoted(aws)}, which is invalid: ${message}`,
    );
  }
}

const SECONDS_PER_UNIT: readonly [RateUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** Legacy `interval_seconds` to a rate in the largest unit that divides it exactly. */
export function intervalSecondsToRate(seconds: number): string {
  const field = 'interval_seconds';
  if (!Number.isInteger(seconds)) throw invalid(field, `must be a whole number of seconds, got ${seconds}`);
  if (seconds < 60) {
    throw invalid(
      field,
      `must be at least 60: EventBridge Scheduler's shortest rate is 1 minute, got ${seconds}`,
    );
  }
  for (const [unit, size] of SECONDS_PER_UNIT) {
    if (seconds % size === 0) {
      const value = seconds / size;
      return `rate(${value} ${value === 1 ? unit : `${unit}s`})`;
    }
  }
  throw invalid(field, `must be a whole number of minutes (a multiple of 60), got ${seconds}`);
}

export interface LegacyScheduleFields {
  schedule_type: ScheduleType;
  cron_expression?: string | null;
  interval_seconds?: number | null;
  /** When a one_time schedule runs (the legacy rows kept it in next_run_at). */
  next_run_at?: string | Date | null;
  timezone?: string | null;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** Maps the legacy schedule fields to one EventBridge Scheduler expression. */
export function toScheduleExpression(legacy: LegacyScheduleFields): string {
  switch (legacy.schedule_type) {
    case 'cron': {
      const cron = legacy.cron_expression?.trim();
      if (!cron) throw invalid('cron_expression', 'is required when schedule_type is cron');
      if (cron.startsWith('cron(')) {
        try {
          return parseScheduleExpression(cron).expression;
        } catch (error) {
          const message =
            error instanceof ValidationError ? (error.issues[0]?.message ?? error.message) : String(error);
          throw invalid('cron_expression', message);
        }
      }
      return legacyCronToAws(cron);
    }
    case 'interval': {
      if (legacy.interval_seconds === undefined || legacy.interval_seconds === null) {
        throw invalid('interval_seconds', 'is required when schedule_type is interval');
      }
      return intervalSecondsToRate(legacy.interval_seconds);
    }
    case 'one_time': {
      const runAt = legacy.next_run_at;
      if (runAt === undefined || runAt === null || runAt === '') {
        throw invalid('next_run_at', 'is required when schedule_type is one_time');
      }
      const instant = runAt instanceof Date ? runAt : parseTimestamp(runAt);
      if (!instant || Number.isNaN(instant.getTime()))
        throw invalid('next_run_at', 'must be an ISO-8601 timestamp');
      const timezone = legacy.timezone ?? 'UTC';
      if (!isIanaTimeZone(timezone))
        throw invalid('timezone', `${quoted(timezone)} is not an IANA time zone name`);
      const wall = wallTimeOf(instant.getTime(), timezone);
      return `at(${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)})`;
    }
    default:
      throw invalid(
        'schedule_type',
        `${quoted(String(legacy.schedule_type))} must be cron, interval or one_time`,
      );
  }
}
