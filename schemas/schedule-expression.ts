import * as z from 'zod/mini';
import { quoted } from './common';

/**
 * EventBridge Scheduler expressions as stored in `schedule_expression`:
 * - `cron(minutes hours day-of-month month day-of-week year)`, AWS syntax (day-of-week 1-7 = SUN-SAT);
 * - `rate(value unit)`, unit minute(s) | hour(s) | day(s), singular only with 1;
 * - `at(yyyy-mm-ddThh:mm:ss)`, a wall time in the schedule's time zone.
 * Only the structure is checked here (forms, field count, characters, the `?` rule, calendar
 * validity of `at`); value ranges and the meaning of L, W and # are checked by the core parser.
 */

export const CRON_FIELD_NAMES = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;
export type CronFieldName = (typeof CRON_FIELD_NAMES)[number];

export const RATE_UNITS = ['minute', 'minutes', 'hour', 'hours', 'day', 'days'] as const;
export type RateUnit = (typeof RATE_UNITS)[number];

const CRON_FORM = /^cron\((.*)\)$/s;
const RATE_FORM = /^rate\((\S+) (\S+)\)$/;
const AT_FORM = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** The characters AWS allows in each cron field (names are letters; checked further below). */
const FIELD_CHARACTERS: Record<CronFieldName, RegExp> = {
  minutes: /^[0-9,\-*/]+$/,
  hours: /^[0-9,\-*/]+$/,
  'day-of-month': /^[0-9,\-*?/LW]+$/,
  month: /^[0-9A-Za-z,\-*/]+$/,
  'day-of-week': /^[0-9A-Za-z,\-*?L#]+$/,
  year: /^[0-9,\-*/]+$/,
};
const FIELD_CHARACTER_HINTS: Record<CronFieldName, string> = {
  minutes: 'digits and , - * /',
  hours: 'digits and , - * /',
  'day-of-month': 'digits and , - * ? / L W',
  month: 'digits, JAN-DEC and , - * /',
  'day-of-week': 'digits, SUN-SAT and , - * ? L #',
  year: 'digits and , - * /',
};
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function cronStructureProblem(body: string): string | undefined {
  const fields = body.trim().split(/\s+/);
  if (body.trim() === '' || fields.length !== 6) {
    return `a cron expression needs 6 fields (minutes hours day-of-month month day-of-week year), got ${body.trim() === '' ? 0 : fields.length}`;
  }
  for (const [index, name] of CRON_FIELD_NAMES.entries()) {
    const value = fields[index] ?? '';
    if (!FIELD_CHARACTERS[name].test(value)) {
      return `the ${name} field ${quoted(value)} may hold only ${FIELD_CHARACTER_HINTS[name]}`;
    }
    if (value.includes('?') && value !== '?') {
      return `the ${name} field ${quoted(value)} must be '?' alone when it uses '?'`;
    }
    if (name !== 'month' && name !== 'day-of-week') continue;
    const allowed = name === 'month' ? MONTH_NAMES : DAY_NAMES;
    const unknown = (value.match(/[A-Za-z]{2,}/g) ?? []).find(
      (word) => !allowed.includes(word.toUpperCase()),
    );
    if (unknown !== undefined) {
      return `the ${name} field ${quoted(value)} holds ${quoted(unknown)}, which is not one of ${allowed[0]}-${allowed.at(-1)}`;
    }
  }
  const dayOfMonth = fields[2];
  const dayOfWeek = fields[4];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return `exactly one of day-of-month (${quoted(dayOfMonth)}) and day-of-week (${quoted(dayOfWeek)}) must be '?'`;
  }
  return undefined;
}

function rateStructureProblem(value: string, unit: string): string | undefined {
  if (!/^[1-9]\d*$/.test(value))
    return `the rate value ${quoted(value)} must be a whole number of at least 1`;
  if (!(RATE_UNITS as readonly string[]).includes(unit)) {
    return `the rate unit ${quoted(unit)} must be one of ${RATE_UNITS.join(', ')}`;
  }
  const singular = !unit.endsWith('s');
  if (value === '1' && !singular)
    return `rate(1 ${unit}) must use the singular unit ${quoted(unit.slice(0, -1))}`;
  if (value !== '1' && singular) return `rate(${value} ${unit}) must use the plural unit '${unit}s'`;
  return undefined;
}

function atStructureProblem(parts: readonly string[]): string | undefined {
  const [year, month, day, hour, minute, second] = parts.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const sameFields =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return sameFields
    ? undefined
    : `at(${parts[0]}-${parts[1]}-${parts[2]}T${parts[3]}:${parts[4]}:${parts[5]}) is not a real date and time`;
}

/** What is structurally wrong with a schedule expression, or undefined when its shape is valid. */
export function scheduleExpressionStructureProblem(expression: string): string | undefined {
  const cron = CRON_FORM.exec(expression);
  if (cron) return cronStructureProblem(cron[1] ?? '');
  const rate = RATE_FORM.exec(expression);
  if (rate) return rateStructureProblem(rate[1] ?? '', rate[2] ?? '');
  const at = AT_FORM.exec(expression);
  if (at) return atStructureProblem(at.slice(1));
  if (expression.startsWith('at(')) return `${quoted(expression)} must be at(yyyy-mm-ddThh:mm:ss)`;
  if (expression.startsWith('rate(')) return `${quoted(expression)} must be rate(<value> <unit>)`;
  return `${quoted(expression)} must be cron(<6 fields>), rate(<value> <unit>) or at(yyyy-mm-ddThh:mm:ss)`;
}

export const ScheduleExpressionSchema = z.string().check(
  z.trim(),
  z.minLength(1, 'must not be empty'),
  z.maxLength(256, 'must be at most 256 characters'),
  z.superRefine((value, ctx) => {
    const problem = scheduleExpressionStructureProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);
export type ScheduleExpression = z.infer<typeof ScheduleExpressionSchema>;

let knownTimeZones: Set<string> | undefined;
/** Every segment of an IANA name starts with a capital letter: `UTC`, `Etc/GMT+5`, `America/Port-au-Prince`. */
const IANA_NAME_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

/**
 * True for an IANA time zone name this runtime knows: the canonical list, plus names the list
 * leaves out but Intl resolves (`UTC`, `Etc/*`, links such as `Asia/Kolkata` on ICU builds that
 * list `Asia/Calcutta`). Offsets (`+05:30`) and abbreviations in lower case are refused.
 */
export function isIanaTimeZone(value: string): boolean {
  knownTimeZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (knownTimeZones.has(value)) return true;
  if (!IANA_NAME_SHAPE.test(value)) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: value });
  } catch {
    return false;
  }
  // Aliases such as UTC are not in supportedValuesOf: remember them (a formatter costs ~0.1 ms).
  knownTimeZones.add(value);
  return true;
}

export const TimezoneSchema = z
  .string()
  .check(
    z.trim(),
    z.refine(isIanaTimeZone, { message: 'must be an IANA time zone name such as UTC or Europe/London' }),
  );

/** Convenience presets; cron keeps them aligned to the clock of the schedule's time zone. */
export const SCHEDULE_PRESETS = {
  hourly: 'cron(0 * * * ? *)',
  daily: 'cron(0 0 * * ? *)',
  weekly: 'cron(0 0 ? * SUN *)',
  monthly: 'cron(0 0 1 * ? *)',
  every_6_hours: 'cron(0 0/6 * * ? *)',
  every_12_hours: 'cron(0 0/12 * * ? *)',
} as const satisfies Record<string, string>;
export type SchedulePreset = keyof typeof SCHEDULE_PRESETS;
export const SchedulePresetSchema = z.enum(
  Object.keys(SCHEDULE_PRESETS) as [SchedulePreset, ...SchedulePreset[]],
);
