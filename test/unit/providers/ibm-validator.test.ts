import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
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
  rejection,
  startLoopbackServer,
} from './fakes/loopback-server';

const ACCOUNT = 'fa4e0000000000000000000000000001';
const OTHER_ACCOUNT = '00000000000000000000000000000002';

describe('Class: IbmValidator (through createProviderValidator)', () => {
  let server: LoopbackServer;
  let apiKey: string;
  let accessToken: string;
  let logger: ReturnType<typeof capturingLogger>;
  const validator = () =>
    createProviderValidator({
      endpoints: { ibmIam: server.url, ibmResourceController: server.url },
      timeoutMs: 2_000,
      logger,
    });
  const context = { accountId: 'acc-fake-ibm' };

  /** A fake IBM IAM + Resource Manager: the apikey grant for the known key, then the bearer. */
  const fakeIbm = (request: ReceivedRequest): FakeAnswer => {
    if (request.method === 'POST' && request.url === '/identity/token') {
      const form = formOf(request);
      if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') return { status: 415 };
      if (form.grant_type !== 'urn:ibm:params:oauth:grant-type:apikey') {
        return { status: 400, body: { errorCode: 'BXNIM0109E', errorMessage: 'Property missing or empty' } };
      }
      if (form.apikey !== apiKey) {
        return {
          status: 400,
          body: {
            errorCode: 'BXNIM0415E',
            errorMessage: 'Provided API key could not be found.',
            context: { apikey: form.apikey },
          },
        };
      }
      return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 } };
    }
    if (request.headers.authorization !== `Bearer ${accessToken}`) {
      return { status: 401, body: { errors: [{ code: 'not_authorized', message: 'bad token' }] } };
    }
    if (request.method === 'GET' && request.url === `/v2/resource_groups?account_id=${ACCOUNT}`) {
      return {
        status: 200,
        body: { resources: [{ id: 'fake-rg-1', name: 'Default', account_id: ACCOUNT }] },
      };
    }
    return { status: 400, body: { errors: [{ code: 'bad_request' }] } };
  };

  beforeAll(async () => {
    server = await startLoopbackServer(fakeIbm);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    apiKey = `fake-ibm-key-${randomBytes(16).toString('hex')}`;
    accessToken = await new SignJWT({ account: { bss: ACCOUNT }, iam_id: 'iam-ServiceId-fake' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(randomBytes(32));
    server.requests.splice(0);
    server.handle = fakeIbm;
    logger = capturingLogger();
  });

  it('exchanges the API key for an IAM token (apikey grant), lists resource groups, returns the account id', async () => {
    // Act
    const result = await validator().validate('ibm_api_key', { api_key: apiKey }, context);

    // Assess
    expect(result).toEqual({ accountNumber: ACCOUNT, validatedOffline: false });
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /identity/token',
      `GET /v2/resource_groups?account_id=${ACCOUNT}`,
    ]);
    expect(formOf(server.requests[0] as ReceivedRequest)).toEqual({
      grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
      apikey: apiKey,
    });
  });

  it('accepts a matching declared account_id and refuses another one (account_mismatch)', async () => {
    // Act
    const ok = await validator().validate('ibm_api_key', { api_key: apiKey, account_id: ACCOUNT }, context);
    const error = await rejection(() =>
      validator().validate('ibm_api_key', { api_key: apiKey, account_id: OTHER_ACCOUNT }, context),
    );

    // Assess
    expect(ok.accountNumber).toBe(ACCOUNT);
    expect(error.reason).toBe('account_mismatch');
    expect(error.message).toContain(OTHER_ACCOUNT);
  });

  it('maps BXNIM0415E (unknown API key) to invalid_credentials without the key', async () => {
    // Act
    const wrong = `fake-wrong-key-${randomBytes(16).toString('hex')}`;
    const error = await rejection(() => validator().validate('ibm_api_key', { api_key: wrong }, context));

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('BXNIM0415E');
    expectNoSecret(exposedText(error, logger.lines), [wrong, apiKey, accessToken]);
  });

  it('maps an expired API key to expired', async () => {
    // Prepare
    server.handle = () => ({
      status: 400,
      body: { errorCode: 'BXNIM0408E', errorMessage: 'The API key is expired.' },
    });

    // Act
    const error = await rejection(() => validator().validate('ibm_api_key', { api_key: apiKey }, context));

    // Assess
    expect(error.reason).toBe('expired');
  });

  it('maps 403 on the resource groups to access_denied', async () => {
    // Prepare
    server.handle = (request) =>
      request.method === 'GET'
        ? { status: 403, body: { errors: [{ code: 'forbidden', message: 'no access' }] } }
        : fakeIbm(request);

    // Act
    const error = await rejection(() => validator().validate('ibm_api_key', { api_key: apiKey }, context));

    // Assess
    expect(error.reason).toBe('access_denied');
    expect(error.message).toContain('forbidden');
  });

  it('maps an IAM outage (HTTP 503) to provider_unreachable', async () => {
    // Prepare
    server.handle = () => ({ status: 503 });

    // Act
    const error = await rejection(() => validator().validate('ibm_api_key', { api_key: apiKey }, context));

    // Assess
    expect(error.reason).toBe('provider_unreachable');
    expect(error.message).toContain('IBM Cloud IAM');
  });

  it('never exposes the key or the token when the provider echoes them (canary)', async () => {
    // Prepare
    server.handle = () => ({
      status: 400,
      body: { errorCode: 'BXNIM9999E', errorMessage: `key ${apiKey} and token ${accessToken} refused` },
    });

    // Act
    const error = await rejection(() => validator().validate('ibm_api_key', { api_key: apiKey }, context));

    // Assess
    expect(error.message).toContain('BXNIM9999E');
    expectNoSecret(exposedText(error, logger.lines), [apiKey, accessToken]);
  });
});
