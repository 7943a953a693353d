import { Hono } from 'hono';
import type { Logger } from '../core/logger';
import { errorBody, respondWithError } from './error-response';
import { type HealthCheck, runHealthChecks } from './health';

export interface ApiDependencies {
  logger: Logger;
  healthChecks: readonly HealthCheck[];
  /** Shown by `GET /`; e.g. 'local' or 'aws'. */
  target: string;
  version: string;
}

/**
 * The HTTP application, served by the local runtime (node server) and by the API Lambda behind
 * API Gateway. Routes call core services; they never know which target they run on.
 */
export function createApp(dependencies: ApiDependencies): Hono {
  const app = new Hono();
  const { logger } = dependencies;

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
    return { status: report.status, checks };
  };

  app.get('/', async (context) => {
    const report = await health();
    return context.json(
      {
        service: 'threat-engine-orchestrator',
        version: dependencies.version,
        target: dependencies.target,
        ...report,
      },
      report.status === 'ok' ? 200 : 503,
    );
  });

  app.get('/api/v1/health', async (context) => {
    const report = await health();
    return context.json(report, report.status === 'ok' ? 200 : 503);
  });

  app.notFound((context) =>
    context.json(
      errorBody(404, 'route_not_found', `no route for ${context.req.method} ${context.req.path}`),
      404,
    ),
  );
  app.onError((error, context) => respondWithError(context, error, logger));
  return app;
}
