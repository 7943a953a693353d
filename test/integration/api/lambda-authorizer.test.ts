import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiGatewayTokenVerifier } from '../../../functions/api/api-gateway-token-verifier';
import { createApp } from '../../../functions/api/app';
import { silentLogger } from '../../../functions/core/logger';
import { ApiHarness, type TenantFixture } from '../../support/api-harness';

const ISSUER = 'https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_Fake';
const CLIENT_ID = 'fake-app-client';

/** An API Gateway HTTP API (payload v2) event, as its JWT authorizer hands it to the Lambda. */
function gatewayEvent(path: string, claims: Record<string, string> | undefined): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com', authorization: 'Bearer header.payload.signature' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'fakeapi',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

/**
 * The same app as the API Lambda serves, behind `hono/aws-lambda`, with the AWS token verifier:
 * the caller comes from the claims API Gateway's JWT authorizer validated.
 */
describe('API behind API Gateway (JWT authorizer claims)', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let invoke: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResult>;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
    const app = createApp({
      logger: silentLogger,
      healthChecks: [],
      target: 'aws',
      version: 'test',
      services: {
        ...harness.runtime.services,
        tokenVerifier: new ApiGatewayTokenVerifier({ issuer: ISSUER, audiences: [CLIENT_ID] }),
      },
    });
    const handler = handle(app);
    // The event type of aws-lambda and hono's differ on `body` (undefined vs null) only.
    invoke = async (event) =>
      (await handler(event as unknown as LambdaEvent, {} as LambdaContext)) as APIGatewayProxyResult;
  });
  afterAll(async () => {
    await harness?.close();
  });

  const claims = (overrides: Record<string, string> = {}) => ({
    sub: 'user-1',
    iss: ISSUER,
    client_id: CLIENT_ID,
    exp: String(Math.floor(Date.now() / 1000) + 600),
    'custom:tenant_id': tenant.tenantId,
    'custom:role': 'viewer',
    ...overrides,
  });

  it("reads the caller from the authorizer's claims (Cognito custom claims)", async () => {
    const own = await invoke(gatewayEvent(`/api/v1/tenants/${tenant.tenantId}`, claims()));
    const adminOnly = await invoke(gatewayEvent('/api/v1/tenants', claims()));

    expect(own.statusCode).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ tenant_id: tenant.tenantId });
    expect(adminOnly.statusCode).toBe(403);
  });

  it.each([
    ['no authorizer claims', undefined],
    ['another issuer', { iss: 'https://elsewhere.example' }],
    ['another audience', { client_id: 'someone-else' }],
    ['an expired token', { exp: String(Math.floor(Date.now() / 1000) - 10) }],
    ['an unknown role', { 'custom:role': 'superuser' }],
  ])('answers 401 for %s', async (_case, overrides) => {
    const event = gatewayEvent(
      `/api/v1/tenants/${tenant.tenantId}`,
      overrides === undefined ? undefined : claims(overrides as Record<string, string>),
    );

    const response = await invoke(event);

    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'unauthenticated' });
  });

  it('answers 401 naming the ID token when a Cognito access token (no custom: claims) is sent', async () => {
    // Prepare: what API Gateway passes on for a Cognito access token
    const {
      'custom:tenant_id': _tenant,
      'custom:role': _role,
      ...accessTokenClaims
    } = claims({
      token_use: 'access',
      scope: 'threat-engine/api',
    });

    // Act
    const response = await invoke(gatewayEvent(`/api/v1/tenants/${tenant.tenantId}`, accessTokenClaims));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body).message).toMatch(/Cognito access token.*send the ID token/);
  });

  it('serves health without claims', async () => {
    const response = await invoke(gatewayEvent('/api/v1/health', undefined));

    expect(response.statusCode).toBe(200);
  });
});
