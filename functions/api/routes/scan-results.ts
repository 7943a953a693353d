import { type Context, Hono } from 'hono';
import * as z from 'zod/mini';
import { IdSchema } from '../../../schemas/common';
import { ScanResultSchema } from '../../../schemas/scan-result';
import { NotFoundError } from '../../core/errors';
import { type ApiEnv, canSee, parseQuery, parseWith, requireRole } from '../api-context';
import type { ApiServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';
import { PageCursorSchema, PageLimitSchema } from '../page-query';

/**
 * Scan results (the metadata of each finished scan; findings stay with the engine): an account's,
 * newest first, and one by id. Mounted at `/api/v1`; viewers and up; another tenant's are 404.
 */

const TAGS = ['scan-results'] as const;

export const ListScanResultsQuerySchema = z.object({
  limit: PageLimitSchema(25),
  cursor: z.optional(PageCursorSchema),
});

export const ScanResultListResponseSchema = z.object({
  account_id: z.string(),
  scan_results: z.array(ScanResultSchema),
  count: z.number().check(z.int()),
  next_cursor: z.nullable(z.string()),
});

function idParam(context: Context<ApiEnv>, name: string): string {
  return parseWith(IdSchema, context.req.param(name), `path parameter ${name}`);
}

export function scanResultRoutes(services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { accounts, scanResults } = services.repositories;

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/accounts/:account_id/scan-results',
    summary: "An account's scan results, newest first",
    description: 'Cursor pagination: pass next_cursor back as cursor.',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: { account_id: IdSchema },
    query: ListScanResultsQuerySchema,
    response: ScanResultListResponseSchema,
  });
  app.get('/accounts/:account_id/scan-results', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const accountId = idParam(context, 'account_id');
    const query = parseQuery(context, ListScanResultsQuerySchema);
    const account = await accounts.get(accountId);
    if (!account || !canSee(caller, account.tenant_id)) throw new NotFoundError('account', accountId);
    const page = await scanResults.listByAccount(accountId, { limit: query.limit, cursor: query.cursor });
    return context.json({
      account_id: accountId,
      scan_results: page.items,
      count: page.items.length,
      next_cursor: page.next_cursor,
    });
  });

  /* @__PURE__ */ registerRoute({
    method: 'get',
    path: '/scan-results/:scan_id',
    summary: 'One scan result: status, check counts, timings, its execution and schedule',
    tags: TAGS,
    roles: rolesFrom('viewer'),
    params: { scan_id: IdSchema },
    response: ScanResultSchema,
  });
  app.get('/scan-results/:scan_id', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'viewer');
    const scanId = idParam(context, 'scan_id');
    const result = await scanResults.get(scanId);
    if (!result) throw new NotFoundError('scan result', scanId);
    // Legacy results carry no tenant: their account tells.
    const tenantId = result.tenant_id ?? (await accounts.get(result.account_id))?.tenant_id ?? null;
    if (!canSee(caller, tenantId)) throw new NotFoundError('scan result', scanId);
    return context.json(result);
  });

  return app;
}
