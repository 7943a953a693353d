import { createHash, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../functions/core/errors';
import {
  createProviderValidator,
  DEFAULT_PROVIDER_ENDPOINTS,
  LIVE_VALIDATED_CREDENTIAL_TYPES,
} from '../../../functions/providers/provider-validator-registry';
import {
  capturingLogger,
  expectNoSecret,
  exposedText,
  type LoopbackServer,
  rejection,
  startLoopbackServer,
} from './fakes/loopback-server';

const EXTERNAL_ID = 'threat-engine-0123456789abcdef';
const SUBSCRIPTION = '00000000-0000-4000-8000-00000000cccc';
const TENANCY = 'ocid1.tenancy.oc1..aaaaaaaafaketenancy0001';

/** A fetch and an STS factory that fail the test if anything tries the network. */
function noNetwork() {
  const attempts: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    attempts.push(String(input));
    throw new Error('offline mode must not call fetch');
  }) as typeof globalThis.fetch;
  const stsClientFactory = () => {
    attempts.push('sts');
    throw new Error('offline mode must not build an STS client');
  };
  return { attempts, fetch, stsClientFactory };
}

describe('Function: createProviderValidator', () => {
  let privatePem: string;
  let fingerprint: string;
  let secrets: Record<string, Record<string, unknown>>;

  beforeAll(async () => {
    const pair = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const der = pair.publicKey.export({ type: 'spki', format: 'der' });
    fingerprint = (createHash('md5').update(der).digest('hex').match(/../g) ?? []).join(':');
  });
  beforeEach(() => {
    const canary = () => `fake-canary-${randomBytes(12).toString('hex')}`;
    secrets = {
      aws_iam_role: {
        role_arn: 'arn:aws:iam::111122223333:role/ThreatEngineAudit',
        external_id: EXTERNAL_ID,
        account_number: '111122223333',
      },
      aws_access_key: { access_key_id: 'FAKEACCESSKEY001', secret_access_key: canary() },
      azure_service_principal: {
        client_id: '00000000-0000-4000-8000-00000000bbbb',
        client_secret: canary(),
        tenant_id: '00000000-0000-4000-8000-00000000aaaa',
        subscription_id: SUBSCRIPTION,
      },
      gcp_service_account: {
        service_account_json: JSON.stringify({
          type: 'service_account',
          project_id: 'fake-project-1234',
          client_email: 'scanner@fake-project-1234.iam.gserviceaccount.com',
          private_key: privatePem,
        }),
      },
      alicloud_access_key: { access_key_id: 'FAKEALIKEYID0001', access_key_secret: canary() },
      oci_user_principal: {
        user_ocid: 'ocid1.user.oc1..aaaaaaaafakeuser0001',
        tenancy_ocid: TENANCY,
        fingerprint,
        private_key: privatePem,
        region: 'us-ashburn-1',
      },
      ibm_api_key: { api_key: canary(), account_id: '00000000000000000000000000000001' },
    };
  });

  describe('offline mode (the documented local setting)', () => {
    it.each([
      ['aws_iam_role', '111122223333'],
      ['azure_service_principal', SUBSCRIPTION],
      ['gcp_service_account', 'fake-project-1234'],
      ['oci_user_principal', TENANCY],
      ['ibm_api_key', '00000000000000000000000000000001'],
    ])('derives the account number of %s credentials without any network call', async (type, expected) => {
      // Prepare
      const network = noNetwork();
      const validator = createProviderValidator({ offline: true, ...network });

      // Act
      const result = await validator.validate(type, secrets[type] ?? {}, {
        accountId: 'acc-fake-1',
        externalId: EXTERNAL_ID,
      });

      // Assess
      expect(result).toEqual({ accountNumber: expected, validatedOffline: true });
      expect(network.attempts).toEqual([]);
    });

    it('derives a stable one-way stand-in for access keys, which do not name their account', async () => {
      // Prepare
      const network = noNetwork();
      const validator = createProviderValidator({ offline: true, ...network });
      const context = { accountId: 'acc-fake-1' };

      // Act
      const aws = await validator.validate('aws_access_key', secrets.aws_access_key ?? {}, context);
      const again = await validator.validate('aws_access_key', secrets.aws_access_key ?? {}, context);
      const ali = await validator.validate('alicloud_access_key', secrets.alicloud_access_key ?? {}, context);
      const declared = await validator.validate('alicloud_access_key', secrets.alicloud_access_key ?? {}, {
        ...context,
        declaredAccountNumber: '1234567890123456',
      });

      // Assess
      expect(aws.accountNumber).toMatch(/^aws-offline-[0-9a-f]{16}$/);
      expect(again.accountNumber).toBe(aws.accountNumber);
      expect(aws.accountNumber).not.toContain('FAKEACCESSKEY001');
      expect(ali.accountNumber).toMatch(/^alicloud-offline-[0-9a-f]{16}$/);
      expect(declared.accountNumber).toBe('1234567890123456');
      expect(network.attempts).toEqual([]);
    });

    it('still runs the local checks: a different external id is refused offline too', async () => {
      // Prepare
      const validator = createProviderValidator({ offline: true, ...noNetwork() });

      // Act
      const error = await rejection(() =>
        validator.validate('aws_iam_role', secrets.aws_iam_role ?? {}, {
          accountId: 'acc-fake-1',
          externalId: 'threat-engine-ffffffffffffffff',
        }),
      );

      // Assess
      expect(error.reason).toBe('external_id_mismatch');
    });

    it('still refuses structurally broken credentials offline (malformed)', async () => {
      // Prepare
      const validator = createProviderValidator({ offline: true, ...noNetwork() });

      // Act
      const error = await rejection(() =>
        validator.validate(
          'gcp_service_account',
          { service_account_json: '{"project_id":"fake-project-1234"}' },
          {
            accountId: 'acc-fake-1',
          },
        ),
      );

      // Assess
      expect(error.reason).toBe('malformed');
      expect(error.message).toContain('service_account_json.client_email');
    });

    it('refuses credentials of another account than the recorded one, ignoring case', async () => {
      // Prepare
      const validator = createProviderValidator({ offline: true, ...noNetwork() });

      // Act
      const same = await validator.validate(
        'azure_service_principal',
        secrets.azure_service_principal ?? {},
        {
          accountId: 'acc-fake-1',
          declaredAccountNumber: SUBSCRIPTION.toUpperCase(),
        },
      );
      const error = await rejection(() =>
        validator.validate('azure_service_principal', secrets.azure_service_principal ?? {}, {
          accountId: 'acc-fake-1',
          declaredAccountNumber: '00000000-0000-4000-8000-00000000dddd',
        }),
      );

      // Assess
      expect(same.accountNumber).toBe(SUBSCRIPTION);
      expect(error.reason).toBe('account_mismatch');
      expect(error.message).toContain('00000000-0000-4000-8000-00000000dddd');
    });
  });

  describe('dispatch', () => {
    it('lists every legacy credential type as live-validated', () => {
      // Assess
      expect([...LIVE_VALIDATED_CREDENTIAL_TYPES].sort()).toEqual(
        [
          'alicloud_access_key',
          'aws_access_key',
          'aws_iam_role',
          'azure_service_principal',
          'gcp_service_account',
          'ibm_api_key',
          'oci_user_principal',
        ].sort(),
      );
    });

    it.each([false, true])(
      'throws not_supported for an unknown credential type (offline: %s)',
      async (offline) => {
        // Prepare
        const validator = createProviderValidator({ offline, ...noNetwork() });

        // Act
        const error = await rejection(() =>
          validator.validate('digitalocean_token', { token: 'x' }, { accountId: 'a' }),
        );

        // Assess
        expect(error.reason).toBe('not_supported');
        expect(error.message).toBe(
          '[not_supported] live validation of "digitalocean_token" credentials is not supported yet',
        );
      },
    );

    it('reports a missing field by name, never its value', async () => {
      // Prepare
      const validator = createProviderValidator({ ...noNetwork() });

      // Act
      const error = await rejection(() =>
        validator.validate(
          'azure_service_principal',
          { ...secrets.azure_service_principal, client_id: '' },
          {
            accountId: 'a',
          },
        ),
      );

      // Assess
      expect(error.reason).toBe('malformed');
      expect(error.message).toContain('credentials.client_id is required');
      expectNoSecret(exposedText(error), [String(secrets.azure_service_principal?.client_secret)]);
    });
  });

  describe('transport failures', () => {
    let hanging: LoopbackServer;

    beforeAll(async () => {
      hanging = await startLoopbackServer(() => ({ status: 200, hang: true }));
    });
    afterAll(async () => {
      await hanging.close();
    });

    it('gives up after timeoutMs with provider_unreachable naming the host', async () => {
      // Prepare
      const validator = createProviderValidator({ endpoints: { ibmIam: hanging.url }, timeoutMs: 150 });

      // Act
      const started = Date.now();
      const error = await rejection(() =>
        validator.validate('ibm_api_key', secrets.ibm_api_key ?? {}, { accountId: 'a' }),
      );

      // Assess
      expect(error.reason).toBe('provider_unreachable');
      expect(error.message).toBe(
        `[provider_unreachable] could not reach IBM Cloud IAM at ${new URL(hanging.url).host}: timed out after 150 ms`,
      );
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('reports a DNS failure with its code', async () => {
      // Prepare: the failure fetch reports for an unknown host (no real DNS query in tests).
      const fetch = (async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }),
        });
      }) as typeof globalThis.fetch;
      const validator = createProviderValidator({ fetch });

      // Act
      const error = await rejection(() =>
        validator.validate('azure_service_principal', secrets.azure_service_principal ?? {}, {
          accountId: 'a',
        }),
      );

      // Assess
      expect(error.message).toBe(
        '[provider_unreachable] could not reach Azure AD at login.microsoftonline.com: ENOTFOUND',
      );
      expect(error.permanent).toBe(false);
    });
  });

  describe('configuration', () => {
    it('uses the real public https endpoints by default', () => {
      // Assess
      for (const url of Object.values(DEFAULT_PROVIDER_ENDPOINTS)) expect(url).toMatch(/^https:\/\//);
    });

    it('refuses plain http to a non-loopback host and unparsable endpoints, naming them', () => {
      // Act
      const act = () =>
        createProviderValidator({
          endpoints: { azureLogin: 'http://login.example.test', gcpToken: 'not a url' },
        });

      // Assess
      expect(act).toThrow(ConfigurationError);
      expect(act).toThrow(/endpoints\.azureLogin, endpoints\.gcpToken/);
    });

    it('passes the STS endpoint and region to the injected client factory', async () => {
      // Prepare
      const configs: { endpoint?: unknown; region?: unknown }[] = [];
      const logger = capturingLogger();
      const validator = createProviderValidator({
        awsRegion: 'ap-south-1',
        logger,
        stsClientFactory: (config) => {
          configs.push(config);
          return new STSClient({ ...config, endpoint: 'http://127.0.0.1:9' });
        },
      });

      // Act
      await rejection(() =>
        validator.validate('aws_access_key', secrets.aws_access_key ?? {}, { accountId: 'acc-fake-1' }),
      );

      // Assess
      expect(configs[0]).toMatchObject({
        endpoint: 'https://sts.ap-south-1.amazonaws.com',
        region: 'ap-south-1',
      });
      expect(logger.lines.some((line) => line.includes('provider refused credentials'))).toBe(true);
      expectNoSecret(logger.lines.join('\n'), [String(secrets.aws_access_key?.secret_access_key)]);
    });
  });
});
