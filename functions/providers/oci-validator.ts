import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
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
  optionalString,
  requireString,
  secretValuesOf,
  unsupportedCredentialType,
} from './credential-check';
import { type ProviderHttp, safeCode, safeProviderText, stringMember } from './provider-http';

export interface OciValidatorOptions {
  http: ProviderHttp;
  /**
   * The Identity endpoint; `{region}` is replaced by the credentials' region, e.g.
   * `https://identity.{region}.oraclecloud.com`.
   */
  identityEndpoint: string;
  clock?: Clock;
}

export const OCI_IDENTITY_API_VERSION = '20160918';
/** The signed headers, in signing order (OCI's documented set for a GET). */
export const OCI_SIGNED_HEADERS = ['date', '(request-target)', 'host'] as const;

const REGION = /^[a-z]{2,3}(?:-[a-z]+)+-\d{1,2}$/;
const USER_OCID = /^ocid1\.user\.[a-z0-9-]+\.[a-z0-9-]*\.[a-z0-9]+$/i;
const TENANCY_OCID = /^ocid1\.tenancy\.[a-z0-9-]+\.[a-z0-9-]*\.[a-z0-9]+$/i;
const FINGERPRINT = /^(?:[0-9a-f]{2}:){15}[0-9a-f]{2}$/i;

interface UserPrincipal {
  userOcid: string;
  tenancyOcid: string;
  fingerprint: string;
  region: string;
  privateKey: KeyObject;
}

/**
 * OCI: GetUser on the user itself, signed with the OCI HTTP Signature scheme (draft-cavage,
 * rsa-sha256 over `date (request-target) host`, keyId `tenancy/user/fingerprint`). The user must
 * live in the declared tenancy; the canonical account number is the tenancy OCID. The fingerprint
 * is checked against the private key before any call.
 */
export class OciValidator implements CredentialCheck {
  readonly provider = 'oci' as const;
  readonly credentialTypes = ['oci_user_principal'] as const;
  readonly #http: ProviderHttp;
  readonly #identity: string;
  readonly #clock: Clock;

  constructor(options: OciValidatorOptions) {
    this.#http = options.http;
    this.#identity = options.identityEndpoint;
    this.#clock = options.clock ?? systemClock;
  }

  async validate(
    credentialType: string,
    credentials: Record<string, unknown>,
    _context: ProviderValidationContext,
  ): Promise<ProviderValidationResult> {
    const principal = readPrincipal(this.provider, credentialType, credentials);
    const base = this.#identity.replaceAll('{region}', principal.region);
    const path = `/${OCI_IDENTITY_API_VERSION}/users/${encodeURIComponent(principal.userOcid)}`;
    const url = new URL(`${base}${path}`);
    const date = this.#clock().toUTCString();
    const signingString = [
      `date: ${date}`,
      `(request-target): get ${url.pathname}${url.search}`,
      `host: ${url.host}`,
    ].join('\n');
    const signature = sign('sha256', Buffer.from(signingString), principal.privateKey).toString('base64');
    const keyId = `${principal.tenancyOcid}/${principal.userOcid}/${principal.fingerprint}`;
    const answer = await this.#http.send({
      service: 'OCI Identity',
      method: 'GET',
      url: url.toString(),
      headers: {
        date,
        authorization:
          `Signature version="1",keyId="${keyId}",algorithm="rsa-sha256",` +
          `headers="${OCI_SIGNED_HEADERS.join(' ')}",signature="${signature}"`,
      },
    });
    const code = safeCode(stringMember(answer.json, 'code')) ?? `HTTP ${answer.status}`;
    if (answer.status === 200) {
      const compartmentId = stringMember(answer.json, 'compartmentId');
      if (!compartmentId) {
        throw new CredentialValidationError(
          'provider_unreachable',
          `OCI Identity at ${answer.host} answered GetUser without the user's tenancy`,
        );
      }
      if (compartmentId !== principal.tenancyOcid) {
        throw new CredentialValidationError(
          'account_mismatch',
          `user ${principal.userOcid} belongs to tenancy ${compartmentId}, not the declared tenancy_ocid ${principal.tenancyOcid}`,
        );
      }
      return { accountNumber: principal.tenancyOcid, validatedOffline: false };
    }
    if (answer.status === 401) {
      throw new CredentialValidationError(
        'invalid_credentials',
        `OCI did not accept the API signing key (${code}): check the user, tenancy, fingerprint and that the public key is uploaded`,
      );
    }
    if (answer.status === 404 || answer.status === 403) {
      throw new CredentialValidationError(
        'access_denied',
        `OCI could not find user ${principal.userOcid} or refused to show it (${code}) in region ${principal.region}`,
      );
    }
    const hint = safeProviderText(stringMember(answer.json, 'message'), secretValuesOf(credentials));
    throw new CredentialValidationError(
      'invalid_credentials',
      `OCI Identity refused GetUser for ${principal.userOcid} (${code})${hint ? `: ${hint}` : ''}`,
    );
  }

  offlineAccountNumber(credentialType: string, credentials: Record<string, unknown>): OfflineAccountNumber {
    return {
      accountNumber: readPrincipal(this.provider, credentialType, credentials).tenancyOcid,
      derivedFromKey: false,
    };
  }
}

/** OCI's key fingerprint: the MD5 of the DER public key (SubjectPublicKeyInfo), as colon hex. */
export function ociKeyFingerprint(privateKey: KeyObject): string {
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return createHash('md5').update(der).digest('hex').match(/../g)?.join(':') ?? '';
}

function readPrincipal(
  provider: 'oci',
  credentialType: string,
  credentials: Record<string, unknown>,
): UserPrincipal {
  if (credentialType !== 'oci_user_principal') throw unsupportedCredentialType(provider, credentialType);
  const userOcid = requireString(credentials, 'user_ocid');
  const tenancyOcid = requireString(credentials, 'tenancy_ocid');
  const fingerprint = requireString(credentials, 'fingerprint').toLowerCase();
  const region = requireString(credentials, 'region');
  const pem = requireString(credentials, 'private_key');
  const passphrase = optionalString(credentials, 'passphrase');
  if (!USER_OCID.test(userOcid)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.user_ocid must be a user OCID (ocid1.user.…)',
    );
  }
  if (!TENANCY_OCID.test(tenancyOcid)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.tenancy_ocid must be a tenancy OCID (ocid1.tenancy.…)',
    );
  }
  if (!FINGERPRINT.test(fingerprint)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.fingerprint must be the key fingerprint (16 colon-separated hex pairs)',
    );
  }
  if (!REGION.test(region)) {
    throw new CredentialValidationError(
      'malformed',
      'credentials.region must be an OCI region identifier (e.g. us-ashburn-1)',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) });
  } catch {
    throw new CredentialValidationError(
      'malformed',
      /ENCRYPTED/.test(pem)
        ? 'credentials.private_key is encrypted and could not be decrypted with credentials.passphrase'
        : 'credentials.private_key is not a readable PEM private key',
    );
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new CredentialValidationError('malformed', 'credentials.private_key must be an RSA key');
  }
  if (ociKeyFingerprint(privateKey) !== fingerprint) {
    throw new CredentialValidationError(
      'invalid_credentials',
      "credentials.fingerprint does not match credentials.private_key: it must be the fingerprint of this key's public half",
    );
  }
  return { userOcid, tenancyOcid, fingerprint, region, privateKey };
}
