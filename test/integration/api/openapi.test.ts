import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_PREFIX, createApp } from '../../../functions/api/app';
import { toOpenApiPath } from '../../../functions/api/openapi';
import { schedulingRoutes } from '../../../functions/api/scheduling-app';
import { silentLogger } from '../../../functions/core/logger';
import { ApiHarness } from '../../support/api-harness';

interface Operation {
  security?: unknown[];
  parameters: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, unknown>;
  'x-roles': string[];
}

interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

describe('GET /api/v1/openapi.json', () => {
  let harness: ApiHarness;
  let document: OpenApiDocument;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    const response = await harness.request<OpenApiDocument>('GET', '/api/v1/openapi.json');
    expect(response.status).toBe(200);
    document = JSON.parse(response.text) as OpenApiDocument;
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('is an OpenAPI 3.1 document with bearer security', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: API_PREFIX }]);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.schemas.Error).toBeDefined();
  });

  it('documents every route the app mounts under /api/v1, with its path parameters', () => {
    // Prepare: the routes of an app built like the runtime's (the scheduling app's included).
    const app = createApp({
      logger: silentLogger,
      healthChecks: [],
      target: 'test',
      version: 'test',
      services: harness.runtime.services,
      otherRoutes: [schedulingRoutes(harness.runtime.services)],
    });
    const mounted = app.routes
      .filter((route) => route.method !== 'ALL' && route.path.startsWith(`${API_PREFIX}/`))
      .map((route) => ({
        method: route.method.toLowerCase(),
        path: toOpenApiPath(route.path.slice(API_PREFIX.length)),
      }));

    // Assess
    expect(mounted.length).toBeGreaterThan(15);
    for (const { method, path } of mounted) {
      const operation = document.paths[path]?.[method];
      expect(operation, `${method.toUpperCase()} ${path} is not in the document`).toBeDefined();
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        expect(operation?.parameters).toContainEqual(
          expect.objectContaining({ name, in: 'path', required: true }),
        );
      }
    }
  });

  it('describes request bodies from the zod schemas, strict (additionalProperties false)', () => {
    const init = document.paths['/onboarding/{provider}/init']?.post;
    const schema = init?.requestBody?.content['application/json']?.schema as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };

    expect(schema.required).toEqual(['account_name']);
    expect(Object.keys(schema.properties)).toEqual(['tenant_id', 'account_name', 'auth_method']);
    expect(schema.additionalProperties).toBe(false);
    expect(init?.responses['201']).toBeDefined();
    expect(init?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
    );
    expect(document.paths['/onboarding/{provider}/validate']?.post?.responses['429']).toBeDefined();
  });

  it('marks only health, this document and the console sign-in settings as public, and lists the roles of every other route', () => {
    const publicRoutes: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (Array.isArray(operation.security) && operation.security.length === 0) {
          publicRoutes.push(`${method} ${path}`);
        } else {
          expect(operation['x-roles'].length, `${method} ${path} has no roles`).toBeGreaterThan(0);
          expect(operation.responses['401']).toBeDefined();
        }
      }
    }

    expect(publicRoutes.sort()).toEqual(['get /console/config', 'get /health', 'get /openapi.json']);
  });

  it('is the document the CDK app writes into the API function asset when it builds it, version aside', async () => {
    // Prepare: written in a fresh process, as the synthesis writes it (nothing mounted the app there).
    const directory = await mkdtemp(join(tmpdir(), 'te-openapi-'));
    try {
      const script = `const { writeOpenApiDocument } = await import('./functions/api/openapi-document.ts');
        process.stdout.write(writeOpenApiDocument(${JSON.stringify(directory)}));`;
      const file = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      const written = JSON.parse(await readFile(file, 'utf8')) as { info: Record<string, unknown> };
      const served = document as unknown as { info: Record<string, unknown> };

      // Assess
      expect({ ...written, info: { ...written.info, version: served.info.version } }).toEqual(document);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('leaks no schema internals', () => {
    const text = JSON.stringify(document);

    expect(text).not.toMatch(/"\$schema"|_zod|"~standard"/);
  });
});
