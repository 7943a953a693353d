import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProviderValidator } from '../../../functions/providers/provider-validator-registry';
import {
  capturingLogger,
  expectNoSecret,
  exposedText,
  type FakeAnswer,
  type LoopbackServer,
  type ReceivedRequest,
  rejection,
  startLoopbackServer,
} from './fakes/loopback-server';

const KEY_ID = 'FAKEALIKEYID0001';
const ACCOUNT = '1234567890123456';

/** The documented RPC percent-encoding, written independently of the validator's. */
function rfc3986(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function expectedSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.entries(params)
    .filter(([name]) => name !== 'Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`)
    .join('&');
  const stringToSign = `${method}&${rfc3986('/')}&${rfc3986(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

describe('Class: AlicloudValidator (through createProviderValidator)', () => {
  let server: LoopbackServer;
  let secret: string;
  let logger: ReturnType<typeof capturingLogger>;
  const seen: Record<string, string>[] = [];
  const validator = () =>
    createProviderValidator({ endpoints: { alicloudSts: server.url }, timeoutMs: 2_000, logger });
  const key = (overrides: Record<string, unknown> = {}) => ({
    access_key_id: KEY_ID,
    access_key_secret: secret,
    ...overrides,
  });
  const context = { accountId: 'acc-fake-ali' };

  /** A fake Alibaba Cloud STS: recomputes the HMAC-SHA1 signature from the parameters it received. */
  const fakeSts = (request: ReceivedRequest): FakeAnswer => {
    const params = Object.fromEntries(new URLSearchParams(request.body));
    seen.push(params);
    if (params.AccessKeyId !== KEY_ID) {
      return {
        status: 404,
        body: { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' },
      };
    }
    if (params.Signature !== expectedSignature(request.method, params, secret)) {
      return {
        status: 400,
        body: {
          Code: 'SignatureDoesNotMatch',
          Message: `Specified signature is not matched with our calculation.`,
        },
      };
    }
    if (params.Action !== 'GetCallerIdentity' || params.Version !== '2015-04-01') {
      return { status: 400, body: { Code: 'InvalidAction.NotFound' } };
    }
    return {
      status: 200,
      body: {
        AccountId: ACCOUNT,
        Arn: `acs:ram::${ACCOUNT}:user/fake-auditor`,
        UserId: '200000000000000001',
      },
    };
  };

  beforeAll(async () => {
    server = await startLoopbackServer(fakeSts);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    secret = `fake-ali-secret-${randomBytes(12).toString('base64')}`;
    server.requests.splice(0);
    server.handle = fakeSts;
    seen.length = 0;
    logger = capturingLogger();
  });

  it('signs GetCallerIdentity (HMAC-SHA1, version 1.0) and returns the AccountId', async () => {
    // Act
    const result = await validator().validate('alicloud_access_key', key(), context);

    // Assess
    expect(result).toEqual({ accountNumber: ACCOUNT, validatedOffline: false });
    expect(server.requests[0]?.method).toBe('POST');
    expect(server.requests[0]?.url).toBe('/');
    expect(seen[0]).toMatchObject({
      Action: 'GetCallerIdentity',
      Format: 'JSON',
      Version: '2015-04-01',
      AccessKeyId: KEY_ID,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
    });
    expect(seen[0]?.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(seen[0]?.SignatureNonce).toMatch(/^[0-9a-f-]{36}$/);
    // The key id travels in the body, never in the URL.
    expect(server.requests[0]?.url).not.toContain(KEY_ID);
  });

  it('maps SignatureDoesNotMatch (wrong secret) to invalid_credentials', async () => {
    // Act
    const wrong = `fake-wrong-${randomBytes(12).toString('hex')}`;
    const error = await rejection(() =>
      validator().validate('alicloud_access_key', key({ access_key_secret: wrong }), context),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('SignatureDoesNotMatch');
    expectNoSecret(exposedText(error, logger.lines), [wrong, secret]);
  });

  it('maps InvalidAccessKeyId.NotFound to invalid_credentials', async () => {
    // Act
    const error = await rejection(() =>
      validator().validate('alicloud_access_key', key({ access_key_id: 'FAKEALIUNKNOWN01' }), context),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('InvalidAccessKeyId.NotFound');
  });

  it('maps a Forbidden code to access_denied and an expired token code to expired', async () => {
    // Prepare
    const answers: FakeAnswer[] = [
      {
        status: 403,
        body: { Code: 'Forbidden.RAM', Message: 'User not authorized to operate on the specified resource.' },
      },
      {
        status: 400,
        body: { Code: 'InvalidSecurityToken.Expired', Message: 'Specified SecurityToken is expired.' },
      },
    ];
    server.handle = () => answers.shift() ?? { status: 500 };

    // Act
    const denied = await rejection(() => validator().validate('alicloud_access_key', key(), context));
    const expired = await rejection(() => validator().validate('alicloud_access_key', key(), context));

    // Assess
    expect(denied.reason).toBe('access_denied');
    expect(denied.message).toContain('Forbidden.RAM');
    expect(expired.reason).toBe('expired');
  });

  it('maps an outage (HTTP 503) to provider_unreachable', async () => {
    // Prepare
    server.handle = () => ({ status: 503, body: { Code: 'ServiceUnavailable' } });

    // Act
    const error = await rejection(() => validator().validate('alicloud_access_key', key(), context));

    // Assess
    expect(error.reason).toBe('provider_unreachable');
    expect(error.message).toContain('Alibaba Cloud STS');
  });

  it('never exposes the secret even when the provider echoes it (canary)', async () => {
    // Prepare
    server.handle = () => ({
      status: 400,
      body: { Code: 'Odd.Error', Message: `your secret was ${secret}` },
    });

    // Act
    const error = await rejection(() => validator().validate('alicloud_access_key', key(), context));

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('[redacted]');
    expectNoSecret(exposedText(error, logger.lines), [secret]);
  });
});
