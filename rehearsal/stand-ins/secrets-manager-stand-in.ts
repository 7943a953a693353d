import { FakeSecretsManager } from '../../test/support/fake-secrets-manager';
import { type LoopbackService, StandInServiceError, startJsonProtocolService } from './loopback-service';

export interface SecretFacts {
  arn: string;
  kmsKeyId: string | undefined;
  tags: Record<string, string>;
}

/**
 * Secrets Manager on loopback (AWS JSON 1.1) over the stateful fake the secret-store contract
 * runs against; it also answers what IAM needs to know of a secret (ARN, key, tags).
 */
export class SecretsManagerStandIn {
  readonly fake: FakeSecretsManager;
  #service: LoopbackService | undefined;

  constructor(region: string, account: string) {
    this.fake = new FakeSecretsManager(
      () => new Date(),
      `arn:aws:secretsmanager:${region}:${account}:secret:`,
    );
  }

  get url(): string {
    if (!this.#service) throw new Error('the Secrets Manager stand-in is not started');
    return this.#service.url;
  }

  get requestsByAccessKey(): ReadonlyMap<string, number> {
    return this.#service?.requestsByAccessKey ?? new Map();
  }

  async start(): Promise<void> {
    const fake = this.fake;
    // The fake's methods take and return the SDK's shapes.
    const call =
      <I>(method: (input: I) => unknown) =>
      (input: Record<string, unknown>) =>
        method.call(fake, input as I);
    this.#service = await startJsonProtocolService('application/x-amz-json-1.1', {
      CreateSecret: call(fake.createSecret),
      PutSecretValue: call(fake.putSecretValue),
      GetSecretValue: call(fake.getSecretValue),
      DescribeSecret: call(fake.describeSecret),
      UpdateSecretVersionStage: call(fake.updateSecretVersionStage),
      DeleteSecret: call(fake.deleteSecret),
      RestoreSecret: call(fake.restoreSecret),
      ListSecrets: call(fake.listSecrets),
      TagResource: () => {
        throw new StandInServiceError('UnknownOperationException', 'TagResource is not rehearsed');
      },
    });
  }

  /** What IAM evaluates a call on this secret against; undefined for a secret that does not exist. */
  facts(secretId: string): SecretFacts | undefined {
    try {
      const described = this.fake.describeSecret({ SecretId: secretId });
      return {
        arn: described.ARN,
        kmsKeyId: described.KmsKeyId,
        tags: Object.fromEntries(
          (described.Tags ?? []).flatMap((tag) => (tag.Key ? [[tag.Key, tag.Value ?? '']] : [])),
        ),
      };
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.#service?.close();
  }
}
