import type { Context, Hono } from 'hono';
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
import { type ConsoleOptions, consoleRoutes } from './console-assets';
import { errorBody } from './error-response';
import { type HealthCheck, runHealthChecks } from './health';
import { API_PREFIX, createHttpApp } from './http-app';
import { registerRoute } from './openapi';
import { accountRoutes } from './routes/accounts';
import { callerRoutes } from './routes/caller';
import { executionRoutes } from './routes/executions';
import { onboardingRoutes } from './routes/onboarding';
import { scanResultRoutes } from './routes/scan-results';
import { tenantRoutes } from './routes/tenants';
import { workflowRoutes } from './routes/workflows';

export { API_PREFIX } from './http-app';

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
  /**
   * Route groups another function serves on AWS (the scheduling app's, scheduling-app.ts), mounted
   * under /api/v1 after this app's own: the local runtime serves one app with every route.
   */
  otherRoutes?: readonly Hono<ApiEnv>[];
}

/** The route modules mounted under /api/v1, in order (the schedule routes: scheduling-app.ts). */
const ROUTE_MODULES = [
  tenantRoutes,
  onboardingRoutes,
  accountRoutes,
  executionRoutes,
  scanResultRoutes,
  workflowRoutes,
  callerRoutes,
] as const;

/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/health',
  summary: 'Health of the table server and the secret store (no authentication)',
  tags: ['health'],
  roles: 'public',
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/openapi.json',
  summary: 'This document (no authentication)',
  tags: ['health'],
  roles: 'public',
});

/**
 * The HTTP application, served by the local runtime (node server, with every route group) and by
 * the API Lambda behind API Gateway (every route but the scheduling app's): health, the OpenAPI
 * document and its page, the console, then the route modules, which call core services; the
 * cross-cutting rules are http-app.ts's.
 */
export function createApp(dependencies: ApiDependencies): Hono<ApiEnv> {
  return createHttpApp(dependencies, (app) => mountRoutes(app, dependencies));
}

function mountRoutes(app: Hono<ApiEnv>, dependencies: ApiDependencies): void {
  const { logger, services } = dependencies;
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
  for (const routes of dependencies.otherRoutes ?? []) app.route(API_PREFIX, routes);
}
