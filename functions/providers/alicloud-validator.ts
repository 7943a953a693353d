import { createHmac, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
} from '../core/ports/provider-validator';
import {
  type CredentialCheck,
  type OfflineAccountNumber,
  offlineKeyHash,
  requireString,
  secretValuesOf,
  unsupportedCredentialType,
} from './credential-check';
import { type ProviderHttp, safeCode, safeProviderText, stringMember } from './provider-http';

export interface AlicloudValidatorOptions {
  http: ProviderHttp;
  /** The STS endpoint, e.g. `https://sts.aliyuncs.com`. */
  stsEndpoint: string;
  clock?: Clock;
  /** The signature nonce; random by default (injectable for tests). */
  nonce?: () => string;
}

export const ALICLOUD_STS_VERSION = '2015-04-01';

const INVALID_CODES = new Set([
  'InvalidAccessKeyId.NotFound',
  'InvalidAccessKeyId',
  'InvalidAccessKeyId.Inactive',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidAccessKeySecret',
]);
const EXPIRED_CODES = new Set([
  'InvalidSecurityToken.Expired',
  'SecurityToken.Expired',
  'InvalidAccessKeyId.Expired',
]);
const CLOCK_CODES = new Set(['InvalidTimeStamp.Expired', 'InvalidTimeStamp.Format', 'SignatureNonceUsed']);

/**
 * Alibaba Cloud: STS GetCallerIdentity, an RPC-style call signed with HMAC-SHA1 (signature
 * version 1.0). The parameters travel in a form body (POST), so the key id stays out of URLs.
 * The canonical account number is the AccountId STS reports.
 */
export class AlicloudValidator implements CredentialCheck {
  readonly provider = 'alicloud' as const;
  readonly credentialTypes = ['alicloud_access_key'] as const;
  readonly #http: ProviderHttp;
  readonly #endpoint: string;
  readonly #clock: Clock;
  readonly #nonce: () => string;

  constructor(options: AlicloudValidatorOptions) {
    this.#http = options.http;
    this.#endpoint = options.stsEndpoint;
    this.#clock = options.clock ?? systemClock;
    this.#nonce = options.nonce ?? randomUUID;
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    _context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    const key = readKey(this.provider, credentialType, credentials);
    const parameters: Record<string, string> = {
      Action: 'GetCallerIdentity',
      Format: 'JSON',
      Version: ALICLOUD_STS_VERSION,
      AccessKeyId: key.accessKeyId,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: this.#nonce(),
      // ISO 8601 UTC without milliseconds, as the RPC API requires.
      Timestamp: this.#clock()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    };
    parameters.Signature = rpcSignature('POST', parameters, key.accessKeySecret);
    const answer = await this.#http.send({
      service: 'Alibaba Cloud STS',
      method: 'POST',
      url: `${this.#endpoint}/`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: canonicalQuery(parameters),
    });
    if (answer.status === 200) {
      const accountId = stringMember(answer.json, 'AccountId');
      if (!accountId || !/^\d{1,32}$/.test(accountId)) {
        throw new CredentialValidationError(
          'provider_unreachable',
          `Alibaba Cloud STS at ${answer.host} answered GetCallerIdentity without an account id`,
        );
      }
      return { accountNumber: accountId, validatedOffline: false };
    }
    const code = safeCode(stringMember(answer.json, 'Code')) ?? `HTTP ${answer.status}`;
    if (EXPIRED_CODES.has(code)) {
      throw new CredentialValidationError(
        'expired',
        `Alibaba Cloud reports the access key as expired (${code})`,
      );
    }
    if (INVALID_CODES.has(code)) {
      throw new CredentialValidationError(
        'invalid_credentials',
        `Alibaba Cloud did not accept the access key (${code})`,
      );
    }
    if (CLOCK_CODES.has(code)) {
      throw new CredentialValidationError(
        'provider_unreachable',
        `Alibaba Cloud STS refused the request's timestamp or nonce (${code}); the platform clock may be off`,
      );
    }
    if (answer.status === 403 || code.startsWith('Forbidden') || code === 'NoPermission') {
      throw new CredentialValidationError(
        'access_denied',
        `Alibaba Cloud denied GetCallerIdentity to the access key (${code})`,
      );
    }
    const hint = safeProviderText(stringMember(answer.json, 'Message'), secretValuesOf(credentials));
    throw new CredentialValidationError(
      'invalid_credentials',
      `Alibaba Cloud STS refused the access key (${code})${hint ? `: ${hint}` : ''}`,
    );
  }

  offlineAccountNumber(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): OfflineAccountNumber {
    const key = readKey(this.provider, credentialType, credentials);
    // An access key does not name its account: keep a declared one, else a stable hash of the key id.
    const declared = context.declaredAccountNumber ?? undefined;
    if (declared) return { accountNumber: declared, derivedFromKey: false };
    return { accountNumber: offlineKeyHash(this.provider, key.accessKeyId), derivedFromKey: true };
  }
}

function readKey(
  provider: 'alicloud',
  credentialType: string,
  credentials: Record<string, unknown>,
): { accessKeyId: string; accessKeySecret: string } {
  if (credentialType !== 'alicloud_access_key') throw unsupportedCredentialType(provider, credentialType);
  return {
    accessKeyId: requireString(credentials, 'access_key_id'),
    accessKeySecret: requireString(credentials, 'access_key_secret'),
  };
}

/**
 * RFC 3986 percent-encoding as the RPC signature requires: everything but A-Z a-z 0-9 - _ . ~ is
 * encoded, spaces as %20 (never +), `*` as %2A.
 */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Parameters sorted by name (byte order), each `name=value` percent-encoded, joined with `&`. */
function canonicalQuery(parameters: Record<string, string>): string {
  return Object.keys(parameters)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(parameters[name] ?? '')}`)
    .join('&');
}

/**
 * `StringToSign = METHOD & percentEncode("/") & percentEncode(canonicalQuery)`, signed with
 * HMAC-SHA1 under `AccessKeySecret + "&"`, base64.
 */
function rpcSignature(method: 'GET' | 'POST', parameters: Record<string, string>, secret: string): string {
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(parameters))}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}
