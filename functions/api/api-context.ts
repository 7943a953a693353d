import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import * as z from 'zod/mini';
import { fieldName, fieldPath, IdSchema } from '../../schemas/common';
import type { Tenant } from '../../schemas/tenant';
import { ForbiddenError, NotFoundError, ValidationError } from '../core/errors';

/**
 * The contract every route module is written against: who the caller is, how input is parsed,
 * and how tenant scope is decided. Route modules export `xxxRoutes(services): Hono<ApiEnv>` and
 * stay thin: parse, authorize, call a core service, shape the answer.
 */

export const ROLES = ['platform_admin', 'tenant_admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** The token's subject. */
  subject: string;
  /** The caller's tenant; null only for platform admins. */
  tenantId: string | null;
  role: Role;
}

export type ApiEnv = {
  Variables: {
    caller: Caller;
    /** The caller's own tenant, as authentication read it (absent for a platform-wide caller). */
    callerTenant: Tenant | undefined;
    requestId: string;
    /**
     * Set when the request carries an Idempotency-Key: a token derived from (tenant, key, request)
     * that core services use as their own request token, so a retry creates nothing twice.
     */
    idempotencyToken: string | undefined;
  };
};

/** The request token core services de-duplicate on: the idempotency token, else a fresh one. */
export function requestTokenOf(context: Context<ApiEnv>): string {
  return context.get('idempotencyToken') ?? randomUUID();
}

/** What each role may do, from least to most. */
const RANK: Record<Role, number> = { viewer: 0, operator: 1, tenant_admin: 2, platform_admin: 3 };

/** Whether the caller's role is at least `minimum`. */
export function hasRole(caller: Caller, minimum: Role): boolean {
  return RANK[caller.role] >= RANK[minimum];
}

/** Throws ForbiddenError unless the caller's role is at least `minimum`. */
export function requireRole(caller: Caller, minimum: Role): void {
  if (!hasRole(caller, minimum)) {
    throw new ForbiddenError(`this action needs the ${minimum} role or higher (you are ${caller.role})`);
  }
}

/**
 * The tenant a request acts on. Tenant-scoped callers always act on their own tenant (a
 * different `tenant_id` in the request is treated as an unknown id: 404, never 403, so callers
 * cannot learn that another tenant exists). Platform admins name the tenant explicitly.
 */
export function tenantScope(caller: Caller, requested?: string | null, entity = 'tenant'): string {
  if (caller.role === 'platform_admin') {
    if (requested) return requested;
    if (caller.tenantId) return caller.tenantId;
    throw new ValidationError('tenant_id is required for platform administrators', [
      { field: 'tenant_id', message: 'name the tenant to act on' },
    ]);
  }
  if (!caller.tenantId) throw new ForbiddenError('the token names no tenant');
  if (requested && requested !== caller.tenantId) throw new NotFoundError(entity, requested);
  return caller.tenantId;
}

/** `?tenant_id=` of the routes on one record: the tenant a platform admin names (lookupScope). */
export const TenantQuerySchema = z.strictObject({ tenant_id: z.optional(IdSchema) });

/**
 * The scope of a lookup by id: a tenant-scoped caller sees its own tenant only (a different
 * `tenant_id` is 404); a platform admin sees the tenant it names, or every tenant (null).
 */
export function lookupScope(caller: Caller, requested?: string | null, entity = 'tenant'): string | null {
  if (caller.role === 'platform_admin') return requested || null;
  return tenantScope(caller, requested, entity);
}

/** Whether a record of `tenantId` is visible to the caller (use it to answer 404 otherwise). */
export function canSee(caller: Caller, tenantId: string | undefined | null): boolean {
  return caller.role === 'platform_admin' || (tenantId != null && tenantId === caller.tenantId);
}

/** One issue per problem, each naming its field; unknown fields are named one by one (never their values). */
function issuesOf(error: z.core.$ZodError, rootField: string) {
  return error.issues.flatMap((issue) => {
    const path = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: path ? `${path}.${fieldName(key)}` : fieldName(key),
        message: 'is not a known field',
      }));
    }
    return [{ field: path || rootField, message: issue.message }];
  });
}

/**
 * Parses `value`; a mismatch is a ValidationError naming each field. `what` names the value: a
 * field name for a single value (a path parameter such as `account_id`), or `request body` / `query`.
 */
export function parseWith<Schema extends z.ZodMiniType>(
  schema: Schema,
  value: unknown,
  what: string,
): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const rootField = what === 'request body' ? '(body)' : what === 'query' ? '(query)' : what;
  const issues = issuesOf(result.error, rootField);
  throw new ValidationError(
    `invalid ${what}: ${[...new Set(issues.map((issue) => issue.field))].join(', ')}`,
    issues,
  );
}

/** Parses a JSON body: the content type must be JSON and the body must parse and match. */
export async function parseJsonBody<Schema extends z.ZodMiniType>(
  context: Context,
  schema: Schema,
): Promise<z.infer<Schema>> {
  const type = context.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ValidationError('the request body must be JSON', [
      { field: 'content-type', message: 'must be application/json' },
    ]);
  }
  let body: unknown;
  try {
    body = await context.req.json();
  } catch {
    throw new ValidationError('the request body is not valid JSON', [
      { field: '(body)', message: 'must be valid JSON' },
    ]);
  }
  if (nestingDepth(body) > MAX_JSON_DEPTH) {
    throw new ValidationError(`the request body is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`, [
      { field: '(body)', message: `must be nested at most ${MAX_JSON_DEPTH} levels deep` },
    ]);
  }
  return parseWith(schema, body, 'request body');
}

/** Deeper JSON than this is refused before any schema sees it. */
export const MAX_JSON_DEPTH = 20;

/** How deeply arrays and objects nest in a parsed JSON value (iterative: no stack to exhaust). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, level]);
  }
  return deepest;
}

/** Reads an optional JSON body: an empty body counts as `{}`; anything else must be JSON. */
export async function parseOptionalJsonBody<Schema extends z.ZodMiniType>(
  context: Context,
  schema: Schema,
): Promise<z.infer<Schema>> {
  const text = await context.req.text();
  if (text.trim() === '') return parseWith(schema, {}, 'request body');
  return parseJsonBody(context, schema);
}

export function parseQuery<Schema extends z.ZodMiniType>(context: Context, schema: Schema): z.infer<Schema> {
  return parseWith(schema, context.req.query(), 'query');
}
