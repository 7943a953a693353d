import { Hono } from 'hono';
import * as z from 'zod/mini';
import { AccountStatusSchema } from '../../../schemas/account';
import { described, IdSchema } from '../../../schemas/common';
import { disableAccount } from '../../core/onboarding/account-disabling';
import {
  type ApiEnv,
  lookupScope,
  parseQuery,
  parseWith,
  requireRole,
  TenantQuerySchema,
} from '../api-context';
import type { SchedulingServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';
import { TenantViewSchema, tenantView } from '../tenant-view';

/**
 * Disabling a tenant or an account, mounted at `/api/v1`: both pause the schedules they own
 * (table and scheduler entry), so they are served with the schedule routes (scheduling-app.ts).
 */

/** What disabling an account answers. */
const AccountDisabledSchema = z.object({
  status: described(
    z.literal('deleted'),
    'as the legacy answered; the account itself is disabled (account_status)',
  ),
  account_id: z.string(),
  account_status: AccountStatusSchema,
  paused_schedule_ids: z.array(z.string()),
  secret_deletion_date: z.nullable(z.string()),
});

/* @__PURE__ */ registerRoute({
  method: 'delete',
  path: '/tenants/:tenant_id',
  summary: 'Disable a tenant (its users are refused from then on; the name stays taken)',
  tags: ['tenants'],
  roles: rolesFrom('platform_admin'),
  params: { tenant_id: IdSchema },
  response: TenantViewSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'delete',
  path: '/onboarding/accounts/:account_id',
  summary:
    "Disable an account: pauses its schedules and schedules its credentials' deletion (onboard it again to restore)",
  tags: ['onboarding'],
  roles: rolesFrom('tenant_admin'),
  params: { account_id: IdSchema },
  query: TenantQuerySchema,
  response: AccountDisabledSchema,
});

export function disablingRoutes(services: SchedulingServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { tenants, accounts, schedules } = services.repositories;
  const disabling = {
    accounts,
    schedules,
    secretStore: services.secretStore,
    schedulePauser: services.scheduleService,
    logger: services.logger,
  };

  app.delete('/tenants/:tenant_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'platform_admin');
    const tenantId = parseWith(IdSchema, context.req.param('tenant_id'), 'tenant_id');
    const tenant = await tenants.disable(tenantId);
    const paused = await services.scheduleService.pauseAllOfTenant(tenantId, {
      note: 'tenant disabled',
      by: caller.subject,
    });
    services.logger.info('tenant disabled', {
      tenant_id: tenantId,
      by: caller.subject,
      paused_schedules: paused.length,
    });
    return context.json(tenantView(tenant));
  });

  app.delete('/onboarding/accounts/:account_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const accountId = parseWith(IdSchema, context.req.param('account_id'), 'account_id');
    const query = parseQuery(context, TenantQuerySchema);
    const result = await disableAccount(
      disabling,
      lookupScope(caller, query.tenant_id),
      accountId,
      caller.subject,
    );
    return context.json({
      status: 'deleted' as const,
      account_id: result.account.account_id,
      account_status: result.account.status,
      paused_schedule_ids: result.paused_schedule_ids,
      secret_deletion_date: result.secret_deletion_date,
    });
  });

  return app;
}
