import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleAssets, consoleAssetSizes } from '../../../console/build-console';

let outdir: string;

beforeAll(async () => {
  outdir = await buildConsoleAssets(await mkdtemp(join(tmpdir(), 'te-console-build-')));
});

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

describe('Function: buildConsoleAssets', () => {
  it('builds the page, favicon, script and style the app serves, at most 300 KB compressed in total', async () => {
    // Act
    const sizes = consoleAssetSizes(outdir);

    // Assess
    expect(sizes.map((size) => size.file).sort()).toEqual([
      'assets/app.css',
      'assets/app.js',
      'favicon.svg',
      'index.html',
    ]);
    const total = sizes.reduce((sum, size) => sum + size.gzipBytes, 0);
    expect(total).toBeLessThanOrEqual(300 * 1024);
  });

  it('loads nothing from another origin', async () => {
    // Act
    const page = await readFile(join(outdir, 'index.html'), 'utf8');
    const script = await readFile(join(outdir, 'assets', 'app.js'), 'utf8');

    // Assess
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\//i);
  });
});
