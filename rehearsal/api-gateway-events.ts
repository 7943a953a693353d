import { randomUUID } from 'node:crypto';
import type { CfnResource } from '../test/infra/synthesize-app';

/** A route of the template's HTTP API: its key and whether the JWT authorizer guards it. */
export interface ApiRoute {
  routeKey: string;
  method: string;
  path: string;
  authorized: boolean;
  /** The logical id of the integration it sends requests to (its IntegrationUri: the function). */
  integrationId: string | undefined;
}

/** `integrations/<id>`, resolved or as synthesized (`Fn::Join` over a `Ref`). */
function integrationIdOf(target: unknown): string | undefined {
  if (typeof target === 'string') return target.replace(/^integrations\//, '');
  const parts = (target as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join']?.[1] ?? [];
  const ref = parts.find(
    (part): part is { Ref: string } => typeof part === 'object' && part !== null && 'Ref' in part,
  );
  return ref?.Ref;
}

export function apiRoutesOf(resources: Record<string, CfnResource>): ApiRoute[] {
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
    .map((resource) => {
      const routeKey = String(resource.Properties?.RouteKey);
      const [method = 'ANY', path = '/'] = routeKey.split(' ');
      return {
        routeKey,
        method,
        path,
        authorized: resource.Properties?.AuthorizationType === 'JWT',
        integrationId: integrationIdOf(resource.Properties?.Target),
      };
    });
}

/**
 * The route API Gateway picks for a request: an exact path first, then a path with `{name}`
 * segments, then the greedy `{proxy+}` route with the longest literal prefix; a route naming the
 * method wins over `ANY` at each step.
 */
export function matchRoute(routes: readonly ApiRoute[], method: string, path: string): ApiRoute | undefined {
  const methodMatches = (route: ApiRoute) => route.method === 'ANY' || route.method === method;
  const patternOf = (routePath: string) =>
    new RegExp(
      `^${routePath
        .split('/')
        .map((segment) =>
          /^\{[^}]+\+\}$/.test(segment)
            ? '.+'
            : /^\{[^}]+\}$/.test(segment)
              ? '[^/]+'
              : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
        )
        .join('/')}$`,
    );
  const isGreedy = (route: ApiRoute) => route.path.includes('+}');
  const byMethod = (candidates: ApiRoute[]) =>
    candidates.find((route) => route.method === method) ?? candidates[0];
  const matching = routes.filter((route) => methodMatches(route) && patternOf(route.path).test(path));
  const exact = matching.filter((route) => route.path === path);
  if (exact.length > 0) return byMethod(exact);
  const withVariables = matching.filter((route) => !isGreedy(route));
  if (withVariables.length > 0) return byMethod(withVariables);
  const prefixLength = (route: ApiRoute) => route.path.indexOf('{');
  const longest = Math.max(-1, ...matching.filter(isGreedy).map(prefixLength));
  const greedy = matching.filter((route) => isGreedy(route) && prefixLength(route) === longest);
  return greedy.length > 0 ? byMethod(greedy) : undefined;
}

export interface ApiRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/tenants?limit=5`. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The JWT claims the authorizer passes on (only on routes that have the authorizer). */
  claims?: Record<string, unknown>;
}

/** An API Gateway HTTP API (payload v2) event, as the integration delivers it to the function. */
export function apiGatewayEvent(
  request: ApiRequest,
  route: ApiRoute,
  api: { account: string; apiId: string; region: string; stage: string },
) {
  const url = new URL(request.path, 'https://api.rehearsal.invalid');
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: {
      host: `${api.apiId}.execute-api.${api.region}.amazonaws.com`,
      'user-agent': 'threat-engine-rehearsal',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(route.authorized ? { authorization: 'Bearer rehearsal.jwt.checked-by-the-authorizer' } : {}),
      ...request.headers,
    },
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: api.account,
      apiId: api.apiId,
      domainName: `${api.apiId}.execute-api.${api.region}.amazonaws.com`,
      domainPrefix: api.apiId,
      http: {
        method: request.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'threat-engine-rehearsal',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: api.stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(route.authorized && request.claims
        ? { authorizer: { jwt: { claims: request.claims, scopes: null } } }
        : {}),
    },
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

/** The `aws:SourceArn` API Gateway invokes the integration with for a route. */
export function executeApiSourceArn(
  route: ApiRoute,
  method: string,
  api: { account: string; apiId: string; region: string; stage: string },
): string {
  const path = route.path === '/' ? '' : route.path.slice(1);
  return `arn:aws:execute-api:${api.region}:${api.account}:${api.apiId}/${api.stage}/${method}/${path}`;
}
