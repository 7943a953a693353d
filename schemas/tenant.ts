import * as z from 'zod';
import { DisplayTextSchema, IdSchema, TimestampSchema } from './common';

export const TenantStatusSchema = z.enum(['active', 'disabled']);
export type TenantStatus = z.infer<typeof TenantStatusSchema>;

export const TenantNameSchema = DisplayTextSchema(128).pipe(
  z
    .string()
    .min(1, 'must not be empty')
    .regex(
      /^[\p{L}\p{N}][\p{L}\p{N} ._&'()-]*$/u,
      "must start with a letter or digit and hold letters, digits, spaces and . _ & ' ( ) -",
    ),
);

/** A tenant item as stored (legacy items may lack the newer optional fields). */
export const TenantSchema = z.looseObject({
  tenant_id: IdSchema,
  tenant_name: z.string(),
  description: z.string().nullish(),
  status: TenantStatusSchema.default('active'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  disabled_at: TimestampSchema.nullish(),
});
export type Tenant = z.infer<typeof TenantSchema>;

export const CreateTenantInputSchema = z.strictObject({
  tenant_name: TenantNameSchema,
  description: DisplayTextSchema(1024).optional(),
});
export type CreateTenantInput = z.infer<typeof CreateTenantInputSchema>;

export const UpdateTenantInputSchema = z
  .strictObject({
    tenant_name: TenantNameSchema.optional(),
    description: DisplayTextSchema(1024).nullable().optional(),
  })
  .refine((value) => Object.keys(value).length > 0, { message: 'at least one field must be given' });
export type UpdateTenantInput = z.infer<typeof UpdateTenantInputSchema>;
