import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { IdSchema, TimestampSchema, toIsoUtc } from '../../../schemas/common';
import {
  type ScanResult,
  ScanResultSchema,
  type ScanResultStatus,
  ScanResultStatusSchema,
} from '../../../schemas/scan-result';
import { INDEX, TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { InvalidTransitionError, NotFoundError } from '../errors';
import { newId } from '../ids';
import { DynamoDbTable, type Item } from './dynamodb-table';
import type { Page, PageRequest } from './pagination';
import { parseInput, parseStored } from './stored-item';

export interface ScanResultRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

const { scan_id: _scanId, started_at: _startedAt, status: _status, ...storedFields } = ScanResultSchema.shape;

/** What records a scan result (strict: unknown fields are refused). Defaults: running, now. */
export const NewScanResultSchema = z.strictObject({
  ...storedFields,
  scan_id: z.optional(IdSchema),
  started_at: z.optional(TimestampSchema),
  status: z._default(ScanResultStatusSchema, 'running'),
});
export type NewScanResult = z.input<typeof NewScanResultSchema>;

type FinalScanStatus = Exclude<ScanResultStatus, 'running'>;
const FinalStatusSchema = z.enum([
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const satisfies readonly z.infer<typeof ScanResultStatusSchema>[]);

/** What a finished scan records besides its status. */
export const ScanFinishFieldsSchema = z.strictObject({
  completed_at: z.optional(TimestampSchema),
  total_checks: z.optional(z.number().check(z.int(), z.nonnegative())),
  passed_checks: z.optional(z.number().check(z.int(), z.nonnegative())),
  failed_checks: z.optional(z.number().check(z.int(), z.nonnegative())),
  error_checks: z.optional(z.number().check(z.int(), z.nonnegative())),
  result_storage_path: z.nullish(z.string().check(z.maxLength(2048))),
  engine_scan_id: z.nullish(z.string().check(z.maxLength(256))),
  metadata: z.nullish(z.record(z.string(), z.unknown())),
});
export type ScanFinishFields = z.input<typeof ScanFinishFieldsSchema>;

export interface CreatedScanResult {
  /** False when a result with this scan_id existed: `scanResult` is then that record, unchanged. */
  created: boolean;
  scanResult: ScanResult;
}

export class ScanResultRepository {
  private readonly table: DynamoDbTable;
  private readonly clock: Clock;

  constructor(options: ScanResultRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.scanResults);
    this.clock = options.clock ?? systemClock;
  }

  /** Records a scan result once: writing the same scan_id again leaves the first record as it is. */
  async create(input: NewScanResult): Promise<CreatedScanResult> {
    const data = parseInput(NewScanResultSchema, input, 'scan result');
    const item = this.table.writable({
      ...data,
      scan_id: data.scan_id ?? newId(),
      started_at: data.started_at ?? toIsoUtc(this.clock()),
    });
    const written = await this.table.put(item, {
      expression: 'attribute_not_exists(#id)',
      names: { '#id': 'scan_id' },
    });
    if (written) return { created: true, scanResult: this.parse(item) };
    const existing = await this.get(String(item.scan_id));
    if (!existing) return this.create(input);
    return { created: false, scanResult: existing };
  }

  async get(scanId: string): Promise<ScanResult | undefined> {
    const item = await this.table.get({ scan_id: scanId });
    return item ? this.parse(item) : undefined;
  }

  /** An account's scan results, newest first (account-scans-index). */
  async listByAccount(accountId: string, page?: PageRequest): Promise<Page<ScanResult>> {
    return this.table.queryPage(
      { indexName: INDEX.accountScans, key: { account_id: accountId }, newestFirst: true },
      page,
      (item) => this.parse(item),
    );
  }

  /**
   * Scan results of one status, newest first (status-scans-index). Crosses tenants: for operators
   * and housekeeping (e.g. results left running), not for a tenant's request path.
   */
  async listByStatus(status: ScanResultStatus, page?: PageRequest): Promise<Page<ScanResult>> {
    const value = parseInput(ScanResultStatusSchema, status, 'scan result', 'status');
    return this.table.queryPage(
      { indexName: INDEX.statusScans, key: { status: value }, newestFirst: true },
      page,
      (item) => this.parse(item),
    );
  }

  /**
   * running → a final status with counts. Finishing a finished result with the status it has is
   * idempotent; with another status it is an InvalidTransitionError.
   */
  async finish(scanId: string, status: FinalScanStatus, fields: ScanFinishFields = {}): Promise<ScanResult> {
    const final = parseInput(FinalStatusSchema, status, 'scan result', 'status');
    const data = parseInput(ScanFinishFieldsSchema, fields, 'scan result');
    const updated = await this.table.update(
      { scan_id: scanId },
      { set: { ...data, status: final, completed_at: data.completed_at ?? toIsoUtc(this.clock()) } },
      {
        expression: 'attribute_exists(#id) AND #status = :running',
        names: { '#id': 'scan_id', '#status': 'status' },
        values: { ':running': 'running' },
      },
    );
    if (updated) return this.parse(updated);
    const current = await this.get(scanId);
    if (!current) throw new NotFoundError('scan result', scanId);
    if (current.status === final) return current;
    throw new InvalidTransitionError('scan result', scanId, final, ['running']);
  }

  private parse(item: Item): ScanResult {
    return parseStored(ScanResultSchema, item, 'scan result', 'scan_id');
  }
}
