import { Hono } from 'hono';
import * as z from 'zod/mini';
import { type ApiEnv, hasRole, ROLES } from '../api-context';
import type { ApiServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';

/**
 * Who the token is and what it may do, so a client (the console) offers only the actions the API
 * would accept: `may.operate` (trigger, pause, resume, cancel, redrive, re-validate),
 * `may.administer_tenant` (create, change and delete schedules; replace credentials),
 * `may.administer_platform` (tenants; every tenant's data).
 */

const CallerResponseSchema = z.object({
  subject: z.string(),
  tenant_id: z.nullable(z.string()),
  role: z.enum(ROLES),
  may: z.object({ operate: z.boolean(), administer_tenant: z.boolean(), administer_platform: z.boolean() }),
});

/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/me',
  summary: "The caller: the token's subject, tenant and role, and what that role may do",
  tags: ['caller'],
  roles: rolesFrom('viewer'),
  response: CallerResponseSchema,
});

export function callerRoutes(_services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/me', (context) => {
    const caller = context.get('caller');
    return context.json({
      subject: caller.subject,
      tenant_id: caller.tenantId,
      role: caller.role,
      may: {
        operate: hasRole(caller, 'operator'),
        administer_tenant: hasRole(caller, 'tenant_admin'),
        administer_platform: hasRole(caller, 'platform_admin'),
      },
    });
  });
  return app;
}
