import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import type { Logger } from '../core/logger';
import { silentLogger } from '../core/logger';
import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
} from '../core/ports/provider-validator';
import { boundedTimeoutMs, type RemainingTime, timeoutSignal } from '../core/time-budget';
import {
  type CredentialCheck,
  type OfflineAccountNumber,
  offlineKeyHash,
  optionalString,
  requireString,
  unsupportedCredentialType,
} from './credential-check';
import { DEFAULT_VALIDATION_TIMEOUT_MS, transportFailureCode, unreachable } from './provider-http';

export type StsClientFactory = (config: STSClientConfig) => STSClient;

export interface AwsValidatorOptions {
  /** The STS endpoint; default: the SDK's regional endpoint for `region`. */
  endpoint?: string;
  /** The signing region of the STS endpoint. Default `us-east-1`. */
  region?: string;
  /** Builds every STS client (tests and the local runtime inject theirs). */
  stsClientFactory?: StsClientFactory;
  /** The platform's own credentials for AssumeRole; default: the SDK's default credential chain. */
  platformCredentials?: STSClientConfig['credentials'];
  timeoutMs?: number;
  /** What the calling function has left (Lambda): each STS call ends within it. */
  remainingTime?: RemainingTime;
  logger?: Logger;
}

/** The session name customers see in CloudTrail for our validation call. */
export const VALIDATION_SESSION_NAME = 'threat-engine-validation';
/** The shortest session AWS allows: the assumed credentials only serve one GetCallerIdentity. */
export const VALIDATION_SESSION_SECONDS = 900;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const ACCOUNT_NUMBER = /^\d{12}$/;
const INVALID_KEY_CODES = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidSignatureException',
]);
const EXPIRED_CODES = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']);
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
]);

type StsStep = 'caller-identity' | 'assume-role' | 'assumed-identity';

interface RoleCredentials {
  roleArn: string;
  externalId: string;
  accountNumber: string;
}

/**
 * AWS: access keys (with an optional session token) are checked with STS GetCallerIdentity; a role
 * is assumed from the platform credentials with the external id issued at init (a different
 * submitted external id is refused before any call), then the assumed identity's account must be
 * the declared account number.
 */
export class AwsValidator implements CredentialCheck {
  readonly provider = 'aws' as const;
  readonly credentialTypes = ['aws_iam_role', 'aws_access_key'] as const;
  readonly #endpoint: string | undefined;
  readonly #region: string;
  readonly #factory: StsClientFactory;
  readonly #platformCredentials: STSClientConfig['credentials'] | undefined;
  readonly #timeoutMs: number;
  readonly #remainingTime: RemainingTime | undefined;
  readonly #logger: Logger;
  #platformClient: STSClient | undefined;

  constructor(options: AwsValidatorOptions = {}) {
    this.#endpoint = options.endpoint;
    this.#region = options.region ?? 'us-east-1';
    this.#factory = options.stsClientFactory ?? ((config) => new STSClient(config));
    this.#platformCredentials = options.platformCredentials;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;
    this.#remainingTime = options.remainingTime;
    this.#logger = options.logger ?? silentLogger;
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    if (credentialType === 'aws_iam_role') {
      const role = readRole(credentials, context);
      return { accountNumber: await this.#validateRole(role), validatedOffline: false };
    }
    if (credentialType === 'aws_access_key') {
      const client = this.#client({
        accessKeyId: requireString(credentials, 'access_key_id'),
        secretAccessKey: requireString(credentials, 'secret_access_key'),
        ...withSessionToken(optionalString(credentials, 'session_token')),
      });
      try {
        const identity = await this.#call('caller-identity', undefined, (options) =>
          client.send(new GetCallerIdentityCommand({}), options),
        );
        return { accountNumber: requireAccount(identity.Account), validatedOffline: false };
      } finally {
        client.destroy();
      }
    }
    throw unsupportedCredentialType(this.provider, credentialType);
  }

  offlineAccountNumber(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): OfflineAccountNumber {
    if (credentialType === 'aws_iam_role') {
      return { accountNumber: readRole(credentials, context).accountNumber, derivedFromKey: false };
    }
    if (credentialType === 'aws_access_key') {
      const accessKeyId = requireString(credentials, 'access_key_id');
      requireString(credentials, 'secret_access_key');
      const declared =
        optionalString(credentials, 'account_number') ?? context.declaredAccountNumber ?? undefined;
      if (declared) return { accountNumber: declared, derivedFromKey: false };
      return { accountNumber: offlineKeyHash(this.provider, accessKeyId), derivedFromKey: true };
    }
    throw unsupportedCredentialType(this.provider, credentialType);
  }

  async #validateRole(role: RoleCredentials): Promise<string> {
    const platform = this.#platform();
    const assumed = await this.#call('assume-role', role.roleArn, (options) =>
      platform.send(
        new AssumeRoleCommand({
          RoleArn: role.roleArn,
          ExternalId: role.externalId,
          RoleSessionName: VALIDATION_SESSION_NAME,
          DurationSeconds: VALIDATION_SESSION_SECONDS,
        }),
        options,
      ),
    );
    const issued = assumed.Credentials;
    if (!issued?.AccessKeyId || !issued.SecretAccessKey || !issued.SessionToken) {
      throw new CredentialValidationError(
        'provider_unreachable',
        `AWS STS at ${this.#host()} answered AssumeRole for ${role.roleArn} without credentials`,
      );
    }
    const client = this.#client({
      accessKeyId: issued.AccessKeyId,
      secretAccessKey: issued.SecretAccessKey,
      sessionToken: issued.SessionToken,
    });
    try {
      const identity = await this.#call('assumed-identity', role.roleArn, (options) =>
        client.send(new GetCallerIdentityCommand({}), options),
      );
      const account = requireAccount(identity.Account);
      if (account !== role.accountNumber) {
        throw new CredentialValidationError(
          'account_mismatch',
          `role ${role.roleArn} belongs to AWS account ${account}, not the declared account_number ${role.accountNumber}`,
        );
      }
      return account;
    } finally {
      client.destroy();
    }
  }

  #platform(): STSClient {
    this.#platformClient ??= this.#factory(this.#config(this.#platformCredentials));
    return this.#platformClient;
  }

  #client(credentials: NonNullable<STSClientConfig['credentials']>): STSClient {
    return this.#factory(this.#config(credentials));
  }

  #config(credentials: STSClientConfig['credentials'] | undefined): STSClientConfig {
    return {
      region: this.#region,
      ...(this.#endpoint ? { endpoint: this.#endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      // Validation answers a person waiting: no SDK retries (the workflow retries what is transient).
      maxAttempts: 1,
      requestHandler: { connectionTimeout: this.#timeoutMs, requestTimeout: this.#timeoutMs },
    };
  }

  #host(): string {
    return this.#endpoint ? new URL(this.#endpoint).host : `sts.${this.#region}.amazonaws.com`;
  }

  /** Runs one STS call under the timeout and turns its failure into a credential error. */
  async #call<Output>(
    step: StsStep,
    roleArn: string | undefined,
    run: (options: { abortSignal: AbortSignal }) => Promise<Output>,
  ): Promise<Output> {
    const started = Date.now();
    const timeoutMs = boundedTimeoutMs(this.#timeoutMs, this.#remainingTime);
    if (timeoutMs <= 0) throw unreachable('AWS STS', this.#host(), 'no time left in this invocation');
    const timeout = timeoutSignal(timeoutMs);
    try {
      return await run({ abortSignal: timeout.signal });
    } catch (error) {
      const mapped = this.#mapError(error, step, roleArn);
      this.#logger.debug('aws sts call failed', {
        step,
        reason: mapped.reason,
        error_code: errorCode(error),
        duration_ms: Date.now() - started,
      });
      throw mapped;
    } finally {
      timeout.clear();
    }
  }

  #mapError(error: unknown, step: StsStep, roleArn: string | undefined): CredentialValidationError {
    const host = this.#host();
    const code = errorCode(error);
    const status = httpStatus(error);
    if (code === 'CredentialsProviderError' && step === 'assume-role') {
      return new CredentialValidationError(
        'provider_unreachable',
        "the platform's own AWS credentials could not be loaded, so no role can be assumed; check the platform's execution role",
      );
    }
    if (status === undefined && !isServiceError(error)) {
      return unreachable('AWS STS', host, transportFailureCode(error, this.#timeoutMs));
    }
    if ((status !== undefined && status >= 500) || (code && THROTTLING_CODES.has(code))) {
      return new CredentialValidationError(
        'provider_unreachable',
        `AWS STS at ${host} is unavailable (${code ?? 'error'}, HTTP ${status ?? 'unknown'}); try again later`,
      );
    }
    const shown = code ?? `HTTP ${status}`;
    if (step === 'assume-role') {
      if (code === 'AccessDenied' || code === 'AccessDeniedException') {
        return new CredentialValidationError(
          'access_denied',
          `AWS refused to let the platform assume role ${roleArn} (${shown}): the role's trust policy must allow ` +
            'the platform account and require the external id issued for this account (sts:ExternalId)',
        );
      }
      if (code === 'RegionDisabledException') {
        return new CredentialValidationError(
          'access_denied',
          `AWS STS is not activated in the region used for validation (${shown}), so role ${roleArn} cannot be assumed`,
        );
      }
      if (code === 'ValidationError' || code === 'MalformedPolicyDocument') {
        return new CredentialValidationError(
          'malformed',
          `AWS refused role ARN ${roleArn} as invalid (${shown})`,
        );
      }
      if (code && (INVALID_KEY_CODES.has(code) || EXPIRED_CODES.has(code))) {
        // Our credentials, not the customer's: not their mistake, and it may pass once fixed.
        return new CredentialValidationError(
          'provider_unreachable',
          `AWS refused the platform's own credentials when assuming role ${roleArn} (${shown}); check the platform's execution role`,
        );
      }
      return new CredentialValidationError(
        'access_denied',
        `AWS refused to let the platform assume role ${roleArn} (${shown})`,
      );
    }
    const subject =
      step === 'assumed-identity' ? `the credentials of assumed role ${roleArn}` : 'the access key';
    if (code && EXPIRED_CODES.has(code)) {
      return new CredentialValidationError('expired', `AWS reports ${subject} as expired (${shown})`);
    }
    if (code && INVALID_KEY_CODES.has(code)) {
      return new CredentialValidationError('invalid_credentials', `AWS did not accept ${subject} (${shown})`);
    }
    if (code === 'AccessDenied' || code === 'AccessDeniedException' || status === 403) {
      return new CredentialValidationError(
        'access_denied',
        `AWS denied GetCallerIdentity to ${subject} (${shown})`,
      );
    }
    return new CredentialValidationError('invalid_credentials', `AWS STS refused ${subject} (${shown})`);
  }
}

function readRole(credentials: Record<string, unknown>, context: ProviderValidationContext): RoleCredentials {
  const roleArn = requireString(credentials, 'role_arn');
  const externalId = requireString(credentials, 'external_id');
  const accountNumber = requireString(credentials, 'account_number');
  const match = ROLE_ARN.exec(roleArn);
  if (!match) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.role_arn must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)',
    );
  }
  if (!ACCOUNT_NUMBER.test(accountNumber)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.account_number must be a 12-digit AWS account id',
    );
  }
  if (match[1] !== accountNumber) {
    throw new CredentialValidationError(
      'account_mismatch',
      `credentials.role_arn names AWS account ${match[1]}, not the declared account_number ${accountNumber}`,
    );
  }
  const issued = context.externalId ?? undefined;
  if (!issued) {
    // Accepting an external id we never issued would defeat its purpose (the confused-deputy guard).
    throw new CredentialValidationError(
      'external_id_mismatch',
      'no external id was issued for this account: start the onboarding again (init) to get one',
    );
  }
  if (externalId !== issued) {
    throw new CredentialValidationError(
      'external_id_mismatch',
      'credentials.external_id is not the external id issued for this account at init: use the one from the init answer (and in the role trust policy)',
    );
  }
  return { roleArn, externalId, accountNumber };
}

function withSessionToken(sessionToken: string | undefined): { sessionToken?: string } {
  return sessionToken ? { sessionToken } : {};
}

function requireAccount(account: string | undefined): string {
  if (!account || !ACCOUNT_NUMBER.test(account)) {
    throw new CredentialValidationError(
      'provider_unreachable',
      'AWS STS answered GetCallerIdentity without a valid account id',
    );
  }
  return account;
}

/** The service's error code (`InvalidClientTokenId`…) or a system code; never the message. */
function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const record = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const value of [record.Code, record.name, record.code]) {
    if (typeof value === 'string' && /^[\w.-]{1,64}$/.test(value) && value !== 'Error') return value;
  }
  return undefined;
}

function httpStatus(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

function isServiceError(error: unknown): boolean {
  return Boolean(error && typeof error === 'object' && '$fault' in error);
}
