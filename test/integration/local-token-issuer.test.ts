import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../cli/main';
import {
  ADMIN_TOKEN_FILE,
  type LocalTokenIssuer,
  openLocalTokenIssuer,
} from '../../local/local-token-issuer';

describe('Local token issuer', () => {
  let dataDirectory: string;
  let runtimeIssuer: LocalTokenIssuer;
  const verify = (issuer: LocalTokenIssuer, token: string) => issuer.verifier.verify({ token });

  beforeAll(async () => {
    dataDirectory = await mkdtemp(join(tmpdir(), 'te-tokens-'));
    runtimeIssuer = await openLocalTokenIssuer({ dataDirectory });
  });
  afterAll(async () => {
    await rm(dataDirectory, { recursive: true, force: true });
  });

  it('writes an admin token that lives hours, not days', async () => {
    const path = await runtimeIssuer.writeAdminToken();
    const claims = decodeJwt((await readFile(path, 'utf8')).trim());

    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(12 * 3600);
    await expect(verify(runtimeIssuer, (await readFile(path, 'utf8')).trim())).resolves.toMatchObject({
      role: 'platform_admin',
    });
  });

  it('revokes every issued token with `threat-engine token --rotate-key`, the running runtime included', async () => {
    // Prepare: tokens issued before, by the runtime and by the command line
    const adminBefore = (await readFile(join(dataDirectory, ADMIN_TOKEN_FILE), 'utf8')).trim();
    const tenantBefore = await runtimeIssuer.issue({ role: 'viewer', tenantId: 'tenant-1' });
    await expect(verify(runtimeIssuer, tenantBefore)).resolves.toMatchObject({ tenantId: 'tenant-1' });
    const previous = process.env.THREAT_ENGINE_DATA_DIR;
    process.env.THREAT_ENGINE_DATA_DIR = dataDirectory;
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

    // Act
    let code: number;
    let printed = '';
    try {
      code = await runCli(['node', 'threat-engine', 'token', '--rotate-key']);
      printed = stdout.mock.calls.map((call) => String(call[0])).join('');
    } finally {
      stdout.mockRestore();
      if (previous === undefined) delete process.env.THREAT_ENGINE_DATA_DIR;
      else process.env.THREAT_ENGINE_DATA_DIR = previous;
    }

    // Assess: the runtime (opened before the rotation) refuses the old tokens, accepts new ones
    expect(code).toBe(0);
    expect(printed).toMatch(/signing key rotated/);
    await expect(verify(runtimeIssuer, tenantBefore)).rejects.toMatchObject({ name: 'UnauthenticatedError' });
    await expect(verify(runtimeIssuer, adminBefore)).rejects.toMatchObject({ name: 'UnauthenticatedError' });
    const adminAfter = (await readFile(join(dataDirectory, ADMIN_TOKEN_FILE), 'utf8')).trim();
    expect(adminAfter).not.toBe(adminBefore);
    await expect(verify(runtimeIssuer, adminAfter)).resolves.toMatchObject({ role: 'platform_admin' });
    const tenantAfter = await runtimeIssuer.issue({ role: 'viewer', tenantId: 'tenant-1' });
    await expect(verify(runtimeIssuer, tenantAfter)).resolves.toMatchObject({ tenantId: 'tenant-1' });
  });
});
