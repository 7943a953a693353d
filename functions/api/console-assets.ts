import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { type Context, Hono } from 'hono';
import type { ApiEnv } from './api-context';
import type { ApiSettings } from './api-settings';
import { errorBody } from './error-response';
import { registerRoute } from './openapi';

/**
 * The operator console's page and static assets (built from console/ by the project, never from
 * a CDN), served at /console without authentication: they hold no data. Every data request the
 * page makes goes to the JSON API with the operator's token. `GET /api/v1/console/config` (public)
 * tells the page how operators sign in on this deployment.
 */

export const CONSOLE_PATH = '/console';
export const CONSOLE_CONFIG_PATH = '/api/v1/console/config';

/** Whether a request path is the console's page or one of its assets (served without a token). */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

export interface ConsoleOidcSettings {
  issuer: string;
  clientId: string;
  scopes: string;
}

export interface ConsoleOptions {
  /** The built console (console/build-console.ts output). Without it /console answers 404. */
  directory: string | undefined;
  /** Hosted login (authorization code + PKCE) when a client id is configured. */
  oidc: ConsoleOidcSettings | null;
  /**
   * Read the files when the app is created rather than on the first request (a long-running server:
   * its first visitor does not wait for the disk). A Lambda reads them when a page is first asked for.
   */
  preload?: boolean;
}

/** The hosted login, when both the issuer and the console's client id are configured. */
export function consoleOidcFrom(settings: ApiSettings): ConsoleOidcSettings | null {
  if (!settings.OIDC_ISSUER || !settings.CONSOLE_OIDC_CLIENT_ID) return null;
  return {
    issuer: settings.OIDC_ISSUER,
    clientId: settings.CONSOLE_OIDC_CLIENT_ID,
    scopes: settings.CONSOLE_OIDC_SCOPES,
  };
}

interface Asset {
  body: Uint8Array;
  gzip: Uint8Array;
  brotli: Uint8Array;
  contentType: string;
  etag: string;
}

interface Assets {
  files: Map<string, Asset>;
  /** The page's Content-Security-Policy: its own origin, and the page's inline boot script by hash. */
  csp: string;
}

/** The chunks esbuild names by their content hash never change under their name. */
const IMMUTABLE_ASSET = /^assets\/chunk-[A-Z0-9]+\.js$/;
const INLINE_SCRIPT = /<script>([\s\S]*?)<\/script>/g;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The build's compressed copy of `path` (console/build-console.ts writes them), else one made now. */
async function compressedCopy(path: string, suffix: '.br' | '.gz', body: Uint8Array): Promise<Uint8Array> {
  try {
    return await readFile(`${path}${suffix}`);
  } catch {
    return suffix === '.br' ? brotliCompressSync(body) : gzipSync(body);
  }
}

/** Reads the built files once (a whitelist: only what the build wrote can be served). */
async function loadAssets(directory: string, oidc: ConsoleOidcSettings | null): Promise<Assets> {
  const assets = new Map<string, Asset>();
  const add = async (relative: string) => {
    const contentType = CONTENT_TYPES[extname(relative)];
    if (!contentType) return;
    const path = join(directory, relative);
    const body = await readFile(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const [gzip, brotli] = await Promise.all([
      compressedCopy(path, '.gz', body),
      compressedCopy(path, '.br', body),
    ]);
    assets.set(relative, { body, gzip, brotli, contentType, etag });
  };
  const names: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isFile()) names.push(entry.name);
    else if (entry.isDirectory() && entry.name === 'assets') {
      for (const name of await readdir(join(directory, 'assets'))) names.push(`assets/${name}`);
    }
  }
  await Promise.all(names.map(add));
  const page = assets.get('index.html');
  const inlineScripts = page ? [...Buffer.from(page.body).toString('utf8').matchAll(INLINE_SCRIPT)] : [];
  const hashes = inlineScripts.map(
    ([, script]) =>
      `'sha256-${createHash('sha256')
        .update(script ?? '')
        .digest('base64')}'`,
  );
  return { files: assets, csp: contentSecurityPolicy(oidc, hashes) };
}

/** The page may talk to this origin only, and to the OIDC issuer (its discovery and token endpoints). */
function contentSecurityPolicy(oidc: ConsoleOidcSettings | null, scriptHashes: string[]): string {
  const connect = ["'self'"];
  if (oidc) {
    connect.push(new URL(oidc.issuer).origin);
    // The token endpoint's origin is only known from the issuer's discovery document.
    connect.push('https:');
  }
  return [
    "default-src 'none'",
    ["script-src 'self'", ...scriptHashes].join(' '),
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/console/config',
  summary: 'How operators sign in to the console here (no authentication)',
  description:
    'oidc: the issuer, client id and scopes of the hosted login (authorization code + PKCE), or null when only a pasted token signs in.',
  tags: ['console'],
  roles: 'public',
});

export function consoleRoutes(options: ConsoleOptions): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  let loaded: Promise<Assets> | undefined;
  if (options.preload && options.directory) {
    loaded = loadAssets(options.directory, options.oidc);
    // A failure is answered to the first request that asks (respond() awaits the same promise).
    loaded.catch(() => undefined);
  }

  app.get(CONSOLE_CONFIG_PATH, (context) =>
    context.json({
      oidc: options.oidc
        ? { issuer: options.oidc.issuer, client_id: options.oidc.clientId, scopes: options.oidc.scopes }
        : null,
    }),
  );

  const respond = async (context: Context<ApiEnv>, relative: string) => {
    if (!options.directory) {
      return context.json(errorBody(404, 'console_not_built', 'this deployment serves no console'), 404);
    }
    loaded ??= loadAssets(options.directory, options.oidc);
    const { files, csp } = await loaded;
    const asset = files.get(relative);
    if (!asset) {
      return context.json(
        errorBody(404, 'route_not_found', `no console file ${context.req.path.slice(0, 200)}`),
        404,
      );
    }
    const accepted = context.req.header('accept-encoding') ?? '';
    const encoding = /\bbr\b/.test(accepted) ? 'br' : /\bgzip\b/.test(accepted) ? 'gzip' : null;
    context.header('Content-Type', asset.contentType);
    // Hashed chunks are kept for good; the rest is revalidated (a 304 while its ETag holds).
    context.header(
      'Cache-Control',
      IMMUTABLE_ASSET.test(relative) ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    context.header('ETag', asset.etag);
    context.header('Vary', 'Accept-Encoding');
    if (asset.contentType.startsWith('text/html')) {
      context.header('Content-Security-Policy', csp);
      context.header('Referrer-Policy', 'no-referrer');
      context.header('X-Frame-Options', 'DENY');
    }
    if (context.req.header('if-none-match') === asset.etag) return context.body(null, 304);
    if (encoding) context.header('Content-Encoding', encoding);
    const body = encoding === 'br' ? asset.brotli : encoding === 'gzip' ? asset.gzip : asset.body;
    return context.body(new Uint8Array(body));
  };

  app.get(CONSOLE_PATH, (context) => respond(context, 'index.html'));
  app.get(`${CONSOLE_PATH}/`, (context) => context.redirect(CONSOLE_PATH, 308));
  app.get(`${CONSOLE_PATH}/favicon.svg`, (context) => respond(context, 'favicon.svg'));
  app.get(`${CONSOLE_PATH}/assets/:file`, (context) =>
    respond(context, `assets/${context.req.param('file')}`),
  );
  return app;
}
