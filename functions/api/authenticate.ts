import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnauthenticatedError } from '../core/errors';
import type { ApiEnv } from './api-context';
import type { RequestServices } from './api-services';
import { CONSOLE_CONFIG_PATH, isConsolePath } from './console-assets';

/** The only routes served without a bearer token. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /',
  'GET /api/v1/health',
  'GET /api/v1/openapi.json',
  `GET ${CONSOLE_CONFIG_PATH}`,
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/swagger-initializer.js',
  'GET /docs/swagger-ui.css',
  'GET /docs/swagger-ui-bundle.js',
]);

/** What hono/aws-lambda hands the app as bindings: the API Gateway (payload v2) event. */
interface LambdaBindings {
  event?: { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } };
}

/**
 * Every route but the public ones needs `Authorization: Bearer <JWT>`: the token verifier turns it
 * into the caller (tenant, role), kept as `c.get('caller')`. A tenant-scoped caller whose tenant
 * is disabled or gone is refused here, once for every route (a read at most a second old: see
 * TenantRepository.getRecent).
 */
export function authenticate(services: RequestServices): MiddlewareHandler<ApiEnv> {
  return async (context, next) => {
    const method = context.req.method === 'HEAD' ? 'GET' : context.req.method;
    if (PUBLIC_ROUTES.has(`${method} ${context.req.path}`)) return next();
    // The console's page and assets hold no data; the page sends the token with every API call.
    if (method === 'GET' && isConsolePath(context.req.path)) return next();

    const header = context.req.header('authorization');
    if (!header)
      throw new UnauthenticatedError('this endpoint needs an Authorization: Bearer <token> header');
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    if (!match?.[1]) throw new UnauthenticatedError('the Authorization header must be Bearer <token>');
    const bindings = context.env as LambdaBindings | undefined;
    const caller = await services.tokenVerifier.verify({
      token: match[1],
      authorizerClaims: bindings?.event?.requestContext?.authorizer?.jwt?.claims,
    });
    if (caller.tenantId !== null) {
      const tenant = await services.repositories.tenants.getRecent(caller.tenantId);
      if (!tenant) throw new ForbiddenError(`the token's tenant ${caller.tenantId} does not exist`);
      if (tenant.status === 'disabled') throw new ForbiddenError(`tenant ${caller.tenantId} is disabled`);
      context.set('callerTenant', tenant);
    }
    context.set('caller', caller);
    await next();
  };
}
