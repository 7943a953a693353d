import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import ora, { type Ora } from 'ora';
import { createColors } from 'picocolors';

/**
 * How the CLI writes: JSON documents, aligned tables (cli-table3), times both absolute and
 * relative, a spinner (ora) or a progress bar (cli-progress) on stderr while something waits.
 * Colour, spinners and bars only on a terminal, and colour never with NO_COLOR set.
 */

export function colourEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  const noColor = process.env.NO_COLOR;
  return Boolean(stream.isTTY) && (noColor === undefined || noColor === '');
}

export const colours = () => createColors(colourEnabled());

export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** One JSON document (the API's own answer), pretty-printed. */
export function printJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 2));
}

/** An aligned table; an empty list prints `empty` instead. */
export function printTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  empty = '(none)',
): void {
  if (rows.length === 0) {
    writeOut(empty);
    return;
  }
  const colour = colourEnabled();
  const table = new Table({
    head: colour ? head.map((title) => createColors(true).bold(title)) : [...head],
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
  });
  table.push(...rows.map((row) => [...row]));
  writeOut(
    table
      .toString()
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n'),
  );
}

/** `key: value` lines, aligned. */
export function printFields(fields: ReadonlyArray<readonly [string, string]>): void {
  const width = Math.max(...fields.map(([name]) => name.length));
  const colour = colours();
  writeOut(fields.map(([name, value]) => `${colour.dim(`${name}:`.padEnd(width + 1))} ${value}`).join('\n'));
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });
const UNITS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** `3 min. ago`, `in 2 hr.` */
export function relativeTime(iso: string, now = Date.now()): string {
  const delta = Date.parse(iso) - now;
  if (Number.isNaN(delta)) return '';
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === 'second') return relative.format(Math.round(delta / size), unit);
  }
  return '';
}

/** `2026-12-01 10:12:03Z (3 min. ago)`; `-` for none. */
export function when(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const absolute = new Date(time)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${absolute} (${relativeTime(iso, now)})`;
}

/** `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} m`;
}

const GOOD = new Set(['completed', 'active', 'ok', 'succeeded', 'SUCCEEDED', 'redriven', 'triggered']);
const BAD = new Set([
  'failed',
  'timed_out',
  'aborted',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'failing',
  'unavailable',
]);
const PENDING = new Set(['running', 'RUNNING', 'paused', 'pending', 'caught', 'retried']);

/** A status word, green / red / yellow on a terminal. */
export function status(word: string | null | undefined): string {
  if (!word) return '-';
  const colour = colours();
  if (GOOD.has(word)) return colour.green(word);
  if (BAD.has(word)) return colour.red(word);
  if (PENDING.has(word)) return colour.yellow(word);
  return word;
}

export const truncate = (text: string, length: number) =>
  text.length <= length ? text : `${text.slice(0, length - 1)}…`;

/** A spinner on stderr (silent when stderr is not a terminal or the output is JSON). */
export function spinner(text: string, json: boolean): Ora {
  const enabled = Boolean(process.stderr.isTTY) && !json;
  return ora({ text, stream: process.stderr, isEnabled: enabled, isSilent: !enabled });
}

/** A progress bar on stderr for `total` steps (nothing when stderr is not a terminal). */
export function progressBar(total: number, label: string, json: boolean): { tick(): void; stop(): void } {
  if (!process.stderr.isTTY || json) return { tick: () => {}, stop: () => {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}
