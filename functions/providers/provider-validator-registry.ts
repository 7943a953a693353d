import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import { ConfigurationError } from '../core/errors';
import { type Logger, silentLogger } from '../core/logger';
import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
  type ProviderValidator,
} from '../core/ports/provider-validator';
import type { RemainingTime } from '../core/time-budget';
import { AlicloudValidator } from './alicloud-validator';
import { AwsValidator, type AwsValidatorOptions, type StsClientFactory } from './aws-validator';
import { AzureValidator } from './azure-validator';
import { type CredentialCheck, sameAccount } from './credential-check';
import { GcpValidator } from './gcp-validator';
import { IbmValidator } from './ibm-validator';
import { OciValidator } from './oci-validator';
import { DEFAULT_VALIDATION_TIMEOUT_MS, ProviderHttp } from './provider-http';

/**
 * Where each provider is called. Every one is overridable (the tests point them at loopback fakes;
 * a sovereign cloud or a proxy can be configured). `{region}` is replaced per call: by the OCI
 * credentials' region, and by `awsRegion` for STS.
 */
export interface ProviderEndpoints {
  awsSts: string;
  azureLogin: string;
  azureManagement: string;
  /** The only token endpoint GCP key files are exchanged at (their own `token_uri` is ignored). */
  gcpToken: string;
  gcpResourceManager: string;
  alicloudSts: string;
  ociIdentity: string;
  ibmIam: string;
  ibmResourceController: string;
}

export const DEFAULT_PROVIDER_ENDPOINTS: Readonly<ProviderEndpoints> = Object.freeze({
  awsSts: 'https://sts.{region}.amazonaws.com',
  azureLogin: 'https://login.microsoftonline.com',
  azureManagement: 'https://management.azure.com',
  gcpToken: 'https://oauth2.googleapis.com/token',
  gcpResourceManager: 'https://cloudresourcemanager.googleapis.com',
  alicloudSts: 'https://sts.aliyuncs.com',
  ociIdentity: 'https://identity.{region}.oraclecloud.com',
  ibmIam: 'https://iam.cloud.ibm.com',
  ibmResourceController: 'https://resource-controller.cloud.ibm.com',
});

export interface ProviderValidatorOptions {
  endpoints?: Partial<ProviderEndpoints>;
  /** The HTTP client of every validator but AWS (which uses the SDK). Default: global fetch. */
  fetch?: typeof fetch;
  stsClientFactory?: StsClientFactory;
  /** The platform's credentials for AWS AssumeRole; default: the SDK's default credential chain. */
  platformCredentials?: AwsValidatorOptions['platformCredentials'];
  /** The signing region of the STS endpoint. Default `us-east-1`. */
  awsRegion?: string;
  /**
   * The local "validate offline" setting (the local runtime's composition root turns it on from its
   * own configuration): accept structurally valid credentials after the local checks, without any
   * network call, and mark the result as validated offline. Never for production.
   */
  offline?: boolean;
  /** Per provider call, connecting and reading. Default 10 s. */
  timeoutMs?: number;
  /** What the calling function has left (Lambda): every provider call ends within it. */
  remainingTime?: RemainingTime;
  clock?: Clock;
  logger?: Logger;
}

/** The credential types with a live check, in the order the providers are listed. */
export const LIVE_VALIDATED_CREDENTIAL_TYPES = [
  'aws_iam_role',
  'aws_access_key',
  'azure_service_principal',
  'gcp_service_account',
  'alicloud_access_key',
  'oci_user_principal',
  'ibm_api_key',
] as const;

/**
 * The provider validator: dispatches on credential_type to the provider's live check (or, offline,
 * to its local derivation), then holds the answer to the account number already recorded for the
 * account, if any: credentials of another cloud account are refused as `account_mismatch`.
 */
export function createProviderValidator(options: ProviderValidatorOptions = {}): ProviderValidator {
  const endpoints = resolveEndpoints(options.endpoints ?? {});
  const timeoutMs = options.timeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;
  const http = new ProviderHttp({
    timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.remainingTime ? { remainingTime: options.remainingTime } : {}),
  });
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const awsRegion = options.awsRegion ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(awsRegion)) {
    throw new ConfigurationError(
      `awsRegion must be an AWS region name (e.g. us-east-1), got ${JSON.stringify(awsRegion)}`,
      [{ field: 'awsRegion', message: 'must be an AWS region name' }],
    );
  }

  const checks: CredentialCheck[] = [
    new AwsValidator({
      endpoint: endpoints.awsSts.replaceAll('{region}', awsRegion),
      region: awsRegion,
      timeoutMs,
      ...(options.remainingTime ? { remainingTime: options.remainingTime } : {}),
      logger,
      ...(options.stsClientFactory ? { stsClientFactory: options.stsClientFactory } : {}),
      ...(options.platformCredentials ? { platformCredentials: options.platformCredentials } : {}),
    }),
    new AzureValidator({
      http,
      loginEndpoint: endpoints.azureLogin,
      managementEndpoint: endpoints.azureManagement,
    }),
    new GcpValidator({
      http,
      tokenEndpoint: endpoints.gcpToken,
      resourceManagerEndpoint: endpoints.gcpResourceManager,
      clock,
    }),
    new AlicloudValidator({ http, stsEndpoint: endpoints.alicloudSts, clock }),
    new OciValidator({ http, identityEndpoint: endpoints.ociIdentity, clock }),
    new IbmValidator({
      http,
      iamEndpoint: endpoints.ibmIam,
      resourceControllerEndpoint: endpoints.ibmResourceController,
    }),
  ];
  const byType = new Map<string, CredentialCheck>();
  for (const check of checks) for (const type of check.credentialTypes) byType.set(type, check);

  return {
    async validate(
      credentialType: string,
      credentials: Record<string, unknown>,
      context: ProviderValidationContext,
    ): Promise<ProviderValidationResult> {
      const check = byType.get(credentialType);
      if (!check) {
        throw new CredentialValidationError(
          'not_supported',
          `live validation of ${JSON.stringify(String(credentialType).slice(0, 64))} credentials is not supported yet`,
        );
      }
      const started = clock().getTime();
      const log = {
        provider: check.provider,
        credential_type: credentialType,
        account_id: context.accountId,
      };
      try {
        let result: ProviderValidationResult;
        let comparable = true;
        if (options.offline) {
          const offline = check.offlineAccountNumber(credentialType, credentials, context);
          result = { accountNumber: offline.accountNumber, validatedOffline: true };
          comparable = !offline.derivedFromKey;
        } else {
          result = await check.validate(credentialType, credentials, context);
        }
        const declared = context.declaredAccountNumber ?? undefined;
        if (comparable && declared && !sameAccount(declared, result.accountNumber)) {
          throw new CredentialValidationError(
            'account_mismatch',
            `the credentials are for ${check.provider} account ${result.accountNumber}, but this account is ${declared}`,
          );
        }
        logger.info('provider credentials validated', {
          ...log,
          validated_offline: result.validatedOffline,
          duration_ms: clock().getTime() - started,
        });
        return result;
      } catch (error) {
        if (error instanceof CredentialValidationError) {
          logger.warn('provider refused credentials', {
            ...log,
            reason: error.reason,
            error_message: error.message,
            duration_ms: clock().getTime() - started,
          });
        }
        throw error;
      }
    },
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function resolveEndpoints(overrides: Partial<ProviderEndpoints>): ProviderEndpoints {
  const resolved = { ...DEFAULT_PROVIDER_ENDPOINTS };
  const issues: { field: string; message: string }[] = [];
  for (const name of Object.keys(DEFAULT_PROVIDER_ENDPOINTS) as (keyof ProviderEndpoints)[]) {
    const value = overrides[name] ?? DEFAULT_PROVIDER_ENDPOINTS[name];
    const trimmed = value.trim().replace(/\/+$/, '');
    let url: URL | undefined;
    try {
      url = new URL(trimmed.replaceAll('{region}', 'region'));
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.search ||
      url.hash ||
      url.username
    ) {
      issues.push({
        field: `endpoints.${name}`,
        message: 'must be an http(s) URL without query, fragment or user info',
      });
      continue;
    }
    // Credentials travel to these endpoints: plain http only to this machine (fakes, simulators).
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      issues.push({
        field: `endpoints.${name}`,
        message: 'must use https (http is only allowed for loopback hosts)',
      });
      continue;
    }
    resolved[name] = trimmed;
  }
  if (issues.length > 0) {
    throw new ConfigurationError(
      `invalid provider endpoints: ${issues.map((issue) => issue.field).join(', ')}`,
      issues,
    );
  }
  return resolved;
}
