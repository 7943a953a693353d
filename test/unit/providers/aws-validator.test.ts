import { randomBytes } from 'node:crypto';
import { STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderValidationContext } from '../../../functions/core/ports/provider-validator';
import {
  createProviderValidator,
  type ProviderValidatorOptions,
} from '../../../functions/providers/provider-validator-registry';
import { FakeSts, stsError } from './fakes/fake-sts';
import { capturingLogger, expectNoSecret, exposedText, refusedUrl, rejection } from './fakes/loopback-server';

const PLATFORM_KEY_ID = 'FAKEPLATFORMKEY01';
const CUSTOMER_KEY_ID = 'FAKECUSTOMERKEY01';
const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ThreatEngineAudit`;
const EXTERNAL_ID = 'threat-engine-0123456789abcdef';

describe('Class: AwsValidator (through createProviderValidator)', () => {
  const sts = new FakeSts();
  let platformSecret: string;
  let customerSecret: string;
  let logger: ReturnType<typeof capturingLogger>;

  const validator = (overrides: ProviderValidatorOptions = {}) =>
    createProviderValidator({
      endpoints: { awsSts: sts.url },
      platformCredentials: { accessKeyId: PLATFORM_KEY_ID, secretAccessKey: platformSecret },
      timeoutMs: 2_000,
      logger,
      ...overrides,
    });
  const roleContext = (overrides: Partial<ProviderValidationContext> = {}): ProviderValidationContext => ({
    accountId: 'acc-fake-1',
    externalId: EXTERNAL_ID,
    ...overrides,
  });
  const role = (overrides: Record<string, unknown> = {}) => ({
    role_arn: ROLE_ARN,
    external_id: EXTERNAL_ID,
    account_number: ACCOUNT,
    ...overrides,
  });
  const accessKey = (overrides: Record<string, unknown> = {}) => ({
    access_key_id: CUSTOMER_KEY_ID,
    secret_access_key: customerSecret,
    ...overrides,
  });

  beforeAll(async () => {
    await sts.start();
  });
  afterAll(async () => {
    await sts.close();
  });
  beforeEach(() => {
    sts.reset();
    logger = capturingLogger();
    platformSecret = `fake-platform-secret-${randomBytes(16).toString('hex')}`;
    customerSecret = `fake-customer-secret-${randomBytes(16).toString('hex')}`;
    sts.keys.set(PLATFORM_KEY_ID, {
      secret: platformSecret,
      account: '999999999999',
      arn: 'arn:aws:iam::999999999999:role/fake-platform',
    });
    sts.keys.set(CUSTOMER_KEY_ID, {
      secret: customerSecret,
      account: ACCOUNT,
      arn: `arn:aws:iam::${ACCOUNT}:user/fake-auditor`,
    });
    sts.roles.set(ROLE_ARN, { trustedKeyId: PLATFORM_KEY_ID, externalId: EXTERNAL_ID, account: ACCOUNT });
  });

  describe('Method: validate (aws_access_key)', () => {
    it('returns the account GetCallerIdentity reports, over a SigV4-signed Query call with the key', async () => {
      // Act
      const result = await validator().validate('aws_access_key', accessKey(), { accountId: 'acc-fake-1' });

      // Assess
      expect(result).toEqual({ accountNumber: ACCOUNT, validatedOffline: false });
      expect(sts.calls).toHaveLength(1);
      expect(sts.calls[0]).toMatchObject({
        action: 'GetCallerIdentity',
        params: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        accessKeyId: CUSTOMER_KEY_ID,
        scope: { region: 'us-east-1', service: 'sts' },
        sessionToken: undefined,
      });
      expect(sts.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    it('checks a declared account_number against the account GetCallerIdentity reports', async () => {
      // Act
      const matching = await validator().validate('aws_access_key', accessKey({ account_number: ACCOUNT }), {
        accountId: 'acc-fake-1',
      });
      const other = validator().validate('aws_access_key', accessKey({ account_number: '000011112222' }), {
        accountId: 'acc-fake-1',
      });

      // Assess
      expect(matching).toEqual({ accountNumber: ACCOUNT, validatedOffline: false });
      await expect(other).rejects.toMatchObject({
        reason: 'account_mismatch',
        message: expect.stringContaining('not the declared account_number 000011112222'),
      });
    });

    it('signs with the session token when one is given', async () => {
      // Prepare
      const sessionToken = `fake-session-${randomBytes(20).toString('hex')}`;
      sts.keys.set(CUSTOMER_KEY_ID, {
        secret: customerSecret,
        sessionToken,
        account: ACCOUNT,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/fake/session`,
      });

      // Act
      const result = await validator().validate(
        'aws_access_key',
        accessKey({ session_token: sessionToken }),
        {
          accountId: 'acc-fake-1',
        },
      );

      // Assess
      expect(result.accountNumber).toBe(ACCOUNT);
      expect(sts.calls[0]?.sessionToken).toBe(sessionToken);
      expect(sts.calls[0]?.signedHeaders).toContain('x-amz-security-token');
    });

    it('maps InvalidClientTokenId (unknown key) to invalid_credentials', async () => {
      // Act
      const error = await rejection(() =>
        validator().validate('aws_access_key', accessKey({ access_key_id: 'FAKEUNKNOWNKEY01' }), {
          accountId: 'acc-fake-1',
        }),
      );

      // Assess
      expect(error.reason).toBe('invalid_credentials');
      expect(error.message).toContain('InvalidClientTokenId');
      expect(error.permanent).toBe(true);
    });

    it('maps SignatureDoesNotMatch (wrong secret) to invalid_credentials', async () => {
      // Act
      const wrongSecret = `fake-wrong-secret-${randomBytes(16).toString('hex')}`;
      const error = await rejection(() =>
        validator().validate('aws_access_key', accessKey({ secret_access_key: wrongSecret }), {
          accountId: 'acc-fake-1',
        }),
      );

      // Assess
      expect(error.reason).toBe('invalid_credentials');
      expect(error.message).toContain('SignatureDoesNotMatch');
      expectNoSecret(exposedText(error, logger.lines), [wrongSecret, customerSecret]);
    });

    it('maps ExpiredToken to expired', async () => {
      // Prepare
      const sessionToken = `fake-session-${randomBytes(20).toString('hex')}`;
      sts.keys.set(CUSTOMER_KEY_ID, {
        secret: customerSecret,
        sessionToken,
        account: ACCOUNT,
        arn: 'arn:aws:sts::111122223333:assumed-role/fake/s',
        expired: true,
      });

      // Act
      const error = await rejection(() =>
        validator().validate('aws_access_key', accessKey({ session_token: sessionToken }), {
          accountId: 'acc-fake-1',
        }),
      );

      // Assess
      expect(error.reason).toBe('expired');
      expect(error.message).toContain('ExpiredToken');
      expectNoSecret(exposedText(error, logger.lines), [sessionToken, customerSecret]);
    });

    it('refuses keys of another account than the one already recorded (account_mismatch)', async () => {
      // Act
      const error = await rejection(() =>
        validator().validate('aws_access_key', accessKey(), {
          accountId: 'acc-fake-1',
          declaredAccountNumber: OTHER_ACCOUNT,
        }),
      );

      // Assess
      expect(error.reason).toBe('account_mismatch');
      expect(error.message).toContain(OTHER_ACCOUNT);
    });

    it('maps a refused connection to provider_unreachable naming the host and the code', async () => {
      // Prepare
      const url = await refusedUrl();

      // Act
      const error = await rejection(() =>
        validator({ endpoints: { awsSts: url } }).validate('aws_access_key', accessKey(), {
          accountId: 'acc-fake-1',
        }),
      );

      // Assess
      expect(error.reason).toBe('provider_unreachable');
      expect(error.message).toBe(
        `[provider_unreachable] could not reach AWS STS at ${new URL(url).host}: ECONNREFUSED`,
      );
      expect(error.permanent).toBe(false);
    });

    it('maps an STS outage (HTTP 503) to provider_unreachable', async () => {
      // Prepare
      sts.override = stsError(503, 'ServiceUnavailable', 'try later');

      // Act
      const error = await rejection(() =>
        validator().validate('aws_access_key', accessKey(), { accountId: 'acc-fake-1' }),
      );

      // Assess
      expect(error.reason).toBe('provider_unreachable');
      expect(error.message).toContain('HTTP 503');
    });

    it('gives up after the timeout with provider_unreachable', async () => {
      // Prepare
      sts.override = { status: 200, hang: true };

      // Act
      const started = Date.now();
      const error = await rejection(() =>
        validator({ timeoutMs: 200 }).validate('aws_access_key', accessKey(), { accountId: 'acc-fake-1' }),
      );

      // Assess
      expect(error.reason).toBe('provider_unreachable');
      expect(error.message).toMatch(/could not reach AWS STS at 127\.0\.0\.1:\d+: timed out/);
      expect(Date.now() - started).toBeLessThan(1_500);
    });
  });

  describe('Method: validate (aws_iam_role)', () => {
    it('assumes the role from the platform credentials with the issued external id, then checks the account', async () => {
      // Act
      const result = await validator().validate('aws_iam_role', role(), roleContext());

      // Assess
      expect(result).toEqual({ accountNumber: ACCOUNT, validatedOffline: false });
      expect(sts.calls.map((call) => call.action)).toEqual(['AssumeRole', 'GetCallerIdentity']);
      expect(sts.calls[0]).toMatchObject({
        accessKeyId: PLATFORM_KEY_ID,
        scope: { region: 'us-east-1', service: 'sts' },
        params: {
          RoleArn: ROLE_ARN,
          ExternalId: EXTERNAL_ID,
          RoleSessionName: 'threat-engine-validation',
          DurationSeconds: '900',
        },
      });
      expect(sts.calls[1]?.accessKeyId).toMatch(/^FAKETEMPKEY/);
      expect(sts.calls[1]?.sessionToken).toMatch(/^fake-temp-token-/);
    });

    it('builds its STS clients through the injected factory', async () => {
      // Prepare
      const configs: STSClientConfig[] = [];
      const factory = (config: STSClientConfig) => {
        configs.push(config);
        return new STSClient(config);
      };

      // Act
      await validator({ stsClientFactory: factory }).validate('aws_iam_role', role(), roleContext());

      // Assess
      expect(configs).toHaveLength(2);
      expect(configs.every((config) => config.endpoint === sts.url && config.maxAttempts === 1)).toBe(true);
    });

    it('refuses a submitted external id that differs from the issued one without calling AWS', async () => {
      // Act
      const error = await rejection(() =>
        validator().validate(
          'aws_iam_role',
          role({ external_id: 'threat-engine-ffffffffffffffff' }),
          roleContext(),
        ),
      );

      // Assess
      expect(error.reason).toBe('external_id_mismatch');
      expect(sts.requests).toHaveLength(0);
    });

    it('refuses role onboarding when no external id was issued, without calling AWS', async () => {
      // Act
      const error = await rejection(() =>
        validator().validate('aws_iam_role', role(), roleContext({ externalId: null })),
      );

      // Assess
      expect(error.reason).toBe('external_id_mismatch');
      expect(error.message).toContain('init');
      expect(sts.requests).toHaveLength(0);
    });

    it('maps AccessDenied on AssumeRole to access_denied with a trust-policy hint', async () => {
      // Prepare: the role trusts another external id than the one we issued.
      sts.roles.set(ROLE_ARN, {
        trustedKeyId: PLATFORM_KEY_ID,
        externalId: 'threat-engine-aaaaaaaaaaaaaaaa',
        account: ACCOUNT,
      });

      // Act
      const error = await rejection(() => validator().validate('aws_iam_role', role(), roleContext()));

      // Assess
      expect(error.reason).toBe('access_denied');
      expect(error.message).toContain(ROLE_ARN);
      expect(error.message).toMatch(/trust policy/);
      expect(error.message).toMatch(/external id/);
    });

    it('maps an assumed identity in another account to account_mismatch', async () => {
      // Prepare
      sts.roles.set(ROLE_ARN, {
        trustedKeyId: PLATFORM_KEY_ID,
        externalId: EXTERNAL_ID,
        account: OTHER_ACCOUNT,
      });

      // Act
      const error = await rejection(() => validator().validate('aws_iam_role', role(), roleContext()));

      // Assess
      expect(error.reason).toBe('account_mismatch');
      expect(error.message).toContain(OTHER_ACCOUNT);
      expect(error.message).toContain(ACCOUNT);
    });

    it('refuses a role ARN in another account than account_number without calling AWS', async () => {
      // Act
      const error = await rejection(() =>
        validator().validate('aws_iam_role', role({ account_number: OTHER_ACCOUNT }), roleContext()),
      );

      // Assess
      expect(error.reason).toBe('account_mismatch');
      expect(sts.requests).toHaveLength(0);
    });

    it('refuses a malformed role ARN as malformed', async () => {
      // Act
      const error = await rejection(() =>
        validator().validate(
          'aws_iam_role',
          role({ role_arn: 'arn:aws:iam::111122223333:user/not-a-role' }),
          roleContext(),
        ),
      );

      // Assess
      expect(error.reason).toBe('malformed');
      expect(error.message).toContain('credentials.role_arn');
    });

    it("reports refused platform credentials as provider_unreachable (the platform's fault, retryable)", async () => {
      // Act
      const error = await rejection(() =>
        validator({
          platformCredentials: {
            accessKeyId: PLATFORM_KEY_ID,
            secretAccessKey: 'fake-not-the-platform-secret',
          },
        }).validate('aws_iam_role', role(), roleContext()),
      );

      // Assess
      expect(error.reason).toBe('provider_unreachable');
      expect(error.message).toContain("platform's own credentials");
      expect(error.message).not.toContain('fake-not-the-platform-secret');
    });

    it('never exposes a secret in errors or logs (canary)', async () => {
      // Prepare
      const secrets = [platformSecret, customerSecret];
      sts.roles.set(ROLE_ARN, {
        trustedKeyId: PLATFORM_KEY_ID,
        externalId: EXTERNAL_ID,
        account: OTHER_ACCOUNT,
      });
      const attempts = [
        () => validator().validate('aws_iam_role', role(), roleContext()),
        () =>
          validator().validate('aws_access_key', accessKey({ secret_access_key: `${customerSecret}x` }), {
            accountId: 'acc-fake-1',
          }),
      ];

      // Act
      const texts: string[] = [];
      for (const attempt of attempts) texts.push(exposedText(await rejection(attempt)));

      // Assess
      const issuedSecrets = [...sts.keys.values()].flatMap((key) => [
        key.secret,
        key.sessionToken ?? 'x'.repeat(40),
      ]);
      expectNoSecret([...texts, ...logger.lines].join('\n'), [
        ...secrets,
        `${customerSecret}x`,
        ...issuedSecrets,
      ]);
    });
  });
});
