import { generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';
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

const PROJECT = 'fake-project-1234';
const CLIENT_EMAIL = `scanner@${PROJECT}.iam.gserviceaccount.com`;

describe('Class: GcpValidator (through createProviderValidator)', () => {
  let google: LoopbackServer;
  let attacker: LoopbackServer;
  let publicKey: KeyObject;
  let privateKeyPem: string;
  let otherPrivateKeyPem: string;
  let accessToken: string;
  let logger: ReturnType<typeof capturingLogger>;
  const assertions: { payload: Record<string, unknown>; kid: string | undefined }[] = [];

  const tokenUrl = () => `${google.url}/token`;
  const validator = () =>
    createProviderValidator({
      endpoints: { gcpToken: tokenUrl(), gcpResourceManager: google.url },
      timeoutMs: 2_000,
      logger,
    });
  const keyFile = (overrides: Record<string, unknown> = {}) => ({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: 'fakekeyid0001',
    private_key: privateKeyPem,
    client_email: CLIENT_EMAIL,
    // A hostile key file: its token_uri points elsewhere. It must never be called.
    token_uri: `${attacker.url}/token`,
    ...overrides,
  });
  const context = { accountId: 'acc-fake-gcp' };

  /** A fake Google: verifies the JWT assertion with the service account's public key, then the bearer. */
  const fakeGoogle = async (request: ReceivedRequest): Promise<FakeAnswer> => {
    if (request.method === 'POST' && request.url === '/token') {
      const form = formOf(request);
      if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return { status: 400, body: { error: 'unsupported_grant_type' } };
      }
      try {
        const { payload, protectedHeader } = await jwtVerify(form.assertion ?? '', publicKey, {
          algorithms: ['RS256'],
          issuer: CLIENT_EMAIL,
          audience: tokenUrl(),
          maxTokenAge: '1h',
        });
        assertions.push({ payload, kid: protectedHeader.kid });
      } catch {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
      }
      return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
    }
    if (request.headers.authorization !== `Bearer ${accessToken}`) {
      return { status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED', message: 'bad token' } } };
    }
    if (request.url === `/v1/projects/${PROJECT}`) {
      return {
        status: 200,
        body: { projectId: PROJECT, projectNumber: '123456789012', lifecycleState: 'ACTIVE' },
      };
    }
    return {
      status: 403,
      body: {
        error: { code: 403, status: 'PERMISSION_DENIED', message: 'The caller does not have permission' },
      },
    };
  };

  beforeAll(async () => {
    // Generated in parallel off the main thread: RSA key generation is the slowest part of this file.
    const [pair, other] = await Promise.all([
      promisify(generateKeyPair)('rsa', { modulusLength: 2048 }),
      promisify(generateKeyPair)('rsa', { modulusLength: 2048 }),
    ]);
    publicKey = pair.publicKey;
    privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    otherPrivateKeyPem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    google = await startLoopbackServer(fakeGoogle);
    attacker = await startLoopbackServer(() => ({ status: 200, body: { access_token: 'fake-stolen' } }));
  });
  afterAll(async () => {
    await google.close();
    await attacker.close();
  });
  beforeEach(() => {
    accessToken = `fake-gcp-token-${randomBytes(16).toString('hex')}`;
    assertions.length = 0;
    google.requests.splice(0);
    google.handle = fakeGoogle;
    attacker.requests.splice(0);
    logger = capturingLogger();
  });

  it('exchanges a signed RS256 assertion at the configured token endpoint, then reads the project', async () => {
    // Act
    const result = await validator().validate(
      'gcp_service_account',
      { service_account_json: keyFile() },
      context,
    );

    // Assess
    expect(result).toEqual({ accountNumber: PROJECT, validatedOffline: false });
    expect(google.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /token',
      `GET /v1/projects/${PROJECT}`,
    ]);
    expect(assertions).toHaveLength(1);
    expect(assertions[0]?.kid).toBe('fakekeyid0001');
    expect(assertions[0]?.payload).toMatchObject({
      iss: CLIENT_EMAIL,
      aud: tokenUrl(),
      scope: 'https://www.googleapis.com/auth/cloud-platform.read-only',
    });
    const { iat, exp } = (assertions[0]?.payload ?? {}) as { iat?: number; exp?: number };
    expect(typeof iat).toBe('number');
    expect((exp ?? 0) - (iat ?? 0)).toBe(3600);
  });

  it("never calls the key file's own token_uri (no SSRF, no assertion sent elsewhere)", async () => {
    // Act
    await validator().validate(
      'gcp_service_account',
      { service_account_json: JSON.stringify(keyFile()) },
      context,
    );

    // Assess
    expect(attacker.requests).toHaveLength(0);
    expect(google.requests[0]?.url).toBe('/token');
  });

  it('maps invalid_grant (a key Google does not know) to invalid_credentials', async () => {
    // Act
    const error = await rejection(() =>
      validator().validate(
        'gcp_service_account',
        { service_account_json: keyFile({ private_key: otherPrivateKeyPem }) },
        context,
      ),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('invalid_grant');
    expect(error.message).toContain('Invalid JWT Signature.');
    expectNoSecret(exposedText(error, logger.lines), [otherPrivateKeyPem, privateKeyPem]);
  });

  it('maps 403 on the project to access_denied', async () => {
    // Act
    const error = await rejection(() =>
      validator().validate(
        'gcp_service_account',
        { service_account_json: keyFile({ project_id: 'fake-other-project' }) },
        context,
      ),
    );

    // Assess
    expect(error.reason).toBe('access_denied');
    expect(error.message).toContain('PERMISSION_DENIED');
    expect(error.message).toContain('fake-other-project');
  });

  it('maps 404 on the project to account_mismatch', async () => {
    // Prepare
    google.handle = async (request) =>
      request.method === 'GET'
        ? { status: 404, body: { error: { code: 404, status: 'NOT_FOUND', message: 'no such project' } } }
        : fakeGoogle(request);

    // Act
    const error = await rejection(() =>
      validator().validate('gcp_service_account', { service_account_json: keyFile() }, context),
    );

    // Assess
    expect(error.reason).toBe('account_mismatch');
  });

  it('maps an unreadable private key to malformed without any call', async () => {
    // Act
    const error = await rejection(() =>
      validator().validate(
        'gcp_service_account',
        {
          service_account_json: keyFile({
            private_key: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----',
          }),
        },
        context,
      ),
    );

    // Assess
    expect(error.reason).toBe('malformed');
    expect(error.message).toContain('service_account_json.private_key');
    expect(google.requests).toHaveLength(0);
  });

  it('maps a key file without project_id and a non-JSON key file to malformed', async () => {
    // Act
    const missing = await rejection(() =>
      validator().validate(
        'gcp_service_account',
        { service_account_json: keyFile({ project_id: undefined }) },
        context,
      ),
    );
    const notJson = await rejection(() =>
      validator().validate('gcp_service_account', { service_account_json: '{not json' }, context),
    );

    // Assess
    expect(missing.reason).toBe('malformed');
    expect(missing.message).toContain('service_account_json.project_id');
    expect(notJson.reason).toBe('malformed');
    expect(notJson.message).toContain('not valid JSON');
  });

  it('maps a Google outage (HTTP 500) to provider_unreachable', async () => {
    // Prepare
    google.handle = () => ({ status: 500, body: { error: 'internal' } });

    // Act
    const error = await rejection(() =>
      validator().validate('gcp_service_account', { service_account_json: keyFile() }, context),
    );

    // Assess
    expect(error.reason).toBe('provider_unreachable');
    expect(error.message).toContain('Google OAuth');
  });

  it('never exposes the private key or the token in errors or logs (canary)', async () => {
    // Prepare: the fake echoes the whole assertion and token back in its error text.
    google.handle = async (request) =>
      request.method === 'POST'
        ? {
            status: 400,
            body: { error: 'invalid_grant', error_description: `bad assertion ${formOf(request).assertion}` },
          }
        : { status: 500 };

    // Act
    const error = await rejection(() =>
      validator().validate(
        'gcp_service_account',
        { service_account_json: JSON.stringify(keyFile()) },
        context,
      ),
    );

    // Assess
    const sent = formOf(google.requests[0] as ReceivedRequest).assertion ?? 'missing';
    expect(error.reason).toBe('invalid_credentials');
    expectNoSecret(exposedText(error, logger.lines), [
      privateKeyPem,
      ...privateKeyPem.split('\n').filter((line) => line.length > 40),
      sent,
      sent.split('.')[2] ?? 'missing',
    ]);
  });
});
