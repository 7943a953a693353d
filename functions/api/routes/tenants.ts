import { Hono } from 'hono';
import { IdSchema } from '../../../schemas/common';
import { CreateTenantInputSchema, UpdateTenantInputSchema } from '../../../schemas/tenant';
import { NotFoundError } from '../../core/errors';
import { type ApiEnv, canSee, parseJsonBody, parseQuery, parseWith, requireRole } from '../api-context';
import { TenantPageSchema } from '../api-schemas';
import type { ApiServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';
import { PageQuerySchema } from '../page-query';
import { TenantViewSchema, tenantView } from '../tenant-view';

const TAGS = ['tenants'];
const TENANT_PARAMS = { tenant_id: IdSchema };

/* @__PURE__ */ registerRoute({
  method: 'post',
  path: '/tenants',
  summary: 'Create a tenant (unique name)',
  tags: TAGS,
  roles: rolesFrom('platform_admin'),
  request: CreateTenantInputSchema,
  response: TenantViewSchema,
  status: 201,
  idempotent: true,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/tenants',
  summary: 'List tenants',
  tags: TAGS,
  roles: rolesFrom('platform_admin'),
  query: PageQuerySchema,
  response: TenantPageSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/tenants/:tenant_id',
  summary: 'Read a tenant (tenant users: their own only)',
  tags: TAGS,
  roles: rolesFrom('viewer'),
  params: TENANT_PARAMS,
  response: TenantViewSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'patch',
  path: '/tenants/:tenant_id',
  summary: 'Rename a tenant or change its description',
  tags: TAGS,
  roles: rolesFrom('platform_admin'),
  params: TENANT_PARAMS,
  request: UpdateTenantInputSchema,
  response: TenantViewSchema,
});

/** Tenants (new: the legacy service had none). Platform admins manage them. */
export function tenantRoutes(services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { tenants } = services.repositories;

  app.post('/tenants', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'platform_admin');
    const input = await parseJsonBody(context, CreateTenantInputSchema);
    const tenant = await tenants.create(input);
    services.logger.info('tenant created', { tenant_id: tenant.tenant_id, by: caller.subject });
    context.header('Location', `/api/v1/tenants/${tenant.tenant_id}`);
    return context.json(tenantView(tenant), 201);
  });

  app.get('/tenants', async (context) => {
    requireRole(context.get('caller'), 'platform_admin');
    const query = parseQuery(context, PageQuerySchema);
    const page = await tenants.list({ limit: query.limit, cursor: query.cursor });
    return context.json({ tenants: page.items.map(tenantView), next_cursor: page.next_cursor });
  });

  app.get('/tenants/:tenant_id', async (context) => {
    const caller = context.get('caller');
    const tenantId = parseWith(IdSchema, context.req.param('tenant_id'), 'tenant_id');
    const tenant = canSee(caller, tenantId) ? await tenants.get(tenantId) : undefined;
    if (!tenant) throw new NotFoundError('tenant', tenantId);
    return context.json(tenantView(tenant));
  });

  app.patch('/tenants/:tenant_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'platform_admin');
    const tenantId = parseWith(IdSchema, context.req.param('tenant_id'), 'tenant_id');
    const input = await parseJsonBody(context, UpdateTenantInputSchema);
    const tenant = await tenants.update(tenantId, input);
    services.logger.info('tenant updated', { tenant_id: tenantId, by: caller.subject });
    return context.json(tenantView(tenant));
  });

  return app;
}
