import * as z from 'zod/mini';
import { DisplayTextSchema, IdSchema, ProviderTypeSchema, TimestampSchema } from './common';

export const AccountStatusSchema = z.enum(['pending', 'active', 'error', 'disabled']);
export type AccountStatus = z.infer<typeof AccountStatusSchema>;

export const OnboardingStatusSchema = z.enum(['pending', 'in_progress', 'completed', 'failed']);
export type OnboardingStatus = z.infer<typeof OnboardingStatusSchema>;

export const AccountNameSchema = z.pipe(
  DisplayTextSchema(256),
  z.string().check(z.minLength(1, 'must not be empty')),
);

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
  account_number: z.nullish(z.string()),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  onboarding_id: z.nullish(z.string()),
  last_validated_at: z.nullish(TimestampSchema),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  // New fields.
  provider_type: z.optional(ProviderTypeSchema),
  auth_method: z.nullish(z.string()),
  credential_type: z.nullish(z.string()),
  external_id: z.nullish(z.string()),
  secret_name: z.nullish(z.string()),
  validated_offline: z.nullish(z.boolean()),
  onboarding_error_code: z.nullish(z.string()),
  onboarding_error_message: z.nullish(z.string()),
  /** The last failed validation of the current credentials (cleared by a successful one). */
  validation_error_code: z.nullish(z.string()),
  validation_error_message: z.nullish(z.string()),
  validation_failed_at: z.nullish(TimestampSchema),
  /** Scan lock: the execution holding it and when its lease runs out. */
  scan_lock_owner: z.nullish(z.string()),
  scan_lock_expires_at: z.nullish(TimestampSchema),
  /** Overlap policy buffer_one: the one run waiting for the running scan, and its lease. */
  scan_buffer_owner: z.nullish(z.string()),
  scan_buffer_expires_at: z.nullish(TimestampSchema),
  disabled_at: z.nullish(TimestampSchema),
});
export type Account = z.infer<typeof AccountSchema>;
