import * as z from 'zod/mini';
import { IdSchema, ProviderTypeSchema, TimestampSchema } from './common';

export const ProviderStatusSchema = z.enum(['active', 'disabled']);
export type ProviderStatus = z.infer<typeof ProviderStatusSchema>;

/** One provider per (tenant, provider_type). */
export const ProviderSchema = z.looseObject({
  provider_id: IdSchema,
  tenant_id: IdSchema,
  provider_type: ProviderTypeSchema,
  status: z._default(ProviderStatusSchema, 'active'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
});
export type Provider = z.infer<typeof ProviderSchema>;
