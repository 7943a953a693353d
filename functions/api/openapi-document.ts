import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { silentLogger } from '../core/logger';
import { ROLES, type Role } from './api-context';
import type { ApiServices, SchedulingServices } from './api-services';
import { loadApiSettings } from './api-settings';
import { createApp } from './app';
import { OPENAPI_DOCUMENT_FILE, type RouteDocumentation, registeredRoutes, toOpenApiPath } from './openapi';
import { schedulingRoutes } from './scheduling-app';

/**
 * The OpenAPI 3.1 document of the registered routes, generated from the zod schemas they parse
 * with (zod's `z.toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1 expects). Run when the API is
 * built or started, never inside the API function: the app serves the document it is given.
 */

type JsonSchema = Record<string, unknown>;

function jsonSchemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
    }) as JsonSchema;
    return rest;
  } catch {
    return { description: 'not representable in JSON Schema' };
  }
}

function parametersOf(route: RouteDocumentation): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const match of route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = match[1] as string;
    const schema = route.params?.[name];
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: schema ? jsonSchemaOf(schema, 'input') : { type: 'string' },
    });
  }
  if (route.query) {
    const query = jsonSchemaOf(route.query, 'input');
    const properties = (query.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((query.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(properties)) {
      parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  if (route.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a retry safe: the same key with the same request returns the first answer and creates nothing twice; with another request it is a 409.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
    });
  }
  return parameters;
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operationOf(route: RouteDocumentation): JsonSchema {
  const status = String(route.status ?? 200);
  const isPublic = route.roles === 'public';
  const responses: Record<string, unknown> = {
    [status]: route.response
      ? {
          description: 'success',
          content: { 'application/json': { schema: jsonSchemaOf(route.response, 'output') } },
        }
      : { description: 'success' },
  };
  for (const [other, answer] of Object.entries(route.otherResponses ?? {})) {
    responses[other] = answer.schema
      ? {
          description: answer.description,
          content: { 'application/json': { schema: jsonSchemaOf(answer.schema, 'output') } },
        }
      : errorResponse(answer.description);
  }
  if ((route.request || route.query || route.path.includes(':')) && !responses['400']) {
    responses['400'] = errorResponse('invalid input: `details` names each field');
  }
  if (!isPublic) {
    responses['401'] = errorResponse('missing or invalid bearer token');
    responses['403'] = errorResponse("the caller's role may not do this");
  }
  if (route.path.includes(':')) responses['404'] = errorResponse("not found (or another tenant's)");
  if (route.idempotent)
    responses['409'] = errorResponse('conflict (e.g. an Idempotency-Key reused with another request)');
  if (route.request) {
    responses['413'] = errorResponse('the body is too large');
    responses['415'] = errorResponse('the body is not JSON');
  }
  if (route.rateLimited)
    responses['429'] = errorResponse('too many validation requests for the tenant (see Retry-After)');
  return {
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.tags ? { tags: [...route.tags] } : {}),
    operationId: `${route.method}${toOpenApiPath(route.path)
      .replace(/[{}]/g, '')
      .split(/[/_-]/)
      .filter(Boolean)
      .map((part) => part[0]?.toUpperCase() + part.slice(1))
      .join('')}`,
    ...(isPublic ? { security: [] } : {}),
    'x-roles': isPublic ? [] : [...(route.roles as readonly Role[])],
    parameters: parametersOf(route),
    ...(route.request
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchemaOf(route.request, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

export interface OpenApiInfo {
  version: string;
  title?: string;
}

/** The OpenAPI 3.1 document of every registered route (paths relative to the `/api/v1` server). */
export function buildOpenApiDocument(info: OpenApiInfo, routes = registeredRoutes()): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const path = toOpenApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operationOf(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title ?? 'Threat engine orchestrator API',
      version: info.version,
      description:
        "Onboarding of cloud accounts, credential validation, schedules and scans. Every endpoint but health and this document needs `Authorization: Bearer <JWT>` carrying the caller's tenant and role (platform_admin, tenant_admin, operator, viewer). Ids of other tenants answer 404.",
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['status', 'code', 'message', 'details', 'detail'],
          properties: {
            status: { type: 'integer' },
            code: {
              type: 'string',
              description: 'machine-readable, e.g. validation_failed, not_found, conflict',
            },
            message: { type: 'string' },
            details: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'message'],
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
            detail: {
              description:
                'for legacy clients: on a 400 `{message, errors[]}` (one error per field issue, or the reason a validation failed), otherwise the message as a string',
              oneOf: [
                { type: 'string' },
                {
                  type: 'object',
                  required: ['message', 'errors'],
                  properties: {
                    message: { type: 'string' },
                    errors: { type: 'array', items: { type: 'string' } },
                  },
                },
              ],
            },
          },
        },
      },
    },
    'x-roles': [...ROLES],
  };
}

/**
 * Every route the app mounts, as registered. Route modules register some routes when imported and
 * the others when the app mounts them, so the app is built here once: its route factories only keep
 * the services for their handlers (never run here); the app itself reads its settings.
 */
function appRoutes(): RouteDocumentation[] {
  const services = { repositories: {}, settings: loadApiSettings({}) } as unknown as ApiServices &
    SchedulingServices;
  createApp({
    logger: silentLogger,
    healthChecks: [],
    target: 'openapi',
    version: 'unknown',
    services,
    otherRoutes: [schedulingRoutes(services)],
  });
  return registeredRoutes();
}

/** The OpenAPI document of every route the app mounts. */
export function appOpenApiDocument(info: OpenApiInfo): JsonSchema {
  return buildOpenApiDocument(info, appRoutes());
}

/**
 * Writes the document into `directory` as the API function's asset holds it (OPENAPI_DOCUMENT_FILE);
 * its version is left for the app to fill in. Returns the file's path.
 */
export function writeOpenApiDocument(directory: string): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, OPENAPI_DOCUMENT_FILE);
  writeFileSync(file, JSON.stringify(appOpenApiDocument({ version: 'unknown' })));
  return file;
}
