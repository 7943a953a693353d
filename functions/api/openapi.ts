import type * as z from 'zod/mini';
import type { Role } from './api-context';

/**
 * The registry the OpenAPI 3.1 document is generated from (openapi-document.ts). Every route
 * module registers each route it mounts with `registerRoute`, next to the route itself, with the
 * zod schemas the route parses with; the app serves the document at `GET /api/v1/openapi.json`,
 * and a test checks that every mounted route is listed. The generator is not part of the app: the
 * document is generated when the API is built (the CDK app writes it into the API function's
 * asset) or started (the local runtime), so the Lambda bundle carries no JSON Schema code.
 *
 * Each registration call carries esbuild's `@__PURE__` annotation, which lets the bundler drop it:
 * the Lambda bundles carry none of the summaries and descriptions (no function reads the registry;
 * the document is a file in the API's asset). Unbundled code (the generator, the local runtime,
 * the tests) runs every registration as written.
 */

/** The document's file in the API function's asset, beside the bundle (infra/constructs/functions.ts). */
export const OPENAPI_DOCUMENT_FILE = 'openapi.json';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDocumentation {
  method: HttpMethod;
  /** As mounted under `/api/v1`, in Hono's style: `/schedules/:schedule_id`. */
  path: string;
  summary: string;
  description?: string;
  /** Groups routes in the document (e.g. `tenants`, `onboarding`, `schedules`). */
  tags?: readonly string[];
  /** Roles allowed to call it; `'public'` for the unauthenticated routes. Use `rolesFrom('operator')`. */
  roles: readonly Role[] | 'public';
  /** The JSON body schema (parsed with parseJsonBody). */
  request?: z.ZodMiniType;
  /** The query schema (an object schema; parsed with parseQuery). */
  query?: z.ZodMiniType;
  /** Path parameter schemas by name; parameters without one are documented as strings. */
  params?: Readonly<Record<string, z.ZodMiniType>>;
  /** The success body. */
  response?: z.ZodMiniType;
  /** The success status (default 200). */
  status?: 200 | 201 | 202 | 204;
  /** Other answers than the success one, by status (e.g. the 202 of a validation still running). */
  otherResponses?: Readonly<Record<string, { description: string; schema?: z.ZodMiniType }>>;
  /** Accepts an Idempotency-Key header (every mutating POST does). */
  idempotent?: boolean;
  /** Counted by the per-tenant validation rate limit (429 with Retry-After). */
  rateLimited?: boolean;
}

const registry = new Map<string, RouteDocumentation>();

const keyOf = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Adds (or replaces) the documentation of one route. */
export function registerRoute(route: RouteDocumentation): void {
  registry.set(keyOf(route.method, route.path), route);
}

export function registeredRoutes(): RouteDocumentation[] {
  return [...registry.values()];
}

/** Every role at least as strong as `minimum` (the role order of api-context's requireRole). */
export function rolesFrom(minimum: Role): readonly Role[] {
  const order: readonly Role[] = ['viewer', 'operator', 'tenant_admin', 'platform_admin'];
  return order.slice(order.indexOf(minimum));
}

/** `/a/:b/c` → `/a/{b}/c` */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{[^}]*\})?/g, '{$1}');
}
