import cronstrue from 'cronstrue';
import type { Schedule } from '../types';

/** The expression as written: schedule_expression, else the legacy fields. */
export function expressionOf(schedule: Schedule): string {
  if (schedule.schedule_expression) return schedule.schedule_expression;
  if (schedule.cron_expression) return `cron(${schedule.cron_expression})`;
  if (schedule.interval_seconds) return `every ${schedule.interval_seconds} s`;
  return schedule.schedule_type;
}

/** The expression in words: AWS cron's six fields (minutes … year), rate(n unit), at(time). */
export function describeExpression(schedule: Schedule): string {
  const expression = expressionOf(schedule).trim();
  const rate = /^rate\((\d+)\s+(\w+)\)$/.exec(expression);
  if (rate) return `Every ${rate[1]} ${rate[2]}`;
  const at = /^at\((.+)\)$/.exec(expression);
  if (at) return `Once, at ${at[1]}`;
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron?.[1]) {
    const fields = cron[1].trim().split(/\s+/);
    try {
      // AWS: minutes hours day-of-month month day-of-week year; day-of-week 1 = Sunday.
      return cronstrue.toString(`0 ${fields.join(' ')}`, {
        dayOfWeekStartIndexZero: false,
        use24HourTimeFormat: true,
      });
    } catch {
      return expression;
    }
  }
  return expression;
}
