import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors';
import {
  intervalSecondsToRate,
  legacyCronToAws,
  nextFireTimes,
  parseScheduleExpression,
  toScheduleExpression,
  wallTimeToInstant,
} from '../../../functions/core/scheduling/schedule-expression';
import {
  SCHEDULE_PRESETS,
  ScheduleExpressionSchema,
  SchedulePresetSchema,
  TimezoneSchema,
} from '../../../schemas/schedule-expression';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// -----------------------------------------------------------------------------------------------
// Brute-force reference: walks every minute of a window, reads the wall clock of the zone through
// Intl.DateTimeFormat and matches the AWS fields with its own reading of them. It shares no code
// with the implementation. A wall time the walk never meets (spring forward) never fires; a wall
// time met a second time (autumn) is ignored, so it fires once, at its first occurrence.

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function referenceValue(text: string, min: number, names?: string[]): number {
  const index = names?.indexOf(text.toUpperCase()) ?? -1;
  return index >= 0 ? index + min : Number(text);
}

/** Which values of a field a list of values / ranges / steps selects (index = value). */
function referenceSet(field: string, min: number, max: number, names?: string[]): boolean[] {
  const selected = new Array<boolean>(max + 1).fill(false);
  for (const item of field.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let low: number;
    let high: number;
    if (range === '*') {
      low = min;
      high = max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      low = referenceValue(a, min, names);
      high = referenceValue(b, min, names);
    } else {
      low = referenceValue(range, min, names);
      high = stepText === undefined ? low : max;
    }
    for (let value = low; value <= high; value += step) selected[value] = true;
  }
  return selected;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay();

function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  if (day > last) return -1;
  const weekday = weekdayOf(year, month, day);
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === last ? day - 2 : day + 1;
  return day;
}

function lastWeekday(year: number, month: number): number {
  const last = daysInMonth(year, month);
  const weekday = weekdayOf(year, month, last);
  return weekday === 6 ? last - 1 : weekday === 0 ? last - 2 : last;
}

interface ReferenceCron {
  minute: boolean[];
  hour: boolean[];
  dayMatches: (year: number, month: number, day: number) => boolean;
}

function referenceCron(expression: string): ReferenceCron {
  const fields = /^cron\((.*)\)$/.exec(expression)?.[1]?.split(' ') ?? [];
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  const minute = referenceSet(minutes, 0, 59);
  const hour = referenceSet(hours, 0, 23);
  const months = referenceSet(month, 1, 12, MONTH_NAMES);
  const years = referenceSet(year, 1970, 2199);
  const daysOfMonth = dayOfMonth === '?' || /[LW]/.test(dayOfMonth) ? [] : referenceSet(dayOfMonth, 1, 31);
  const daysOfWeek =
    dayOfWeek === '?' || /[L#]/.test(dayOfWeek) ? [] : referenceSet(dayOfWeek, 1, 7, DAY_NAMES);
  const dayOfMonthMatches = (y: number, m: number, d: number): boolean => {
    if (dayOfMonth === 'L') return d === daysInMonth(y, m);
    if (dayOfMonth === 'LW') return d === lastWeekday(y, m);
    const nearest = /^(\d+)W$/.exec(dayOfMonth);
    if (nearest) return d === nearestWeekday(y, m, Number(nearest[1]));
    return daysOfMonth[d] === true;
  };
  const dayOfWeekMatches = (y: number, m: number, d: number): boolean => {
    const awsDay = weekdayOf(y, m, d) + 1; // AWS: 1 = SUN ... 7 = SAT
    if (dayOfWeek === 'L') return awsDay === 7;
    const last = /^(.+)L$/.exec(dayOfWeek);
    if (last) return awsDay === referenceValue(last[1] ?? '', 1, DAY_NAMES) && d + 7 > daysInMonth(y, m);
    const nth = /^(.+)#(\d)$/.exec(dayOfWeek);
    if (nth)
      return awsDay === referenceValue(nth[1] ?? '', 1, DAY_NAMES) && Math.ceil(d / 7) === Number(nth[2]);
    return daysOfWeek[awsDay] === true;
  };
  return {
    minute,
    hour,
    dayMatches: (y, m, d) =>
      months[m] === true &&
      years[y] === true &&
      (dayOfMonth === '?' ? dayOfWeekMatches(y, m, d) : dayOfMonthMatches(y, m, d)),
  };
}

const referenceFormatters = new Map<string, Intl.DateTimeFormat>();
/** Wall clock minus UTC at an instant, read with Intl.DateTimeFormat. */
function intlOffset(instant: number, timeZone: string): number {
  let formatter = referenceFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    referenceFormatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const part = (type: string) => Number(parts.find((candidate) => candidate.type === type)?.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'));
  return wall - instant;
}

interface OffsetSpan {
  from: number;
  offset: number;
}

/** The zone's offsets over a window, as spans: sampled every 12 hours, changes found to the minute. */
function offsetSpans(timeZone: string, from: number, to: number): OffsetSpan[] {
  const spans: OffsetSpan[] = [{ from: Number.NEGATIVE_INFINITY, offset: intlOffset(from - DAY, timeZone) }];
  for (let sample = from - DAY; sample < to + DAY; sample += 12 * HOUR) {
    const next = sample + 12 * HOUR;
    const before = intlOffset(sample, timeZone);
    if (intlOffset(next, timeZone) === before) continue;
    let low = sample;
    let high = next;
    while (high - low > MINUTE) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
      if (intlOffset(middle, timeZone) === before) low = middle;
      else high = middle;
    }
    spans.push({ from: high, offset: intlOffset(high, timeZone) });
  }
  return spans;
}

const spanCache = new Map<string, OffsetSpan[]>();

function referenceFireTimes(expression: string, timeZone: string, from: number, to: number): string[] {
  const cron = referenceCron(expression);
  const key = `${timeZone} ${from} ${to}`;
  const spans = spanCache.get(key) ?? offsetSpans(timeZone, from, to);
  spanCache.set(key, spans);
  // Whole minutes since the epoch (small integers keep the loop fast); the offsets are whole minutes.
  const spanStarts = spans.map((span) => span.from / MINUTE);
  const spanOffsets = spans.map((span) => span.offset / MINUTE);
  const minuteOk = Uint8Array.from(cron.minute, Number);
  const hourOk = Uint8Array.from(cron.hour, Number);
  const firstDay = Math.floor(from / DAY) - 2;
  const dayState = new Int8Array(Math.ceil((to - from) / DAY) + 5); // 0 unknown, 1 match, -1 no match
  const fired: string[] = [];
  let span = 0;
  let latestWall = Number.NEGATIVE_INFINITY;
  for (let instant = from / MINUTE; instant < to / MINUTE; instant += 1) {
    while (span + 1 < spanStarts.length && (spanStarts[span + 1] as number) <= instant) span += 1;
    const wall = instant + (spanOffsets[span] as number);
    if (wall <= latestWall) continue; // this wall time already happened: autumn repeat
    latestWall = wall;
    const dayIndex = Math.floor(wall / 1440);
    const minuteOfDay = wall - dayIndex * 1440;
    if (minuteOk[minuteOfDay % 60] !== 1 || hourOk[Math.floor(minuteOfDay / 60)] !== 1) continue;
    const slot = dayIndex - firstDay;
    if (dayState[slot] === 0) {
      const date = new Date(dayIndex * DAY);
      dayState[slot] = cron.dayMatches(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())
        ? 1
        : -1;
    }
    if (dayState[slot] === 1) fired.push(new Date(instant * MINUTE).toISOString());
  }
  return fired;
}

/** Windows of three days around each transition of 2025 (or one plain window without DST). */
function transitionWindows(timeZone: string): [number, number][] {
  const from = Date.UTC(2025, 0, 1);
  const to = Date.UTC(2026, 0, 1);
  const changes = offsetSpans(timeZone, from, to)
    .slice(1)
    .filter((span) => span.from >= from && span.from < to);
  if (changes.length === 0) return [[Date.UTC(2025, 2, 8), Date.UTC(2025, 2, 11)]];
  return changes.map((change) => {
    const start = Math.floor(change.from / DAY) * DAY - DAY;
    return [start, start + 3 * DAY];
  });
}

function implementationFireTimes(expression: string, timeZone: string, from: number, to: number): string[] {
  return nextFireTimes(expression, {
    timezone: timeZone,
    after: new Date(from - 1),
    endDate: new Date(to),
    count: 100_000,
  }).map((date) => date.toISOString());
}

const UTC = 'UTC';
const KOLKATA = 'Asia/Kolkata';
const NEW_YORK = 'America/New_York';
const LONDON = 'Europe/London';
const LORD_HOWE = 'Australia/Lord_Howe';
const ALL_ZONES = [UTC, KOLKATA, NEW_YORK, LONDON, LORD_HOWE];

/** Expressions that fire at most about once a day: compared over three whole years. */
const SPARSE_CASES: { expression: string; zones: string[] }[] = [
  { expression: 'cron(0 12 ? * 6L *)', zones: [KOLKATA, NEW_YORK] },
  { expression: 'cron(15 10 L * ? *)', zones: [LONDON, LORD_HOWE] },
  { expression: 'cron(0 9 LW * ? *)', zones: [UTC, NEW_YORK] },
  { expression: 'cron(0 8 15W * ? *)', zones: [KOLKATA, LONDON] },
  { expression: 'cron(0 8 1W * ? *)', zones: [UTC, LORD_HOWE] },
  { expression: 'cron(30 6 ? * 6#3 *)', zones: [NEW_YORK, KOLKATA] },
  { expression: 'cron(0 0 ? * MON#5 *)', zones: [UTC, LONDON] },
  { expression: 'cron(45 23 1,15 JAN,JUL ? *)', zones: [LORD_HOWE, NEW_YORK] },
  { expression: 'cron(0 6 ? JAN-MAR MON-FRI 2025-2026)', zones: [LONDON, KOLKATA] },
  { expression: 'cron(0 12 1/10 * ? *)', zones: [UTC, NEW_YORK] },
  { expression: 'cron(0 0 ? * L 2025)', zones: [UTC, LORD_HOWE] },
  { expression: 'cron(30 2 ? * SUN *)', zones: [NEW_YORK, LONDON] },
  { expression: 'cron(30 1 ? * 1 *)', zones: [LONDON, NEW_YORK] },
  { expression: 'cron(15 2 ? * SUN *)', zones: [LORD_HOWE] },
  { expression: 'cron(45 1 ? * SUN *)', zones: [LORD_HOWE] },
  { expression: 'cron(0 9 ? * MON-FRI *)', zones: [NEW_YORK] },
  { expression: 'cron(0 0/12 5-20/5 2-11/3 ? 2024/2)', zones: [KOLKATA, LONDON] },
  { expression: 'cron(30 12 1/3 FEB/2 ? *)', zones: [UTC] },
];

/** Expressions that fire many times a day: compared over three days around each 2025 transition. */
const DENSE_CASES: { expression: string; zones: string[] }[] = [
  { expression: 'cron(0/15 * * * ? *)', zones: ALL_ZONES },
  { expression: 'cron(*/10 1-3 * * ? *)', zones: [NEW_YORK, LONDON, LORD_HOWE] },
  { expression: 'cron(30 1,2 * * ? *)', zones: [NEW_YORK, LONDON, LORD_HOWE] },
  { expression: 'cron(* 1 * * ? *)', zones: [NEW_YORK, LONDON, LORD_HOWE, KOLKATA] },
  { expression: 'cron(5,20-25,50 0-4 ? * SUN *)', zones: [NEW_YORK, LONDON, LORD_HOWE] },
];

describe('Function: nextFireTimes (against a brute-force reference)', () => {
  const sparseFrom = Date.UTC(2024, 0, 1);
  const sparseTo = Date.UTC(2027, 0, 1);

  it.each(SPARSE_CASES.flatMap(({ expression, zones }) => zones.map((zone) => [expression, zone] as const)))(
    'matches the reference for %s in %s over 2024-2026',
    (expression, zone) => {
      // Act
      const expected = referenceFireTimes(expression, zone, sparseFrom, sparseTo);
      const actual = implementationFireTimes(expression, zone, sparseFrom, sparseTo);

      // Assess
      expect(expected.length).toBeGreaterThan(0);
      expect(actual).toEqual(expected);
    },
  );

  it.each(DENSE_CASES.flatMap(({ expression, zones }) => zones.map((zone) => [expression, zone] as const)))(
    'matches the reference for %s in %s around the 2025 transitions',
    (expression, zone) => {
      for (const [from, to] of transitionWindows(zone)) {
        // Act
        const expected = referenceFireTimes(expression, zone, from, to);
        const actual = implementationFireTimes(expression, zone, from, to);

        // Assess
        expect(expected.length).toBeGreaterThan(0);
        expect(actual).toEqual(expected);
      }
    },
  );

  it('finds both 2025 transitions in each zone with daylight saving time (the windows cover DST)', () => {
    // Assess
    expect(transitionWindows(NEW_YORK)).toHaveLength(2);
    expect(transitionWindows(LONDON)).toHaveLength(2);
    expect(transitionWindows(LORD_HOWE)).toHaveLength(2);
    expect(transitionWindows(KOLKATA)).toHaveLength(1);
  });
});

describe('Function: nextFireTimes (daylight saving time)', () => {
  const fire = (expression: string, timezone: string, after: string, count: number) =>
    nextFireTimes(expression, { timezone, after: new Date(after), count }).map((date) => date.toISOString());

  it('skips a daily time that spring forward removes (New York, 2025-03-09 02:30)', () => {
    // Act
    const times = fire('cron(30 2 * * ? *)', NEW_YORK, '2025-03-07T12:00:00Z', 3);

    // Assess
    expect(times).toEqual([
      '2025-03-08T07:30:00.000Z',
      '2025-03-10T06:30:00.000Z',
      '2025-03-11T06:30:00.000Z',
    ]);
  });

  it('fires a time repeated in autumn once, at its first occurrence (New York, 2025-11-02 01:30)', () => {
    // Act
    const times = fire('cron(30 1 * * ? *)', NEW_YORK, '2025-11-01T12:00:00Z', 2);

    // Assess: 01:30 EDT is 05:30Z; 01:30 EST (06:30Z) does not fire.
    expect(times).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z']);
  });

  it('runs an every-30-minutes schedule through the repeated hour once per wall time', () => {
    // Act
    const times = fire('cron(0/30 * * * ? *)', NEW_YORK, '2025-11-02T04:45:00Z', 4);

    // Assess: 01:00 and 01:30 EDT, then 02:00 and 02:30 EST; the EST pass of 01:xx is skipped.
    expect(times).toEqual([
      '2025-11-02T05:00:00.000Z',
      '2025-11-02T05:30:00.000Z',
      '2025-11-02T07:00:00.000Z',
      '2025-11-02T07:30:00.000Z',
    ]);
  });

  it('skips the first pass when asked from inside the second pass of a repeated hour', () => {
    // Act: 06:10Z is 01:10 EST, after 01:30 EDT has fired.
    const times = fire('cron(30 1 * * ? *)', NEW_YORK, '2025-11-02T06:10:00Z', 1);

    // Assess
    expect(times).toEqual(['2025-11-03T06:30:00.000Z']);
  });

  it('skips wall times in a 30-minute spring gap and keeps the rest (Lord Howe, 2025-10-05)', () => {
    // Act
    const skipped = fire('cron(15 2 * * ? *)', LORD_HOWE, '2025-10-03T00:00:00Z', 2);
    const kept = fire('cron(45 2 * * ? *)', LORD_HOWE, '2025-10-03T00:00:00Z', 2);

    // Assess: 02:00-02:29 do not exist on 10-05, so 02:15 runs on 10-04 (+10:30) and then on
    // 10-06 (+11:00); 02:45 exists on 10-05.
    expect(skipped).toEqual(['2025-10-03T15:45:00.000Z', '2025-10-05T15:15:00.000Z']);
    expect(kept).toEqual(['2025-10-03T16:15:00.000Z', '2025-10-04T15:45:00.000Z']);
  });

  it('fires a wall time repeated by a 30-minute autumn shift once (Lord Howe, 2025-04-06 01:45)', () => {
    // Act
    const times = fire('cron(45 1 * * ? *)', LORD_HOWE, '2025-04-05T00:00:00Z', 2);

    // Assess: 01:45 at +11:00 is 14:45Z; at +10:30 (15:15Z) it does not fire again.
    expect(times).toEqual(['2025-04-05T14:45:00.000Z', '2025-04-06T15:15:00.000Z']);
  });

  it('evaluates cron in a zone without daylight saving time (Kolkata, +05:30)', () => {
    // Act
    const times = fire('cron(0 0 * * ? *)', KOLKATA, '2025-06-01T00:00:00Z', 2);

    // Assess
    expect(times).toEqual(['2025-06-01T18:30:00.000Z', '2025-06-02T18:30:00.000Z']);
  });
});

describe('Function: nextFireTimes (bounds, rate and at)', () => {
  it('returns only times strictly after `after`', () => {
    // Act
    const times = nextFireTimes('cron(0 * * * ? *)', {
      timezone: UTC,
      after: new Date('2025-01-01T10:00:00Z'),
      count: 2,
    });

    // Assess
    expect(times.map((date) => date.toISOString())).toEqual([
      '2025-01-01T11:00:00.000Z',
      '2025-01-01T12:00:00.000Z',
    ]);
  });

  it('includes the start date and excludes the end date', () => {
    // Act
    const times = nextFireTimes('cron(0 * * * ? *)', {
      timezone: UTC,
      after: new Date('2025-01-01T00:00:00Z'),
      startDate: new Date('2025-01-01T10:00:00Z'),
      endDate: new Date('2025-01-01T13:00:00Z'),
      count: 10,
    });

    // Assess
    expect(times.map((date) => date.toISOString())).toEqual([
      '2025-01-01T10:00:00.000Z',
      '2025-01-01T11:00:00.000Z',
      '2025-01-01T12:00:00.000Z',
    ]);
  });

  it('returns nothing when the expression never fires again', () => {
    // Act
    const never = nextFireTimes('cron(0 0 30 2 ? *)', {
      timezone: UTC,
      after: new Date('2025-01-01T00:00:00Z'),
      count: 3,
    });
    const past = nextFireTimes('cron(0 0 1 1 ? 2020)', {
      timezone: UTC,
      after: new Date('2025-01-01T00:00:00Z'),
      count: 3,
    });

    // Assess
    expect(never).toEqual([]);
    expect(past).toEqual([]);
  });

  it('fires a rate at anchor + k·n, counting from the start date when there is one', () => {
    // Act
    const fromAnchor = nextFireTimes('rate(15 minutes)', {
      timezone: UTC,
      after: new Date('2025-01-01T10:20:00Z'),
      anchor: new Date('2025-01-01T10:07:00Z'),
      count: 3,
    });
    const fromStart = nextFireTimes('rate(15 minutes)', {
      timezone: UTC,
      after: new Date('2025-01-01T10:20:00Z'),
      anchor: new Date('2025-01-01T10:07:00Z'),
      startDate: new Date('2025-01-01T10:00:00Z'),
      count: 3,
    });

    // Assess
    expect(fromAnchor.map((date) => date.toISOString())).toEqual([
      '2025-01-01T10:22:00.000Z',
      '2025-01-01T10:37:00.000Z',
      '2025-01-01T10:52:00.000Z',
    ]);
    expect(fromStart.map((date) => date.toISOString())).toEqual([
      '2025-01-01T10:30:00.000Z',
      '2025-01-01T10:45:00.000Z',
      '2025-01-01T11:00:00.000Z',
    ]);
  });

  it('fires a rate first at its start date when that is still ahead, and stops before the end date', () => {
    // Act
    const times = nextFireTimes('rate(1 hour)', {
      timezone: UTC,
      after: new Date('2025-01-01T00:00:00Z'),
      startDate: new Date('2025-01-01T06:00:00Z'),
      endDate: new Date('2025-01-01T08:00:00Z'),
      count: 10,
    });

    // Assess
    expect(times.map((date) => date.toISOString())).toEqual([
      '2025-01-01T06:00:00.000Z',
      '2025-01-01T07:00:00.000Z',
    ]);
  });

  it('starts a rate at the next whole minute when its anchor has seconds', () => {
    // Act
    const times = nextFireTimes('rate(1 minute)', {
      timezone: UTC,
      after: new Date('2025-01-01T10:00:37Z'),
      anchor: new Date('2025-01-01T10:00:37Z'),
      count: 2,
    });

    // Assess
    expect(times.map((date) => date.toISOString())).toEqual([
      '2025-01-01T10:01:00.000Z',
      '2025-01-01T10:02:00.000Z',
    ]);
  });

  it('counts a rate in days as 24 hours of elapsed time across a DST change', () => {
    // Act
    const times = nextFireTimes('rate(1 day)', {
      timezone: NEW_YORK,
      after: new Date('2025-03-08T00:00:00Z'),
      startDate: new Date('2025-03-08T14:00:00Z'),
      count: 3,
    });

    // Assess: 09:00 EST, then 10:00 EDT: the wall time moves, the interval does not.
    expect(times.map((date) => date.toISOString())).toEqual([
      '2025-03-08T14:00:00.000Z',
      '2025-03-09T14:00:00.000Z',
      '2025-03-10T14:00:00.000Z',
    ]);
  });

  it('fires at() once at its wall time in the zone, ignoring start and end dates', () => {
    // Act
    const times = nextFireTimes('at(2025-06-01T09:30:00)', {
      timezone: KOLKATA,
      after: new Date('2025-01-01T00:00:00Z'),
      startDate: new Date('2025-07-01T00:00:00Z'),
      endDate: new Date('2025-08-01T00:00:00Z'),
      count: 5,
    });

    // Assess
    expect(times.map((date) => date.toISOString())).toEqual(['2025-06-01T04:00:00.000Z']);
  });

  it('does not fire at() once its time has passed', () => {
    // Act
    const times = nextFireTimes('at(2025-06-01T09:30:00)', {
      timezone: UTC,
      after: new Date('2025-06-01T09:30:00Z'),
      count: 1,
    });

    // Assess
    expect(times).toEqual([]);
  });

  it('skips at() in a spring gap and fires it at the first occurrence of a repeated time', () => {
    // Act
    const inGap = nextFireTimes('at(2025-03-09T02:30:00)', {
      timezone: NEW_YORK,
      after: new Date(0),
      count: 1,
    });
    const repeated = nextFireTimes('at(2025-11-02T01:30:00)', {
      timezone: NEW_YORK,
      after: new Date(0),
      count: 1,
    });

    // Assess
    expect(inGap).toEqual([]);
    expect(repeated.map((date) => date.toISOString())).toEqual(['2025-11-02T05:30:00.000Z']);
  });

  it('converts wall times to instants with the first occurrence and undefined in a gap', () => {
    // Act
    const plain = wallTimeToInstant({ year: 2025, month: 7, day: 1, hour: 12, minute: 0, second: 0 }, LONDON);
    const gap = wallTimeToInstant({ year: 2025, month: 3, day: 30, hour: 1, minute: 30, second: 0 }, LONDON);
    const repeated = wallTimeToInstant(
      { year: 2025, month: 10, day: 26, hour: 1, minute: 30, second: 0 },
      LONDON,
    );

    // Assess
    expect(plain?.toISOString()).toBe('2025-07-01T11:00:00.000Z');
    expect(gap).toBeUndefined();
    expect(repeated?.toISOString()).toBe('2025-10-26T00:30:00.000Z');
  });

  it.each([
    [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    [{ timezone: '+05:30' }, 'timezone'],
    [{ count: -1 }, 'count'],
    [{ count: 1.5 }, 'count'],
    [{ after: new Date(Number.NaN) }, 'after'],
    [{ startDate: new Date('2025-02-01T00:00:00Z'), endDate: new Date('2025-01-01T00:00:00Z') }, 'end_date'],
  ] as const)('throws a ValidationError naming the field for %o', (override, field) => {
    // Prepare
    const options = { timezone: UTC, after: new Date('2025-01-01T00:00:00Z'), count: 1, ...override };

    // Act
    const act = () => nextFireTimes('cron(0 * * * ? *)', options);

    // Assess
    expect(act).toThrow(ValidationError);
    try {
      act();
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([{ field, message: expect.any(String) }]);
      expect((error as ValidationError).message).toContain(field);
    }
  });
});

describe('Function: parseScheduleExpression', () => {
  it('parses the three forms', () => {
    // Act & Assess
    expect(parseScheduleExpression(' cron(0/5 8-17 ? * MON-FRI *) ')).toEqual({
      kind: 'cron',
      expression: 'cron(0/5 8-17 ? * MON-FRI *)',
      fields: { minutes: '0/5', hours: '8-17', dayOfMonth: '?', month: '*', dayOfWeek: 'MON-FRI', year: '*' },
    });
    expect(parseScheduleExpression('rate(2 hours)')).toEqual({
      kind: 'rate',
      expression: 'rate(2 hours)',
      value: 2,
      unit: 'hour',
      minutes: 120,
    });
    expect(parseScheduleExpression('rate(1 day)')).toMatchObject({
      kind: 'rate',
      unit: 'day',
      minutes: 1440,
    });
    expect(parseScheduleExpression('at(2025-12-31T23:59:00)')).toEqual({
      kind: 'at',
      expression: 'at(2025-12-31T23:59:00)',
      at: '2025-12-31T23:59:00',
      wallTime: { year: 2025, month: 12, day: 31, hour: 23, minute: 59, second: 0 },
    });
  });

  it.each([
    ['', 'is required'],
    ['every 5 minutes', 'must be cron(<6 fields>), rate(<value> <unit>) or at('],
    ['cron(0 12 * * ?)', 'needs 6 fields'],
    ['cron(0 12 * * ? * *)', 'needs 6 fields'],
    ['cron(0 12 * * * *)', "exactly one of day-of-month ('*') and day-of-week ('*') must be '?'"],
    ['cron(0 12 ? * ? *)', 'exactly one of day-of-month'],
    ['cron(0 12 1 * MON *)', 'exactly one of day-of-month'],
    ['cron(60 12 * * ? *)', "minutes field '60' holds 60, outside 0-59"],
    ['cron(0 24 * * ? *)', "hours field '24' holds 24, outside 0-23"],
    ['cron(0 12 32 * ? *)', "day-of-month field '32' holds 32, outside 1-31"],
    ['cron(0 12 0 * ? *)', "day-of-month field '0' holds 0, outside 1-31"],
    ['cron(0 12 * 13 ? *)', "month field '13' holds 13, outside 1-12 or JAN-DEC"],
    ['cron(0 12 ? * 0 *)', "day-of-week field '0' holds 0, outside 1-7 or SUN-SAT"],
    ['cron(0 12 ? * 8 *)', "day-of-week field '8' holds 8, outside 1-7"],
    ['cron(0 12 ? * 1-3/2 *)', "day-of-week field '1-3/2' may hold only"],
    ['cron(0 12 * * ? 1969)', "year field '1969' holds 1969, outside 1970-2199"],
    ['cron(0 12 * * ? 2200)', 'outside 1970-2199'],
    ['cron(0 12 ? * FUN *)', "holds 'FUN', which is not one of SUN-SAT"],
    ['cron(0 12 * JANUARY ? *)', "holds 'JANUARY', which is not one of JAN-DEC"],
    ['cron(0 12 20-10 * ? *)', 'range 20-10, whose start is after its end'],
    ['cron(0/0 12 * * ? *)', "has step '0', which must be 1-60"],
    ['cron(0 12 1,L * ? *)', "may use L only as 'L' or 'LW'"],
    ['cron(0 12 1W,15 * ? *)', "may use W only as '<day>W' or 'LW'"],
    ['cron(0 12 ? * 3#1,6#3 *)', "may use # only as one '<day>#<n>'"],
    ['cron(0 12 ? * 3#6 *)', 'occurrence 6, which must be 1-5'],
    ['cron(0 12 ? * 2-6L *)', "may use L only as 'L' or one '<day>L'"],
    ['cron(0 12 ?5 * ? *)', "must be '?' alone"],
    ['cron(0 12 * * ? */2x)', "year field '*/2x' may hold only digits"],
    ['rate(0 minutes)', "the rate value '0' must be a whole number of at least 1"],
    ['rate(-5 minutes)', 'must be a whole number of at least 1'],
    ['rate(1.5 hours)', 'must be a whole number of at least 1'],
    ['rate(1 minutes)', "must use the singular unit 'minute'"],
    ['rate(5 minute)', "must use the plural unit 'minutes'"],
    ['rate(5 seconds)', "the rate unit 'seconds' must be one of minute, minutes, hour, hours, day, days"],
    ['rate(5 weeks)', 'must be one of minute'],
    ['rate(5)', 'must be rate(<value> <unit>)'],
    ['at(2025-02-29T10:00:00)', 'is not a real date and time'],
    ['at(2025-01-01T24:00:00)', 'is not a real date and time'],
    ['at(2025-01-01 10:00:00)', 'must be at(yyyy-mm-ddThh:mm:ss)'],
    ['at(2025-01-01T10:00:00Z)', 'must be at(yyyy-mm-ddThh:mm:ss)'],
  ])('refuses %j, naming schedule_expression (%s)', (expression, fragment) => {
    // Act
    let caught: unknown;
    try {
      parseScheduleExpression(expression);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.message).toMatch(/^schedule_expression: /);
    expect(error.message).toContain(fragment);
    expect(error.issues).toEqual([
      { field: 'schedule_expression', message: expect.stringContaining(fragment) },
    ]);
  });

  it.each([
    'cron(0 10 * * ? *)',
    'cron(15 12 * * ? *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(*/5 * * * ? *)',
    'cron(0/10 * ? * MON-FRI *)',
    'cron(0/5 8-17 ? * MON-FRI *)',
    'cron(0 9 ? * 2#1 *)',
    'cron(15 10 ? * 6L 2022-2030)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 3W * ? *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 ? * L *)',
    'cron(0 12 ? JAN,FEB,MAR sun *)',
    'cron(0 12 ? jan-mar MON,WED,FRI *)',
    'cron(5,35 1-23/2 1/3 FEB/2 ? 2030/5)',
  ])('accepts the AWS form %s', (expression) => {
    // Act & Assess
    expect(parseScheduleExpression(expression).kind).toBe('cron');
  });
});

describe('Schema: ScheduleExpressionSchema', () => {
  it('accepts the three forms and trims them', () => {
    // Act & Assess
    expect(ScheduleExpressionSchema.parse(' cron(0 12 * * ? *) ')).toBe('cron(0 12 * * ? *)');
    expect(ScheduleExpressionSchema.parse('rate(1 minute)')).toBe('rate(1 minute)');
    expect(ScheduleExpressionSchema.parse('at(2030-01-01T00:00:00)')).toBe('at(2030-01-01T00:00:00)');
  });

  it.each([
    ['cron(0 12 * * *)', 'needs 6 fields'],
    ['cron(0 12 * * * *)', "must be '?'"],
    ['cron(0 12 * * ? x)', 'may hold only'],
    ['rate(2 minute)', 'plural'],
    ['at(2030-13-01T00:00:00)', 'not a real date'],
    ['@daily', 'must be cron('],
    ['', 'must not be empty'],
  ])('refuses %j with a message saying what is wrong', (expression, fragment) => {
    // Act
    const result = ScheduleExpressionSchema.safeParse(expression);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(fragment);
  });
});

describe('Schema: TimezoneSchema', () => {
  it.each([
    'UTC',
    'Etc/UTC',
    'Etc/GMT+5',
    'Asia/Kolkata',
    'Asia/Calcutta',
    'America/New_York',
    'Australia/Lord_Howe',
  ])('accepts %s', (zone) => {
    // Act & Assess
    expect(TimezoneSchema.safeParse(zone).success).toBe(true);
  });

  it.each(['', 'Mars/Olympus_Mons', '+05:30', 'GMT+5', 'america/new_york', 'utc', 'Europe/'])(
    'refuses %j',
    (zone) => {
      // Act
      const result = TimezoneSchema.safeParse(zone);

      // Assess
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe(
        'must be an IANA time zone name such as UTC or Europe/London',
      );
    },
  );
});

describe('Constant: SCHEDULE_PRESETS', () => {
  it('offers every preset as a valid expression', () => {
    // Act & Assess
    expect(SchedulePresetSchema.options).toEqual([
      'hourly',
      'daily',
      'weekly',
      'monthly',
      'every_6_hours',
      'every_12_hours',
    ]);
    for (const expression of Object.values(SCHEDULE_PRESETS)) {
      expect(parseScheduleExpression(expression).kind).toBe('cron');
    }
  });

  it.each([
    ['hourly', ['2025-01-01T11:00:00.000Z', '2025-01-01T12:00:00.000Z']],
    ['daily', ['2025-01-02T00:00:00.000Z', '2025-01-03T00:00:00.000Z']],
    ['weekly', ['2025-01-05T00:00:00.000Z', '2025-01-12T00:00:00.000Z']],
    ['monthly', ['2025-02-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z']],
    ['every_6_hours', ['2025-01-01T12:00:00.000Z', '2025-01-01T18:00:00.000Z']],
    ['every_12_hours', ['2025-01-01T12:00:00.000Z', '2025-01-02T00:00:00.000Z']],
  ] as const)('fires %s when its name says', (preset, expected) => {
    // Act
    const times = nextFireTimes(SCHEDULE_PRESETS[preset], {
      timezone: UTC,
      after: new Date('2025-01-01T10:30:00Z'), // a Wednesday
      count: 2,
    });

    // Assess
    expect(times.map((date) => date.toISOString())).toEqual(expected);
  });
});

describe('Function: legacyCronToAws', () => {
  it.each([
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 0 * * 0', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 7', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 0,7', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * 1,6-7 *)'],
    ['0 0 * * 6-7', 'cron(0 0 ? * 1,7 *)'],
    ['0 0 * * 0-2', 'cron(0 0 ? * 1-3 *)'],
    ['0 0 * * 0-6', 'cron(0 0 ? * * *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['0 0 * * sat,SUN', 'cron(0 0 ? * 1,7 *)'],
    ['0 0 * * FRI-SAT', 'cron(0 0 ? * 6-7 *)'],
    ['0 0 * * 5#3', 'cron(0 0 ? * 6#3 *)'],
    ['0 0 * * 0#1', 'cron(0 0 ? * 1#1 *)'],
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['5-55/10 */2 * * *', 'cron(5-55/10 0/2 * * ? *)'],
    ['30 2 1,15 * *', 'cron(30 2 1,15 * ? *)'],
    ['0 0 */5 jan-mar *', 'cron(0 0 1/5 JAN-MAR ? *)'],
    ['0 0 L * *', 'cron(0 0 L * ? *)'],
    ['@hourly', 'cron(0 * * * ? *)'],
    ['@weekly', 'cron(0 0 ? * 1 *)'],
    ['@yearly', 'cron(0 0 1 1 ? *)'],
    ['  0   6  *  *  *  ', 'cron(0 6 * * ? *)'],
  ])('converts %j to %s', (legacy, expected) => {
    // Act & Assess
    expect(legacyCronToAws(legacy)).toBe(expected);
  });

  it.each([
    ['0 0 * * 1-5', [1, 2, 3, 4, 5]],
    ['0 0 * * 5-7', [0, 5, 6]],
    ['0 0 * * 0', [0]],
    ['0 0 * * 7', [0]],
    ['0 0 * * */3', [0, 3, 6]],
  ] as const)('fires %j on the same weekdays as the legacy scheduler did', (legacy, weekdays) => {
    // Act
    const times = nextFireTimes(legacyCronToAws(legacy), {
      timezone: UTC,
      after: new Date('2025-01-01T00:00:00Z'),
      endDate: new Date('2025-01-15T00:00:00Z'),
      count: 100,
    });

    // Assess
    expect([...new Set(times.map((date) => date.getUTCDay()))].sort()).toEqual(weekdays);
  });

  it.each([
    ['', 'expected 5 fields'],
    ['0 0 * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['0 0 0 * * *', 'got 6'],
    ['0 0 1 * 1', "day-of-month '1' and day-of-week '1' are both restricted"],
    ['60 0 * * *', "the minute field '60' holds '60', which must be 0-59"],
    ['0 24 * * *', "the hour field '24' holds '24', which must be 0-23"],
    ['0 0 * * 8', "the day-of-week field '8' holds '8', which must be 0-7"],
    ['0 0 * * 5-1', 'range 5-1, whose start is after its end'],
    ['0 0 * * FRI-SUN', 'range FRI-SUN, whose start is after its end'],
    ['0 0 * * 1#6', 'occurrence 6, which must be 1-5'],
    ['0 0 * 13 *', "the month field '13' holds '13', which must be 1-12"],
    ['0 0 32 * *', "the day-of-month field '32' holds '32', which must be 1-31"],
  ])('refuses %j, naming cron_expression', (legacy, fragment) => {
    // Act
    const act = () => legacyCronToAws(legacy);

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/^cron_expression: /);
    expect(act).toThrow(fragment);
  });
});

describe('Function: intervalSecondsToRate', () => {
  it.each([
    [60, 'rate(1 minute)'],
    [120, 'rate(2 minutes)'],
    [5400, 'rate(90 minutes)'],
    [3600, 'rate(1 hour)'],
    [7200, 'rate(2 hours)'],
    [90_000, 'rate(25 hours)'],
    [86_400, 'rate(1 day)'],
    [604_800, 'rate(7 days)'],
  ])('maps %i seconds to %s', (seconds, expected) => {
    // Act & Assess
    expect(intervalSecondsToRate(seconds)).toBe(expected);
  });

  it.each([
    [30, "must be at least 60: EventBridge Scheduler's shortest rate is 1 minute, got 30"],
    [0, 'must be at least 60'],
    [-60, 'must be at least 60'],
    [90, 'must be a whole number of minutes (a multiple of 60), got 90'],
    [60.5, 'must be a whole number of seconds, got 60.5'],
  ])('refuses %d seconds, naming interval_seconds', (seconds, fragment) => {
    // Act
    const act = () => intervalSecondsToRate(seconds);

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(`interval_seconds: ${fragment}`);
  });
});

describe('Function: toScheduleExpression', () => {
  it('maps each legacy schedule type', () => {
    // Act & Assess
    expect(toScheduleExpression({ schedule_type: 'cron', cron_expression: '0 9 * * 1-5' })).toBe(
      'cron(0 9 ? * 2-6 *)',
    );
    expect(toScheduleExpression({ schedule_type: 'cron', cron_expression: 'cron(0 9 ? * MON *)' })).toBe(
      'cron(0 9 ? * MON *)',
    );
    expect(toScheduleExpression({ schedule_type: 'interval', interval_seconds: 21_600 })).toBe(
      'rate(6 hours)',
    );
    expect(
      toScheduleExpression({
        schedule_type: 'one_time',
        next_run_at: '2025-06-01T10:00:00',
        timezone: KOLKATA,
      }),
    ).toBe('at(2025-06-01T15:30:00)');
    expect(
      toScheduleExpression({
        schedule_type: 'one_time',
        next_run_at: new Date('2025-07-01T11:00:00Z'),
        timezone: LONDON,
      }),
    ).toBe('at(2025-07-01T12:00:00)');
    expect(toScheduleExpression({ schedule_type: 'one_time', next_run_at: '2025-06-01T10:00:00Z' })).toBe(
      'at(2025-06-01T10:00:00)',
    );
  });

  it.each([
    [{ schedule_type: 'cron' }, 'cron_expression', 'is required when schedule_type is cron'],
    [{ schedule_type: 'cron', cron_expression: 'cron(0 9 * * * *)' }, 'cron_expression', "must be '?'"],
    [{ schedule_type: 'interval', interval_seconds: null }, 'interval_seconds', 'is required'],
    [{ schedule_type: 'interval', interval_seconds: 45 }, 'interval_seconds', 'must be at least 60'],
    [{ schedule_type: 'one_time' }, 'next_run_at', 'is required when schedule_type is one_time'],
    [{ schedule_type: 'one_time', next_run_at: 'tomorrow' }, 'next_run_at', 'must be an ISO-8601 timestamp'],
    [
      { schedule_type: 'one_time', next_run_at: '2025-06-01T10:00:00', timezone: 'Nowhere' },
      'timezone',
      'IANA',
    ],
    [{ schedule_type: 'weekly' }, 'schedule_type', 'must be cron, interval or one_time'],
  ] as const)('refuses %o, naming %s', (legacy, field, fragment) => {
    // Act
    let caught: unknown;
    try {
      // @ts-expect-error -- the last case passes an unknown schedule_type on purpose
      toScheduleExpression(legacy);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).issues[0]).toEqual({
      field,
      message: expect.stringContaining(fragment),
    });
  });
});
