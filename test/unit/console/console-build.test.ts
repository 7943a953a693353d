import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleAssets, consoleAssetSizes } from '../../../console/build-console';

let outdir: string;
const sizes = (directory: string) => consoleAssetSizes(directory).map((size) => size.file);

beforeAll(async () => {
  outdir = await buildConsoleAssets(await mkdtemp(join(tmpdir(), 'te-console-build-')));
});

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

describe('Function: buildConsoleAssets', () => {
  it('builds the page, favicon, script, style and hashed chunks the app serves, at most 300 KB compressed in total', async () => {
    // Act
    const sizes = consoleAssetSizes(outdir);

    // Assess
    const files = sizes.map((size) => size.file);
    expect(files.filter((file) => !file.startsWith('assets/chunk-')).sort()).toEqual([
      'assets/app.css',
      'assets/app.js',
      'favicon.svg',
      'index.html',
    ]);
    expect(files.filter((file) => file.startsWith('assets/chunk-')).length).toBeGreaterThan(0);
    for (const file of files.filter((name) => name.startsWith('assets/chunk-')))
      expect(file).toMatch(/^assets\/chunk-[A-Z0-9]+\.js$/);
    const total = sizes.reduce((sum, size) => sum + size.gzipBytes, 0);
    expect(total).toBeLessThanOrEqual(300 * 1024);
  });

  it('keeps dagre and cronstrue out of the script the first screen runs, and preloads its chunks', async () => {
    // Act
    const page = await readFile(join(outdir, 'index.html'), 'utf8');
    const preloaded = [
      ...page.matchAll(/<link rel="modulepreload" href="\/console\/(assets\/chunk-[A-Z0-9]+\.js)"/g),
    ].map((match) => match[1] as string);
    const firstScreen = await Promise.all(
      ['assets/app.js', ...preloaded].map((file) => readFile(join(outdir, file), 'utf8')),
    );

    // Assess: the Run page's graph layout and the schedules' cron wording are loaded when opened
    expect(firstScreen.join('\n')).not.toMatch(/makeSpaceForEdgeLabels|Every minute/);
    const lazily = sizes(outdir).filter(
      (file) => file.startsWith('assets/chunk-') && !preloaded.includes(file),
    );
    const lazyText = (await Promise.all(lazily.map((file) => readFile(join(outdir, file), 'utf8')))).join(
      '\n',
    );
    expect(lazyText).toMatch(/makeSpaceForEdgeLabels/);
    expect(lazyText).toMatch(/Every minute/);
  });

  it("inlines the boot script that starts the first screen's requests before the stylesheet", async () => {
    // Act
    const page = await readFile(join(outdir, 'index.html'), 'utf8');

    // Assess
    const boot = page.indexOf('<script>');
    expect(boot).toBeGreaterThan(0);
    expect(boot).toBeLessThan(page.indexOf('rel="stylesheet"'));
    expect(page).toContain('/api/v1/me');
    expect(page).not.toContain('data-boot');
  });

  it('loads nothing from another origin', async () => {
    // Act
    const page = await readFile(join(outdir, 'index.html'), 'utf8');
    const scripts = await Promise.all(
      sizes(outdir)
        .filter((file) => file.endsWith('.js'))
        .map((file) => readFile(join(outdir, file), 'utf8')),
    );

    // Assess
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const script of scripts) expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\//i);
  });
});
