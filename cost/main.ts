import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { DEFAULT_SCAN_SETTINGS } from '../functions/core/scans/scan-settings';
import { type FreeTier, monthlyBill, type RegionPrices, type ScanFigures, type Usage } from './cost-model';
import { synthesizedTemplateFacts } from './template-facts';

/**
 * `npm run cost -- --accounts 100 --scans-per-day 1 [--region ap-south-1] [--engine sync|async]
 * [--scan-minutes N] [--api-requests-per-scan N] [--cold-start-share 0..1] [--no-free-tier]
 * [-c key=value ...] [--json]`: the monthly bill of a deployment, per service, from the template
 * synthesized with that context, the per-scan figures the bench measured (cost/scan-figures.json)
 * and the prices in cost/prices.json.
 */

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface PricesFile {
  regions: Record<string, RegionPrices>;
  freeTier: FreeTier;
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as T;
}

function numberOption(values: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new UsageError(`--${name} takes a number from ${min} to ${max} (got ${String(values[name])})`);
  return value;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string', default: '100' },
      'scans-per-day': { type: 'string', default: '1' },
      region: { type: 'string', default: 'ap-south-1' },
      engine: { type: 'string', default: 'sync' },
      'scan-minutes': { type: 'string', default: '2' },
      'api-requests-per-scan': { type: 'string', default: '10' },
      'cold-start-share': { type: 'string', default: '1' },
      'no-free-tier': { type: 'boolean', default: false },
      context: { type: 'string', short: 'c', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
  });
  const prices = readJson<PricesFile>('./prices.json');
  const region = String(values.region);
  const regionPrices = prices.regions[region];
  if (!regionPrices)
    throw new UsageError(
      `no prices for ${region} in cost/prices.json (it has ${Object.keys(prices.regions).join(', ')})`,
    );
  if (values.engine !== 'sync' && values.engine !== 'async')
    throw new UsageError(`--engine is sync or async (got ${values.engine})`);
  const scanMinutes = numberOption(values, 'scan-minutes', 0, values.engine === 'sync' ? 5.5 : 240);
  const context = Object.fromEntries(
    (values.context ?? []).map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new UsageError(`-c takes key=value (got ${pair})`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );

  const usage: Usage = {
    accounts: numberOption(values, 'accounts', 1, 1_000_000),
    scansPerDay: numberOption(values, 'scans-per-day', 0, 1440),
    engine: values.engine,
    scanMinutes,
    apiRequestsPerScan: numberOption(values, 'api-requests-per-scan', 0, 10_000),
    coldStartShare: numberOption(values, 'cold-start-share', 0, 1),
    applyFreeTier: !values['no-free-tier'],
    firstPollWaitSeconds: DEFAULT_SCAN_SETTINGS.firstPollWaitSeconds,
    maxPollWaitSeconds: DEFAULT_SCAN_SETTINGS.maxPollWaitSeconds,
  };
  const figures = readJson<ScanFigures>('./scan-figures.json');
  const template = synthesizedTemplateFacts(context);
  const bill = monthlyBill(usage, template, figures, regionPrices, prices.freeTier);

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ region, usage, template, ...bill }, null, 2)}\n`);
    return;
  }
  const table = new Table({ head: ['service', 'what', 'USD / month'], colAligns: ['left', 'left', 'right'] });
  for (const line of bill.lines) {
    table.push([line.service, `${line.detail}${line.fixed ? ' (fixed)' : ''}`, line.monthly_usd.toFixed(2)]);
  }
  table.push(['total', '', bill.monthly_total_usd.toFixed(2)]);
  process.stdout.write(
    `${usage.accounts} accounts × ${usage.scansPerDay} scans a day (${bill.scans_per_month.toLocaleString('en-US')} scans a month), ${usage.engine} engine, ${scanMinutes}-minute scans, ${region}${usage.applyFreeTier ? ', always-free tiers applied' : ''}\n`,
  );
  process.stdout.write(`${table.toString()}\n`);
  const unconfirmed = Object.entries(regionPrices)
    .filter(([, price]) => !price.region_confirmed)
    .map(([name]) => name);
  if (unconfirmed.length > 0) {
    process.stdout.write(
      `Prices read for US East and assumed for ${region} (see cost/prices.json): ${unconfirmed.join(', ')}\n`,
    );
  }
  process.stdout.write(`Per-scan figures: ${figures.command}, measured ${figures.measured_on}\n`);
}

try {
  main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`cost: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
