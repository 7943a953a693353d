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
    expect(report.unrecordedCalls).toBe(0);
    expect(report.standInRequests).toBeGreaterThan(50);
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
    const decrypts = report.requests.filter(
      (request) =>
        request.request.action === 'kms:Decrypt' && request.request.via?.startsWith('secretsmanager:'),
    );
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

  it("evaluates DynamoDB's use of the tables' data key for every table call", () => {
    const tableKey = report.requests.filter((request) => request.request.via === 'dynamodb (table key)');
    expect(tableKey.length).toBeGreaterThan(0);
    for (const request of tableKey.filter((each) => each.request.action === 'kms:Decrypt')) {
      expect(request.request.context['kms:ViaService']).toBe('dynamodb.ap-south-1.amazonaws.com');
      expect(request.request.context['kms:EncryptionContext:aws:dynamodb:tableName']).toMatch(
        /^threat-engine-/,
      );
    }
  });

  it("routes the published events through the stack's rules to every channel kind, with their roles' permission", () => {
    const rules = new Set(report.deliveries.map((delivery) => delivery.rule));
    expect([...rules].sort()).toEqual(
      expect.arrayContaining([
        'NotificationsEmailChannelRule',
        'NotificationsSlackChannelRule',
        'NotificationsWebhookChannelRule',
      ]),
    );
    const invokes = report.requests.filter(
      (request) => request.request.action === 'events:InvokeApiDestination',
    );
    expect(invokes.map((request) => request.principal.name).sort()).toEqual(
      expect.arrayContaining([
        'NotificationsSlackDestinationEventsRole',
        'NotificationsWebhookDestinationEventsRole',
      ]),
    );
    expect(
      report.requests.filter((request) => request.request.action === 'events:PutEvents').length,
    ).toBeGreaterThan(0);
  });

  it('delivers the stuck-run sweep from its Scheduler schedule, as the schedule role', () => {
    const sweepInvokes = report.requests.filter(
      (request) =>
        request.request.action === 'lambda:InvokeFunction' &&
        request.request.resource.includes('SweepStuckRuns'),
    );
    expect(sweepInvokes.map((request) => request.principal.name)).toEqual(['SchedulingSweepSchedulerRole']);
    expect(report.scenarios.find((scenario) => scenario.name.startsWith('stuck-run sweep'))?.ok).toBe(true);
  });
});
