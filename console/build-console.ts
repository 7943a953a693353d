import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, buildSync } from 'esbuild';

/**
 * Builds the operator console (console/src) into static files: `index.html`, `favicon.svg` and
 * the bundle `assets/app.js` + `assets/app.css` (preact, dagre and cronstrue inside, minified).
 * The API app serves that directory at /console; nothing is fetched from a CDN.
 */

const SOURCE_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), 'src');
/** Copied as they are. */
const STATIC_FILES = ['index.html', 'favicon.svg'] as const;

function optionsFor(outdir: string): BuildOptions {
  return {
    entryPoints: { app: join(SOURCE_DIRECTORY, 'main.tsx') },
    outdir: join(outdir, 'assets'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    write: true,
  };
}

function prepare(outdir: string): void {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(join(outdir, 'assets'), { recursive: true });
  for (const file of STATIC_FILES) copyFileSync(join(SOURCE_DIRECTORY, file), join(outdir, file));
}

/** Builds the console into `outdir` (emptied first); returns `outdir`. */
export async function buildConsoleAssets(outdir: string): Promise<string> {
  prepare(outdir);
  await build(optionsFor(outdir));
  return outdir;
}

/** The same, synchronously (the CDK app builds it while synthesizing the API function's asset). */
export function buildConsoleAssetsSync(outdir: string): string {
  prepare(outdir);
  buildSync(optionsFor(outdir));
  return outdir;
}

/** Every built file (path relative to `outdir`) with its size and gzip-compressed size in bytes. */
export function consoleAssetSizes(outdir: string): Array<{ file: string; bytes: number; gzipBytes: number }> {
  const files: string[] = [];
  const walk = (directory: string, prefix: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else files.push(`${prefix}${name}`);
    }
  };
  walk(outdir, '');
  return files.map((file) => {
    const path = join(outdir, file);
    const bytes = statSync(path).size;
    return { file, bytes, gzipBytes: gzipSync(readFileSync(path)).length };
  });
}
