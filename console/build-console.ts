import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { type BuildOptions, type BuildResult, build, buildSync, type Metafile } from 'esbuild';

/**
 * Builds the operator console (console/src) into static files: `index.html` (with boot.ts inlined:
 * it starts the first screen's requests before the bundle has loaded), `favicon.svg`, the bundle
 * `assets/app.js` + `assets/app.css` (preact inside, minified) and the chunks the pages that need
 * dagre or cronstrue load when opened (`assets/chunk-<hash>.js`). The API app serves that
 * directory at /console; nothing is fetched from a CDN.
 */

const SOURCE_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), 'src');
const TARGET = ['chrome120', 'firefox120', 'safari17'];
const BOOT_PLACEHOLDER = '<script data-boot></script>';
const BUNDLE_TAG = '<script type="module" src="/console/assets/app.js"></script>';

function bundleOptions(outdir: string): BuildOptions & { metafile: true } {
  return {
    entryPoints: { app: join(SOURCE_DIRECTORY, 'main.tsx') },
    outdir: join(outdir, 'assets'),
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    minify: true,
    format: 'esm',
    target: TARGET,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    write: true,
  };
}

const BOOT_OPTIONS: BuildOptions & { write: false } = {
  entryPoints: [join(SOURCE_DIRECTORY, 'boot.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: TARGET,
  legalComments: 'none',
  logLevel: 'silent',
  write: false,
};

function prepare(outdir: string): void {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(join(outdir, 'assets'), { recursive: true });
  copyFileSync(join(SOURCE_DIRECTORY, 'favicon.svg'), join(outdir, 'favicon.svg'));
}

/** index.html with the boot script inlined and the bundle's static chunks preloaded beside it. */
function writePage(
  outdir: string,
  boot: BuildResult & { outputFiles: { text: string }[] },
  metafile: Metafile,
) {
  const bootScript = boot.outputFiles[0]?.text.trim() ?? '';
  const entry = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint !== undefined);
  const preloads = (entry?.[1].imports ?? [])
    .filter((imported) => imported.kind === 'import-statement')
    .map((imported) => `<link rel="modulepreload" href="/console/assets/${basename(imported.path)}" />\n    `)
    .join('');
  const page = readFileSync(join(SOURCE_DIRECTORY, 'index.html'), 'utf8')
    .replace(BOOT_PLACEHOLDER, () => `<script>${bootScript}</script>`)
    .replace(BUNDLE_TAG, () => `${preloads}${BUNDLE_TAG}`);
  writeFileSync(join(outdir, 'index.html'), page);
}

/** Suffixes of the compressed copies written beside each file (never served under their own name). */
export const COMPRESSED_SUFFIXES = ['.br', '.gz'] as const;

function builtFiles(outdir: string): string[] {
  const files: string[] = [];
  const walk = (directory: string, prefix: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else if (!COMPRESSED_SUFFIXES.some((suffix) => name.endsWith(suffix))) files.push(`${prefix}${name}`);
    }
  };
  walk(outdir, '');
  return files;
}

/**
 * Brotli (best quality) and gzip copies of every file, made once here: the app serves them as they
 * are instead of compressing on the first request (brotli's best quality takes ~100 ms per bundle).
 */
function writeCompressed(outdir: string): void {
  for (const file of builtFiles(outdir)) {
    const path = join(outdir, file);
    const body = readFileSync(path);
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    );
    writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
  }
}

/** Builds the console into `outdir` (emptied first); returns `outdir`. */
export async function buildConsoleAssets(outdir: string): Promise<string> {
  prepare(outdir);
  const [bundle, boot] = await Promise.all([build(bundleOptions(outdir)), build(BOOT_OPTIONS)]);
  writePage(outdir, boot, bundle.metafile);
  writeCompressed(outdir);
  return outdir;
}

/** The same, synchronously (the CDK app builds it while synthesizing the API function's asset). */
export function buildConsoleAssetsSync(outdir: string): string {
  prepare(outdir);
  const bundle = buildSync(bundleOptions(outdir));
  writePage(outdir, buildSync(BOOT_OPTIONS), bundle.metafile);
  writeCompressed(outdir);
  return outdir;
}

/** Every built file (path relative to `outdir`, not its compressed copies) with its size and gzip-compressed size in bytes. */
export function consoleAssetSizes(outdir: string): Array<{ file: string; bytes: number; gzipBytes: number }> {
  return builtFiles(outdir).map((file) => {
    const path = join(outdir, file);
    const bytes = statSync(path).size;
    return { file, bytes, gzipBytes: gzipSync(readFileSync(path)).length };
  });
}
