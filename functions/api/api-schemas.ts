import * as z from 'zod/mini';
import { AccountNameSchema, AccountStatusSchema, OnboardingStatusSchema } from '../../schemas/account';
import { described, IdSchema, IsoUtcTimestampSchema, ProviderTypeSchema } from '../../schemas/common';
import { AwsAccountNumberSchema, ExternalIdSchema, RoleArnSchema } from '../../schemas/credentials';
import { PageQuerySchema } from './page-query';
import { TenantViewSchema } from './tenant-view';

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

/** Every listing answers `{<resource>: [...], next_cursor}` (the legacy keys: `accounts`, `tenants` ...). */
const NextCursorSchema = described(
  z.nullable(z.string()),
  'pass back as cursor for the next page; null on the last',
);

// ---------------------------------------------------------------------------------------------
// Tenants

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
      method: described(z.string(), 'the auth method (legacy name of auth_method)'),
      name: z.string(),
      requires: described(
        z.array(z.string()),
        'the required credential fields (legacy name of required_fields)',
      ),
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
  tenant_id: z.optional(IdSchema),
  // Names end up in consoles and web pages: markup characters are refused outright.
  account_name: AccountNameSchema.check(
    z.refine((name) => !/[<>`]/.test(name), 'must not contain <, > or `'),
  ),
  auth_method: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
});

export const InitAccountResponseSchema = z.object({
  onboarding_id: described(z.nullable(z.string()), 'assigned when credentials are submitted (validate)'),
  account_id: z.string(),
  tenant_id: z.string(),
  provider: ProviderTypeSchema,
  auth_method: z.string(),
  account_name: z.string(),
  external_id: z.nullable(z.string()),
  cloudformation_template_url: z.optional(z.string()),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  validate_url: z.string(),
});

export const CloudFormationTemplateQuerySchema = z.strictObject({
  external_id: z
    .string({ error: 'is required' })
    .check(
      z.regex(/^threat-engine-[0-9a-f]{16}$/, 'expected threat-engine- followed by 16 hexadecimal digits'),
    ),
  tenant_id: z.optional(IdSchema),
});

export const CloudFormationTemplateResponseSchema = z.object({
  template: described(z.string(), 'the CloudFormation template as YAML (as the legacy service returned it)'),
  template_object: described(z.record(z.string(), z.unknown()), 'the same template as a JSON object'),
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
  tenant_id: z.optional(IdSchema),
  auth_method: z.string({ error: 'is required' }).check(z.minLength(1), z.maxLength(64)),
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
  tenant_id: z.optional(IdSchema),
  /** The stack's output in any form onboarding-json.ts accepts, as JSON text or as JSON. */
  onboarding_json: z.union(
    [
      z.string().check(z.maxLength(8192)),
      z.record(z.string(), z.unknown()),
      z.array(z.unknown()).check(z.maxLength(50)),
    ],
    { error: "expected the stack's OnboardingJson output (JSON text or object)" },
  ),
});

export const SubmissionAcceptedSchema = z.object({
  execution_id: described(z.string(), 'the onboarding execution; poll status_url'),
  status_url: z.string(),
  account_id: z.string(),
  onboarding_id: z.string(),
  status: z.literal('accepted'),
  already_started: described(z.boolean(), 'true when this submission had already started its onboarding'),
});

/** The synchronous answer of a validation that succeeded (the legacy shape, plus where to look). */
export const ValidationSucceededSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  errors: described(z.array(z.string()), 'empty: the legacy re-validation answered it'),
  account_id: z.string(),
  account_number: z.nullable(z.string()),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  validated_offline: z.boolean(),
  last_validated_at: z.nullable(z.string()),
  execution_id: z.string(),
  status_url: z.string(),
});

/** The synchronous answer of a validation the workflow refused: the error body, with its reason. */
export const ValidationRefusedSchema = z.object({
  status: z.number(),
  code: described(z.string(), "the workflow's reason, e.g. invalid_credentials, account_mismatch"),
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
  credential_type: z.string({ error: 'is required' }).check(z.minLength(1), z.maxLength(64)),
  credentials: CredentialsObjectSchema,
  expires_at: z.nullish(IsoUtcTimestampSchema),
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
  account_status: described(AccountStatusSchema, 'pending once its credentials are gone'),
  deletion_date: z.string(),
  recovery_window_days: z.number(),
});

// ---------------------------------------------------------------------------------------------
// Accounts

export const AccountListQuerySchema = z.extend(PageQuerySchema, {
  tenant_id: z.optional(IdSchema),
  provider_type: z.optional(ProviderParamSchema),
  status: z.optional(AccountStatusSchema),
});

export const AccountViewSchema = z.object({
  account_id: z.string(),
  tenant_id: z.string(),
  provider_id: z.string(),
  provider_type: z.nullable(ProviderTypeSchema),
  account_name: z.string(),
  account_number: z.nullable(z.string()),
  status: AccountStatusSchema,
  onboarding_status: OnboardingStatusSchema,
  onboarding_id: z.nullable(z.string()),
  onboarding_execution_id: z.nullable(z.string()),
  auth_method: z.nullable(z.string()),
  credential_type: z.nullable(z.string()),
  external_id: z.nullable(z.string()),
  validated_offline: z.boolean(),
  last_validated_at: z.nullable(z.string()),
  onboarding_error: z.nullable(z.object({ code: z.string(), message: z.string() })),
  validation_error: z.nullable(
    z.object({ code: z.string(), message: z.string(), failed_at: z.nullable(z.string()) }),
  ),
  created_at: z.string(),
  updated_at: z.string(),
  disabled_at: z.nullable(z.string()),
});
export type AccountView = z.infer<typeof AccountViewSchema>;

export const AccountDetailSchema = z.extend(AccountViewSchema, {
  credentials: z.object({
    current: z.boolean(),
    pending: z.boolean(),
    scheduled_deletion_at: z.nullable(z.string()),
  }),
});

export const AccountPageSchema = z.object({
  accounts: z.array(AccountViewSchema),
  next_cursor: NextCursorSchema,
});

// ---------------------------------------------------------------------------------------------
// Onboarding and validation executions

export const ExecutionStatusViewSchema = z.object({
  execution_id: z.string(),
  workflow: z.enum(['onboarding', 'validation']),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  account_id: z.nullable(z.string()),
  started_at: z.string(),
  stopped_at: z.nullable(z.string()),
  error: z.nullable(z.object({ code: z.string(), message: z.string() })),
  account: z.nullable(
    z.object({
      status: AccountStatusSchema,
      onboarding_status: OnboardingStatusSchema,
      account_number: z.nullable(z.string()),
      validated_offline: z.boolean(),
      last_validated_at: z.nullable(z.string()),
    }),
  ),
  console_url: z.optional(z.string()),
});

export const ExecutionIdParamSchema = z
  .string()
  .check(
    z.regex(/^(onboard|validate)-[A-Za-z0-9_.-]{1,72}$/, 'expected an onboarding or validation execution id'),
  );
