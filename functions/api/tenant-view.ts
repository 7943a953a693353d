import type { Tenant } from '../../schemas/tenant';
import type { TenantView } from './api-schemas';

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
