import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The interactive API documentation at /docs (as the legacy service served it): Swagger UI over
 * /openapi.json, its assets read from the installed swagger-ui-dist package, never a CDN (the
 * local runtime may have no network, and the page must not pull third-party code). In the API
 * Lambda bundle the two assets are copied next to the bundle (SWAGGER_UI_BUNDLE_DIRECTORY).
 */

/** Where the API function's asset holds them, beside the bundle (see infra/constructs/functions.ts). */
export const SWAGGER_UI_BUNDLE_DIRECTORY = 'swagger-ui';

export const API_DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
export type ApiDocsAsset = keyof typeof API_DOCS_ASSETS;

export const API_DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Threat engine orchestrator API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-initializer.js"></script>
</body>
</html>
`;

/** Swagger UI over this API's document; "Authorize" takes the bearer token. */
export const API_DOCS_INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: false,
  });
};
`;

function assetsDirectory(): string {
  // On Lambda the bundle is CommonJS (no import.meta): its asset root is LAMBDA_TASK_ROOT.
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) {
    const bundled = join(taskRoot, SWAGGER_UI_BUNDLE_DIRECTORY);
    if (existsSync(join(bundled, 'swagger-ui-bundle.js'))) return bundled;
  }
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

const cache = new Map<ApiDocsAsset, Promise<string>>();

/** The asset's text, read once per process. */
export function apiDocsAsset(name: ApiDocsAsset): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = readFile(join(assetsDirectory(), name), 'utf8');
    text.catch(() => cache.delete(name));
    cache.set(name, text);
  }
  return text;
}
