import { beforeAll, describe, expect, it } from 'vitest';
import { type RehearsalReport, runDeployRehearsal } from '../../rehearsal/deploy-rehearsal';
import { rehearsalPassed } from '../../rehearsal/rehearsal-report';
import { rehearsedFunctionsOf } from '../../rehearsal/rehearsed-functions';
import { synthesizeAndResolve } from '../../rehearsal/resolved-template';
import { rehearsalScenarios } from '../../rehearsal/scenarios';

/** The same rehearsal `npm run rehearse` runs, once for the file (about 30 s here). */
let report: RehearsalReport;

beforeAll(async () => {
  report = await runDeployRehearsal(rehearsalScenarios());
}, 240_000);

describe('Deploy rehearsal (the synthesized template on loopback stand-ins)', () => {
  it('runs every scenario to its expected outcome', () => {
    expect(report.scenarios.filter((scenario) => !scenario.ok)).toEqual([]);
    expect(report.scenarios.length).toBeGreaterThanOrEqual(10);
  });

  it('has no AWS request denied by the policies of the template', () => {
    expect(
      report.denied.map(
        (request) => `${request.principal.name} ${request.request.action} ${request.request.resource}`,
      ),
    ).toEqual([]);
    expect(report.callCount).toBeGreaterThan(100);
  });

  it('justifies every grant no rehearsed request used', () => {
    expect(
      report.unused
        .filter((grant) => !grant.justification)
        .map((grant) => `${grant.principal} ${grant.action} ${grant.resource}`),
    ).toEqual([]);
    expect(rehearsalPassed(report)).toBe(true);
    expect(report.staleJustifications.map((rule) => rule.reason)).toEqual([]);
  });

  it('invokes every function of the template and records calls of each', () => {
    const functions = rehearsedFunctionsOf(synthesizeAndResolve());
    const invoked = new Set(
      report.requests
        .filter((request) => request.request.action === 'lambda:InvokeFunction')
        .map((request) => request.request.resource),
    );
    const calling = new Set(
      report.requests.filter((request) => request.call).map((request) => request.principal.name),
    );
    // Only the first-schedule task is not reachable through the API (the migration sets first_schedule).
    const unreached = functions.filter((fn) => !invoked.has(fn.arn)).map((fn) => fn.label);
    expect(unreached).toEqual(['FunctionsCreateFirstScheduleFunction']);
    for (const fn of functions.filter((each) => invoked.has(each.arn))) expect(calling).toContain(fn.label);
  });

  it('evaluates the KMS use behind Secrets Manager with its condition keys against the key policy', () => {
    const decrypts = report.requests.filter((request) => request.request.action === 'kms:Decrypt');
    expect(decrypts.length).toBeGreaterThan(0);
    for (const request of decrypts) {
      expect(request.request.resourcePolicy).toBe('kms-key');
      expect(request.request.context['kms:ViaService']).toBe('secretsmanager.ap-south-1.amazonaws.com');
      expect(String(request.request.context['kms:EncryptionContext:SecretARN'])).toMatch(
        /^arn:aws:secretsmanager:ap-south-1:123456789012:secret:threat-engine\/account\//,
      );
    }
  });

  it('passes the scheduler role to Scheduler only for scheduler.amazonaws.com', () => {
    const passes = report.requests.filter((request) => request.request.action === 'iam:PassRole');
    expect(passes.length).toBeGreaterThan(0);
    for (const request of passes) {
      expect(request.request.context['iam:PassedToService']).toBe('scheduler.amazonaws.com');
    }
  });
});
