import * as z from 'zod/mini';
import { type Tenant, TenantStatusSchema } from '../../schemas/tenant';

export const TenantViewSchema = z.object({
  tenant_id: z.string(),
  tenant_name: z.string(),
  description: z.nullable(z.string()),
  status: TenantStatusSchema,
  created_at: z.string(),
  updated_at: z.string(),
  disabled_at: z.nullable(z.string()),
});
export type TenantView = z.infer<typeof TenantViewSchema>;

/** A tenant as every route answers it. */
export function tenantView(tenant: Tenant): TenantView {
  return {
    tenant_id: tenant.tenant_id,
    tenant_name: tenant.tenant_name,
    description: tenant.description ?? null,
    status: tenant.status,
    created_at: tenant.created_at,
    updated_at: tenant.updated_at,
    disabled_at: tenant.disabled_at ?? null,
  };
}
