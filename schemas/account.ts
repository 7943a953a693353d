import * as z from 'zod';
import { DisplayTextSchema, IdSchema, ProviderTypeSchema, TimestampSchema } from './common';

export const AccountStatusSchema = z.enum(['pending', 'active', 'error', 'disabled']);
export type AccountStatus = z.infer<typeof AccountStatusSchema>;

export const OnboardingStatusSchema = z.enum(['pending', 'in_progress', 'completed', 'failed']);
export type OnboardingStatus = z.infer<typeof OnboardingStatusSchema>;

export const AccountNameSchema = DisplayTextSchema(256).pipe(z.string().min(1, 'must not be empty'));

/**
 * An account item as stored. The legacy fields come first; the rest are new and optional so
 * legacy items still read. No credential value is ever an attribute here: `secret_name` is a
 * reference, and `external_id` is not a secret (AWS documents it as a confused-deputy guard).
 */
export const AccountSchema = z.looseObject({
  account_id: IdSchema,
  provider_id: IdSchema,
  tenant_id: IdSchema,
  account_name: z.string(),
  account_number: z.string().nullish(),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  onboarding_id: z.string().nullish(),
  last_validated_at: TimestampSchema.nullish(),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  // New fields.
  provider_type: ProviderTypeSchema.optional(),
  auth_method: z.string().nullish(),
  credential_type: z.string().nullish(),
  external_id: z.string().nullish(),
  secret_name: z.string().nullish(),
  validated_offline: z.boolean().nullish(),
  onboarding_error_code: z.string().nullish(),
  onboarding_error_message: z.string().nullish(),
  /** The last failed validation of the current credentials (cleared by a successful one). */
  validation_error_code: z.string().nullish(),
  validation_error_message: z.string().nullish(),
  validation_failed_at: TimestampSchema.nullish(),
  /** Scan lock: the execution holding it and when its lease runs out. */
  scan_lock_owner: z.string().nullish(),
  scan_lock_expires_at: TimestampSchema.nullish(),
  /** Overlap policy buffer_one: the one run waiting for the running scan, and its lease. */
  scan_buffer_owner: z.string().nullish(),
  scan_buffer_expires_at: TimestampSchema.nullish(),
  disabled_at: TimestampSchema.nullish(),
});
export type Account = z.infer<typeof AccountSchema>;
