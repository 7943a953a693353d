import { statSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose';
import type { Caller, Role } from '../functions/api/api-context';
import { ROLES } from '../functions/api/api-context';
import { JwtTokenVerifier } from '../functions/api/jwt-token-verifier';
import { VerifiedTokenCache } from '../functions/api/verified-token-cache';
import { type Clock, systemClock } from '../functions/core/clock';
import { ConfigurationError, ValidationError } from '../functions/core/errors';
import { IdSchema } from '../schemas/common';

/**
 * The local runtime is its own token issuer: an ES256 key pair kept in the data directory
 * (`auth/signing-key.json`, mode 0600, created on first start) signs the tokens, and the API
 * verifies them with the same JwtTokenVerifier (issuer, audience, expiry, algorithm allow-list)
 * an OIDC issuer's tokens would go through. On every start a platform-admin token (valid 12 hours)
 * is written to `admin.token` (0600); `npx threat-engine token` issues tokens with the same key.
 *
 * Revoking every issued token is rotating the key (`npx threat-engine token --rotate-key`): the
 * key file is replaced, and a running runtime notices the new file at its next request (the file
 * is stat'ed on each verification and re-read when it changed), so old tokens are refused at once.
 * Verifications are remembered briefly (VerifiedTokenCache): a remembered token is served only
 * while the key file still holds the key that verified it, so a rotation refuses it at once too.
 */

export const LOCAL_ISSUER = 'threat-engine-local';
export const LOCAL_AUDIENCE = 'threat-engine-api';
export const LOCAL_ALGORITHM = 'ES256';
export const ADMIN_TOKEN_FILE = 'admin.token';
export const SIGNING_KEY_FILE = join('auth', 'signing-key.json');
export const ADMIN_SUBJECT = 'local-admin';
export const ADMIN_TOKEN_TTL_SECONDS = 12 * 3600;
const DEFAULT_TOKEN_TTL_SECONDS = 12 * 3600;
const MAX_TOKEN_TTL_SECONDS = 90 * 86_400;

export interface TokenRequest {
  role: Role;
  /** Required for every role but platform_admin. */
  tenantId?: string | null | undefined;
  subject?: string | undefined;
  /** Default 12 hours, at most 90 days. */
  ttlSeconds?: number | undefined;
}

export interface LocalTokenIssuer {
  readonly verifier: JwtTokenVerifier;
  issue(request: TokenRequest): Promise<string>;
  /** Writes a fresh platform-admin token to `admin.token` (0600) and returns its path. */
  writeAdminToken(): Promise<string>;
}

export interface OpenLocalTokenIssuerOptions {
  dataDirectory: string;
  /** Create the key pair when missing (the runtime does; the token command does not). Default true. */
  create?: boolean;
  clock?: Clock;
}

async function writePrivateFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

async function readKey(path: string): Promise<JWK> {
  const stored = JSON.parse(await readFile(path, 'utf8')) as JWK;
  if (stored.kty !== 'EC' || stored.crv !== 'P-256' || typeof stored.d !== 'string') {
    throw new ConfigurationError(`${path} does not hold an ES256 private key`, [
      { field: SIGNING_KEY_FILE, message: 'expected a P-256 private JWK' },
    ]);
  }
  return stored;
}

async function writeNewKey(dataDirectory: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(LOCAL_ALGORITHM, { extractable: true });
  const exported = await exportJWK(privateKey);
  const { d: _private, ...publicPart } = exported;
  const jwk = {
    ...exported,
    alg: LOCAL_ALGORITHM,
    use: 'sig',
    kid: await calculateJwkThumbprint(publicPart),
  };
  await mkdir(join(dataDirectory, 'auth'), { recursive: true, mode: 0o700 });
  await writePrivateFile(join(dataDirectory, SIGNING_KEY_FILE), `${JSON.stringify(jwk)}\n`);
  return jwk;
}

async function loadOrCreateKey(dataDirectory: string, create: boolean): Promise<JWK> {
  const path = join(dataDirectory, SIGNING_KEY_FILE);
  try {
    return await readKey(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) {
      throw new ConfigurationError(
        `no signing key in ${dataDirectory}: start the local runtime once (npm start)`,
        [{ field: 'THREAT_ENGINE_DATA_DIR', message: 'holds no auth/signing-key.json' }],
      );
    }
  }
  return writeNewKey(dataDirectory);
}

/**
 * Replaces the signing key: every token signed before, by anyone, is refused from now on (a running
 * runtime included, at its next request). The data directory must already hold a key.
 */
export async function rotateLocalSigningKey(dataDirectory: string): Promise<void> {
  await loadOrCreateKey(dataDirectory, false);
  await writeNewKey(dataDirectory);
}

interface LoadedKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string | undefined;
  /** What identifies the key file's version (it is replaced by rename, so the inode changes). */
  version: string;
}

async function importKeys(jwk: JWK, version: string): Promise<LoadedKeys> {
  const { d: _private, ...publicJwk } = jwk;
  return {
    privateKey: (await importJWK(jwk, LOCAL_ALGORITHM)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, LOCAL_ALGORITHM)) as CryptoKey,
    kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
    version,
  };
}

/**
 * Synchronous on purpose: it runs on every verification, and one stat of a small local file takes
 * microseconds, less than the thread-pool round trip of the asynchronous call.
 */
function keyFileVersion(path: string): string {
  const info = statSync(path);
  return `${info.ino}:${info.mtimeMs}:${info.size}`;
}

export async function openLocalTokenIssuer(options: OpenLocalTokenIssuerOptions): Promise<LocalTokenIssuer> {
  const clock = options.clock ?? systemClock;
  const keyPath = join(options.dataDirectory, SIGNING_KEY_FILE);
  let keys = await importKeys(
    await loadOrCreateKey(options.dataDirectory, options.create ?? true),
    keyFileVersion(keyPath),
  );
  /** The keys of the file as it is now: re-read when it was replaced (a rotation). */
  const currentKeys = async (): Promise<LoadedKeys> => {
    let version = keys.version;
    try {
      version = keyFileVersion(keyPath);
    } catch {
      // A missing or unreadable file keeps the key already loaded (as before).
    }
    if (version !== keys.version) keys = await importKeys(await readKey(keyPath), version);
    return keys;
  };
  const verifier = new JwtTokenVerifier({
    key: async () => (await currentKeys()).publicKey,
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    algorithms: [LOCAL_ALGORITHM],
    maxLifetimeSeconds: MAX_TOKEN_TTL_SECONDS,
    clock,
    cache: new VerifiedTokenCache(),
  });

  const issue = async (request: TokenRequest): Promise<string> => {
    if (!(ROLES as readonly string[]).includes(request.role)) {
      throw new ValidationError(`role must be one of ${ROLES.join(', ')}`, [
        { field: 'role', message: 'unknown role' },
      ]);
    }
    const tenantId = request.tenantId ?? null;
    if (request.role !== 'platform_admin' && tenantId === null) {
      throw new ValidationError(`a ${request.role} token needs a tenant`, [
        { field: 'tenant', message: 'is required' },
      ]);
    }
    if (tenantId !== null && !IdSchema.safeParse(tenantId).success) {
      throw new ValidationError('the tenant id is not valid', [
        { field: 'tenant', message: 'expected a tenant id' },
      ]);
    }
    const ttl = request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
      throw new ValidationError('the token lifetime is out of range', [
        { field: 'ttl', message: `expected 1 second to ${MAX_TOKEN_TTL_SECONDS / 86_400} days` },
      ]);
    }
    const now = Math.floor(clock().getTime() / 1000);
    const caller: Caller = {
      subject: request.subject ?? (tenantId ? `${request.role}@${tenantId}` : ADMIN_SUBJECT),
      tenantId,
      role: request.role,
    };
    const { privateKey, kid } = await currentKeys();
    return new SignJWT({ role: caller.role, ...(caller.tenantId ? { tenant_id: caller.tenantId } : {}) })
      .setProtectedHeader({ alg: LOCAL_ALGORITHM, typ: 'JWT', ...(kid ? { kid } : {}) })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setSubject(caller.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(privateKey);
  };

  return {
    verifier,
    issue,
    writeAdminToken: async () => {
      const token = await issue({
        role: 'platform_admin',
        subject: ADMIN_SUBJECT,
        ttlSeconds: ADMIN_TOKEN_TTL_SECONDS,
      });
      const path = join(options.dataDirectory, ADMIN_TOKEN_FILE);
      await writePrivateFile(path, `${token}\n`);
      return path;
    },
  };
}
