import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { TimestampSchema } from '../../../schemas/common';
import type { Clock } from '../clock';
import { type FieldIssue, SecretExpiredError, ValidationError } from '../errors';

/**
 * The secret store port: where account credentials live, by reference. Workflows, tables and
 * logs carry the secret *name* and a *version id*, never the value.
 *
 * Lifecycle of one credential version (the same on every target):
 *   stage (pending) → validated by the caller → promote (current) | discard (label dropped).
 * Nothing becomes current without a promote, so unvalidated credentials are never used by scans.
 */

/** The legacy JSON value of a secret, stored as-is (timestamps normalized to ISO-8601 UTC `Z`). */
export const SecretPayloadSchema = z.object({
  credential_type: z.string().check(z.minLength(1, 'must not be empty')),
  credentials: z
    .record(z.string(), z.unknown(), { error: 'must be an object of credential fields' })
    .check(z.refine((value) => Object.keys(value).length > 0, 'must hold at least one credential field')),
  account_id: z.string().check(z.minLength(1, 'must not be empty')),
  created_at: TimestampSchema,
  // Legacy values always wrote the key; tolerate its absence as "never expires".
  expires_at: z.pipe(
    z.nullish(TimestampSchema),
    z.transform((value) => value ?? null),
  ),
});

export type SecretPayload = z.infer<typeof SecretPayloadSchema>;

export type SecretStage = 'current' | 'pending';

export interface SecretVersionRef {
  secretName: string;
  versionId: string;
}

export interface SecretReadOptions {
  /** The label to read; `current` when neither this nor `versionId` is given. */
  stage?: SecretStage;
  /** One exact version; combined with `stage`, the version must also hold that label. */
  versionId?: string;
}

export type StoredSecret = SecretPayload & { versionId: string };

export interface SecretDescription {
  secretName: string;
  currentVersionId?: string;
  pendingVersionId?: string;
  /** Set while the secret is scheduled for deletion (ISO-8601 UTC). */
  scheduledDeletionAt?: string;
}

export interface SecretStore {
  /** `{prefix}/account/{accountId}` — what workflows and tables carry instead of a value. */
  secretNameFor(accountId: string): string;
  /**
   * Stores new credentials under the pending label only (never replaces the current ones).
   * Idempotent: the same `requestToken` returns the same version and writes nothing twice.
   * Restores a secret scheduled for deletion instead of failing; the restored secret has no
   * current credentials (deleted credentials never come back by themselves). Creates the secret
   * when missing.
   */
  stage(accountId: string, payload: SecretPayload, requestToken: string): Promise<SecretVersionRef>;
  /**
   * Moves the current label to a staged version and drops its pending label. Idempotent; throws
   * InvalidTransitionError when the version is neither pending nor current (discarded, superseded
   * by a newer stage, or unknown: Secrets Manager cannot tell those apart without listing
   * deprecated versions), SecretNotFoundError when the secret does not exist or is being deleted.
   */
  promote(accountId: string, versionId: string): Promise<void>;
  /**
   * Removes the pending label from a staged version that failed validation; the current version
   * is untouched. A no-op when the version no longer holds the label or the secret is gone.
   */
  discard(accountId: string, versionId: string): Promise<void>;
  /**
   * Reads the credentials under a stage (or one exact version). Throws SecretNotFoundError,
   * SecretExpiredError (honours `expires_at` by the injected clock). Current reads are cached in
   * memory for a short TTL and invalidated by this instance's own writes.
   */
  read(accountId: string, options?: SecretReadOptions): Promise<StoredSecret>;
  /** Which versions hold current/pending and the deletion state, without reading the value. */
  describe(accountId: string): Promise<SecretDescription | undefined>;
  /** Schedules deletion after a recovery window (default 7 days, 7..30). Idempotent. */
  scheduleDeletion(accountId: string, recoveryWindowDays?: number): Promise<{ deletionDate: string }>;
  /** A cheap real round trip for health checks. */
  checkHealth(): Promise<void>;
}

/** Staging labels, shared by every implementation so the vault mirrors Secrets Manager. */
export const SECRET_LABELS = {
  current: 'AWSCURRENT',
  previous: 'AWSPREVIOUS',
  /** AWSPENDING is reserved for Secrets Manager rotation; ours is a custom label. */
  pending: 'THREAT_ENGINE_PENDING',
} as const;

export const DEFAULT_SECRET_CACHE_TTL_MS = 30_000;
export const DEFAULT_RECOVERY_WINDOW_DAYS = 7;

/** Secrets Manager names allow `A-Za-z0-9/_+=.@-`; account ids are a strict subset of that. */
const ACCOUNT_ID_IN_SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Secrets Manager version ids / client request tokens: 32..64 characters. */
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

export function secretNameFor(prefix: string, accountId: string): string {
  if (!ACCOUNT_ID_IN_SECRET_NAME.test(accountId)) {
    throw new ValidationError('accountId cannot be used in a secret name', [
      {
        field: 'accountId',
        message: 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
      },
    ]);
  }
  return `${prefix}/account/${accountId}`;
}

/**
 * The version id of a stage request: deterministic, so a retried request maps to the same
 * version (Secrets Manager's ClientRequestToken idempotency). UUID-shaped (RFC 9562 version 8,
 * SHA-256 name-based), 36 characters, within the 32..64 the API accepts.
 */
export function versionIdFor(accountId: string, requestToken: string): string {
  if (requestToken.length === 0 || requestToken.length > 512) {
    throw new ValidationError('requestToken is invalid', [
      { field: 'requestToken', message: 'must be 1-512 characters' },
    ]);
  }
  const digest = createHash('sha256').update(`${accountId}\u0000${requestToken}`).digest();
  digest.writeUInt8(((digest.readUInt8(6) & 0x0f) | 0x80) >>> 0, 6);
  digest.writeUInt8(((digest.readUInt8(8) & 0x3f) | 0x80) >>> 0, 8);
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function assertVersionId(versionId: string): void {
  if (!VERSION_ID.test(versionId)) {
    throw new ValidationError('versionId is invalid', [
      { field: 'versionId', message: 'must be 32-64 letters, digits or "-"' },
    ]);
  }
}

export function assertRecoveryWindow(days: number): void {
  if (!Number.isInteger(days) || days < 7 || days > 30) {
    throw new ValidationError('recoveryWindowDays is out of range', [
      { field: 'recoveryWindowDays', message: 'must be a whole number of days from 7 to 30' },
    ]);
  }
}

/**
 * Parses a secret value (object form). Issues name fields only: no message ever repeats a value,
 * since the value is a credential.
 */
export function validateSecretPayload(value: unknown): SecretPayload {
  const result = SecretPayloadSchema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(value)',
    message: issue.message,
  }));
  throw new ValidationError(
    `secret payload is invalid: ${issues.map((issue) => issue.field).join(', ')}`,
    issues,
  );
}

/** Validates a payload about to be stored for `accountId` (its `account_id` must match). */
export function validatePayloadFor(accountId: string, payload: unknown): SecretPayload {
  const parsed = validateSecretPayload(payload);
  if (parsed.account_id !== accountId) {
    throw new ValidationError('secret payload belongs to another account', [
      { field: 'account_id', message: `must equal the account id ${accountId}` },
    ]);
  }
  return parsed;
}

/**
 * Parses a stored secret string. JSON.parse errors quote the input, so neither their message nor
 * the error itself (as a cause) may travel: the input is a credential.
 */
export function parseStoredSecret(accountId: string, secretString: string | undefined): SecretPayload {
  if (secretString === undefined) {
    throw new ValidationError(`stored secret of account ${accountId} holds no text value`, [
      { field: 'SecretString', message: 'must be present' },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new ValidationError(`stored secret of account ${accountId} is not valid JSON`, [
      { field: 'SecretString', message: 'must be a JSON object' },
    ]);
  }
  try {
    return validatePayloadFor(accountId, json);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ValidationError(`stored secret of account ${accountId} is malformed`, error.issues);
    }
    throw error;
  }
}

/** Refuses credentials whose `expires_at` has passed by the injected clock. */
export function assertNotExpired(accountId: string, payload: SecretPayload, now: Date): void {
  if (payload.expires_at === null) return;
  const expiresAt = Date.parse(payload.expires_at);
  if (expiresAt <= now.getTime()) throw new SecretExpiredError(accountId, payload.expires_at);
}

/**
 * The short in-memory cache of current reads that both implementations share. Entries hold the
 * parsed payload in process memory only; expiry is checked on every read, cached or not.
 */
export class CurrentSecretCache {
  readonly #entries = new Map<string, { value: StoredSecret; fetchedAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number = DEFAULT_SECRET_CACHE_TTL_MS,
  ) {
    if (!Number.isFinite(ttlMs) || ttlMs < 0) {
      throw new ValidationError('cacheTtlMs is invalid', [
        { field: 'cacheTtlMs', message: 'must be a non-negative number of milliseconds' },
      ]);
    }
  }

  get(accountId: string): StoredSecret | undefined {
    const entry = this.#entries.get(accountId);
    if (!entry) return undefined;
    if (this.clock().getTime() - entry.fetchedAt >= this.ttlMs) {
      this.#entries.delete(accountId);
      return undefined;
    }
    return entry.value;
  }

  set(accountId: string, value: StoredSecret): void {
    if (this.ttlMs === 0) return;
    this.#entries.set(accountId, { value, fetchedAt: this.clock().getTime() });
  }

  invalidate(accountId: string): void {
    this.#entries.delete(accountId);
  }
}
