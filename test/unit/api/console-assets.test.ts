import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleAssets } from '../../../console/build-console';
import type { ApiEnv } from '../../../functions/api/api-context';
import { consoleRoutes } from '../../../functions/api/console-assets';

let outdir: string;
let app: Hono<ApiEnv>;
let chunk: string;

beforeAll(async () => {
  outdir = await buildConsoleAssets(await mkdtemp(join(tmpdir(), 'te-console-assets-')));
  app = consoleRoutes({ directory: outdir, oidc: null });
  const names = await readdir(join(outdir, 'assets'));
  chunk = names.find((name) => name.startsWith('chunk-')) as string;
});

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

describe('Function: consoleRoutes', () => {
  it("admits the page's inline boot script by its hash, and no other inline script", async () => {
    // Act
    const response = await app.request('/console');
    const page = await response.text();

    // Assess
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    expect(script.length).toBeGreaterThan(0);
    const hash = createHash('sha256').update(script).digest('base64');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).not.toContain('unsafe-inline');
  });

  it('keeps hashed chunks for good and has the page and the bundle revalidated by ETag', async () => {
    // Act
    const [chunkResponse, bundle, page] = await Promise.all(
      [`/console/assets/${chunk}`, '/console/assets/app.js', '/console'].map((path) => app.request(path)),
    );
    const etag = bundle?.headers.get('etag') ?? '';
    const revalidated = await app.request('/console/assets/app.js', { headers: { 'if-none-match': etag } });

    // Assess
    expect(chunkResponse?.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(bundle?.headers.get('cache-control')).toBe('no-cache');
    expect(page?.headers.get('cache-control')).toBe('no-cache');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
  });

  it('compresses with brotli when the browser takes it, with gzip otherwise', async () => {
    // Act
    const plain = await (await app.request('/console/assets/app.js')).text();
    const [brotli, gzip] = await Promise.all(
      ['br, gzip', 'gzip, deflate'].map((encoding) =>
        app.request('/console/assets/app.js', { headers: { 'accept-encoding': encoding } }),
      ),
    );

    // Assess
    expect(brotli?.headers.get('content-encoding')).toBe('br');
    expect(brotliDecompressSync(Buffer.from(await (brotli as Response).arrayBuffer())).toString()).toBe(
      plain,
    );
    expect(gzip?.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await (gzip as Response).arrayBuffer())).toString()).toBe(plain);
  });

  it("serves the build's own compressed copies, so no request waits for compression", async () => {
    // Prepare
    const [builtBrotli, builtGzip] = await Promise.all(
      ['app.js.br', 'app.js.gz'].map((name) => readFile(join(outdir, 'assets', name))),
    );

    // Act
    const [brotli, gzip, asFile] = await Promise.all(
      [
        ['/console/assets/app.js', 'br'],
        ['/console/assets/app.js', 'gzip'],
        ['/console/assets/app.js.br', 'br'],
      ].map(([path, encoding]) =>
        app.request(path as string, { headers: { 'accept-encoding': encoding as string } }),
      ),
    );

    // Assess
    expect(Buffer.from(await (brotli as Response).arrayBuffer()).equals(builtBrotli as Buffer)).toBe(true);
    expect(Buffer.from(await (gzip as Response).arrayBuffer()).equals(builtGzip as Buffer)).toBe(true);
    expect(asFile?.status).toBe(404);
  });
});
