import { createHash, randomBytes } from 'node:crypto';
import { parseTimestamp, toIsoUtc } from '../../schemas/common';
import { ValidationError } from './errors';

/**
 * The one execution-naming scheme, used on AWS and in the local runtime, so an operator can find
 * the run of schedule X at time T by its name, and so a second start of the same slot reuses the
 * same name (Step Functions then refuses or de-duplicates it).
 *
 * - scheduled run, or a manual trigger of a schedule: `scan-<scheduleId>-<YYYYMMDDTHHmmZ>`
 *   (the slot, truncated to the minute: the same slot gives the same name, hence one scan);
 * - a manual/api scan without a schedule: `scan-<triggeredBy>-<accountId>-<YYYYMMDDTHHmmssZ>-<nonce>`;
 * - onboarding: `onboard-<accountId>-<attemptToken>`;
 * - validation: `validate-<accountId>-<YYYYMMDDTHHmmssZ>-<nonce>`.
 *
 * Ids are reduced to `[A-Za-z0-9-_]` (anything else becomes `-`). A name never exceeds 80
 * characters: when it would, the id part is cut and ends with 8 hex characters of its hash (so two
 * long ids sharing a prefix still get different names); the time is never cut.
 */

export const MAX_EXECUTION_NAME_LENGTH = 80;
export const NONCE_LENGTH = 6;
export const MIN_ATTEMPT_TOKEN_LENGTH = 8;
export const MAX_ATTEMPT_TOKEN_LENGTH = 16;

const MAX_TRIGGER_LENGTH = 16;
const HASH_SUFFIX_LENGTH = 8;
const NONCE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type TimeInput = Date | string;

export interface ScanExecutionNameInput {
  accountId: string;
  /** Who asked: `scheduler`, `manual` or `api`. */
  triggeredBy: string;
  scheduleId?: string;
  /** The schedule slot (scheduled runs and manual triggers of a schedule). */
  scheduledTime?: TimeInput;
  /** When the scan was asked for; used when there is no scheduled time. */
  requestedAt?: TimeInput;
  /** Six characters that make an unscheduled name unique (e.g. from a request id); random when absent. */
  nonce?: string;
}

export interface ParsedScanExecutionName {
  scheduleId?: string;
  /** ISO-8601 UTC, the slot minute of a scheduled run. */
  slot?: string;
  triggeredBy?: string;
  accountId?: string;
  /** ISO-8601 UTC, the second an unscheduled scan was asked for. */
  requestedAt?: string;
}

/** Replaces every character Step Functions names should not carry with `-`. */
export function sanitizeNamePart(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '-');
}

function fitId(id: string, budget: number): string {
  if (id.length <= budget) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, HASH_SUFFIX_LENGTH);
  return `${id.slice(0, Math.max(0, budget - HASH_SUFFIX_LENGTH - 1))}-${hash}`.slice(-budget);
}

function requireId(field: string, value: string | undefined): string {
  const sanitized = sanitizeNamePart(value ?? '');
  if (sanitized.length === 0) {
    throw new ValidationError(`${field} is required to name an execution`, [
      { field, message: 'must be a non-empty string' },
    ]);
  }
  return sanitized;
}

function toDate(field: string, value: TimeInput): Date {
  const date = typeof value === 'string' ? parseTimestamp(value) : value;
  if (!date || Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} must be an ISO-8601 timestamp to name an execution`, [
      { field, message: 'expected an ISO-8601 timestamp' },
    ]);
  }
  return date;
}

const pad = (value: number) => String(value).padStart(2, '0');

/** `YYYYMMDDTHHmmZ` (UTC, truncated to the minute). */
export function formatSlotMinute(date: Date): string {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}T${pad(
    date.getUTCHours(),
  )}${pad(date.getUTCMinutes())}Z`;
}

/** `YYYYMMDDTHHmmssZ` (UTC, truncated to the second). */
export function formatSecond(date: Date): string {
  return `${formatSlotMinute(date).slice(0, -1)}${pad(date.getUTCSeconds())}Z`;
}

function nonceOf(value: string | undefined): string {
  const given = sanitizeNamePart(value ?? '').slice(0, NONCE_LENGTH);
  if (given.length === NONCE_LENGTH) return given;
  if (value !== undefined && value.length > 0) {
    throw new ValidationError(`nonce must hold at least ${NONCE_LENGTH} characters`, [
      { field: 'nonce', message: `expected ${NONCE_LENGTH} characters of [A-Za-z0-9_-]` },
    ]);
  }
  const bytes = randomBytes(NONCE_LENGTH);
  return Array.from(bytes, (byte) => NONCE_ALPHABET[byte % NONCE_ALPHABET.length]).join('');
}

/** Names one scan execution (see the scheme above). */
export function scanExecutionName(input: ScanExecutionNameInput): string {
  if (input.scheduleId !== undefined) {
    const scheduleId = requireId('scheduleId', input.scheduleId);
    const time = input.scheduledTime ?? input.requestedAt;
    if (time === undefined) {
      throw new ValidationError('scheduledTime is required to name the scan of a schedule', [
        { field: 'scheduledTime', message: 'the slot of the schedule is required' },
      ]);
    }
    const slot = formatSlotMinute(toDate('scheduledTime', time));
    const budget = MAX_EXECUTION_NAME_LENGTH - 'scan-'.length - 1 - slot.length;
    return `scan-${fitId(scheduleId, budget)}-${slot}`;
  }
  const accountId = requireId('accountId', input.accountId);
  // No `-` inside the trigger, so the name splits back into trigger and account unambiguously.
  const triggeredBy = fitId(requireId('triggeredBy', input.triggeredBy), MAX_TRIGGER_LENGTH).replace(
    /-/g,
    '_',
  );
  const time = input.requestedAt ?? input.scheduledTime;
  if (time === undefined) {
    throw new ValidationError('requestedAt is required to name a scan without a schedule', [
      { field: 'requestedAt', message: 'the time the scan was asked for is required' },
    ]);
  }
  const second = formatSecond(
    toDate(input.requestedAt !== undefined ? 'requestedAt' : 'scheduledTime', time),
  );
  const nonce = nonceOf(input.nonce);
  const budget =
    MAX_EXECUTION_NAME_LENGTH -
    'scan-'.length -
    triggeredBy.length -
    1 -
    1 -
    second.length -
    1 -
    nonce.length;
  return `scan-${triggeredBy}-${fitId(accountId, budget)}-${second}-${nonce}`;
}

/** Names one onboarding attempt: `onboard-<accountId>-<attemptToken>` (token of 8 to 16 characters). */
export function onboardingExecutionName(accountId: string, attemptToken: string): string {
  const token = sanitizeNamePart(attemptToken).slice(0, MAX_ATTEMPT_TOKEN_LENGTH);
  if (token.length < MIN_ATTEMPT_TOKEN_LENGTH) {
    throw new ValidationError(
      `attemptToken must hold at least ${MIN_ATTEMPT_TOKEN_LENGTH} characters to name an onboarding`,
      [
        {
          field: 'attemptToken',
          message: `expected ${MIN_ATTEMPT_TOKEN_LENGTH} to ${MAX_ATTEMPT_TOKEN_LENGTH} characters`,
        },
      ],
    );
  }
  const id = requireId('accountId', accountId);
  const budget = MAX_EXECUTION_NAME_LENGTH - 'onboard-'.length - 1 - token.length;
  return `onboard-${fitId(id, budget)}-${token}`;
}

/** Names one credential re-validation: `validate-<accountId>-<YYYYMMDDTHHmmssZ>-<nonce>`. */
export function validationExecutionName(accountId: string, time: TimeInput, nonce?: string): string {
  const id = requireId('accountId', accountId);
  const second = formatSecond(toDate('time', time));
  const suffix = nonceOf(nonce);
  const budget = MAX_EXECUTION_NAME_LENGTH - 'validate-'.length - 1 - second.length - 1 - suffix.length;
  return `validate-${fitId(id, budget)}-${second}-${suffix}`;
}

const SCHEDULED_NAME = /^scan-(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/;
const UNSCHEDULED_NAME = /^scan-([^-]+)-(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[A-Za-z0-9_-]{6}$/;

function isoFrom(parts: ReadonlyArray<string | undefined>): string | undefined {
  const [year, month, day, hour, minute, second = '00'] = parts;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  // Date rolls 31 February over to March: only a date that reads back the same is real.
  const valid =
    !Number.isNaN(date.getTime()) &&
    formatSecond(date) === `${year}${month}${day}T${hour}${minute}${second}Z`;
  return valid ? toIsoUtc(date) : undefined;
}

/**
 * Reads back what a scan execution name says, for display. Returns undefined for a name that is
 * not a scan name. Ids cut to fit 80 characters come back cut.
 */
export function parseScanExecutionName(name: string): ParsedScanExecutionName | undefined {
  const scheduled = SCHEDULED_NAME.exec(name);
  if (scheduled) {
    const slot = isoFrom(scheduled.slice(2));
    return slot && scheduled[1] ? { scheduleId: scheduled[1], slot } : undefined;
  }
  const unscheduled = UNSCHEDULED_NAME.exec(name);
  if (unscheduled) {
    const requestedAt = isoFrom(unscheduled.slice(3));
    if (!requestedAt || !unscheduled[1] || !unscheduled[2]) return undefined;
    return { triggeredBy: unscheduled[1], accountId: unscheduled[2], requestedAt };
  }
  return undefined;
}
