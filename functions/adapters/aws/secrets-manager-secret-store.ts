import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { toIsoUtc } from '../../../schemas/common';
import { type Clock, systemClock } from '../../core/clock';
import {
  ConfigurationError,
  DependencyUnavailableError,
  DomainError,
  InvalidTransitionError,
  SecretNotFoundError,
} from '../../core/errors';
import {
  assertNotExpired,
  assertRecoveryWindow,
  assertVersionId,
  CurrentSecretCache,
  DEFAULT_RECOVERY_WINDOW_DAYS,
  parseStoredSecret,
  SECRET_LABELS,
  type SecretDescription,
  type SecretPayload,
  type SecretReadOptions,
  type SecretStore,
  type SecretVersionRef,
  type StoredSecret,
  secretNameFor,
  validatePayloadFor,
  versionIdFor,
} from '../../core/ports/secret-store';
import { awsErrorName, isRefusedAwsError, isTransientAwsError } from './aws-error-kind';

export interface SecretsManagerSecretStoreOptions {
  client: SecretsManagerClient;
  /** SECRETS_MANAGER_PREFIX. */
  prefix: string;
  /** SECRETS_MANAGER_KMS_KEY_ID: used when this store creates a secret. */
  kmsKeyId?: string;
  clock?: Clock;
  cacheTtlMs?: number;
}

/**
 * Marks the version that holds AWSCURRENT when a secret has no current credentials. Secrets
 * Manager attaches AWSCURRENT to the first version of a secret whatever labels are asked for,
 * so a first staged version would become current unvalidated; a placeholder version holding
 * AWSCURRENT + this label is put first instead, and reads treat it as "no current credentials".
 */
export const NO_CREDENTIALS_LABEL = 'THREAT_ENGINE_EMPTY';
const NO_CREDENTIALS_VALUE = JSON.stringify({ threat_engine_no_credentials: true });
const MANAGED_BY_TAG = { Key: 'managed-by', Value: 'threat-engine-orchestrator' };
const DEPENDENCY = 'secrets_manager';

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/**
 * Maps a Secrets Manager failure to a core error. AWS error messages never contain the secret
 * value (it is only ever in requests), so keeping the SDK error as `cause` is safe.
 */
function mapAwsError(
  error: unknown,
  context: { operation: string; accountId: string; secretName: string; stage?: string },
): Error {
  if (error instanceof DomainError) return error;
  const name = awsErrorName(error);
  if (name === 'ResourceNotFoundException') {
    return new SecretNotFoundError(context.accountId, context.stage ?? 'current', { cause: error });
  }
  if (isTransientAwsError(error)) {
    return new DependencyUnavailableError(
      DEPENDENCY,
      `Secrets Manager ${context.operation} on ${context.secretName} failed with ${name}; it may pass on retry`,
      { cause: error },
    );
  }
  if (isRefusedAwsError(error)) {
    return new ConfigurationError(
      `Secrets Manager refused ${context.operation} on ${context.secretName} (${name}): check the IAM permissions and SECRETS_MANAGER_KMS_KEY_ID`,
      [{ field: 'SECRETS_MANAGER_KMS_KEY_ID', message: `${name} on ${context.operation}` }],
      { cause: error },
    );
  }
  // Anything else (InvalidParameterException, LimitExceededException…) is a defect or a quota:
  // passed on unchanged; it holds no secret value and the API answers it as a bare 500.
  return error instanceof Error ? error : new Error(`Secrets Manager ${context.operation} failed`);
}

function holderOf(description: DescribeSecretCommandOutput, label: string): string | undefined {
  const entries = Object.entries(description.VersionIdsToStages ?? {});
  return entries.find(([, stages]) => stages.includes(label))?.[0];
}

/** The SecretStore port over AWS Secrets Manager (labels: AWSCURRENT and THREAT_ENGINE_PENDING). */
export class SecretsManagerSecretStore implements SecretStore {
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;
  readonly #kmsKeyId: string | undefined;
  readonly #clock: Clock;
  readonly #cache: CurrentSecretCache;

  constructor(options: SecretsManagerSecretStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#kmsKeyId = options.kmsKeyId;
    this.#clock = options.clock ?? systemClock;
    this.#cache = new CurrentSecretCache(this.#clock, options.cacheTtlMs);
  }

  secretNameFor(accountId: string): string {
    return secretNameFor(this.#prefix, accountId);
  }

  async stage(accountId: string, payload: SecretPayload, requestToken: string): Promise<SecretVersionRef> {
    const secretName = this.secretNameFor(accountId);
    const value = JSON.stringify(validatePayloadFor(accountId, payload));
    const versionId = versionIdFor(accountId, requestToken);
    const context = { operation: 'PutSecretValue', accountId, secretName, stage: 'pending' };
    this.#cache.invalidate(accountId);

    const put = () =>
      this.#client.send(
        new PutSecretValueCommand({
          SecretId: secretName,
          ClientRequestToken: versionId,
          SecretString: value,
          VersionStages: [SECRET_LABELS.pending],
        }),
      );

    let stages: string[] | undefined;
    try {
      stages = (await put()).VersionStages;
    } catch (error) {
      const name = errorName(error);
      if (name === 'ResourceExistsException') {
        // The version of this request token exists with other data (a retried request whose
        // payload was rebuilt): the first write wins, nothing is written twice.
        return { secretName, versionId };
      }
      if (name === 'ResourceNotFoundException') {
        await this.#createEmpty(accountId, secretName, requestToken);
      } else if (name === 'InvalidRequestException' && (await this.#isScheduledForDeletion(secretName))) {
        await this.#restore(accountId, secretName, requestToken);
      } else {
        throw mapAwsError(error, context);
      }
      try {
        stages = (await put()).VersionStages;
      } catch (retryError) {
        if (errorName(retryError) === 'ResourceExistsException') return { secretName, versionId };
        throw mapAwsError(retryError, context);
      }
    }

    if (stages?.includes(SECRET_LABELS.current)) {
      // Either a retried token whose version was promoted since (fine), or the first version of a
      // secret created without one elsewhere, which AWS made current by itself (not fine).
      const description = await this.#describeRaw(accountId, secretName, 'pending');
      const versions = Object.keys(description?.VersionIdsToStages ?? {});
      if (versions.length === 1 && versions[0] === versionId) {
        await this.#putNoCredentials(accountId, secretName, requestToken);
      }
    }
    return { secretName, versionId };
  }

  async promote(accountId: string, versionId: string): Promise<void> {
    assertVersionId(versionId);
    const secretName = this.secretNameFor(accountId);
    this.#cache.invalidate(accountId);
    const description = await this.#describeRaw(accountId, secretName, 'pending');
    if (!description || description.DeletedDate) throw new SecretNotFoundError(accountId, 'pending');
    const stages = description.VersionIdsToStages?.[versionId] ?? [];
    const context = { operation: 'UpdateSecretVersionStage', accountId, secretName, stage: 'pending' };

    if (!stages.includes(SECRET_LABELS.current)) {
      if (!stages.includes(SECRET_LABELS.pending)) {
        throw new InvalidTransitionError('secret version', versionId, 'current', ['pending']);
      }
      const currentVersionId = holderOf(description, SECRET_LABELS.current);
      await this.#send(
        () =>
          this.#client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: secretName,
              VersionStage: SECRET_LABELS.current,
              MoveToVersionId: versionId,
              ...(currentVersionId ? { RemoveFromVersionId: currentVersionId } : {}),
            }),
          ),
        context,
      );
    }
    if (stages.includes(SECRET_LABELS.pending)) {
      await this.#removePending(secretName, versionId, context);
    }
    this.#cache.invalidate(accountId);
  }

  async discard(accountId: string, versionId: string): Promise<void> {
    assertVersionId(versionId);
    const secretName = this.secretNameFor(accountId);
    this.#cache.invalidate(accountId);
    const description = await this.#describeRaw(accountId, secretName, 'pending');
    if (!description || description.DeletedDate) return;
    const stages = description.VersionIdsToStages?.[versionId] ?? [];
    if (!stages.includes(SECRET_LABELS.pending)) {
      if (stages.includes(SECRET_LABELS.current)) {
        throw new InvalidTransitionError('secret version', versionId, 'discarded', ['pending']);
      }
      return;
    }
    await this.#removePending(secretName, versionId, {
      operation: 'UpdateSecretVersionStage',
      accountId,
      secretName,
      stage: 'pending',
    });
  }

  async read(accountId: string, options: SecretReadOptions = {}): Promise<StoredSecret> {
    const secretName = this.secretNameFor(accountId);
    if (options.versionId !== undefined) assertVersionId(options.versionId);
    const stage = options.stage ?? (options.versionId === undefined ? 'current' : undefined);
    const cacheable = stage === 'current' && options.versionId === undefined;
    const now = this.#clock();

    if (cacheable) {
      const cached = this.#cache.get(accountId);
      if (cached) {
        assertNotExpired(accountId, cached, now);
        return structuredClone(cached);
      }
    }

    const notFoundStage = stage ?? `version ${options.versionId}`;
    const response = await this.#getSecretValue(
      accountId,
      // One exact version is asked by id alone; its label, if one is required, is checked below
      // (AWS rejects a VersionId/VersionStage pair that disagree with a less precise error).
      {
        SecretId: secretName,
        ...(options.versionId
          ? { VersionId: options.versionId }
          : { VersionStage: SECRET_LABELS[stage ?? 'current'] }),
      },
      notFoundStage,
    );
    if (
      response.VersionStages?.includes(NO_CREDENTIALS_LABEL) ||
      isNoCredentials(response.SecretString) ||
      (stage !== undefined && !response.VersionStages?.includes(SECRET_LABELS[stage]))
    ) {
      throw new SecretNotFoundError(accountId, notFoundStage);
    }
    const payload = parseStoredSecret(accountId, response.SecretString);
    const stored: StoredSecret = { ...payload, versionId: response.VersionId ?? '' };
    if (cacheable) this.#cache.set(accountId, structuredClone(stored));
    assertNotExpired(accountId, stored, now);
    return stored;
  }

  /**
   * Reads the current credentials a later variant of the legacy service kept under
   * `{prefix}/account/{tenantId}/{accountId}` (the migration copies them to this store's own name).
   * Never cached. Throws SecretNotFoundError when there is no such secret or it holds nothing,
   * SecretExpiredError as `read` does.
   */
  async readTenantScoped(tenantId: string, accountId: string): Promise<SecretPayload> {
    // Both ids as secretNameFor accepts them (it throws on one a secret name cannot hold).
    this.secretNameFor(accountId);
    const secretName = `${this.secretNameFor(tenantId)}/${accountId}`;
    const response = await this.#getSecretValue(
      accountId,
      { SecretId: secretName, VersionStage: SECRET_LABELS.current },
      'current',
    );
    if (isNoCredentials(response.SecretString)) throw new SecretNotFoundError(accountId, 'current');
    const payload = parseStoredSecret(accountId, response.SecretString);
    assertNotExpired(accountId, payload, this.#clock());
    return payload;
  }

  /** GetSecretValue, with a missing secret or one scheduled for deletion as SecretNotFoundError. */
  async #getSecretValue(
    accountId: string,
    input: { SecretId: string; VersionId?: string; VersionStage?: string },
    notFoundStage: string,
  ): Promise<GetSecretValueCommandOutput> {
    try {
      return await this.#client.send(new GetSecretValueCommand(input));
    } catch (error) {
      if (
        errorName(error) === 'InvalidRequestException' &&
        (await this.#isScheduledForDeletion(input.SecretId))
      ) {
        throw new SecretNotFoundError(accountId, notFoundStage);
      }
      throw mapAwsError(error, {
        operation: 'GetSecretValue',
        accountId,
        secretName: input.SecretId,
        stage: notFoundStage,
      });
    }
  }

  async describe(accountId: string): Promise<SecretDescription | undefined> {
    const secretName = this.secretNameFor(accountId);
    const description = await this.#describeRaw(accountId, secretName, 'current');
    if (!description) return undefined;
    const currentVersionId = holderOf(description, SECRET_LABELS.current);
    const currentIsEmpty =
      currentVersionId !== undefined &&
      (description.VersionIdsToStages?.[currentVersionId] ?? []).includes(NO_CREDENTIALS_LABEL);
    const pendingVersionId = holderOf(description, SECRET_LABELS.pending);
    return {
      secretName,
      ...(currentVersionId && !currentIsEmpty ? { currentVersionId } : {}),
      ...(pendingVersionId ? { pendingVersionId } : {}),
      // DescribeSecret's DeletedDate is documented as the date the secret is scheduled for deletion.
      ...(description.DeletedDate ? { scheduledDeletionAt: toIsoUtc(description.DeletedDate) } : {}),
    };
  }

  async scheduleDeletion(
    accountId: string,
    recoveryWindowDays: number = DEFAULT_RECOVERY_WINDOW_DAYS,
  ): Promise<{ deletionDate: string }> {
    assertRecoveryWindow(recoveryWindowDays);
    const secretName = this.secretNameFor(accountId);
    this.#cache.invalidate(accountId);
    try {
      const response = await this.#client.send(
        new DeleteSecretCommand({ SecretId: secretName, RecoveryWindowInDays: recoveryWindowDays }),
      );
      const deletionDate =
        response.DeletionDate ?? new Date(this.#clock().getTime() + recoveryWindowDays * 86_400_000);
      return { deletionDate: toIsoUtc(deletionDate) };
    } catch (error) {
      if (errorName(error) === 'InvalidRequestException') {
        // Already scheduled: report the date it was scheduled for.
        const description = await this.#describeRaw(accountId, secretName, 'current');
        if (description?.DeletedDate) return { deletionDate: toIsoUtc(description.DeletedDate) };
      }
      throw mapAwsError(error, { operation: 'DeleteSecret', accountId, secretName });
    }
  }

  async checkHealth(): Promise<void> {
    try {
      await this.#client.send(new ListSecretsCommand({ MaxResults: 1 }));
    } catch (error) {
      throw mapAwsError(error, { operation: 'ListSecrets', accountId: '-', secretName: `${this.#prefix}/*` });
    }
  }

  /** Creates the secret without a value, then puts the "no credentials" placeholder as current. */
  async #createEmpty(accountId: string, secretName: string, requestToken: string): Promise<void> {
    try {
      await this.#client.send(
        new CreateSecretCommand({
          Name: secretName,
          Description: `Cloud credentials of account ${accountId} (threat engine)`,
          ...(this.#kmsKeyId ? { KmsKeyId: this.#kmsKeyId } : {}),
          Tags: [MANAGED_BY_TAG, { Key: 'account-id', Value: accountId }],
        }),
      );
    } catch (error) {
      // Created concurrently by another request: carry on with it.
      if (errorName(error) !== 'ResourceExistsException') {
        throw mapAwsError(error, { operation: 'CreateSecret', accountId, secretName, stage: 'pending' });
      }
    }
    await this.#putNoCredentials(accountId, secretName, requestToken);
  }

  /**
   * Cancels a scheduled deletion (re-onboarding) and clears the current label: the credentials
   * that were deleted must be validated again, never resurrected by a new stage.
   */
  async #restore(accountId: string, secretName: string, requestToken: string): Promise<void> {
    await this.#send(() => this.#client.send(new RestoreSecretCommand({ SecretId: secretName })), {
      operation: 'RestoreSecret',
      accountId,
      secretName,
      stage: 'pending',
    });
    await this.#putNoCredentials(accountId, secretName, requestToken);
  }

  async #putNoCredentials(accountId: string, secretName: string, requestToken: string): Promise<void> {
    const context = { operation: 'PutSecretValue', accountId, secretName, stage: 'pending' };
    try {
      await this.#client.send(
        new PutSecretValueCommand({
          SecretId: secretName,
          ClientRequestToken: versionIdFor(accountId, `${requestToken}#no-credentials`),
          SecretString: NO_CREDENTIALS_VALUE,
          VersionStages: [SECRET_LABELS.current, NO_CREDENTIALS_LABEL],
        }),
      );
    } catch (error) {
      throw mapAwsError(error, context);
    }
  }

  async #removePending(
    secretName: string,
    versionId: string,
    context: Parameters<typeof mapAwsError>[1],
  ): Promise<void> {
    await this.#send(
      () =>
        this.#client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: secretName,
            VersionStage: SECRET_LABELS.pending,
            RemoveFromVersionId: versionId,
          }),
        ),
      context,
    );
  }

  async #isScheduledForDeletion(secretName: string): Promise<boolean> {
    try {
      const description = await this.#client.send(new DescribeSecretCommand({ SecretId: secretName }));
      return description.DeletedDate !== undefined;
    } catch {
      return false;
    }
  }

  async #describeRaw(
    accountId: string,
    secretName: string,
    stage: string,
  ): Promise<DescribeSecretCommandOutput | undefined> {
    try {
      return await this.#client.send(new DescribeSecretCommand({ SecretId: secretName }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw mapAwsError(error, { operation: 'DescribeSecret', accountId, secretName, stage });
    }
  }

  async #send(task: () => Promise<unknown>, context: Parameters<typeof mapAwsError>[1]): Promise<void> {
    try {
      await task();
    } catch (error) {
      throw mapAwsError(error, context);
    }
  }
}

function isNoCredentials(secretString: string | undefined): boolean {
  return secretString === NO_CREDENTIALS_VALUE;
}
