import * as z from 'zod';
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
  completed_at: TimestampSchema.nullish(),
  status: ScanResultStatusSchema,
  total_checks: z.number().int().nonnegative().default(0),
  passed_checks: z.number().int().nonnegative().default(0),
  failed_checks: z.number().int().nonnegative().default(0),
  error_checks: z.number().int().nonnegative().default(0),
  result_storage_path: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  // New fields.
  tenant_id: IdSchema.optional(),
  execution_id: z.string().nullish(),
  schedule_id: z.string().nullish(),
  engine_scan_id: z.string().nullish(),
});
export type ScanResult = z.infer<typeof ScanResultSchema>;
