import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors';
import {
  legacyCronToAws,
  nextFireTimes,
  parseScheduleExpression,
  toScheduleExpression,
} from '../../../functions/core/scheduling/schedule-expression';
import { parseTimestamp, quoted } from '../../../schemas/common';
import { CreateScheduleInputSchema, UpdateScheduleInputSchema } from '../../../schemas/schedule';
import { isIanaTimeZone, scheduleExpressionStructureProblem } from '../../../schemas/schedule-expression';

/**
 * Property-based: the parsers of a client's schedule strings either succeed or throw the domain's
 * ValidationError, whatever the string (inherited property names, markup, any unicode); and the
 * ValidationError never repeats more than a bounded, escaped slice of it.
 */

const INHERITED = Object.getOwnPropertyNames(Object.prototype);
const token = fc.oneof(
  fc.constantFrom(...INHERITED, '*', '?', 'L', 'W', 'LW', '#', '/', '-', ',', '0', '7', '59', 'MON', 'JAN'),
  fc.constantFrom('*/5', '1-5', '5L', '6#3', '15W', 'MON-FRI', '0/30', '<svg>', '@daily', '@weekly'),
  fc.string({ maxLength: 6 }),
);
const cronLike = fc.array(token, { minLength: 0, maxLength: 8 }).map((parts) => parts.join(' '));
const userString = fc.oneof(
  cronLike,
  cronLike.map((body) => `cron(${body})`),
  fc.tuple(fc.oneof(fc.nat(), token), token).map(([value, unit]) => `rate(${value} ${unit})`),
  fc.string({ maxLength: 30 }).map((body) => `at(${body})`),
  fc.constantFrom(...INHERITED).map((name) => `@${name}`),
  fc.constantFrom(...INHERITED),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 2_000 }),
);

/** Runs `parse`, and fails unless it succeeded or threw a bounded ValidationError. */
function expectOnlyValidationErrors(parse: () => unknown, input: string): void {
  try {
    parse();
  } catch (error) {
    expect(error, `input ${JSON.stringify(input.slice(0, 60))}`).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).not.toMatch(/<svg/);
    expect(message.length).toBeLessThan(600);
  }
}

describe('Schedule expression parsers (property-based)', () => {
  it('parseScheduleExpression succeeds or throws a ValidationError', () => {
    fc.assert(
      fc.property(userString, (input) =>
        expectOnlyValidationErrors(() => parseScheduleExpression(input), input),
      ),
      { numRuns: 2_000 },
    );
  });

  it('legacyCronToAws succeeds or throws a ValidationError (the legacy nicknames included)', () => {
    fc.assert(
      fc.property(userString, (input) => expectOnlyValidationErrors(() => legacyCronToAws(input), input)),
      { numRuns: 2_000 },
    );
  });

  it('maps every inherited property name to a ValidationError, not to a nickname', () => {
    for (const name of [...INHERITED, ...INHERITED.map((n) => `@${n}`), '__proto__', 'constructor']) {
      expect(() => legacyCronToAws(name)).toThrow(ValidationError);
    }
  });

  it('toScheduleExpression succeeds or throws a ValidationError for any legacy fields', () => {
    fc.assert(
      fc.property(
        fc.record({
          schedule_type: fc.constantFrom('cron', 'interval', 'one_time'),
          cron_expression: fc.option(userString),
          interval_seconds: fc.option(fc.oneof(fc.integer(), fc.double())),
          next_run_at: fc.option(userString),
          timezone: fc.option(fc.oneof(userString, fc.constantFrom('UTC', 'Asia/Kolkata'))),
        }),
        (legacy) =>
          expectOnlyValidationErrors(() => toScheduleExpression(legacy), JSON.stringify(legacy).slice(0, 60)),
      ),
      { numRuns: 1_000 },
    );
  });

  it('fire times of any expression that parses are computed without throwing', () => {
    fc.assert(
      fc.property(
        userString,
        fc.constantFrom('UTC', 'Asia/Kolkata', 'America/New_York'),
        (input, timezone) => {
          let parsed: ReturnType<typeof parseScheduleExpression>;
          try {
            parsed = parseScheduleExpression(input);
          } catch {
            return;
          }
          const after = new Date('2026-03-08T00:00:00Z');
          nextFireTimes(parsed, { timezone, after, count: 3, anchor: after });
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('the zod schemas and string checks never throw, whatever the body', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.constantFrom(...INHERITED), fc.string({ maxLength: 12 })),
          fc.oneof(userString, fc.jsonValue()),
        ),
        userString,
        (body, input) => {
          CreateScheduleInputSchema.safeParse(body);
          CreateScheduleInputSchema.safeParse({
            account_id: 'a',
            name: 'n',
            schedule_type: 'cron',
            cron_expression: input,
          });
          CreateScheduleInputSchema.safeParse({ account_id: 'a', name: 'n', preset: input, timezone: input });
          UpdateScheduleInputSchema.safeParse({ schedule_expression: input });
          scheduleExpressionStructureProblem(input);
          isIanaTimeZone(input);
          parseTimestamp(input);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('isIanaTimeZone answers the same when asked again (aliases it resolved are remembered, refusals never)', () => {
    const names = ['UTC', 'Etc/GMT+5', 'Asia/Kolkata', 'utc', '+05:30', 'Mars/Olympus', 'UTC/Extra'];
    const first = names.map((name) => isIanaTimeZone(name));
    const second = names.map((name) => isIanaTimeZone(name));

    expect(first).toEqual([true, true, true, false, false, false, false]);
    expect(second).toEqual(first);
  });

  it('quoted() bounds and escapes any value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (input) => {
        const text = quoted(input);
        expect(text).not.toMatch(/[<>&]/);
        expect(text.length).toBeLessThanOrEqual(64 * 12 + 40);
      }),
    );
  });
});
