import { describe, expect, it } from 'vitest';
import type { RehearsalReport, RehearsedRequest } from '../../../rehearsal/deploy-rehearsal';
import { formatRehearsalReport, rehearsalPassed } from '../../../rehearsal/rehearsal-report';

const allowed: RehearsedRequest = {
  scenario: 'a',
  principal: { name: 'FunctionsStartScanFunction', arn: 'arn:aws:sts::123456789012:assumed-role/r/s' },
  request: {
    action: 'dynamodb:GetItem',
    resource: 'arn:aws:dynamodb:ap-south-1:123456789012:table/t',
    context: {},
  },
  evaluation: { verdict: 'Allowed' },
};
const denied: RehearsedRequest = {
  ...allowed,
  request: { ...allowed.request, action: 'dynamodb:PutItem' },
  evaluation: { verdict: 'ImplicitlyDenied' },
};

function reportWith(overrides: Partial<RehearsalReport>): RehearsalReport {
  return {
    stackName: 'ThreatEngine-dev',
    account: '123456789012',
    region: 'ap-south-1',
    scenarios: [{ name: 'a', ok: true }],
    callCount: 2,
    requests: [allowed],
    denied: [],
    deliveries: [],
    unused: [],
    unrecordedCalls: 0,
    standInRequests: 1,
    staleJustifications: [],
    durationMs: 1000,
    ...overrides,
  };
}

describe('Function: rehearsalPassed', () => {
  it('passes with every scenario ok, nothing denied and every unused grant justified', () => {
    expect(
      rehearsalPassed(
        reportWith({
          unused: [{ principal: 'r', source: 'p', action: 'a:b', resource: '*', justification: 'why' }],
        }),
      ),
    ).toBe(true);
  });

  it.each([
    ['a denied request', { requests: [allowed, denied], denied: [denied] }],
    [
      'an unjustified unused grant',
      { unused: [{ principal: 'r', source: 'p', action: 'a:b', resource: '*' }] },
    ],
    ['a call the middleware did not record', { unrecordedCalls: 1 }],
    ['a failed scenario', { scenarios: [{ name: 'a', ok: false, failure: 'answered 500' }] }],
  ])('fails on %s', (_case, overrides) => {
    expect(rehearsalPassed(reportWith(overrides))).toBe(false);
  });
});

describe('Function: formatRehearsalReport', () => {
  it('prints the call count, the verdict per principal and each denial', () => {
    const text = formatRehearsalReport(reportWith({ requests: [allowed, denied], denied: [denied] }));

    expect(text).toContain(
      '2 AWS calls by the functions (1 of them to stand-ins other than DynamoDB, 0 unrecorded), 2 IAM requests (2 evaluated), 1 denied',
    );
    expect(text).toContain('FunctionsStartScanFunction (2)');
    expect(text).toMatch(/Denied: 1\n {2}FunctionsStartScanFunction dynamodb:PutItem .* ImplicitlyDenied/);
  });
});
