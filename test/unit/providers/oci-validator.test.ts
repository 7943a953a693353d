import { createHash, createPublicKey, generateKeyPair, type KeyObject, verify } from 'node:crypto';
import { promisify } from 'node:util';
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

const TENANCY = 'ocid1.tenancy.oc1..aaaaaaaafaketenancy0001';
const OTHER_TENANCY = 'ocid1.tenancy.oc1..aaaaaaaafaketenancy0002';
const USER = 'ocid1.user.oc1..aaaaaaaafakeuser0001';
const REGION = 'us-ashburn-1';

/** OCI's fingerprint, computed independently: MD5 of the DER public key, colon-separated hex. */
function fingerprintOf(key: KeyObject): string {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hex = createHash('md5').update(der).digest('hex');
  return Array.from({ length: 16 }, (_, index) => hex.slice(index * 2, index * 2 + 2)).join(':');
}

function parseSignatureHeader(header: string): Record<string, string> {
  if (!header.startsWith('Signature ')) return {};
  return Object.fromEntries(
    [...header.slice('Signature '.length).matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
  );
}

describe('Class: OciValidator (through createProviderValidator)', () => {
  let server: LoopbackServer;
  let uploadedKey: KeyObject;
  let privatePem: string;
  let otherPrivatePem: string;
  let encryptedPem: string;
  let fingerprint: string;
  let userTenancy: string;
  let logger: ReturnType<typeof capturingLogger>;
  const passphrase = 'fake-passphrase-for-tests-only';
  const checked: { keyId: string; headers: string; target: string }[] = [];

  const validator = (identity = server.url) =>
    createProviderValidator({ endpoints: { ociIdentity: identity }, timeoutMs: 2_000, logger });
  const principal = (overrides: Record<string, unknown> = {}) => ({
    user_ocid: USER,
    tenancy_ocid: TENANCY,
    fingerprint,
    private_key: privatePem,
    region: REGION,
    ...overrides,
  });
  const context = { accountId: 'acc-fake-oci' };

  /** A fake OCI Identity: verifies the draft-cavage signature with the uploaded public key. */
  const fakeIdentity = (request: ReceivedRequest): FakeAnswer => {
    const signature = parseSignatureHeader(String(request.headers.authorization ?? ''));
    const notAuthenticated = {
      status: 401,
      body: {
        code: 'NotAuthenticated',
        message: 'The required information to complete authentication was not provided or was incorrect.',
      },
    };
    if (
      signature.version !== '1' ||
      signature.algorithm !== 'rsa-sha256' ||
      !signature.headers ||
      !signature.signature
    ) {
      return notAuthenticated;
    }
    const signed = signature.headers.split(' ');
    if (!['date', '(request-target)', 'host'].every((name) => signed.includes(name))) return notAuthenticated;
    const date = Date.parse(String(request.headers.date ?? ''));
    if (!Number.isFinite(date) || Math.abs(Date.now() - date) > 300_000) return notAuthenticated;
    if (signature.keyId !== `${TENANCY}/${USER}/${fingerprintOf(uploadedKey)}`) return notAuthenticated;
    const signingString = signed
      .map((name) =>
        name === '(request-target)'
          ? `(request-target): ${request.method.toLowerCase()} ${request.url}`
          : `${name}: ${String(request.headers[name] ?? '')}`,
      )
      .join('\n');
    const valid = verify(
      'sha256',
      Buffer.from(signingString),
      uploadedKey,
      Buffer.from(signature.signature, 'base64'),
    );
    if (!valid) return notAuthenticated;
    checked.push({ keyId: signature.keyId, headers: signature.headers, target: request.url });
    if (!request.url.endsWith(`/20160918/users/${USER}`))
      return { status: 404, body: { code: 'NotAuthorizedOrNotFound' } };
    return {
      status: 200,
      body: { id: USER, compartmentId: userTenancy, name: 'fake-auditor', lifecycleState: 'ACTIVE' },
    };
  };

  beforeAll(async () => {
    // Generated in parallel off the main thread: RSA key generation is the slowest part of this file.
    const [pair, other] = await Promise.all([
      promisify(generateKeyPair)('rsa', { modulusLength: 2048 }),
      promisify(generateKeyPair)('rsa', { modulusLength: 2048 }),
    ]);
    uploadedKey = pair.publicKey;
    privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    encryptedPem = pair.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
      .toString();
    fingerprint = fingerprintOf(pair.publicKey);
    otherPrivatePem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    server = await startLoopbackServer(fakeIdentity);
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.requests.splice(0);
    server.handle = fakeIdentity;
    checked.length = 0;
    userTenancy = TENANCY;
    logger = capturingLogger();
  });

  it('signs GetUser with rsa-sha256 over date, (request-target) and host, and returns the tenancy OCID', async () => {
    // Act
    const result = await validator().validate('oci_user_principal', principal(), context);

    // Assess
    expect(result).toEqual({ accountNumber: TENANCY, validatedOffline: false });
    expect(checked).toEqual([
      {
        keyId: `${TENANCY}/${USER}/${fingerprint}`,
        headers: 'date (request-target) host',
        target: `/20160918/users/${USER}`,
      },
    ]);
    expect(server.requests[0]?.method).toBe('GET');
  });

  it('replaces {region} in the identity endpoint with the credentials region', async () => {
    // Act
    await validator(`${server.url}/{region}`).validate('oci_user_principal', principal(), context);

    // Assess
    expect(server.requests[0]?.url).toBe(`/${REGION}/20160918/users/${USER}`);
    expect(checked).toHaveLength(1);
  });

  it('decrypts an encrypted private key with the passphrase', async () => {
    // Act
    const result = await validator().validate(
      'oci_user_principal',
      principal({ private_key: encryptedPem, passphrase }),
      context,
    );

    // Assess
    expect(result.accountNumber).toBe(TENANCY);
  });

  it('maps 401 NotAuthenticated (a key OCI does not know) to invalid_credentials', async () => {
    // Prepare: the other key, declared with its own (correct) fingerprint, was never uploaded.
    const otherFingerprint = fingerprintOf(createPublicKey(otherPrivatePem));

    // Act
    const error = await rejection(() =>
      validator().validate(
        'oci_user_principal',
        principal({ private_key: otherPrivatePem, fingerprint: otherFingerprint }),
        context,
      ),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('NotAuthenticated');
    expect(server.requests).toHaveLength(1);
    expectNoSecret(exposedText(error, logger.lines), [otherPrivatePem, privatePem]);
  });

  it('maps a user in another tenancy to account_mismatch', async () => {
    // Prepare
    userTenancy = OTHER_TENANCY;

    // Act
    const error = await rejection(() => validator().validate('oci_user_principal', principal(), context));

    // Assess
    expect(error.reason).toBe('account_mismatch');
    expect(error.message).toContain(OTHER_TENANCY);
  });

  it('maps 404 NotAuthorizedOrNotFound to access_denied', async () => {
    // Prepare
    server.handle = () => ({
      status: 404,
      body: {
        code: 'NotAuthorizedOrNotFound',
        message: 'Authorization failed or requested resource not found.',
      },
    });

    // Act
    const error = await rejection(() => validator().validate('oci_user_principal', principal(), context));

    // Assess
    expect(error.reason).toBe('access_denied');
    expect(error.message).toContain('NotAuthorizedOrNotFound');
  });

  it('refuses a fingerprint that does not match the private key without any call', async () => {
    // Act
    const error = await rejection(() =>
      validator().validate('oci_user_principal', principal({ private_key: otherPrivatePem }), context),
    );

    // Assess
    expect(error.reason).toBe('invalid_credentials');
    expect(error.message).toContain('credentials.fingerprint');
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a region that could change the host, and a wrong passphrase, as malformed', async () => {
    // Act
    const region = await rejection(() =>
      validator().validate('oci_user_principal', principal({ region: 'evil.example#' }), context),
    );
    const wrongPassphrase = await rejection(() =>
      validator().validate(
        'oci_user_principal',
        principal({ private_key: encryptedPem, passphrase: 'fake-wrong-passphrase' }),
        context,
      ),
    );

    // Assess
    expect(region.reason).toBe('malformed');
    expect(region.message).toContain('credentials.region');
    expect(wrongPassphrase.reason).toBe('malformed');
    expect(wrongPassphrase.message).toContain('credentials.passphrase');
    expect(server.requests).toHaveLength(0);
    expectNoSecret(exposedText(wrongPassphrase), ['fake-wrong-passphrase', encryptedPem]);
  });

  it('maps an outage (HTTP 502) to provider_unreachable', async () => {
    // Prepare
    server.handle = () => ({ status: 502, body: 'bad gateway' });

    // Act
    const error = await rejection(() => validator().validate('oci_user_principal', principal(), context));

    // Assess
    expect(error.reason).toBe('provider_unreachable');
    expect(error.message).toContain('OCI Identity');
  });
});
