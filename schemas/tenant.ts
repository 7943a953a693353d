import * as z from 'zod/mini';
import { DisplayTextSchema, IdSchema, TimestampSchema } from './common';

export const TenantStatusSchema = z.enum(['active', 'disabled']);
export type TenantStatus = z.infer<typeof TenantStatusSchema>;

export const TenantNameSchema = z.pipe(
  DisplayTextSchema(128),
  z
    .string()
    .check(
      z.minLength(1, 'must not be empty'),
      z.regex(
        /^[\p{L}\p{N}][\p{L}\p{N} ._&'()-]*$/u,
        "must start with a letter or digit and hold letters, digits, spaces and . _ & ' ( ) -",
      ),
    ),
);

/** A tenant item as stored (legacy items may lack the newer optional fields). */
export const TenantSchema = z.looseObject({
  tenant_id: IdSchema,
  tenant_name: z.string(),
  description: z.nullish(z.string()),
  status: z._default(TenantStatusSchema, 'active'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  disabled_at: z.nullish(TimestampSchema),
});
export type Tenant = z.infer<typeof TenantSchema>;

export const CreateTenantInputSchema = z.strictObject({
  tenant_name: TenantNameSchema,
  description: z.optional(DisplayTextSchema(1024)),
});
export type CreateTenantInput = z.infer<typeof CreateTenantInputSchema>;

export const UpdateTenantInputSchema = z
  .strictObject({
    tenant_name: z.optional(TenantNameSchema),
    description: z.optional(z.nullable(DisplayTextSchema(1024))),
  })
  .check(z.refine((value) => Object.keys(value).length > 0, { message: 'at least one field must be given' }));
export type UpdateTenantInput = z.infer<typeof UpdateTenantInputSchema>;
