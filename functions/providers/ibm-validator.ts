import { decodeJwt } from 'jose';
import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
} from '../core/ports/provider-validator';
import {
  type CredentialCheck,
  type OfflineAccountNumber,
  offlineKeyHash,
  optionalString,
  requireString,
  sameAccount,
  secretValuesOf,
  unsupportedCredentialType,
} from './credential-check';
import { member, type ProviderHttp, safeCode, safeProviderText, stringMember } from './provider-http';

export interface IbmValidatorOptions {
  http: ProviderHttp;
  /** IBM Cloud IAM, e.g. `https://iam.cloud.ibm.com`. */
  iamEndpoint: string;
  /** The Resource Controller / Resource Manager API, e.g. `https://resource-controller.cloud.ibm.com`. */
  resourceControllerEndpoint: string;
}

export const IBM_APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

const ACCOUNT_ID = /^[0-9a-f]{32}$/i;

/**
 * IBM Cloud: an IAM access token for the API key, then the account's resource groups listed with
 * it. The canonical account number is the account id (the resource groups' `account_id`, else the
 * token's `account.bss` claim); a declared `account_id` must match it.
 */
export class IbmValidator implements CredentialCheck {
  readonly provider = 'ibm' as const;
  readonly credentialTypes = ['ibm_api_key'] as const;
  readonly #http: ProviderHttp;
  readonly #iam: string;
  readonly #resourceController: string;

  constructor(options: IbmValidatorOptions) {
    this.#http = options.http;
    this.#iam = options.iamEndpoint;
    this.#resourceController = options.resourceControllerEndpoint;
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    _context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    const key = readKey(this.provider, credentialType, credentials);
    const secrets = secretValuesOf(credentials);
    const token = await this.#token(key.apiKey, secrets);
    const claimed = accountFromToken(token);
    const listed = await this.#resourceGroupsAccount(token, claimed, secrets);
    const accountId = listed ?? claimed;
    if (!accountId) {
      throw new CredentialValidationError(
        'provider_unreachable',
        'IBM Cloud answered without naming the account of the API key (no resource group, no account claim)',
      );
    }
    if (key.accountId && !sameAccount(key.accountId, accountId)) {
      throw new CredentialValidationError(
        'account_mismatch',
        `the API key belongs to IBM Cloud account ${accountId}, not the declared account_id ${key.accountId}`,
      );
    }
    return { accountNumber: accountId, validatedOffline: false };
  }

  offlineAccountNumber(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): OfflineAccountNumber {
    const key = readKey(this.provider, credentialType, credentials);
    const declared = key.accountId ?? context.declaredAccountNumber ?? undefined;
    if (declared) return { accountNumber: declared, derivedFromKey: false };
    return { accountNumber: offlineKeyHash(this.provider, key.apiKey), derivedFromKey: true };
  }

  async #token(apiKey: string, secrets: readonly string[]): Promise<string> {
    const answer = await this.#http.send({
      service: 'IBM Cloud IAM',
      method: 'POST',
      url: `${this.#iam}/identity/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: IBM_APIKEY_GRANT, apikey: apiKey }).toString(),
    });
    if (answer.status === 200) {
      const token = stringMember(answer.json, 'access_token');
      if (token) return token;
      throw new CredentialValidationError(
        'provider_unreachable',
        `IBM Cloud IAM at ${answer.host} answered the token request without an access token`,
      );
    }
    const code =
      safeCode(stringMember(answer.json, 'errorCode')) ??
      safeCode(stringMember(answer.json, 'code')) ??
      `HTTP ${answer.status}`;
    const description = safeProviderText(stringMember(answer.json, 'errorMessage'), secrets);
    const detail = description ? `${code}: ${description}` : code;
    if (description && /expired/i.test(description)) {
      throw new CredentialValidationError(
        'expired',
        `IBM Cloud IAM reports the API key as expired (${detail})`,
      );
    }
    if (answer.status === 403) {
      throw new CredentialValidationError(
        'access_denied',
        `IBM Cloud IAM refused a token for the API key (${detail})`,
      );
    }
    throw new CredentialValidationError(
      'invalid_credentials',
      `IBM Cloud IAM did not accept the API key (${detail})`,
    );
  }

  async #resourceGroupsAccount(
    token: string,
    claimed: string | undefined,
    secrets: readonly string[],
  ): Promise<string | undefined> {
    const query = claimed ? `?account_id=${encodeURIComponent(claimed)}` : '';
    const answer = await this.#http.send({
      service: 'IBM Cloud Resource Manager',
      method: 'GET',
      url: `${this.#resourceController}/v2/resource_groups${query}`,
      headers: { authorization: `Bearer ${token}` },
    });
    if (answer.status === 200) {
      const resources = member(answer.json, 'resources');
      if (!Array.isArray(resources)) {
        throw new CredentialValidationError(
          'provider_unreachable',
          `IBM Cloud Resource Manager at ${answer.host} answered without a resource group list`,
        );
      }
      const accountId = stringMember(resources[0], 'account_id');
      return accountId && ACCOUNT_ID.test(accountId) ? accountId : undefined;
    }
    const firstError = Array.isArray(member(answer.json, 'errors'))
      ? (member(answer.json, 'errors') as unknown[])[0]
      : undefined;
    const code =
      safeCode(stringMember(firstError, 'code')) ??
      safeCode(stringMember(answer.json, 'code')) ??
      `HTTP ${answer.status}`;
    if (answer.status === 401) {
      throw new CredentialValidationError(
        'invalid_credentials',
        `IBM Cloud Resource Manager did not accept the API key's token (${code})`,
      );
    }
    if (answer.status === 403) {
      throw new CredentialValidationError(
        'access_denied',
        `the API key may not list the account's resource groups (${code}): grant it Viewer on the account's resource groups`,
      );
    }
    const hint = safeProviderText(stringMember(firstError, 'message'), secrets);
    throw new CredentialValidationError(
      'invalid_credentials',
      `IBM Cloud Resource Manager refused to list resource groups (${code})${hint ? `: ${hint}` : ''}`,
    );
  }
}

function readKey(
  provider: 'ibm',
  credentialType: string,
  credentials: Record<string, unknown>,
): { apiKey: string; accountId: string | undefined } {
  if (credentialType !== 'ibm_api_key') throw unsupportedCredentialType(provider, credentialType);
  const apiKey = requireString(credentials, 'api_key');
  const accountId = optionalString(credentials, 'account_id');
  if (accountId !== undefined && !ACCOUNT_ID.test(accountId)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.account_id must be a 32-character IBM Cloud account id',
    );
  }
  return { apiKey, accountId };
}

/**
 * The `account.bss` claim of the IAM token. The token came straight from the configured IAM
 * endpoint over TLS, so it is read, not verified; it only names the account to compare with.
 */
function accountFromToken(token: string): string | undefined {
  try {
    const account = decodeJwt(token).account;
    const bss = member(account, 'bss');
    return typeof bss === 'string' && ACCOUNT_ID.test(bss) ? bss : undefined;
  } catch {
    return undefined;
  }
}
