import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { loadConfig } from '../core/config';

let lambdaHandler: Promise<ReturnType<typeof handle>> | undefined;

/**
 * Composed on the first request: the app (its routes, schemas and the OpenAPI registry) and the
 * SDK clients are imported then, so the function's init (module import) parses but runs none of it.
 */
async function composeHandler(): Promise<ReturnType<typeof handle>> {
  const [{ createAwsApiDependencies }, { createApp }, { consoleOidcFrom }, { OPENAPI_DOCUMENT_FILE }] =
    await Promise.all([
      import('../adapters/aws/aws-api-dependencies'),
      import('./app'),
      import('./console-assets'),
      import('./openapi'),
    ]);
  const dependencies = createAwsApiDependencies(loadConfig(process.env));
  // The console's built files travel in the function's asset next to the bundle (infra/constructs/functions.ts).
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  return handle(
    createApp({
      ...dependencies,
      console: {
        directory: taskRoot ? join(taskRoot, 'console') : undefined,
        oidc: consoleOidcFrom(dependencies.services.settings),
      },
      // Generated from the routes' registry when the asset was built (infra/constructs/functions.ts).
      ...(taskRoot
        ? {
            openApiDocument: async () =>
              JSON.parse(await readFile(join(taskRoot, OPENAPI_DOCUMENT_FILE), 'utf8')) as Record<
                string,
                unknown
              >,
          }
        : {}),
    }),
  );
}

/**
 * The API behind API Gateway (HTTP API, payload v2): the app the local runtime serves, but for the
 * scheduling routes (their own function: scheduling-lambda.ts).
 */
export async function handler(event: LambdaEvent, context: LambdaContext) {
  lambdaHandler ??= composeHandler().catch((error: unknown) => {
    lambdaHandler = undefined; // A configuration error is reported again on the next request.
    throw error;
  });
  return (await lambdaHandler)(event, context);
}
