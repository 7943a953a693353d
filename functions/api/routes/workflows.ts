import { Hono } from 'hono';
import * as z from 'zod/mini';
import { WORKFLOW_FILES } from '../../../workflows/definitions';
import { type ApiEnv, parseWith, requireRole } from '../api-context';
import type { ApiServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';

/**
 * The state machine definitions themselves (workflows/*.asl.json, the files both targets run), so
 * a client can draw a run's graph from the definition it ran on. Resources stay substitution
 * tokens: the definition names no function ARN. The API function reads them from the copies in its
 * asset (not bundled as modules), the local runtime from workflows/definitions.ts.
 */

const WorkflowNameSchema = z.enum(
  Object.keys(WORKFLOW_FILES) as [keyof typeof WORKFLOW_FILES, ...(keyof typeof WORKFLOW_FILES)[]],
  { message: `must be one of ${Object.keys(WORKFLOW_FILES).join(', ')}` },
);

const DefinitionResponseSchema = z.object({
  workflow: WorkflowNameSchema,
  definition: z.looseObject({ StartAt: z.string(), States: z.record(z.string(), z.unknown()) }),
});

/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/workflows/:workflow/definition',
  summary: 'The Amazon States Language definition of a workflow (onboarding, validation, scan)',
  tags: ['workflows'],
  roles: rolesFrom('viewer'),
  params: { workflow: WorkflowNameSchema },
  response: DefinitionResponseSchema,
});

export function workflowRoutes(services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/workflows/:workflow/definition', async (context) => {
    requireRole(context.get('caller'), 'viewer');
    const workflow = parseWith(WorkflowNameSchema, context.req.param('workflow'), 'workflow');
    return context.json({ workflow, definition: await services.workflowDefinition(workflow) });
  });
  return app;
}
