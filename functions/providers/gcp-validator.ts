import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
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
  requireString,
  secretValuesOf,
  unsupportedCredentialType,
} from './credential-check';
import { type ProviderHttp, safeCode, safeProviderText, stringMember } from './provider-http';

export interface GcpValidatorOptions {
  http: ProviderHttp;
  /**
   * The only token endpoint used, whatever `token_uri` the key file names: a submitted key file
   * must not be able to send a signed assertion (or us) to a host of its choosing.
   */
  tokenEndpoint: string;
  /** Cloud Resource Manager, e.g. `https://cloudresourcemanager.googleapis.com`. */
  resourceManagerEndpoint: string;
  clock?: Clock;
}

export const GCP_VALIDATION_SCOPE = 'https://www.googleapis.com/auth/cloud-platform.read-only';
export const GCP_JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;

interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | undefined;
}

/**
 * GCP: an RS256 JWT assertion signed with the service account's key, exchanged for an access token
 * at the configured token endpoint, then the project read with it. The canonical account number
 * is the project id.
 */
export class GcpValidator implements CredentialCheck {
  readonly provider = 'gcp' as const;
  readonly credentialTypes = ['gcp_service_account'] as const;
  readonly #http: ProviderHttp;
  readonly #tokenEndpoint: string;
  readonly #resourceManager: string;
  readonly #clock: Clock;

  constructor(options: GcpValidatorOptions) {
    this.#http = options.http;
    this.#tokenEndpoint = options.tokenEndpoint;
    this.#resourceManager = options.resourceManagerEndpoint;
    this.#clock = options.clock ?? systemClock;
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    _context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    const account = readServiceAccount(this.provider, credentialType, credentials);
    const secrets = secretValuesOf(credentials);
    const token = await this.#token(account, secrets);
    return { accountNumber: await this.#project(account.projectId, token, secrets), validatedOffline: false };
  }

  offlineAccountNumber(credentialType: string, credentials: Record<string, unknown>): OfflineAccountNumber {
    return {
      accountNumber: readServiceAccount(this.provider, credentialType, credentials).projectId,
      derivedFromKey: false,
    };
  }

  #assertion(account: ServiceAccount): string {
    const issuedAt = Math.floor(this.#clock().getTime() / 1000);
    const header = {
      alg: 'RS256',
      typ: 'JWT',
      ...(account.privateKeyId ? { kid: account.privateKeyId } : {}),
    };
    const claims = {
      iss: account.clientEmail,
      sub: account.clientEmail,
      scope: GCP_VALIDATION_SCOPE,
      aud: this.#tokenEndpoint,
      iat: issuedAt,
      exp: issuedAt + ASSERTION_LIFETIME_SECONDS,
    };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(unsigned), account.privateKey);
    return `${unsigned}.${signature.toString('base64url')}`;
  }

  async #token(account: ServiceAccount, secrets: readonly string[]): Promise<string> {
    const answer = await this.#http.send({
      service: 'Google OAuth',
      method: 'POST',
      url: this.#tokenEndpoint,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: GCP_JWT_BEARER_GRANT,
        assertion: this.#assertion(account),
      }).toString(),
    });
    if (answer.status === 200) {
      const token = stringMember(answer.json, 'access_token');
      if (token) return token;
      throw new CredentialValidationError(
        'provider_unreachable',
        `Google OAuth at ${answer.host} answered the token request without an access token`,
      );
    }
    const error = safeCode(stringMember(answer.json, 'error')) ?? `HTTP ${answer.status}`;
    const description = safeProviderText(stringMember(answer.json, 'error_description'), secrets);
    const detail = description ? `${error}: ${description}` : error;
    throw new CredentialValidationError(
      'invalid_credentials',
      `Google did not accept the service account key of ${account.clientEmail} (${detail})`,
    );
  }

  async #project(projectId: string, token: string, secrets: readonly string[]): Promise<string> {
    const answer = await this.#http.send({
      service: 'Google Cloud Resource Manager',
      method: 'GET',
      url: `${this.#resourceManager}/v1/projects/${encodeURIComponent(projectId)}`,
      headers: { authorization: `Bearer ${token}` },
    });
    const errorBody =
      answer.json && typeof answer.json === 'object' ? (answer.json as { error?: unknown }).error : undefined;
    const code = safeCode(stringMember(errorBody, 'status')) ?? `HTTP ${answer.status}`;
    if (answer.status === 200) {
      const reported = stringMember(answer.json, 'projectId');
      if (!reported) {
        throw new CredentialValidationError(
          'provider_unreachable',
          `Google Cloud Resource Manager at ${answer.host} answered without a project id`,
        );
      }
      if (reported !== projectId) {
        throw new CredentialValidationError(
          'account_mismatch',
          `Google answered for project ${reported}, not the key file's project_id ${projectId}`,
        );
      }
      const state = safeCode(stringMember(answer.json, 'lifecycleState'));
      if (state && state !== 'ACTIVE') {
        throw new CredentialValidationError('access_denied', `project ${projectId} is ${state}, not ACTIVE`);
      }
      return reported;
    }
    if (answer.status === 401) {
      throw new CredentialValidationError(
        'invalid_credentials',
        `Google Cloud Resource Manager did not accept the service account's token (${code})`,
      );
    }
    if (answer.status === 403) {
      throw new CredentialValidationError(
        'access_denied',
        `project ${projectId} is not visible to the service account (${code}): grant it roles/viewer (resourcemanager.projects.get) on the project`,
      );
    }
    if (answer.status === 404) {
      throw new CredentialValidationError(
        'account_mismatch',
        `project ${projectId} does not exist (${code})`,
      );
    }
    const hint = safeProviderText(stringMember(errorBody, 'message'), secrets);
    throw new CredentialValidationError(
      'invalid_credentials',
      `Google Cloud Resource Manager refused to read project ${projectId} (${code})${hint ? `: ${hint}` : ''}`,
    );
  }
}

function readServiceAccount(
  provider: 'gcp',
  credentialType: string,
  credentials: Record<string, unknown>,
): ServiceAccount {
  if (credentialType !== 'gcp_service_account') throw unsupportedCredentialType(provider, credentialType);
  const raw = credentials.service_account_json;
  let document: unknown = raw;
  if (typeof raw === 'string') {
    try {
      document = JSON.parse(raw);
    } catch {
      throw new CredentialValidationError('malformed', 'credentials.service_account_json is not valid JSON');
    }
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.service_account_json is required (the service account key file, as JSON text or an object)',
    );
  }
  const keyFile = document as Record<string, unknown>;
  const type = keyFile.type;
  if (type !== undefined && type !== 'service_account') {
    throw new CredentialValidationError(
      'malformed',
      'credentials.service_account_json.type must be service_account (a service account key file)',
    );
  }
  const field = (name: string) => {
    try {
      return requireString(keyFile, name);
    } catch {
      throw new CredentialValidationError(
        'malformed',
        `credentials.service_account_json.${name} is required`,
      );
    }
  };
  const projectId = field('project_id');
  const clientEmail = field('client_email');
  const pem = field('private_key');
  const privateKeyId =
    typeof keyFile.private_key_id === 'string' && /^[\w-]{1,128}$/.test(keyFile.private_key_id)
      ? keyFile.private_key_id
      : undefined;
  if (!/^[^\s@]+@[^\s@]+$/.test(clientEmail) || clientEmail.length > 320) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.service_account_json.client_email is not an email address',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new CredentialValidationError(
      'malformed',
      'credentials.service_account_json.private_key is not a readable PEM private key',
    );
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new CredentialValidationError(
      'malformed',
      'credentials.service_account_json.private_key must be an RSA key',
    );
  }
  return { projectId, clientEmail, privateKey, privateKeyId };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
