import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  type CreateSecretCommandInput,
  DeleteSecretCommand,
  type DeleteSecretCommandInput,
  DescribeSecretCommand,
  type DescribeSecretCommandInput,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type RestoreSecretCommandInput,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../functions/core/clock';

interface FakeVersion {
  value: string | undefined;
  createdDate: Date;
}

interface FakeSecret {
  arn: string;
  name: string;
  kmsKeyId: string | undefined;
  tags: Array<{ Key?: string; Value?: string }>;
  versions: Map<string, FakeVersion>;
  /** Staging label → version id. */
  labels: Map<string, string>;
  deletedDate: Date | undefined;
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const METADATA = { $metadata: { httpStatusCode: 400 } };

/**
 * A small stateful in-memory Secrets Manager behind aws-sdk-client-mock: versions, staging labels
 * (AWSCURRENT on the first version whatever is asked, AWSPREVIOUS following AWSCURRENT), client
 * request token idempotency, deletion with a recovery window, restore, and the real error names.
 * Enough of the documented semantics to run the secret store contract against the adapter.
 */
export class FakeSecretsManager {
  readonly client = new SecretsManagerClient({
    region: 'ap-south-1',
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
  });
  readonly mock: AwsClientStub<SecretsManagerClient>;
  readonly #secrets = new Map<string, FakeSecret>();

  constructor(
    private readonly clock: Clock,
    /** Where secret ARNs start (the deploy rehearsal uses its own account). */
    private readonly arnPrefix = 'arn:aws:secretsmanager:ap-south-1:000000000000:secret:',
  ) {
    this.mock = mockClient(this.client);
    this.install();
  }

  /** Re-installs the stateful behaviours (after a test called `mock.reset()`). */
  install(): void {
    const m = this.mock;
    m.on(CreateSecretCommand).callsFake((input: CreateSecretCommandInput) => this.createSecret(input));
    m.on(PutSecretValueCommand).callsFake((input: PutSecretValueCommandInput) => this.putSecretValue(input));
    m.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => this.getSecretValue(input));
    m.on(DescribeSecretCommand).callsFake((input: DescribeSecretCommandInput) => this.describeSecret(input));
    m.on(UpdateSecretVersionStageCommand).callsFake((input: UpdateSecretVersionStageCommandInput) =>
      this.updateSecretVersionStage(input),
    );
    m.on(DeleteSecretCommand).callsFake((input: DeleteSecretCommandInput) => this.deleteSecret(input));
    m.on(RestoreSecretCommand).callsFake((input: RestoreSecretCommandInput) => this.restoreSecret(input));
    m.on(ListSecretsCommand).callsFake((input: ListSecretsCommandInput) => this.listSecrets(input));
  }

  /** Every version the secret holds, labelled or not (what the contract counts). */
  versionCount(name: string): number {
    return this.#secrets.get(name)?.versions.size ?? 0;
  }

  secretNames(): string[] {
    return [...this.#secrets.keys()];
  }

  /** The raw stored strings of a secret (to prove what was or was not written). */
  storedValues(name: string): string[] {
    return [...(this.#secrets.get(name)?.versions.values() ?? [])].flatMap((version) =>
      version.value === undefined ? [] : [version.value],
    );
  }

  createSecret(input: CreateSecretCommandInput) {
    const name = input.Name ?? '';
    const existing = this.#find(name);
    if (existing?.deletedDate) {
      throw new InvalidRequestException({
        ...METADATA,
        message:
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
      });
    }
    if (existing) {
      throw new ResourceExistsException({
        ...METADATA,
        message: `The operation failed because the secret ${name} already exists.`,
      });
    }
    const secret: FakeSecret = {
      arn: `${this.arnPrefix}${name}-${randomUUID().slice(0, 6)}`,
      name,
      kmsKeyId: input.KmsKeyId,
      tags: input.Tags ?? [],
      versions: new Map(),
      labels: new Map(),
      deletedDate: undefined,
    };
    this.#secrets.set(name, secret);
    let versionId: string | undefined;
    if (input.SecretString !== undefined) {
      versionId = input.ClientRequestToken ?? randomUUID();
      secret.versions.set(versionId, { value: input.SecretString, createdDate: this.clock() });
      secret.labels.set(CURRENT, versionId);
    }
    return { ARN: secret.arn, Name: name, ...(versionId ? { VersionId: versionId } : {}) };
  }

  putSecretValue(input: PutSecretValueCommandInput) {
    const secret = this.#usable(input.SecretId);
    const versionId = input.ClientRequestToken ?? randomUUID();
    if (versionId.length < 32 || versionId.length > 64) {
      throw new InvalidParameterException({
        ...METADATA,
        message: 'ClientRequestToken must be 32-64 characters',
      });
    }
    const existing = secret.versions.get(versionId);
    if (existing) {
      if (existing.value !== input.SecretString) {
        throw new ResourceExistsException({
          ...METADATA,
          message: 'You cannot modify an existing version, you can only create new versions.',
        });
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: versionId,
        VersionStages: this.#stagesOf(secret, versionId),
      };
    }
    const first = secret.versions.size === 0;
    secret.versions.set(versionId, { value: input.SecretString, createdDate: this.clock() });
    const stages = input.VersionStages ?? [CURRENT];
    for (const label of stages) this.#attach(secret, label, versionId);
    if (first && !stages.includes(CURRENT)) this.#attach(secret, CURRENT, versionId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: versionId,
      VersionStages: this.#stagesOf(secret, versionId),
    };
  }

  getSecretValue(input: GetSecretValueCommandInput) {
    const secret = this.#usable(input.SecretId);
    const byStage = secret.labels.get(input.VersionStage ?? (input.VersionId ? '' : CURRENT));
    if (input.VersionStage && !byStage) {
      throw new ResourceNotFoundException({
        ...METADATA,
        message: `Secrets Manager can't find the specified secret value for staging label: ${input.VersionStage}`,
      });
    }
    const versionId = input.VersionId ?? byStage;
    if (!versionId || (input.VersionStage && input.VersionId && byStage !== input.VersionId)) {
      throw new ResourceNotFoundException({
        ...METADATA,
        message: "Secrets Manager can't find the specified secret value for VersionId",
      });
    }
    const version = secret.versions.get(versionId);
    if (!version) {
      throw new ResourceNotFoundException({
        ...METADATA,
        message: `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
      });
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: versionId,
      SecretString: version.value,
      VersionStages: this.#stagesOf(secret, versionId),
      CreatedDate: version.createdDate,
    };
  }

  describeSecret(input: DescribeSecretCommandInput) {
    const secret = this.#existing(input.SecretId);
    const versionIdsToStages: Record<string, string[]> = {};
    for (const versionId of secret.versions.keys()) {
      const stages = this.#stagesOf(secret, versionId);
      // Versions without labels are deprecated and not listed.
      if (stages.length > 0) versionIdsToStages[versionId] = stages;
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.kmsKeyId ? { KmsKeyId: secret.kmsKeyId } : {}),
      Tags: secret.tags,
      VersionIdsToStages: versionIdsToStages,
      ...(secret.deletedDate ? { DeletedDate: secret.deletedDate } : {}),
    };
  }

  updateSecretVersionStage(input: UpdateSecretVersionStageCommandInput) {
    const secret = this.#usable(input.SecretId);
    const label = input.VersionStage ?? '';
    const holder = secret.labels.get(label);
    if (input.MoveToVersionId !== undefined) {
      if (!secret.versions.has(input.MoveToVersionId)) {
        throw new ResourceNotFoundException({
          ...METADATA,
          message: 'The version to move to does not exist.',
        });
      }
      if (holder !== undefined && holder !== input.MoveToVersionId && input.RemoveFromVersionId !== holder) {
        throw new InvalidParameterException({
          ...METADATA,
          message: `The parameter RemoveFromVersionId doesn't match the version ${label} is attached to.`,
        });
      }
      this.#attach(secret, label, input.MoveToVersionId);
    } else {
      if (input.RemoveFromVersionId === undefined || holder !== input.RemoveFromVersionId) {
        throw new InvalidParameterException({
          ...METADATA,
          message: `The staging label ${label} isn't attached to version ${input.RemoveFromVersionId}.`,
        });
      }
      if (label === CURRENT) {
        throw new InvalidParameterException({
          ...METADATA,
          message: 'You can only move AWSCURRENT to another version; it cannot be removed.',
        });
      }
      secret.labels.delete(label);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  deleteSecret(input: DeleteSecretCommandInput) {
    const secret = this.#usable(input.SecretId);
    const days = input.RecoveryWindowInDays ?? 30;
    if (days < 7 || days > 30) {
      throw new InvalidParameterException({ ...METADATA, message: 'RecoveryWindowInDays must be 7-30.' });
    }
    secret.deletedDate = new Date(this.clock().getTime() + days * 86_400_000);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletedDate };
  }

  restoreSecret(input: RestoreSecretCommandInput) {
    const secret = this.#existing(input.SecretId);
    secret.deletedDate = undefined;
    return { ARN: secret.arn, Name: secret.name };
  }

  listSecrets(input: ListSecretsCommandInput) {
    const all = [...this.#secrets.values()].filter((secret) => !this.#purgeIfDue(secret));
    return { SecretList: all.slice(0, input.MaxResults ?? 100).map((s) => ({ ARN: s.arn, Name: s.name })) };
  }

  #attach(secret: FakeSecret, label: string, versionId: string): void {
    const holder = secret.labels.get(label);
    if (label === CURRENT && holder !== undefined && holder !== versionId)
      secret.labels.set(PREVIOUS, holder);
    secret.labels.set(label, versionId);
  }

  #stagesOf(secret: FakeSecret, versionId: string): string[] {
    return [...secret.labels.entries()].filter(([, id]) => id === versionId).map(([label]) => label);
  }

  /** Secrets Manager purges a deleted secret some time after its deletion date. */
  #purgeIfDue(secret: FakeSecret): boolean {
    if (secret.deletedDate && secret.deletedDate.getTime() <= this.clock().getTime()) {
      this.#secrets.delete(secret.name);
      return true;
    }
    return false;
  }

  #find(secretId: string | undefined): FakeSecret | undefined {
    const secret = [...this.#secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret || this.#purgeIfDue(secret)) return undefined;
    return secret;
  }

  #existing(secretId: string | undefined): FakeSecret {
    const secret = this.#find(secretId);
    if (!secret) {
      throw new ResourceNotFoundException({
        ...METADATA,
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    return secret;
  }

  /** A secret that exists and is not scheduled for deletion. */
  #usable(secretId: string | undefined): FakeSecret {
    const secret = this.#existing(secretId);
    if (secret.deletedDate) {
      throw new InvalidRequestException({
        ...METADATA,
        message: "You can't perform this operation on the secret because it was marked for deletion.",
      });
    }
    return secret;
  }
}
