import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, importJWK, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_FILE,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  openLocalTokenIssuer,
  SIGNING_KEY_FILE,
} from '../../../local/local-token-issuer';
import { ApiHarness, type TenantFixture } from '../../support/api-harness';

/** Runs `npx threat-engine token …` the way package.json's bin does. */
function runTokenCommand(
  args: string[],
  dataDirectory: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/threat-engine.mjs', 'token', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, THREAT_ENGINE_DATA_DIR: dataDirectory },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Authentication', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let signingKey: JWK;

  /** A token signed with the runtime's own key, with any claims and header (to forge bad ones). */
  const signWithRuntimeKey = async (
    claims: Record<string, unknown>,
    options: { issuer?: string; audience?: string; expiresIn?: number } = {},
  ) => {
    const key = await importJWK(signingKey, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(options.issuer ?? LOCAL_ISSUER)
      .setAudience(options.audience ?? LOCAL_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresIn ?? 600))
      .sign(key);
  };

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
    signingKey = JSON.parse(
      await readFile(join(harness.runtime.dataDirectory, SIGNING_KEY_FILE), 'utf8'),
    ) as JWK;
  });
  afterAll(async () => {
    await harness?.close();
  });

  it.each(['/', '/api/v1/health', '/api/v1/openapi.json'])('serves %s without a token', async (path) => {
    const response = await harness.request('GET', path);

    expect(response.status).toBe(200);
  });

  describe('refuses with 401 and the error shape', () => {
    const ownTenantPath = () => `/api/v1/tenants/${tenant.tenantId}`;

    it.each([
      ['no Authorization header', () => Promise.resolve(undefined)],
      ['a Basic header', () => Promise.resolve('Basic dXNlcjpwYXNz')],
      ['a token that is not a JWT', () => Promise.resolve('Bearer not-a-jwt')],
      [
        'a token signed by another key',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          const now = Math.floor(Date.now() / 1000);
          const token = await new SignJWT({ role: 'platform_admin' })
            .setProtectedHeader({ alg: 'ES256' })
            .setIssuer(LOCAL_ISSUER)
            .setAudience(LOCAL_AUDIENCE)
            .setSubject('intruder')
            .setExpirationTime(now + 600)
            .sign(privateKey);
          return `Bearer ${token}`;
        },
      ],
      [
        'an unsigned (alg none) token',
        () =>
          Promise.resolve(
            `Bearer ${new UnsecuredJWT({ role: 'platform_admin', sub: 'x' })
              .setIssuer(LOCAL_ISSUER)
              .setAudience(LOCAL_AUDIENCE)
              .setExpirationTime('10m')
              .encode()}`,
          ),
      ],
      [
        'an HS256 token keyed with the public key (algorithm confusion)',
        async () => {
          const { d: _private, ...publicJwk } = signingKey;
          const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
          const token = await new SignJWT({ role: 'platform_admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuer(LOCAL_ISSUER)
            .setAudience(LOCAL_AUDIENCE)
            .setSubject('intruder')
            .setExpirationTime('10m')
            .sign(secret);
          return `Bearer ${token}`;
        },
      ],
      [
        'a token of another issuer',
        async () =>
          `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'platform_admin' }, { issuer: 'https://elsewhere.example' })}`,
      ],
      [
        'a token for another audience',
        async () =>
          `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'platform_admin' }, { audience: 'another-api' })}`,
      ],
      [
        'an expired token',
        async () =>
          `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'platform_admin' }, { expiresIn: -120 })}`,
      ],
      [
        'a token that lives for a year',
        async () =>
          `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'platform_admin' }, { expiresIn: 365 * 86_400 })}`,
      ],
      [
        'a token without a subject',
        async () => `Bearer ${await signWithRuntimeKey({ role: 'platform_admin' })}`,
      ],
      [
        'a token with an unknown role',
        async () => `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'root' })}`,
      ],
      [
        'a tenant role without a tenant',
        async () => `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'tenant_admin' })}`,
      ],
      [
        'a malformed tenant claim',
        async () => `Bearer ${await signWithRuntimeKey({ sub: 'a', role: 'viewer', tenant_id: '../x' })}`,
      ],
    ])('for %s', async (_case, header) => {
      // Prepare
      const authorization = await header();

      // Act
      const response = await harness.request('GET', ownTenantPath(), {
        ...(authorization ? { headers: { authorization } } : {}),
      });

      // Assess
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ status: 401, code: 'unauthenticated', details: [] });
      expect(typeof response.body.message).toBe('string');
      expect(response.body.detail).toBe(response.body.message);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      if (authorization) expect(response.text).not.toContain(authorization.slice(7, 40));
    });

    it('for an unknown route too (no route discovery without a token)', async () => {
      const anonymous = await harness.request('GET', '/api/v1/secret-admin-panel');
      const authenticated = await harness.request('GET', '/api/v1/secret-admin-panel', {
        token: harness.adminToken,
      });

      expect(anonymous.status).toBe(401);
      expect(authenticated.status).toBe(404);
      expect(authenticated.body.code).toBe('route_not_found');
    });
  });

  it('answers 403 to a valid token whose tenant does not exist', async () => {
    const token = await harness.token('tenant_admin', 'tenant-that-never-was');

    const response = await harness.request('GET', '/api/v1/onboarding/accounts', { token });

    expect(response.status).toBe(403);
  });

  it('accepts a token issued with the runtime key under the Cognito claim names', async () => {
    const token = await signWithRuntimeKey({
      sub: 'cognito-user',
      'custom:role': 'viewer',
      'custom:tenant_id': tenant.tenantId,
    });

    const response = await harness.request('GET', `/api/v1/tenants/${tenant.tenantId}`, { token });

    expect(response.status).toBe(200);
  });

  describe('local issuer', () => {
    it('writes the admin token and the signing key with mode 0600, and the admin token works', async () => {
      const adminTokenPath = join(harness.runtime.dataDirectory, ADMIN_TOKEN_FILE);
      const adminToken = (await readFile(adminTokenPath, 'utf8')).trim();

      const response = await harness.request('GET', '/api/v1/tenants', { token: adminToken });

      expect(harness.runtime.adminTokenPath).toBe(adminTokenPath);
      expect((await stat(adminTokenPath)).mode & 0o777).toBe(0o600);
      expect((await stat(join(harness.runtime.dataDirectory, SIGNING_KEY_FILE))).mode & 0o777).toBe(0o600);
      expect(response.status).toBe(200);
    });

    it('keeps the key across opens, and refuses to create one when asked not to', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'te-issuer-'));
      try {
        const again = await openLocalTokenIssuer({
          dataDirectory: harness.runtime.dataDirectory,
          create: false,
        });
        const token = await again.issue({ role: 'viewer', tenantId: tenant.tenantId });
        const accepted = await harness.request('GET', `/api/v1/tenants/${tenant.tenantId}`, { token });

        expect(accepted.status).toBe(200);
        await expect(openLocalTokenIssuer({ dataDirectory: empty, create: false })).rejects.toThrow(
          /npm start/,
        );
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });

    it('`npm run token` issues a tenant-scoped token the API accepts, and explains bad arguments', async () => {
      const issued = await runTokenCommand(
        ['--tenant', tenant.tenantId, '--role', 'operator', '--ttl', '10m'],
        harness.runtime.dataDirectory,
      );
      const token = issued.stdout.trim();
      const own = await harness.request('GET', `/api/v1/tenants/${tenant.tenantId}`, { token });
      const adminOnly = await harness.request('GET', '/api/v1/tenants', { token });
      const refused = await runTokenCommand(['--role', 'tenant_admin'], harness.runtime.dataDirectory);

      expect(issued.code).toBe(0);
      expect(token.split('.')).toHaveLength(3);
      expect(own.status).toBe(200);
      expect(adminOnly.status).toBe(403);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/needs a tenant/);
      expect(refused.stdout).toBe('');
    }, 30_000);
  });
});
