import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  NO_CREDENTIALS_LABEL,
  SecretsManagerSecretStore,
} from '../../../functions/adapters/aws/secrets-manager-secret-store';
import {
  ConfigurationError,
  DependencyUnavailableError,
  SecretNotFoundError,
  ValidationError,
} from '../../../functions/core/errors';
import { FakeSecretsManager } from '../../support/fake-secrets-manager';
import {
  CONTRACT_CACHE_TTL_MS,
  CONTRACT_PREFIX,
  describeSecretStoreContract,
  fakePayload,
  manualClock,
} from '../../support/secret-store-contract';

describeSecretStoreContract('SecretsManagerSecretStore over a stateful fake', async (clock) => {
  const fake = new FakeSecretsManager(clock);
  return {
    newStore: () =>
      new SecretsManagerSecretStore({
        client: fake.client,
        prefix: CONTRACT_PREFIX,
        clock,
        cacheTtlMs: CONTRACT_CACHE_TTL_MS,
      }),
    versionCount: async (accountId) => fake.versionCount(`${CONTRACT_PREFIX}/account/${accountId}`),
    close: async () => {
      fake.mock.restore();
    },
  };
});

describe('Class: SecretsManagerSecretStore', () => {
  let time: ReturnType<typeof manualClock>;
  let fake: FakeSecretsManager;
  const accountId = 'acc-1';
  const secretName = 'threat-engine/account/acc-1';

  const makeStore = (kmsKeyId?: string) =>
    new SecretsManagerSecretStore({
      client: fake.client,
      prefix: 'threat-engine',
      clock: time.clock,
      ...(kmsKeyId ? { kmsKeyId } : {}),
    });

  const awsError = (name: string, fault: 'client' | 'server', status: number) =>
    new SecretsManagerServiceException({
      name,
      $fault: fault,
      $metadata: { httpStatusCode: status },
      message: `${name} raised by the fake`,
    });

  beforeEach(() => {
    time = manualClock();
    fake = new FakeSecretsManager(time.clock);
    return () => fake.mock.restore();
  });

  describe('Method: stage', () => {
    it('creates a missing secret without a value, with the KMS key and tags, then puts the pending version', async () => {
      // Prepare
      const store = makeStore('alias/threat-engine-secrets');

      // Act
      const { versionId } = await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');

      // Assess
      expect(fake.mock).toReceiveCommandWith(CreateSecretCommand, {
        Name: secretName,
        KmsKeyId: 'alias/threat-engine-secrets',
        Tags: expect.arrayContaining([{ Key: 'managed-by', Value: 'threat-engine-orchestrator' }]),
      });
      const create = fake.mock.commandCalls(CreateSecretCommand)[0]?.args[0].input;
      expect(create).not.toHaveProperty('SecretString');
      expect(create).not.toHaveProperty('SecretBinary');
      expect(fake.mock).toReceiveCommandWith(PutSecretValueCommand, {
        SecretId: secretName,
        ClientRequestToken: versionId,
        VersionStages: ['THREAT_ENGINE_PENDING'],
      });
      expect(versionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // The "no credentials" placeholder takes AWSCURRENT before the credentials are written, so
      // the staged version is never current, not even for a moment.
      const puts = fake.mock
        .commandCalls(PutSecretValueCommand)
        .map((call) => call.args[0].input.VersionStages);
      expect(puts).toEqual([
        ['THREAT_ENGINE_PENDING'], // ResourceNotFoundException: the secret does not exist yet
        ['AWSCURRENT', NO_CREDENTIALS_LABEL],
        ['THREAT_ENGINE_PENDING'],
      ]);
    });

    it('creates the secret without KmsKeyId when no key is configured', async () => {
      // Prepare
      const store = makeStore();

      // Act
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');

      // Assess
      expect(fake.mock).toReceiveCommandTimes(CreateSecretCommand, 1);
      expect(fake.mock.commandCalls(CreateSecretCommand)[0]?.args[0].input).not.toHaveProperty('KmsKeyId');
    });

    it('does not create an existing secret again', async () => {
      // Prepare
      const store = makeStore();
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      fake.mock.resetHistory();

      // Act
      await store.stage(accountId, fakePayload(accountId, 'two'), 'request-2');

      // Assess
      expect(fake.mock).toReceiveCommandTimes(CreateSecretCommand, 0);
      expect(fake.mock).toReceiveCommandTimes(PutSecretValueCommand, 1);
    });

    it('takes AWSCURRENT away from a first version that AWS made current by itself', async () => {
      // Prepare: a secret created elsewhere without a value (AWS makes its first version current).
      fake.createSecret({ Name: secretName });
      const store = makeStore();

      // Act
      const { versionId } = await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');

      // Assess
      await expect(store.read(accountId)).rejects.toBeInstanceOf(SecretNotFoundError);
      expect(await store.describe(accountId)).toEqual({ secretName, pendingVersionId: versionId });
      expect(fake.mock).toReceiveCommandWith(PutSecretValueCommand, {
        VersionStages: ['AWSCURRENT', NO_CREDENTIALS_LABEL],
      });
    });

    it('restores a secret scheduled for deletion instead of failing', async () => {
      // Prepare
      const store = makeStore();
      const old = await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      await store.promote(accountId, old.versionId);
      await store.scheduleDeletion(accountId);

      // Act
      await store.stage(accountId, fakePayload(accountId, 'two'), 'request-2');

      // Assess
      expect(fake.mock).toReceiveCommandWith(RestoreSecretCommand, { SecretId: secretName });
      expect((await store.describe(accountId))?.scheduledDeletionAt).toBeUndefined();
    });

    it('never writes the credentials anywhere but the pending version value', async () => {
      // Prepare
      const store = makeStore();

      // Act
      await store.stage(accountId, fakePayload(accountId, 'canary'), 'request-1');

      // Assess
      const nonValueInputs = fake.mock.calls().map((call) => {
        const { SecretString: _value, ...rest } = call.args[0].input as { SecretString?: string };
        return JSON.stringify(rest);
      });
      expect(nonValueInputs.join('\n')).not.toContain('fake-secret-canary');
      expect(
        fake.storedValues(secretName).filter((value) => value.includes('fake-secret-canary')),
      ).toHaveLength(1);
    });
  });

  describe('Method: read', () => {
    it('reads a legacy secret (naive timestamps, made current by CreateSecret) and normalizes it', async () => {
      // Prepare
      fake.createSecret({
        Name: secretName,
        SecretString: JSON.stringify({
          credential_type: 'aws_iam_role',
          credentials: { role_arn: 'arn:aws:iam::000000000000:role/fake', external_id: 'threat-engine-0' },
          account_id: accountId,
          created_at: '2024-05-01T10:00:00.123456',
          expires_at: null,
        }),
      });
      const store = makeStore();

      // Act
      const current = await store.read(accountId);

      // Assess
      expect(current).toMatchObject({
        credential_type: 'aws_iam_role',
        created_at: '2024-05-01T10:00:00.123Z',
      });
    });

    it('calls GetSecretValue once for two current reads within the TTL', async () => {
      // Prepare
      const store = makeStore();
      const { versionId } = await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      await store.promote(accountId, versionId);
      fake.mock.resetHistory();

      // Act
      await store.read(accountId);
      time.advance(29_999);
      await store.read(accountId);
      time.advance(1);
      await store.read(accountId);

      // Assess
      expect(fake.mock).toReceiveCommandTimes(GetSecretValueCommand, 2);
      expect(fake.mock).toReceiveCommandWith(GetSecretValueCommand, {
        SecretId: secretName,
        VersionStage: 'AWSCURRENT',
      });
    });

    it('maps ThrottlingException to DependencyUnavailableError with the cause', async () => {
      // Prepare
      const throttled = awsError('ThrottlingException', 'client', 400);
      fake.mock.on(GetSecretValueCommand).rejects(throttled);
      const store = makeStore();

      // Act
      const error = await store.read(accountId).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(error).toMatchObject({ dependency: 'secrets_manager', permanent: false, cause: throttled });
      expect((error as Error).message).toContain(secretName);
    });

    it('maps a 5xx to DependencyUnavailableError and AccessDenied to ConfigurationError', async () => {
      // Prepare
      fake.mock
        .on(GetSecretValueCommand)
        .rejectsOnce(awsError('InternalServiceError', 'server', 500))
        .rejectsOnce(awsError('AccessDeniedException', 'client', 400));
      const store = makeStore();

      // Act
      const first = await store.read(accountId).catch((caught: unknown) => caught);
      const second = await store.read(accountId).catch((caught: unknown) => caught);

      // Assess
      expect(first).toBeInstanceOf(DependencyUnavailableError);
      expect(second).toBeInstanceOf(ConfigurationError);
    });

    it('throws a ValidationError that does not quote a value that is not JSON', async () => {
      // Prepare
      fake.createSecret({ Name: secretName, SecretString: 'fake-secret-not-json{' });
      const store = makeStore();

      // Act
      const error = await store.read(accountId).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect(
        JSON.stringify({ message: (error as Error).message, issues: (error as ValidationError).issues }),
      ).not.toContain('fake-secret-not-json');
      expect((error as Error).cause).toBeUndefined();
    });

    it('throws SecretNotFoundError while the secret is scheduled for deletion', async () => {
      // Prepare
      const store = makeStore();
      const { versionId } = await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      await store.promote(accountId, versionId);
      await store.scheduleDeletion(accountId);

      // Act
      const attempt = store.read(accountId);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(SecretNotFoundError);
    });
  });

  describe('Method: scheduleDeletion', () => {
    it('deletes with a 7-day recovery window by default', async () => {
      // Prepare
      const store = makeStore();
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');

      // Act
      await store.scheduleDeletion(accountId);

      // Assess
      expect(fake.mock).toReceiveCommandWith(DeleteSecretCommand, {
        SecretId: secretName,
        RecoveryWindowInDays: 7,
      });
    });
  });

  describe('Method: checkHealth', () => {
    it('lists one secret and maps its failure', async () => {
      // Prepare
      const store = makeStore();

      // Act
      await store.checkHealth();
      fake.mock.on(ListSecretsCommand).rejects(awsError('ServiceUnavailable', 'server', 503));

      // Assess
      expect(fake.mock).toReceiveCommandWith(ListSecretsCommand, { MaxResults: 1 });
      await expect(store.checkHealth()).rejects.toBeInstanceOf(DependencyUnavailableError);
    });
  });
});
