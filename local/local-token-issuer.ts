import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { Caller, Role } from '../functions/api/api-context';
import { ROLES } from '../functions/api/api-context';
import { JwtTokenVerifier } from '../functions/api/jwt-token-verifier';
import { type Clock, systemClock } from '../functions/core/clock';
import { ConfigurationError, ValidationError } from '../functions/core/errors';
import { IdSchema } from '../schemas/common';

/**
 * The local runtime is its own token issuer: an ES256 key pair kept in the data directory
 * (`auth/signing-key.json`, mode 0600, created on first start) signs the tokens, and the API
 * verifies them with the same JwtTokenVerifier (issuer, audience, expiry, algorithm allow-list)
 * an OIDC issuer's tokens would go through. On every start a platform-admin token is written to
 * `admin.token` (0600); `npm run token` issues tenant-scoped tokens with the same key.
 */

export const LOCAL_ISSUER = 'threat-engine-local';
export const LOCAL_AUDIENCE = 'threat-engine-api';
export const LOCAL_ALGORITHM = 'ES256';
export const ADMIN_TOKEN_FILE = 'admin.token';
export const SIGNING_KEY_FILE = join('auth', 'signing-key.json');
export const ADMIN_SUBJECT = 'local-admin';
const ADMIN_TOKEN_TTL_SECONDS = 30 * 86_400;
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

async function loadOrCreateKey(dataDirectory: string, create: boolean): Promise<JWK> {
  const path = join(dataDirectory, SIGNING_KEY_FILE);
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as JWK;
    if (stored.kty !== 'EC' || stored.crv !== 'P-256' || typeof stored.d !== 'string') {
      throw new ConfigurationError(`${path} does not hold an ES256 private key`, [
        { field: SIGNING_KEY_FILE, message: 'expected a P-256 private JWK' },
      ]);
    }
    return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) {
      throw new ConfigurationError(
        `no signing key in ${dataDirectory}: start the local runtime once (npm start)`,
        [{ field: 'THREAT_ENGINE_DATA_DIR', message: 'holds no auth/signing-key.json' }],
      );
    }
  }
  const { privateKey } = await generateKeyPair(LOCAL_ALGORITHM, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: LOCAL_ALGORITHM, use: 'sig' };
  await mkdir(join(dataDirectory, 'auth'), { recursive: true, mode: 0o700 });
  await writePrivateFile(path, `${JSON.stringify(jwk)}\n`);
  return jwk;
}

export async function openLocalTokenIssuer(options: OpenLocalTokenIssuerOptions): Promise<LocalTokenIssuer> {
  const clock = options.clock ?? systemClock;
  const jwk = await loadOrCreateKey(options.dataDirectory, options.create ?? true);
  const { d: _private, ...publicJwk } = jwk;
  const privateKey = (await importJWK(jwk, LOCAL_ALGORITHM)) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, LOCAL_ALGORITHM)) as CryptoKey;
  const verifier = new JwtTokenVerifier({
    key: publicKey,
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    algorithms: [LOCAL_ALGORITHM],
    maxLifetimeSeconds: MAX_TOKEN_TTL_SECONDS,
    clock,
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
    return new SignJWT({ role: caller.role, ...(caller.tenantId ? { tenant_id: caller.tenantId } : {}) })
      .setProtectedHeader({ alg: LOCAL_ALGORITHM, typ: 'JWT' })
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
