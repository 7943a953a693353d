import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidationResult,
} from '../core/ports/provider-validator';
import {
  type CredentialCheck,
  type OfflineAccountNumber,
  requireString,
  sameAccount,
  secretValuesOf,
  unsupportedCredentialType,
} from './credential-check';
import { member, type ProviderHttp, safeCode, safeProviderText, stringMember } from './provider-http';

export interface AzureValidatorOptions {
  http: ProviderHttp;
  /** Azure AD (Entra ID) authority, e.g. `https://login.microsoftonline.com`. */
  loginEndpoint: string;
  /** Azure Resource Manager, e.g. `https://management.azure.com`. */
  managementEndpoint: string;
  /** The OAuth2 scope of the management API. Default `https://management.azure.com/.default`. */
  managementScope?: string;
}

export const AZURE_SUBSCRIPTION_API_VERSION = '2022-12-01';
const DEFAULT_SCOPE = 'https://management.azure.com/.default';

/** A tenant is a GUID or a verified domain; anything else would change the token URL's path. */
const TENANT =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9.-]{1,253}\.[a-z]{2,63})$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** AADSTS codes that mean something more precise than "invalid client credentials". */
const AADSTS_EXPIRED = new Set(['7000222']);
const AADSTS_DENIED = new Set(['53003', '7000112', '50057', '50105']);

/**
 * Azure: an OAuth2 client-credentials token from Azure AD for the management API, then the
 * subscription read with it. The canonical account number is the subscription id Azure reports.
 */
export class AzureValidator implements CredentialCheck {
  readonly provider = 'azure' as const;
  readonly credentialTypes = ['azure_service_principal'] as const;
  readonly #http: ProviderHttp;
  readonly #login: string;
  readonly #management: string;
  readonly #scope: string;

  constructor(options: AzureValidatorOptions) {
    this.#http = options.http;
    this.#login = options.loginEndpoint;
    this.#management = options.managementEndpoint;
    this.#scope = options.managementScope ?? DEFAULT_SCOPE;
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    _context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    const principal = readPrincipal(this.provider, credentialType, credentials);
    const secrets = secretValuesOf(credentials);
    const token = await this.#token(principal, secrets);
    const subscriptionId = await this.#subscription(principal.subscriptionId, token, secrets);
    return { accountNumber: subscriptionId, validatedOffline: false };
  }

  offlineAccountNumber(credentialType: string, credentials: Record<string, unknown>): OfflineAccountNumber {
    return {
      accountNumber: readPrincipal(this.provider, credentialType, credentials).subscriptionId,
      derivedFromKey: false,
    };
  }

  async #token(principal: Principal, secrets: readonly string[]): Promise<string> {
    const answer = await this.#http.send({
      service: 'Azure AD',
      method: 'POST',
      url: `${this.#login}/${encodeURIComponent(principal.tenantId)}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: principal.clientId,
        client_secret: principal.clientSecret,
        scope: this.#scope,
      }).toString(),
    });
    if (answer.status === 200) {
      const token = stringMember(answer.json, 'access_token');
      if (token) return token;
      throw new CredentialValidationError(
        'provider_unreachable',
        `Azure AD at ${answer.host} answered the token request without an access token`,
      );
    }
    const error = safeCode(stringMember(answer.json, 'error')) ?? `HTTP ${answer.status}`;
    const aadsts = aadstsCode(answer.json);
    const shown = aadsts ? `${error}, AADSTS${aadsts}` : error;
    const tenant = principal.tenantId;
    if (aadsts && AADSTS_EXPIRED.has(aadsts)) {
      throw new CredentialValidationError(
        'expired',
        `the client secret of the service principal has expired (${shown})`,
      );
    }
    if (aadsts && AADSTS_DENIED.has(aadsts)) {
      throw new CredentialValidationError(
        'access_denied',
        `Azure AD in tenant ${tenant} refused to issue a token to the service principal (${shown})`,
      );
    }
    const hint = safeProviderText(firstLine(stringMember(answer.json, 'error_description')), secrets);
    throw new CredentialValidationError(
      'invalid_credentials',
      `Azure AD in tenant ${tenant} did not accept the client credentials (${shown})` +
        (hint && !aadsts ? `: ${hint}` : ''),
    );
  }

  async #subscription(subscriptionId: string, token: string, secrets: readonly string[]): Promise<string> {
    const answer = await this.#http.send({
      service: 'Azure Resource Manager',
      method: 'GET',
      url:
        `${this.#management}/subscriptions/${encodeURIComponent(subscriptionId)}` +
        `?api-version=${AZURE_SUBSCRIPTION_API_VERSION}`,
      headers: { authorization: `Bearer ${token}` },
    });
    const code = safeCode(stringMember(member(answer.json, 'error'), 'code')) ?? `HTTP ${answer.status}`;
    if (answer.status === 200) {
      const reported = stringMember(answer.json, 'subscriptionId');
      if (!reported || !GUID.test(reported)) {
        throw new CredentialValidationError(
          'provider_unreachable',
          `Azure Resource Manager at ${answer.host} answered without a subscription id`,
        );
      }
      if (!sameAccount(reported, subscriptionId)) {
        throw new CredentialValidationError(
          'account_mismatch',
          `Azure answered for subscription ${reported}, not the requested subscription_id ${subscriptionId}`,
        );
      }
      const state = safeCode(stringMember(answer.json, 'state'));
      if (state && /^(disabled|deleted)$/i.test(state)) {
        throw new CredentialValidationError('access_denied', `subscription ${subscriptionId} is ${state}`);
      }
      return reported;
    }
    if (answer.status === 401) {
      throw new CredentialValidationError(
        'invalid_credentials',
        `Azure Resource Manager did not accept the service principal's token (${code})`,
      );
    }
    if (answer.status === 403) {
      throw new CredentialValidationError(
        'access_denied',
        `the service principal may not read subscription ${subscriptionId} (${code}): assign it the Reader role on the subscription`,
      );
    }
    if (answer.status === 404) {
      throw new CredentialValidationError(
        'account_mismatch',
        `subscription ${subscriptionId} is not visible to this principal (${code}): check subscription_id and tenant_id`,
      );
    }
    const hint = safeProviderText(stringMember(member(answer.json, 'error'), 'message'), secrets);
    throw new CredentialValidationError(
      'invalid_credentials',
      `Azure Resource Manager refused to read subscription ${subscriptionId} (${code})${hint ? `: ${hint}` : ''}`,
    );
  }
}

interface Principal {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  subscriptionId: string;
}

function readPrincipal(
  provider: 'azure',
  credentialType: string,
  credentials: Record<string, unknown>,
): Principal {
  if (credentialType !== 'azure_service_principal') throw unsupportedCredentialType(provider, credentialType);
  const principal = {
    clientId: requireString(credentials, 'client_id'),
    clientSecret: requireString(credentials, 'client_secret'),
    tenantId: requireString(credentials, 'tenant_id'),
    subscriptionId: requireString(credentials, 'subscription_id'),
  };
  if (!TENANT.test(principal.tenantId)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.tenant_id must be a directory (tenant) GUID or a verified domain name',
    );
  }
  if (!GUID.test(principal.subscriptionId)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.subscription_id must be a subscription GUID',
    );
  }
  return principal;
}

/** The AADSTS number: `error_codes[0]`, or the `AADSTSnnnn` prefix of the description. */
function aadstsCode(json: unknown): string | undefined {
  const codes = member(json, 'error_codes');
  if (Array.isArray(codes) && typeof codes[0] === 'number' && Number.isInteger(codes[0]))
    return String(codes[0]);
  const description = stringMember(json, 'error_description');
  return description ? /AADSTS(\d{1,9})/.exec(description)?.[1] : undefined;
}

function firstLine(text: string | undefined): string | undefined {
  return text?.split(/\r?\n/)[0];
}
