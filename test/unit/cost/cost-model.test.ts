import { describe, expect, it } from 'vitest';
import {
  type FreeTier,
  monthlyBill,
  pollsFor,
  type RegionPrices,
  type ScanFigures,
  type TemplateFacts,
  type Usage,
} from '../../../cost/cost-model';
import prices from '../../../cost/prices.json' with { type: 'json' };
import { factsOfTemplate } from '../../../cost/template-facts';

const regionPrices = prices.regions['ap-south-1'] as RegionPrices;
const freeTier: FreeTier = prices.freeTier;

const figures: ScanFigures = {
  measured_on: '2026-12-01',
  command: 'npm run bench',
  scan: {
    state_transitions: 6,
    invocations: { ClaimScanFunctionArn: 1, StartScanFunctionArn: 1 },
    handler_ms: { ClaimScanFunctionArn: 10, StartScanFunctionArn: 10 },
    dynamodb_reads: 2,
    dynamodb_writes: 8,
    secret_reads: 2,
    log_bytes: 0,
  },
  poll: { state_transitions: 3, handler_ms: 10, dynamodb_reads: 1, dynamodb_writes: 2 },
  init_ms: {},
  api_handler_ms: 10,
};
const template: TemplateFacts = {
  functionMemoryMb: { ClaimScanFunctionArn: 256, StartScanFunctionArn: 256, ApiFunction: 512 },
  alarms: 33,
  dashboards: 1,
  kmsKeys: 2,
  logRetentionDays: 90,
};
const usage: Usage = {
  accounts: 100,
  scansPerDay: 1,
  engine: 'sync',
  scanMinutes: 2,
  apiRequestsPerScan: 0,
  coldStartShare: 1,
  applyFreeTier: false,
  firstPollWaitSeconds: 5,
  maxPollWaitSeconds: 300,
};
const lineOf = (bill: ReturnType<typeof monthlyBill>, service: string, detail: RegExp) =>
  bill.lines.find((line) => line.service === service && detail.test(line.detail));

describe('Function: pollsFor', () => {
  it('counts the doubling waits (5, 10, 20 … capped at 300 s) a scan of that length needs', () => {
    expect(pollsFor(4, 5, 300)).toBe(1);
    expect(pollsFor(35, 5, 300)).toBe(3); // 5 + 10 + 20
    expect(pollsFor(1800, 5, 300)).toBe(11); // 5 … 160 = 315, then six waits of 300
  });
});

describe('Function: monthlyBill', () => {
  it('prices one secret per account, every key and every alarm as fixed costs', () => {
    // Act
    const bill = monthlyBill(usage, template, figures, regionPrices, freeTier);

    // Assess
    expect(lineOf(bill, 'Secrets Manager', /secrets/)).toMatchObject({ monthly_usd: 40, fixed: true });
    expect(lineOf(bill, 'KMS', /keys/)).toMatchObject({ monthly_usd: 2, fixed: true });
    expect(lineOf(bill, 'CloudWatch', /alarms/)).toMatchObject({ monthly_usd: 3.3, fixed: true });
    expect(bill.scans_per_month).toBe(3000);
  });

  it('charges the transitions of every poll for an asynchronous engine', () => {
    // Act
    const sync = monthlyBill(usage, template, figures, regionPrices, freeTier);
    const async = monthlyBill(
      { ...usage, engine: 'async', scanMinutes: 30 },
      template,
      figures,
      regionPrices,
      freeTier,
    );

    // Assess: 3,000 scans × (6 + 11 polls × 3) transitions at $0.0285 per thousand.
    expect(lineOf(sync, 'Step Functions', /transitions/)?.monthly_usd).toBe(0.51);
    expect(lineOf(async, 'Step Functions', /transitions/)?.monthly_usd).toBe(3.33);
  });

  it('bills the start task for the whole scan of a synchronous engine', () => {
    // Act
    const bill = monthlyBill(usage, template, figures, regionPrices, freeTier);

    // Assess: 3,000 scans × 0.25 GB × (0.01 s claim + 120.01 s start: the two-minute scan) = 90,015 GB-s.
    expect(lineOf(bill, 'Lambda', /GB-s/)?.detail).toContain('90,015 GB-s');
  });

  it('leaves the always-free allowances out when asked to apply them', () => {
    // Act
    const bill = monthlyBill({ ...usage, applyFreeTier: true }, template, figures, regionPrices, freeTier);

    // Assess
    expect(lineOf(bill, 'CloudWatch', /alarms/)?.monthly_usd).toBe(2.3);
    expect(lineOf(bill, 'CloudWatch', /dashboard/)?.monthly_usd).toBe(0);
    expect(lineOf(bill, 'Lambda', /GB-s/)?.monthly_usd).toBe(0);
  });
});

describe('Function: factsOfTemplate', () => {
  it('reads memory sizes, alarms, dashboards, keys and the longest log retention from resources', () => {
    // Act
    const facts = factsOfTemplate({
      FunctionsClaimScanFunction1234ABCD: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
      FunctionsApiFunction9FB01DBA: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 512 } },
      AlarmA: { Type: 'AWS::CloudWatch::Alarm' },
      AlarmB: { Type: 'AWS::CloudWatch::Alarm' },
      Key: { Type: 'AWS::KMS::Key' },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } },
      MoreLogs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } },
    });

    // Assess
    expect(facts).toMatchObject({ alarms: 2, dashboards: 0, kmsKeys: 1, logRetentionDays: 365 });
    expect(facts.functionMemoryMb).toMatchObject({ ClaimScanFunctionArn: 256, ApiFunction: 512 });
  });
});
