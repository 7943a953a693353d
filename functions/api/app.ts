import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { Logger } from '../core/logger';
import type { ApiEnv } from './api-context';
import {
  API_DOCS_ASSETS,
  API_DOCS_INITIALIZER,
  API_DOCS_PAGE,
  type ApiDocsAsset,
  apiDocsAsset,
} from './api-docs';
import type { ApiServices } from './api-services';
import { authenticate } from './authenticate';
import { type ConsoleOptions, consoleRoutes } from './console-assets';
import { errorBody, respondWithError } from './error-response';
import { type HealthCheck, runHealthChecks } from './health';
import { idempotency } from './idempotency';
import { registerRoute } from './openapi';
import { accountRoutes } from './routes/accounts';
import { callerRoutes } from './routes/caller';
import { executionRoutes } from './routes/executions';
import { onboardingRoutes } from './routes/onboarding';
import { scanResultRoutes } from './routes/scan-results';
import { scheduleRoutes } from './routes/schedules';
import { tenantRoutes } from './routes/tenants';
import { workflowRoutes } from './routes/workflows';

export interface ApiDependencies {
  logger: Logger;
  healthChecks: readonly HealthCheck[];
  /** Shown by `GET /`; e.g. 'local' or 'aws'. */
  target: string;
  version: string;
  services: ApiServices;
  /** The operator console's built assets and sign-in settings (see console-assets.ts). */
  console?: ConsoleOptions;
  /**
   * The OpenAPI document of the app's routes, generated from their registry when the API is built
   * or started (openapi-document.ts); the app fills in `version`. Without it the document is 404.
   */
  openApiDocument?: () => Promise<Record<string, unknown>>;
}

export const API_PREFIX = '/api/v1';

/** The route modules mounted under /api/v1, in order. */
const ROUTE_MODULES = [
  tenantRoutes,
  onboardingRoutes,
  accountRoutes,
  scheduleRoutes,
  executionRoutes,
  scanResultRoutes,
  workflowRoutes,
  callerRoutes,
] as const;

registerRoute({
  method: 'get',
  path: '/health',
  summary: 'Health of the table server and the secret store (no authentication)',
  tags: ['health'],
  roles: 'public',
});
registerRoute({
  method: 'get',
  path: '/openapi.json',
  summary: 'This document (no authentication)',
  tags: ['health'],
  roles: 'public',
});

const JSON_CONTENT_TYPE = /^application\/(.+\+)?json\s*(;|$)/i;

/**
 * The HTTP application, served by the local runtime (node server) and by the API Lambda behind
 * API Gateway. Cross-cutting rules live here, in this order: request id and safe headers, CORS
 * (an explicit allow-list, none by default), body size (413), authentication (401), JSON content
 * type (415), Idempotency-Key; then the route modules, which call core services.
 */
export function createApp(dependencies: ApiDependencies): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { logger, services } = dependencies;
  const { settings } = services;

  app.use('*', async (context, next) => {
    const requestId = randomUUID();
    context.set('requestId', requestId);
    context.header('X-Request-Id', requestId);
    context.header('X-Content-Type-Options', 'nosniff');
    context.header('Cache-Control', 'no-store');
    await next();
    // A request refused before its body was read (413, 401, 415 …) leaves unread bytes on the
    // connection: close it, so a keep-alive client never sends its next request into that stream.
    const sentBody =
      context.req.header('content-length') !== undefined || context.req.header('transfer-encoding');
    if (context.res.status >= 400 && sentBody) context.res.headers.set('Connection', 'close');
  });

  if (settings.API_CORS_ALLOWED_ORIGINS.length > 0) {
    app.use(
      '*',
      cors({
        origin: [...settings.API_CORS_ALLOWED_ORIGINS],
        allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
        exposeHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
        maxAge: 600,
      }),
    );
  }

  const limitBody = bodyLimit({
    maxSize: settings.API_MAX_BODY_BYTES,
    onError: (context) =>
      context.json(
        errorBody(
          413,
          'payload_too_large',
          `the request body is larger than ${settings.API_MAX_BODY_BYTES} bytes`,
          [{ field: '(body)', message: `must be at most ${settings.API_MAX_BODY_BYTES} bytes` }],
        ),
        413,
      ),
  });
  // A GET or HEAD request has no body (the Fetch API refuses one), and asking the node server's
  // request for it builds a whole Fetch Request: ~3% of a read request's CPU for nothing.
  app.use('*', (context, next) =>
    context.req.method === 'GET' || context.req.method === 'HEAD' ? next() : limitBody(context, next),
  );

  app.use('*', authenticate(services));

  app.use('*', async (context, next) => {
    const method = context.req.method;
    const hasBody =
      (context.req.header('content-length') ?? '0') !== '0' ||
      context.req.header('transfer-encoding') !== undefined;
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && hasBody) {
      const type = context.req.header('content-type') ?? '';
      if (!JSON_CONTENT_TYPE.test(type)) {
        return context.json(
          errorBody(415, 'unsupported_media_type', 'the request body must be JSON', [
            { field: 'content-type', message: 'must be application/json' },
          ]),
          415,
        );
      }
    }
    await next();
  });

  app.use('*', idempotency(services));

  const health = async () => {
    const report = await runHealthChecks(dependencies.healthChecks);
    for (const [name, result] of Object.entries(report.checks)) {
      if (result.status === 'failing')
        logger.warn('health check failing', { check: name, reason: result.error });
    }
    // The reason stays in the log: health is unauthenticated and must not describe internals.
    const checks = Object.fromEntries(
      Object.entries(report.checks).map(([name, { status, latency_ms }]) => [name, { status, latency_ms }]),
    );
    const connection = (name: string) =>
      report.checks[name]?.status === 'ok' ? 'connected' : 'disconnected';
    // The legacy fields first (its UI reads them), then each check with its latency.
    return {
      healthy: report.status === 'ok',
      body: {
        status: report.status === 'ok' ? 'healthy' : 'unhealthy',
        dynamodb: connection('dynamodb'),
        secrets_manager: connection('secret_store'),
        version: dependencies.version,
        checks,
      },
    };
  };

  app.get('/', async (context) => {
    const report = await health();
    return context.json(
      { service: 'threat-engine-orchestrator', target: dependencies.target, ...report.body },
      report.healthy ? 200 : 503,
    );
  });

  app.get(`${API_PREFIX}/health`, async (context) => {
    const report = await health();
    return context.json(report.body, report.healthy ? 200 : 503);
  });

  let openApiDocument: Promise<Record<string, unknown>> | undefined;
  const openApi = async (context: Context<ApiEnv>) => {
    const load = dependencies.openApiDocument;
    if (!load) {
      return context.json(
        errorBody(404, 'route_not_found', 'this deployment serves no OpenAPI document'),
        404,
      );
    }
    openApiDocument ??= load().then((document) => ({
      ...document,
      info: { ...(document.info as Record<string, unknown>), version: dependencies.version },
    }));
    openApiDocument.catch(() => {
      openApiDocument = undefined;
    });
    return context.json(await openApiDocument);
  };
  app.get(`${API_PREFIX}/openapi.json`, openApi);
  // Where the legacy service served its document and its interactive docs.
  app.get('/openapi.json', openApi);
  app.get('/docs', (context) => context.html(API_DOCS_PAGE));
  app.get('/docs/swagger-initializer.js', (context) => {
    context.header('Content-Type', 'text/javascript; charset=utf-8');
    return context.body(API_DOCS_INITIALIZER);
  });
  for (const [name, type] of Object.entries(API_DOCS_ASSETS) as [ApiDocsAsset, string][]) {
    app.get(`/docs/${name}`, async (context) => {
      const text = await apiDocsAsset(name);
      context.header('Content-Type', type);
      context.header('Cache-Control', 'public, max-age=86400');
      return context.body(text);
    });
  }

  app.route('/', consoleRoutes(dependencies.console ?? { directory: undefined, oidc: null }));
  for (const routes of ROUTE_MODULES) app.route(API_PREFIX, routes(services));

  app.notFound((context) =>
    context.json(
      errorBody(
        404,
        'route_not_found',
        `no route for ${context.req.method} ${context.req.path.slice(0, 200)}`,
      ),
      404,
    ),
  );
  app.onError((error, context) => respondWithError(context, error, logger));
  return app;
}
