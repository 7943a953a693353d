import type { Hono } from 'hono';
import type { Logger } from '../core/logger';
import type { ApiEnv } from './api-context';
import type { SchedulingServices } from './api-services';
import { API_PREFIX, createHttpApp } from './http-app';
import { disablingRoutes } from './routes/disabling';
import { scheduleRoutes } from './routes/schedules';

/**
 * Every route that changes scheduler entries: the schedules, the reconcile, and disabling a tenant
 * or an account (which pauses their schedules). On AWS they have their own function, the only API
 * function granted EventBridge Scheduler (infra/constructs/api.ts sends these paths to it); its
 * bundle carries the expression parser and the scheduler client, the API function's does not.
 * The local runtime mounts them into the one app it serves (app.ts `otherRoutes`).
 */
export function schedulingRoutes(services: SchedulingServices): Hono<ApiEnv> {
  const routes = scheduleRoutes(services);
  routes.route('/', disablingRoutes(services));
  return routes;
}

/** The scheduling function's app: the same cross-cutting rules as the API's (http-app.ts). */
export function createSchedulingApp(dependencies: {
  logger: Logger;
  services: SchedulingServices;
}): Hono<ApiEnv> {
  return createHttpApp(dependencies, (app) => {
    app.route(API_PREFIX, schedulingRoutes(dependencies.services));
  });
}
