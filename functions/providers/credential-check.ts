import { createHash } from 'node:crypto';
import type { ProviderType } from '../../schemas/common';
import {
  CredentialValidationError,
  type ProviderValidationContext,
  type ProviderValidator,
} from '../core/ports/provider-validator';

/**
 * One provider's live check, as the registry sees it: the credential types it handles, the live
 * validation (the `ProviderValidator` port) and the offline derivation of the account number used by
 * the local "validate offline" setting. Both run the same local checks first (required fields,
 * external id, declared account), so offline mode refuses what the live check would refuse without
 * the network.
 */
export interface CredentialCheck extends ProviderValidator {
  readonly provider: ProviderType;
  readonly credentialTypes: readonly string[];
  /** The account number the credentials name, after the local checks; no network call. */
  offlineAccountNumber(
    credentialType: string,
    credentials: Record<string, unknown>,
    context: ProviderValidationContext,
  ): OfflineAccountNumber;
}

export interface OfflineAccountNumber {
  accountNumber: string;
  /**
   * True when the credentials do not name the account (access keys) and the number is a stable
   * hash of the key id instead: it cannot be compared with a declared account number.
   */
  derivedFromKey: boolean;
}

/** A required credential field as a non-empty string (the legacy snake_case field names). */
export function requireString(credentials: Record<string, unknown>, field: string): string {
  const value = credentials[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CredentialValidationError('malformed', `credentials.${field} is required (a non-empty string)`);
  }
  return value.trim();
}

/** An optional credential field: undefined when absent or empty, an error when not a string. */
export function optionalString(credentials: Record<string, unknown>, field: string): string | undefined {
  const value = credentials[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new CredentialValidationError('malformed', `credentials.${field} must be a string when given`);
  }
  return value.trim() === '' ? undefined : value.trim();
}

export function unsupportedCredentialType(
  provider: ProviderType,
  credentialType: string,
): CredentialValidationError {
  return new CredentialValidationError(
    'not_supported',
    `the ${provider} validator does not handle credentials of type ${JSON.stringify(credentialType.slice(0, 64))}`,
  );
}

/**
 * A stable stand-in account number for offline mode when the credentials do not name the account:
 * `<provider>-offline-<16 hex>` from a SHA-256 of the key id (one-way: the key id is not revealed).
 */
export function offlineKeyHash(provider: ProviderType, keyId: string): string {
  const digest = createHash('sha256').update(`threat-engine-offline:${provider}:${keyId}`).digest('hex');
  return `${provider}-offline-${digest.slice(0, 16)}`;
}

/** Account identifiers compare case-insensitively (Azure GUIDs come in both cases). */
export function sameAccount(left: string, right: string): boolean {
  return left.trim().toLowerCase() === right.trim().toLowerCase();
}

/**
 * Every string leaf of the credentials (four characters or more), longest first, so provider text
 * can be scrubbed of anything the provider might echo back.
 */
export function secretValuesOf(credentials: Record<string, unknown>): string[] {
  const values = new Set<string>();
  const visit = (value: unknown, depth: number) => {
    if (depth > 8) return;
    if (typeof value === 'string') {
      if (value.length >= 4) values.add(value);
      // A JSON document (a GCP key file) holds secrets inside one string: visit its leaves too.
      if (value.trimStart().startsWith('{')) {
        try {
          visit(JSON.parse(value), depth + 1);
        } catch {
          // Not JSON after all: the string itself is already listed.
        }
      }
    } else if (value && typeof value === 'object') {
      for (const item of Object.values(value)) visit(item, depth + 1);
    }
  };
  visit(credentials, 0);
  return [...values].sort((a, b) => b.length - a.length);
}
