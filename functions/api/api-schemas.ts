import { z } from 'zod';
import { AccountNameSchema, AccountStatusSchema, OnboardingStatusSchema } from '../../schemas/account';
import { IdSchema, IsoUtcTimestampSchema, ProviderTypeSchema } from '../../schemas/common';
import { AwsAccountNumberSchema, ExternalIdSchema, RoleArnSchema } from '../../schemas/credentials';
import { TenantStatusSchema } from '../../schemas/tenant';

/**
 * The request and response bodies of the tenant, onboarding and account routes. Requests are
 * strict (an unknown field is a 400 naming it, never silently stored); responses are what the
 * OpenAPI document shows. No response schema has a place for a credential value.
 */

// ---------------------------------------------------------------------------------------------
// Shared

export const ProviderParamSchema = z.enum(ProviderTypeSchema.options, {
  error: `expected one of ${ProviderTypeSchema.options.join(', ')}`,
});

export const PageQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ message: 'expected a whole number from 1 to 100' })
    .int('expected a whole number from 1 to 100')
    .min(1, 'expected a whole number from 1 to 100')
    .max(100, 'expected a whole number from 1 to 100')
    .optional(),
  cursor: z.string().min(1).max(2048, 'expected a cursor from a previous page').optional(),
});

/** Every listing answers `{<resource>: [...], next_cursor}` (the legacy keys: `accounts`, `tenants` ...). */
const NextCursorSchema = z
  .string()
  .nullable()
  .describe('pass back as cursor for the next page; null on the last');

// ---------------------------------------------------------------------------------------------
// Tenants

export const TenantViewSchema = z.object({
  tenant_id: z.string(),
  tenant_name: z.string(),
  description: z.string().nullable(),
  status: TenantStatusSchema,
  created_at: z.string(),
  updated_at: z.string(),
  disabled_at: z.string().nullable(),
});
export type TenantView = z.infer<typeof TenantViewSchema>;
export const TenantPageSchema = z.object({
  tenants: z.array(TenantViewSchema),
  next_cursor: NextCursorSchema,
});

// ---------------------------------------------------------------------------------------------
// Onboarding

export const AuthMethodsViewSchema = z.object({
  provider: ProviderTypeSchema,
  methods: z.array(
    z.object({
      method: z.string().describe('the auth method (legacy name of auth_method)'),
      name: z.string(),
      requires: z
        .array(z.string())
        .describe('the required credential fields (legacy name of required_fields)'),
      cloudformation_supported: z.boolean(),
      auth_method: z.string(),
      credential_type: z.string(),
      label: z.string(),
      description: z.string(),
      recommended: z.boolean(),
      required_fields: z.array(z.string()),
      optional_fields: z.array(z.string()),
    }),
  ),
});

export const InitAccountBodySchema = z.strictObject({
  /** Platform admins name the tenant; tenant users may leave it out (or name their own). */
  tenant_id: IdSchema.optional(),
  // Names end up in consoles and web pages: markup characters are refused outright.
  account_name: AccountNameSchema.refine((name) => !/[<>`]/.test(name), 'must not contain <, > or `'),
  auth_method: z.string().min(1).max(64).optional(),
});

export const InitAccountResponseSchema = z.object({
  onboarding_id: z.string().nullable().describe('assigned when credentials are submitted (validate)'),
  account_id: z.string(),
  tenant_id: z.string(),
  provider: ProviderTypeSchema,
  auth_method: z.string(),
  account_name: z.string(),
  external_id: z.string().nullable(),
  cloudformation_template_url: z.string().optional(),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  validate_url: z.string(),
});

export const CloudFormationTemplateQuerySchema = z.strictObject({
  external_id: z
    .string({ error: 'is required' })
    .regex(/^threat-engine-[0-9a-f]{16}$/, 'expected threat-engine- followed by 16 hexadecimal digits'),
  tenant_id: IdSchema.optional(),
});

export const CloudFormationTemplateResponseSchema = z.object({
  template: z.string().describe('the CloudFormation template as YAML (as the legacy service returned it)'),
  template_object: z.record(z.string(), z.unknown()).describe('the same template as a JSON object'),
  external_id: z.string(),
  platform_account_id: z.string(),
  account_id: z.string(),
});

/** A credentials object as submitted; its fields are checked by the credential schemas of its type. */
const CredentialsObjectSchema = z.record(z.string(), z.unknown(), {
  error: 'expected an object of credential fields',
});

export const ValidateBodySchema = z.strictObject({
  account_id: IdSchema,
  tenant_id: IdSchema.optional(),
  auth_method: z.string({ error: 'is required' }).min(1).max(64),
  credentials: CredentialsObjectSchema,
});

/** What the CloudFormation template's OnboardingJson output holds. */
export const OnboardingJsonSchema = z.strictObject({
  role_arn: RoleArnSchema,
  external_id: ExternalIdSchema,
  account_number: AwsAccountNumberSchema,
});

export const ValidateJsonBodySchema = z.strictObject({
  account_id: IdSchema,
  tenant_id: IdSchema.optional(),
  /** The stack's output in any form onboarding-json.ts accepts, as JSON text or as JSON. */
  onboarding_json: z.union(
    [z.string().max(8192), z.record(z.string(), z.unknown()), z.array(z.unknown()).max(50)],
    { error: "expected the stack's OnboardingJson output (JSON text or object)" },
  ),
});

export const SubmissionAcceptedSchema = z.object({
  execution_id: z.string().describe('the onboarding execution; poll status_url'),
  status_url: z.string(),
  account_id: z.string(),
  onboarding_id: z.string(),
  status: z.literal('accepted'),
  already_started: z.boolean().describe('true when this submission had already started its onboarding'),
});

/** The synchronous answer of a validation that succeeded (the legacy shape, plus where to look). */
export const ValidationSucceededSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  errors: z.array(z.string()).describe('empty: the legacy re-validation answered it'),
  account_id: z.string(),
  account_number: z.string().nullable(),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  validated_offline: z.boolean(),
  last_validated_at: z.string().nullable(),
  execution_id: z.string(),
  status_url: z.string(),
});

/** The synchronous answer of a validation the workflow refused: the error body, with its reason. */
export const ValidationRefusedSchema = z.object({
  status: z.number(),
  code: z.string().describe("the workflow's reason, e.g. invalid_credentials, account_mismatch"),
  message: z.string(),
  details: z.array(z.object({ field: z.string(), message: z.string() })),
  detail: z.object({ message: z.string(), errors: z.array(z.string()) }),
  success: z.literal(false),
  errors: z.array(z.string()),
  account_id: z.string(),
  execution_id: z.string(),
  status_url: z.string(),
});

export const CredentialsBodySchema = z.strictObject({
  credential_type: z.string({ error: 'is required' }).min(1).max(64),
  credentials: CredentialsObjectSchema,
  expires_at: IsoUtcTimestampSchema.nullish(),
});

export const ValidationStartedSchema = z.object({
  execution_id: z.string(),
  status_url: z.string(),
  account_id: z.string(),
  status: z.literal('accepted'),
});

export const CredentialsDeletedSchema = z.object({
  status: z.literal('deleted'),
  account_id: z.string(),
  account_status: AccountStatusSchema.describe('pending once its credentials are gone'),
  deletion_date: z.string(),
  recovery_window_days: z.number(),
});

// ---------------------------------------------------------------------------------------------
// Accounts

export const AccountListQuerySchema = PageQuerySchema.extend({
  tenant_id: IdSchema.optional(),
  provider_type: ProviderParamSchema.optional(),
  status: AccountStatusSchema.optional(),
});

export const AccountViewSchema = z.object({
  account_id: z.string(),
  tenant_id: z.string(),
  provider_id: z.string(),
  provider_type: ProviderTypeSchema.nullable(),
  account_name: z.string(),
  account_number: z.string().nullable(),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  onboarding_id: z.string().nullable(),
  onboarding_execution_id: z.string().nullable(),
  auth_method: z.string().nullable(),
  credential_type: z.string().nullable(),
  external_id: z.string().nullable(),
  validated_offline: z.boolean(),
  last_validated_at: z.string().nullable(),
  onboarding_error: z.object({ code: z.string(), message: z.string() }).nullable(),
  validation_error: z
    .object({ code: z.string(), message: z.string(), failed_at: z.string().nullable() })
    .nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  disabled_at: z.string().nullable(),
});
export type AccountView = z.infer<typeof AccountViewSchema>;

export const AccountDetailSchema = AccountViewSchema.extend({
  credentials: z.object({
    current: z.boolean(),
    pending: z.boolean(),
    scheduled_deletion_at: z.string().nullable(),
  }),
});

export const AccountPageSchema = z.object({
  accounts: z.array(AccountViewSchema),
  next_cursor: NextCursorSchema,
});

export const AccountDisabledSchema = z.object({
  status: z
    .literal('deleted')
    .describe('as the legacy answered; the account itself is disabled (account_status)'),
  account_id: z.string(),
  account_status: AccountStatusSchema,
  paused_schedule_ids: z.array(z.string()),
  secret_deletion_date: z.string().nullable(),
});

// ---------------------------------------------------------------------------------------------
// Onboarding and validation executions

export const ExecutionStatusViewSchema = z.object({
  execution_id: z.string(),
  workflow: z.enum(['onboarding', 'validation']),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  account_id: z.string().nullable(),
  started_at: z.string(),
  stopped_at: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  account: z
    .object({
      status: AccountStatusSchema,
      onboarding_status: OnboardingStatusSchema,
      account_number: z.string().nullable(),
      validated_offline: z.boolean(),
      last_validated_at: z.string().nullable(),
    })
    .nullable(),
  console_url: z.string().optional(),
});

export const ExecutionIdParamSchema = z
  .string()
  .regex(/^(onboard|validate)-[A-Za-z0-9_.-]{1,72}$/, 'expected an onboarding or validation execution id');
