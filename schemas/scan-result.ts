import * as z from 'zod/mini';
import { IdSchema, ProviderTypeSchema, TimestampSchema } from './common';

export const ScanTypeSchema = z.enum(['scheduled', 'manual', 'on_demand']);
export type ScanType = z.infer<typeof ScanTypeSchema>;

export const ScanResultStatusSchema = z.enum(['running', 'completed', 'failed', 'cancelled', 'timed_out']);
export type ScanResultStatus = z.infer<typeof ScanResultStatusSchema>;

/** Scan-result metadata (the findings themselves stay with the engine / result storage). */
export const ScanResultSchema = z.looseObject({
  scan_id: IdSchema,
  account_id: IdSchema,
  provider_type: ProviderTypeSchema,
  scan_type: ScanTypeSchema,
  started_at: TimestampSchema,
  completed_at: z.nullish(TimestampSchema),
  status: ScanResultStatusSchema,
  total_checks: z._default(z.number().check(z.int(), z.nonnegative()), 0),
  passed_checks: z._default(z.number().check(z.int(), z.nonnegative()), 0),
  failed_checks: z._default(z.number().check(z.int(), z.nonnegative()), 0),
  error_checks: z._default(z.number().check(z.int(), z.nonnegative()), 0),
  result_storage_path: z.nullish(z.string()),
  metadata: z.nullish(z.record(z.string(), z.unknown())),
  // New fields.
  tenant_id: z.optional(IdSchema),
  execution_id: z.nullish(z.string()),
  schedule_id: z.nullish(z.string()),
  engine_scan_id: z.nullish(z.string()),
});
export type ScanResult = z.infer<typeof ScanResultSchema>;
