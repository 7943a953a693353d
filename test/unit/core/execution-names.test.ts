import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors';
import {
  MAX_EXECUTION_NAME_LENGTH,
  onboardingExecutionName,
  parseScanExecutionName,
  scanExecutionName,
  validationExecutionName,
} from '../../../functions/core/execution-names';
import { EXECUTION_NAME_PATTERN } from '../../../functions/core/ports/orchestrator';

const SCHEDULE_ID = '3f1c9a52-7d4e-4b8a-9c61-0e2f5d7a8b90';
const ACCOUNT_ID = 'b7e4d2c1-5a6f-4e3d-8c2b-1a0f9e8d7c6b';

describe('Function: scanExecutionName', () => {
  it('names a scheduled run after its schedule and slot minute', () => {
    // Act
    const name = scanExecutionName({
      scheduleId: SCHEDULE_ID,
      accountId: ACCOUNT_ID,
      scheduledTime: '2026-03-01T09:30:42.123Z',
      triggeredBy: 'scheduler',
    });

    // Assess
    expect(name).toBe(`scan-${SCHEDULE_ID}-20260301T0930Z`);
  });

  it('gives a manual trigger of a schedule the same name as the slot it falls in', () => {
    // Act
    const scheduled = scanExecutionName({
      scheduleId: SCHEDULE_ID,
      accountId: ACCOUNT_ID,
      scheduledTime: new Date('2026-03-01T09:30:00.000Z'),
      triggeredBy: 'scheduler',
    });
    const manual = scanExecutionName({
      scheduleId: SCHEDULE_ID,
      accountId: ACCOUNT_ID,
      requestedAt: '2026-03-01T09:30:59',
      triggeredBy: 'manual',
    });

    // Assess
    expect(manual).toBe(scheduled);
  });

  it('names an unscheduled scan after trigger, account, second and nonce', () => {
    // Act
    const name = scanExecutionName({
      accountId: ACCOUNT_ID,
      requestedAt: '2026-03-01T09:30:42.999Z',
      triggeredBy: 'api',
      nonce: 'a1b2c3d4e5',
    });

    // Assess
    expect(name).toBe(`scan-api-${ACCOUNT_ID}-20260301T093042Z-a1b2c3`);
  });

  it('draws a random nonce when none is given, so two ad-hoc scans in one second differ', () => {
    // Prepare
    const input = { accountId: ACCOUNT_ID, requestedAt: '2026-03-01T09:30:42Z', triggeredBy: 'manual' };

    // Act
    const first = scanExecutionName(input);
    const second = scanExecutionName(input);

    // Assess
    expect(first).toMatch(/^scan-manual-.+-20260301T093042Z-[a-z0-9]{6}$/);
    expect(first).not.toBe(second);
  });

  it('replaces characters Step Functions names must not carry', () => {
    // Act
    const name = scanExecutionName({
      scheduleId: 'weekly scan/eu:1',
      accountId: ACCOUNT_ID,
      scheduledTime: '2026-03-01T09:30:00Z',
      triggeredBy: 'scheduler',
    });

    // Assess
    expect(name).toBe('scan-weekly-scan-eu-1-20260301T0930Z');
    expect(name).toMatch(EXECUTION_NAME_PATTERN);
  });

  it('cuts a long id (never the time) to 80 characters, keeping long ids apart', () => {
    // Prepare
    const longA = `${'x'.repeat(100)}-a`;
    const longB = `${'x'.repeat(100)}-b`;
    const at = '2026-03-01T09:30:00Z';

    // Act
    const nameA = scanExecutionName({
      scheduleId: longA,
      accountId: 'acc',
      scheduledTime: at,
      triggeredBy: 'scheduler',
    });
    const nameB = scanExecutionName({
      scheduleId: longB,
      accountId: 'acc',
      scheduledTime: at,
      triggeredBy: 'scheduler',
    });
    const adHoc = scanExecutionName({
      accountId: longA,
      requestedAt: at,
      triggeredBy: 'manual',
      nonce: 'abcdef',
    });

    // Assess
    expect(nameA).toHaveLength(MAX_EXECUTION_NAME_LENGTH);
    expect(nameA.endsWith('-20260301T0930Z')).toBe(true);
    expect(nameA).not.toBe(nameB);
    expect(adHoc).toHaveLength(MAX_EXECUTION_NAME_LENGTH);
    expect(adHoc.endsWith('-20260301T093000Z-abcdef')).toBe(true);
    for (const name of [nameA, nameB, adHoc]) expect(name).toMatch(EXECUTION_NAME_PATTERN);
  });

  it('throws ValidationError naming scheduledTime when a schedule has no slot', () => {
    // Act
    const act = () =>
      scanExecutionName({ scheduleId: SCHEDULE_ID, accountId: ACCOUNT_ID, triggeredBy: 'scheduler' });

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/scheduledTime/);
  });

  it('throws ValidationError naming the field of a malformed time or empty account', () => {
    // Act
    const badTime = () =>
      scanExecutionName({
        scheduleId: SCHEDULE_ID,
        accountId: ACCOUNT_ID,
        scheduledTime: 'yesterday',
        triggeredBy: 'x',
      });
    const noAccount = () => scanExecutionName({ accountId: '', requestedAt: new Date(), triggeredBy: 'api' });

    // Assess
    expect(badTime).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ field: 'scheduledTime' })] }),
    );
    expect(noAccount).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ field: 'accountId' })] }),
    );
  });
});

describe('Function: parseScanExecutionName', () => {
  it('reads the schedule and slot back from a scheduled name', () => {
    // Prepare
    const name = scanExecutionName({
      scheduleId: SCHEDULE_ID,
      accountId: ACCOUNT_ID,
      scheduledTime: '2026-03-01T09:30:00Z',
      triggeredBy: 'scheduler',
    });

    // Act
    const parsed = parseScanExecutionName(name);

    // Assess
    expect(parsed).toEqual({ scheduleId: SCHEDULE_ID, slot: '2026-03-01T09:30:00.000Z' });
  });

  it('reads trigger, account and time back from an unscheduled name', () => {
    // Prepare
    const name = scanExecutionName({
      accountId: ACCOUNT_ID,
      requestedAt: '2026-03-01T09:30:42Z',
      triggeredBy: 'api',
      nonce: 'qwerty',
    });

    // Act
    const parsed = parseScanExecutionName(name);

    // Assess
    expect(parsed).toEqual({
      triggeredBy: 'api',
      accountId: ACCOUNT_ID,
      requestedAt: '2026-03-01T09:30:42.000Z',
    });
  });

  it('returns undefined for names that are not scan names or hold impossible dates', () => {
    // Act & Assess
    expect(parseScanExecutionName('onboard-acc-1-abcdefgh')).toBeUndefined();
    expect(parseScanExecutionName(`scan-${SCHEDULE_ID}-20260231T0930Z`)).toBeUndefined();
    expect(parseScanExecutionName('scan-')).toBeUndefined();
  });
});

describe('Function: onboardingExecutionName', () => {
  it('names an attempt after the account and a token of 8 to 16 characters', () => {
    // Act
    const name = onboardingExecutionName(ACCOUNT_ID, '0123456789abcdefXYZ');

    // Assess
    expect(name).toBe(`onboard-${ACCOUNT_ID}-0123456789abcdef`);
  });

  it('throws ValidationError naming attemptToken when the token is shorter than 8', () => {
    // Act
    const act = () => onboardingExecutionName(ACCOUNT_ID, 'short');

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ field: 'attemptToken' })] }),
    );
  });
});

describe('Function: validationExecutionName', () => {
  it('names a validation after the account, second and nonce', () => {
    // Act
    const name = validationExecutionName(ACCOUNT_ID, new Date('2026-03-01T23:59:59.500Z'), 'n0nce1');

    // Assess
    expect(name).toBe(`validate-${ACCOUNT_ID}-20260301T235959Z-n0nce1`);
    expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME_LENGTH);
  });
});
