import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { type Clock, systemClock } from '../functions/core/clock';
import { ConfigurationError, InvalidTransitionError, SecretNotFoundError } from '../functions/core/errors';
import { ownValue } from '../functions/core/own-property';
import {
  assertNotExpired,
  assertRecoveryWindow,
  assertVersionId,
  CurrentSecretCache,
  DEFAULT_RECOVERY_WINDOW_DAYS,
  parseStoredSecret,
  SECRET_LABELS,
  type SecretDescription,
  type SecretPayload,
  type SecretReadOptions,
  type SecretStore,
  type SecretVersionRef,
  type StoredSecret,
  secretNameFor,
  validatePayloadFor,
  versionIdFor,
} from '../functions/core/ports/secret-store';
import { toIsoUtc } from '../schemas/common';

export interface LocalVaultSecretStoreOptions {
  /** The vault's own directory inside the data directory (created 0700 when missing). */
  directory: string;
  /** SECRETS_MANAGER_PREFIX: names are the same as on AWS. */
  prefix: string;
  clock?: Clock;
  cacheTtlMs?: number;
}

export const VAULT_KEY_FILE = 'vault.key';
export const VAULT_FILE = 'vault.json';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DAY_MS = 86_400_000;

const Base64Schema = z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'));

const VaultVersionSchema = z.object({
  iv: Base64Schema,
  tag: Base64Schema,
  ciphertext: Base64Schema,
  created_at: z.string(),
});

const VaultSecretSchema = z.object({
  created_at: z.string(),
  versions: z.record(z.string(), VaultVersionSchema),
  /** Staging label → version id; a label is on one version at most, as in Secrets Manager. */
  labels: z.record(z.string(), z.string()),
  /** When set, the secret is scheduled for deletion and purged once this instant passes. */
  deletion_date: z.optional(z.string()),
});

const VaultFileSchema = z.object({
  format: z.literal(1),
  secrets: z.record(z.string(), VaultSecretSchema),
});

type VaultFile = z.infer<typeof VaultFileSchema>;
type VaultSecret = z.infer<typeof VaultSecretSchema>;

/** One promise chain per vault file in this process, shared by every instance over that file. */
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(task, task);
  const tail = result.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

function isErrnoError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * The local runtime's secret store: an encrypted vault file in the data directory with the same
 * semantics as Secrets Manager (labels, idempotent request tokens, deletion with a recovery
 * window, restore on re-onboarding). Each version is sealed with AES-256-GCM under `vault.key`
 * (32 random bytes, 0600), a fresh 12-byte IV and the secret name + version id as additional
 * data, so a version cannot be moved to another secret or slot unnoticed. Plaintext exists only
 * in memory. Writes are atomic (temp file + rename) and serialized within the process; the
 * vault is not meant to be shared by two processes at once.
 */
export class LocalVaultSecretStore implements SecretStore {
  readonly #directory: string;
  readonly #keyPath: string;
  readonly #vaultPath: string;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #cache: CurrentSecretCache;
  #key: Promise<Buffer> | undefined;
  /** While a batch runs: the vault held in memory, and whether it changed since it was read. */
  #batch: { vault: VaultFile; dirty: boolean } | undefined;

  constructor(options: LocalVaultSecretStoreOptions) {
    this.#directory = resolve(options.directory);
    this.#keyPath = join(this.#directory, VAULT_KEY_FILE);
    this.#vaultPath = join(this.#directory, VAULT_FILE);
    this.#prefix = options.prefix;
    this.#clock = options.clock ?? systemClock;
    this.#cache = new CurrentSecretCache(this.#clock, options.cacheTtlMs);
  }

  /** Opens (creating when missing) the vault: fails now on a bad key or an unreadable vault. */
  static async open(options: LocalVaultSecretStoreOptions): Promise<LocalVaultSecretStore> {
    const store = new LocalVaultSecretStore(options);
    await store.checkHealth();
    return store;
  }

  secretNameFor(accountId: string): string {
    return secretNameFor(this.#prefix, accountId);
  }

  async stage(accountId: string, payload: SecretPayload, requestToken: string): Promise<SecretVersionRef> {
    const secretName = this.secretNameFor(accountId);
    const plaintext = JSON.stringify(validatePayloadFor(accountId, payload));
    const versionId = versionIdFor(accountId, requestToken);
    const key = await this.#loadKey();
    this.#cache.invalidate(accountId);
    return this.#mutate((vault, now) => {
      let changed = false;
      let secret = ownValue(vault.secrets, secretName);
      if (!secret) {
        secret = { created_at: toIsoUtc(now), versions: {}, labels: {} };
        vault.secrets[secretName] = secret;
        changed = true;
      }
      if (secret.deletion_date !== undefined) {
        // Re-onboarding: cancel the deletion, but the deleted credentials do not become current again.
        delete secret.deletion_date;
        moveCurrent(secret, undefined);
        changed = true;
      }
      if (!ownValue(secret.versions, versionId)) {
        secret.versions[versionId] = {
          ...seal(key, secretName, versionId, plaintext),
          created_at: toIsoUtc(now),
        };
        secret.labels[SECRET_LABELS.pending] = versionId;
        changed = true;
      }
      return { changed, result: { secretName, versionId } };
    });
  }

  async promote(accountId: string, versionId: string): Promise<void> {
    assertVersionId(versionId);
    const secretName = this.secretNameFor(accountId);
    this.#cache.invalidate(accountId);
    await this.#mutate((vault) => {
      const secret = ownValue(vault.secrets, secretName);
      if (!secret || secret.deletion_date !== undefined) throw new SecretNotFoundError(accountId, 'pending');
      const isCurrent = secret.labels[SECRET_LABELS.current] === versionId;
      const isPending = secret.labels[SECRET_LABELS.pending] === versionId;
      if (!isCurrent && !isPending) {
        throw new InvalidTransitionError('secret version', versionId, 'current', ['pending']);
      }
      if (!isCurrent) moveCurrent(secret, versionId);
      if (isPending) delete secret.labels[SECRET_LABELS.pending];
      return { changed: !isCurrent || isPending, result: undefined };
    });
    this.#cache.invalidate(accountId);
  }

  async discard(accountId: string, versionId: string): Promise<void> {
    assertVersionId(versionId);
    const secretName = this.secretNameFor(accountId);
    this.#cache.invalidate(accountId);
    await this.#mutate((vault) => {
      const secret = ownValue(vault.secrets, secretName);
      if (!secret || secret.deletion_date !== undefined) return { changed: false, result: undefined };
      if (secret.labels[SECRET_LABELS.pending] !== versionId) {
        if (secret.labels[SECRET_LABELS.current] === versionId) {
          throw new InvalidTransitionError('secret version', versionId, 'discarded', ['pending']);
        }
        return { changed: false, result: undefined };
      }
      delete secret.labels[SECRET_LABELS.pending];
      return { changed: true, result: undefined };
    });
  }

  async read(accountId: string, options: SecretReadOptions = {}): Promise<StoredSecret> {
    const secretName = this.secretNameFor(accountId);
    if (options.versionId !== undefined) assertVersionId(options.versionId);
    const stage = options.stage ?? (options.versionId === undefined ? 'current' : undefined);
    const cacheable = stage === 'current' && options.versionId === undefined;
    const notFoundStage = stage ?? `version ${options.versionId}`;

    if (cacheable) {
      const cached = this.#cache.get(accountId);
      if (cached) {
        assertNotExpired(accountId, cached, this.#clock());
        return structuredClone(cached);
      }
    }

    const key = await this.#loadKey();
    const { versionId, sealed } = await this.#mutate((vault) => {
      const secret = ownValue(vault.secrets, secretName);
      if (!secret || secret.deletion_date !== undefined)
        throw new SecretNotFoundError(accountId, notFoundStage);
      const labelled = stage ? secret.labels[SECRET_LABELS[stage]] : undefined;
      const chosen = options.versionId ?? labelled;
      if (chosen === undefined || (stage && labelled !== chosen)) {
        throw new SecretNotFoundError(accountId, notFoundStage);
      }
      const version = ownValue(secret.versions, chosen);
      if (!version) throw new SecretNotFoundError(accountId, notFoundStage);
      return { changed: false, result: { versionId: chosen, sealed: version } };
    });
    const payload = parseStoredSecret(accountId, unseal(key, secretName, versionId, sealed, this.#vaultPath));
    const stored: StoredSecret = { ...payload, versionId };
    if (cacheable) this.#cache.set(accountId, structuredClone(stored));
    assertNotExpired(accountId, stored, this.#clock());
    return stored;
  }

  async describe(accountId: string): Promise<SecretDescription | undefined> {
    const secretName = this.secretNameFor(accountId);
    return this.#mutate((vault) => {
      const secret = ownValue(vault.secrets, secretName);
      if (!secret) return { changed: false, result: undefined };
      const currentVersionId = secret.labels[SECRET_LABELS.current];
      const pendingVersionId = secret.labels[SECRET_LABELS.pending];
      return {
        changed: false,
        result: {
          secretName,
          ...(currentVersionId ? { currentVersionId } : {}),
          ...(pendingVersionId ? { pendingVersionId } : {}),
          ...(secret.deletion_date ? { scheduledDeletionAt: secret.deletion_date } : {}),
        },
      };
    });
  }

  async scheduleDeletion(
    accountId: string,
    recoveryWindowDays: number = DEFAULT_RECOVERY_WINDOW_DAYS,
  ): Promise<{ deletionDate: string }> {
    assertRecoveryWindow(recoveryWindowDays);
    const secretName = this.secretNameFor(accountId);
    this.#cache.invalidate(accountId);
    return this.#mutate((vault, now) => {
      const secret = ownValue(vault.secrets, secretName);
      if (!secret) throw new SecretNotFoundError(accountId, 'current');
      if (secret.deletion_date !== undefined) {
        return { changed: false, result: { deletionDate: secret.deletion_date } };
      }
      secret.deletion_date = toIsoUtc(new Date(now.getTime() + recoveryWindowDays * DAY_MS));
      return { changed: true, result: { deletionDate: secret.deletion_date } };
    });
  }

  /**
   * Runs `work` with the vault held in memory: every write inside it changes the in-memory copy and
   * the file is written once at the end (also when `work` throws, so what was stored is kept). For
   * bulk imports (a migration's batch of accounts) the vault file is then rewritten once per batch,
   * not once per secret. Until the batch ends nothing of it is on disk: a caller that records
   * elsewhere that a secret exists does so after the batch.
   */
  async writeBatch<T>(work: () => Promise<T>): Promise<T> {
    if (this.#batch) throw new Error('a vault write batch is already running');
    await serialized(this.#vaultPath, async () => {
      this.#batch = { vault: await this.#readVault(), dirty: false };
    });
    try {
      return await work();
    } finally {
      await serialized(this.#vaultPath, async () => {
        const batch = this.#batch;
        this.#batch = undefined;
        if (batch?.dirty) await this.#writeVault(batch.vault);
      });
    }
  }

  /** The key is present with the right length and the vault file parses. */
  async checkHealth(): Promise<void> {
    await this.#loadKey();
    await serialized(this.#vaultPath, () => this.#readVault());
  }

  #loadKey(): Promise<Buffer> {
    this.#key ??= loadOrCreateKey(this.#directory, this.#keyPath).catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }

  /**
   * Runs `change` on the freshly read vault inside the process-wide queue of this file, after
   * purging secrets whose recovery window has passed; writes the vault back when anything changed.
   */
  #mutate<T>(change: (vault: VaultFile, now: Date) => { changed: boolean; result: T }): Promise<T> {
    return serialized(this.#vaultPath, async () => {
      const batch = this.#batch;
      const vault = batch ? batch.vault : await this.#readVault();
      const now = this.#clock();
      let purged = false;
      for (const [name, secret] of Object.entries(vault.secrets)) {
        if (secret.deletion_date !== undefined && Date.parse(secret.deletion_date) <= now.getTime()) {
          delete vault.secrets[name];
          purged = true;
        }
      }
      const { changed, result } = change(vault, now);
      if (batch) batch.dirty ||= changed || purged;
      else if (changed || purged) await this.#writeVault(vault);
      return result;
    });
  }

  async #readVault(): Promise<VaultFile> {
    let raw: string;
    try {
      raw = await readFile(this.#vaultPath, 'utf8');
    } catch (error) {
      if (isErrnoError(error, 'ENOENT')) return { format: 1, secrets: {} };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ConfigurationError(`the vault file ${this.#vaultPath} is not valid JSON`, [
        { field: VAULT_FILE, message: 'must be a JSON document written by this vault' },
      ]);
    }
    const parsed = VaultFileSchema.safeParse(json);
    if (!parsed.success) {
      throw new ConfigurationError(`the vault file ${this.#vaultPath} has an unexpected shape`, [
        {
          field: VAULT_FILE,
          message: parsed.error.issues.map((issue) => issue.path.map(String).join('.')).join(', '),
        },
      ]);
    }
    return parsed.data;
  }

  async #writeVault(vault: VaultFile): Promise<void> {
    await mkdir(this.#directory, { recursive: true, mode: 0o700 });
    const temporary = `${this.#vaultPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(vault, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, this.#vaultPath);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }
}

/** Moves AWSCURRENT to `versionId` (or removes it), keeping AWSPREVIOUS on the version it left. */
function moveCurrent(secret: VaultSecret, versionId: string | undefined): void {
  const previous = secret.labels[SECRET_LABELS.current];
  if (previous !== undefined && previous !== versionId) secret.labels[SECRET_LABELS.previous] = previous;
  if (versionId === undefined) delete secret.labels[SECRET_LABELS.current];
  else secret.labels[SECRET_LABELS.current] = versionId;
}

function additionalData(secretName: string, versionId: string): Buffer {
  return Buffer.from(`${secretName}\n${versionId}`, 'utf8');
}

function seal(
  key: Buffer,
  secretName: string,
  versionId: string,
  plaintext: string,
): { iv: string; tag: string; ciphertext: string } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(secretName, versionId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** Decrypts one version; any tampering (or another key) fails the GCM authentication. */
function unseal(
  key: Buffer,
  secretName: string,
  versionId: string,
  sealed: { iv: string; tag: string; ciphertext: string },
  vaultPath: string,
): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(secretName, versionId));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new ConfigurationError(
      `version ${versionId} of ${secretName} in ${vaultPath} failed authentication: the vault file was modified or ${VAULT_KEY_FILE} is not the key it was written with`,
      [{ field: VAULT_FILE, message: 'ciphertext failed AES-GCM authentication' }],
    );
  }
}

/**
 * Reads the vault key, creating it when missing: 32 random bytes written to a temporary 0600 file
 * and linked into place, so a concurrent opener never sees a partial key.
 */
async function loadOrCreateKey(directory: string, keyPath: string): Promise<Buffer> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  try {
    return await readKey(keyPath);
  } catch (error) {
    if (!isErrnoError(error, 'ENOENT')) throw error;
  }
  const temporary = `${keyPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(randomBytes(KEY_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temporary, 0o600);
    await link(temporary, keyPath);
  } catch (error) {
    if (!isErrnoError(error, 'EEXIST')) throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return readKey(keyPath);
}

async function readKey(keyPath: string): Promise<Buffer> {
  const info = await stat(keyPath);
  if (!info.isFile() || info.size !== KEY_BYTES) {
    throw new ConfigurationError(
      `the vault key ${keyPath} holds ${info.size} bytes; expected exactly ${KEY_BYTES} (refusing to start rather than guess)`,
      [{ field: VAULT_KEY_FILE, message: `must be ${KEY_BYTES} bytes` }],
    );
  }
  // Keep the key owner-only even if it was copied in with looser permissions.
  if ((info.mode & 0o077) !== 0) await chmod(keyPath, 0o600);
  return readFile(keyPath);
}
