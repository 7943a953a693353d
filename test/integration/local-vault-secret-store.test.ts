import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/core/errors';
import { LocalVaultSecretStore, VAULT_FILE, VAULT_KEY_FILE } from '../../local/local-vault-secret-store';
import {
  CONTRACT_CACHE_TTL_MS,
  CONTRACT_PREFIX,
  describeSecretStoreContract,
  fakePayload,
  manualClock,
} from '../support/secret-store-contract';

async function makeTempDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'vault-test-'));
}

interface VaultOnDisk {
  secrets: Record<string, { versions: Record<string, { ciphertext: string; iv: string; tag: string }> }>;
}

async function readVaultFile(directory: string): Promise<VaultOnDisk> {
  return JSON.parse(await readFile(join(directory, VAULT_FILE), 'utf8')) as VaultOnDisk;
}

describeSecretStoreContract('LocalVaultSecretStore on real files', async (clock) => {
  const parent = await makeTempDirectory();
  const directory = join(parent, 'vault');
  return {
    newStore: () =>
      new LocalVaultSecretStore({
        directory,
        prefix: CONTRACT_PREFIX,
        clock,
        cacheTtlMs: CONTRACT_CACHE_TTL_MS,
      }),
    versionCount: async (accountId) => {
      const vault = await readVaultFile(directory).catch(() => ({ secrets: {} }) as VaultOnDisk);
      return Object.keys(vault.secrets[`${CONTRACT_PREFIX}/account/${accountId}`]?.versions ?? {}).length;
    },
    close: () => rm(parent, { recursive: true, force: true }),
  };
});

describe('Class: LocalVaultSecretStore', () => {
  let parent: string;
  let directory: string;
  let time: ReturnType<typeof manualClock>;
  const accountId = 'acc-1';

  const openStore = () =>
    LocalVaultSecretStore.open({ directory, prefix: 'threat-engine', clock: time.clock });

  beforeEach(async () => {
    parent = await makeTempDirectory();
    directory = join(parent, 'data', 'vault');
    time = manualClock();
    return () => rm(parent, { recursive: true, force: true });
  });

  describe('Method: open', () => {
    it('creates a 32-byte key file and a vault file readable by the owner only', async () => {
      // Prepare
      const store = await openStore();

      // Act
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');

      // Assess
      const key = await stat(join(directory, VAULT_KEY_FILE));
      const vault = await stat(join(directory, VAULT_FILE));
      expect(key.size).toBe(32);
      expect(key.mode & 0o777).toBe(0o600);
      expect(vault.mode & 0o777).toBe(0o600);
      expect((await stat(directory)).mode & 0o077).toBe(0);
      expect((await readdir(directory)).sort()).toEqual([VAULT_FILE, VAULT_KEY_FILE]);
    });

    it('throws when the key file exists with another length', async () => {
      // Prepare
      await openStore();
      await writeFile(join(directory, VAULT_KEY_FILE), randomBytes(16), { mode: 0o600 });

      // Act
      const attempt = openStore();

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
      await expect(attempt).rejects.toThrow(/holds 16 bytes; expected exactly 32/);
    });

    it('tightens a key file copied in with loose permissions', async () => {
      // Prepare
      await openStore();
      const keyPath = join(directory, VAULT_KEY_FILE);
      await chmod(keyPath, 0o644);

      // Act
      await openStore();

      // Assess
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    });
  });

  describe('Method: stage', () => {
    it('never writes the plaintext to disk', async () => {
      // Prepare
      const canary = `canary-${randomBytes(8).toString('hex')}`;
      const store = await openStore();

      // Act
      const { versionId } = await store.stage(
        accountId,
        fakePayload(accountId, 'x', { credentials: { api_key: canary } }),
        'request-1',
      );
      await store.promote(accountId, versionId);
      expect((await store.read(accountId)).credentials).toEqual({ api_key: canary });

      // Assess
      for (const file of await readdir(directory)) {
        const raw = await readFile(join(directory, file));
        expect(raw.includes(Buffer.from(canary)), file).toBe(false);
        expect(raw.includes(Buffer.from(canary).toString('base64')), file).toBe(false);
      }
    });

    it('does not rewrite the vault when a request token is retried', async () => {
      // Prepare
      const store = await openStore();
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      const before = await readFile(join(directory, VAULT_FILE));

      // Act
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');

      // Assess
      expect((await readFile(join(directory, VAULT_FILE))).equals(before)).toBe(true);
    });

    it('serializes concurrent writes from several instances of the process', async () => {
      // Prepare
      const stores = await Promise.all([openStore(), openStore(), openStore()]);
      const accounts = Array.from({ length: 24 }, (_, index) => `acc-${index}`);

      // Act
      await Promise.all(
        accounts.map((id, index) =>
          stores[index % stores.length]?.stage(id, fakePayload(id, String(index)), `request-${index}`),
        ),
      );

      // Assess
      const vault = await readVaultFile(directory);
      expect(Object.keys(vault.secrets)).toHaveLength(accounts.length);
      expect((await readdir(directory)).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    });
  });

  describe('Method: read', () => {
    it('reads the same secrets after reopening the vault from the same directory', async () => {
      // Prepare
      const first = await openStore();
      const { versionId } = await first.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      await first.promote(accountId, versionId);
      const pending = await first.stage(accountId, fakePayload(accountId, 'two'), 'request-2');

      // Act
      const reopened = await openStore();

      // Assess
      expect(await reopened.read(accountId)).toMatchObject({
        versionId,
        credentials: { client_secret: 'fake-secret-one' },
      });
      expect((await reopened.read(accountId, { stage: 'pending' })).versionId).toBe(pending.versionId);
    });

    it('throws a clear error when a ciphertext was tampered with', async () => {
      // Prepare
      const store = await openStore();
      const { versionId } = await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      await store.promote(accountId, versionId);
      const vault = await readVaultFile(directory);
      const entry = vault.secrets['threat-engine/account/acc-1']?.versions[versionId];
      if (!entry) throw new Error('the staged version is missing from the vault file');
      const bytes = Buffer.from(entry.ciphertext, 'base64');
      bytes.writeUInt8(bytes.readUInt8(0) ^ 0x01, 0);
      entry.ciphertext = bytes.toString('base64');
      await writeFile(join(directory, VAULT_FILE), JSON.stringify(vault), { mode: 0o600 });

      // Act
      const attempt = (await openStore()).read(accountId);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
      await expect(attempt).rejects.toThrow(
        new RegExp(`version ${versionId} of threat-engine/account/acc-1 .* failed authentication`),
      );
    });

    it('throws when a version is moved to another secret (the name is authenticated)', async () => {
      // Prepare
      const store = await openStore();
      const victim = await store.stage('acc-2', fakePayload('acc-2', 'two'), 'request-2');
      await store.stage(accountId, fakePayload(accountId, 'one'), 'request-1');
      const vault = await readVaultFile(directory);
      const moved = vault.secrets['threat-engine/account/acc-2']?.versions[victim.versionId];
      const target = vault.secrets['threat-engine/account/acc-1'];
      if (!moved || !target) throw new Error('the staged versions are missing from the vault file');
      target.versions[victim.versionId] = moved;
      await writeFile(join(directory, VAULT_FILE), JSON.stringify(vault), { mode: 0o600 });

      // Act
      const attempt = store.read(accountId, { versionId: victim.versionId });

      // Assess
      await expect(attempt).rejects.toThrow(/failed authentication/);
    });

    it('throws a clear error when the vault file is not JSON', async () => {
      // Prepare
      await openStore();
      await writeFile(join(directory, VAULT_FILE), 'not json', { mode: 0o600 });

      // Act
      const attempt = openStore();

      // Assess
      await expect(attempt).rejects.toThrow(/vault\.json is not valid JSON/);
    });
  });

  describe('Method: writeBatch', () => {
    it('writes the vault file once at the end of the batch, with every secret of the batch readable after', async () => {
      // Prepare
      const store = await openStore();
      await store.stage('acc-before', fakePayload('acc-before', 'before'), 'request-before');
      const vaultPath = join(directory, VAULT_FILE);
      const before = await readFile(vaultPath, 'utf8');
      let insideBatch = '';

      // Act
      await store.writeBatch(async () => {
        for (const id of ['acc-a', 'acc-b', 'acc-c']) {
          const { versionId } = await store.stage(id, fakePayload(id, id), `request-${id}`);
          await store.promote(id, versionId);
        }
        insideBatch = await readFile(vaultPath, 'utf8');
      });

      // Assess
      expect(insideBatch).toBe(before);
      const reopened = await openStore();
      for (const id of ['acc-before', 'acc-a', 'acc-c']) {
        await expect(reopened.describe(id)).resolves.toMatchObject({
          secretName: `threat-engine/account/${id}`,
        });
      }
      expect((await reopened.read('acc-b')).credentials).toEqual(fakePayload('acc-b', 'acc-b').credentials);
    });

    it('keeps what was stored before the work threw', async () => {
      // Prepare
      const store = await openStore();

      // Act
      const attempt = store.writeBatch(async () => {
        await store.stage('acc-kept', fakePayload('acc-kept', 'kept'), 'request-kept');
        throw new Error('the batch failed');
      });

      // Assess
      await expect(attempt).rejects.toThrow('the batch failed');
      const reopened = await openStore();
      await expect(reopened.describe('acc-kept')).resolves.toHaveProperty('pendingVersionId');
    });
  });
});
