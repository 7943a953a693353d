import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProviderValidator } from '../../../functions/providers/provider-validator-registry';
import {
  capturingLogger,
  expectNoSecret,
  exposedText,
  type FakeAnswer,
  formOf,
  type LoopbackServer,
  type ReceivedRequest,
  refusedUrl,
  rejection,
  startLoopbackServer,
} from './fakes/loopback-server';

const TENANT = '00000000-0000-4000-8000-00000000aaaa';
const CLIENT_ID = '00000000-0000-4000-8000-00000000bbbb';
const SUBSCRIPTION = '00000000-0000-4000-8000-00000000cccc';

/**
 * A fake Azure AD + Resource Manager: issues a token only for the known client secret with the
 * client-credentials grant and the management scope, and shows the subscription only to that token.
 */
function fakeAzure(state: { secret: string; token: string }) {
  const token = (request: ReceivedRequest): FakeAnswer => {
    if (request.url !== `/${TENANT}/oauth2/v2.0/token`) {
      return { status: 400, body: { error: 'invalid_request', error_codes: [90002] } };
    }
    const form = formOf(request);
    if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') return { status: 415 };
    if (form.grant_type !== 'client_credentials')
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    if (form.scope !== 'https://management.azure.com/.default')
      return { status: 400, body: { error: 'invalid_scope' } };
    if (form.client_id !== CLIENT_ID || form.client_secret !== state.secret) {
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description: `AADSTS7000215: Invalid client secret provided. Secret given: ${form.client_secret}`,
          error_codes: [7000215],
        },
      };
    }
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, access_token: state.token } };
  };
  const subscription = (request: ReceivedRequest): FakeAnswer => {
    if (request.headers.authorization !== `Bearer ${state.token}`) {
      return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'bad token' } } };
    }
    if (request.url !== `/subscriptions/${SUBSCRIPTION}?api-version=2022-12-01`) {
      return { status: 404, body: { error: { code: 'SubscriptionNotFound', message: 'not found' } } };
    }
    return {
      status: 200,
      body: { id: `/subscriptions/${SUBSCRIPTION}`, subscriptionId: SUBSCRIPTION, state: 'Enabled' },
    };
  };
  return (request: ReceivedRequest): FakeAnswer =>
    request.method === 'POST' ? token(request) : subscription(request);
}

describe('Class: AzureValidator (through createProviderValidator)', () => {
  let server: LoopbackServer;
  const state = { secret: '', token: '' };
  let logger: ReturnType<typeof capturingLogger>;
  const validator = () =>
    createProviderValidator({
      endpoints: { azureLogin: server.url, azureManagement: server.url },
      timeoutMs: 2_000,
      logger,
    });
  const principal = (overrides: Record<string, unknown> = {}) => ({
    client_id: CLIENT_ID,
    client_secret: state.secret,
    tenant_id: TENANT,
    subscription_id: SUBSCRIPTION,
    ...overrides,
  });
  const context = { accountId: 'acc-fake-azure' };

  beforeAll(async () => {
    server = await startLoopbackServer(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    state.secret = `fake-azure-secret-${randomBytes(16).toString('hex')}`;
    state.token = `fake-azure-token-${randomBytes(16).toString('hex')}`;
    server.requests.splice(0);
    server.handle = fakeAzure(state);
    logger = capturingLogger();
  });

  it('gets a client-credentials token for the management scope, then reads the subscription with it', async () => {
    // Act
    const result = await validator().validate('azure_service_principal', principal(), context);

    // Assess
    expect(result).toEqual({ accountNumber: SUBSCRIPTION, validatedOffline: false });
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      `POST /${TENANT}/oauth2/v2.0/token`,
      `GET /subscriptions/${SUBSCRIPTION}?api-version=2022-12-01`,
    ]);
    expect(formOf(server.requests[0] as ReceivedRequest)).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: state.secret,
      scope: 'https://management.azure.com/.default',
    });
  });

  it('maps AADSTS7000215 (invalid client secret) to invalid_credentials, without the echoed secret', async () => {
    // Act
    const wrong = `fake-wrong-secret-${randomBytes(16).toString('hex')}`;
    const error = await rejection(() =>
      validator().validate('azure_service_principal', principal({ client_secret: wrong }), context),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('AADSTS7000215');
    expect(error.message).toContain('invalid_client');
    expectNoSecret(exposedText(error, logger.lines), [wrong, state.secret]);
    expect(server.requests).toHaveLength(1);
  });

  it('maps AADSTS7000222 (expired client secret) to expired', async () => {
    // Prepare
    server.handle = () => ({
      status: 401,
      body: {
        error: 'invalid_client',
        error_description: 'AADSTS7000222: The provided client secret keys are expired.',
      },
    });

    // Act
    const error = await rejection(() =>
      validator().validate('azure_service_principal', principal(), context),
    );

    // Assess
    expect(error.reason).toBe('expired');
    expect(error.message).toContain('AADSTS7000222');
  });

  it('maps 403 on the subscription to access_denied with a role hint', async () => {
    // Prepare
    const base = fakeAzure(state);
    server.handle = (request) =>
      request.method === 'GET'
        ? {
            status: 403,
            body: { error: { code: 'AuthorizationFailed', message: `client ${CLIENT_ID} has no access` } },
          }
        : base(request);

    // Act
    const error = await rejection(() =>
      validator().validate('azure_service_principal', principal(), context),
    );

    // Assess
    expect(error.reason).toBe('access_denied');
    expect(error.message).toContain('AuthorizationFailed');
    expect(error.message).toContain('Reader');
  });

  it('maps 404 on the subscription to account_mismatch (subscription not visible to this principal)', async () => {
    // Act
    const unknown = '00000000-0000-4000-8000-00000000dddd';
    const error = await rejection(() =>
      validator().validate('azure_service_principal', principal({ subscription_id: unknown }), context),
    );

    // Assess
    expect(error.reason).toBe('account_mismatch');
    expect(error.message).toContain(`subscription ${unknown} is not visible to this principal`);
  });

  it('maps 401 on the subscription (token refused) to invalid_credentials', async () => {
    // Prepare
    const base = fakeAzure(state);
    server.handle = (request) =>
      request.method === 'POST'
        ? { status: 200, body: { access_token: 'fake-token-the-arm-fake-does-not-know' } }
        : base(request);

    // Act
    const error = await rejection(() =>
      validator().validate('azure_service_principal', principal(), context),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('InvalidAuthenticationToken');
    expect(error.message).not.toContain('fake-token-the-arm-fake-does-not-know');
  });

  it('maps an Azure AD outage (HTTP 503) and a refused connection to provider_unreachable', async () => {
    // Prepare
    server.handle = () => ({ status: 503, body: 'down' });
    const refused = await refusedUrl();

    // Act
    const outage = await rejection(() =>
      validator().validate('azure_service_principal', principal(), context),
    );
    const unreachable = await rejection(() =>
      createProviderValidator({ endpoints: { azureLogin: refused } }).validate(
        'azure_service_principal',
        principal(),
        context,
      ),
    );

    // Assess
    expect(outage.reason).toBe('provider_unreachable');
    expect(outage.message).toContain('HTTP 503');
    expect(unreachable.reason).toBe('provider_unreachable');
    expect(unreachable.message).toBe(
      `[provider_unreachable] could not reach Azure AD at ${new URL(refused).host}: ECONNREFUSED`,
    );
  });

  it('refuses a tenant_id that is neither a GUID nor a domain as malformed, without a call', async () => {
    // Act
    const error = await rejection(() =>
      validator().validate('azure_service_principal', principal({ tenant_id: '../evil?x=' }), context),
    );

    // Assess
    expect(error.reason).toBe('malformed');
    expect(error.message).toContain('credentials.tenant_id');
    expect(server.requests).toHaveLength(0);
  });
});
