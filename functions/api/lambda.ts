import { join } from 'node:path';
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { loadConfig } from '../core/config';
import { createApp } from './app';
import { consoleOidcFrom } from './console-assets';

let lambdaHandler: ReturnType<typeof handle> | undefined;

/** The API behind API Gateway (HTTP API, payload v2): the same Hono app the local runtime serves. */
export async function handler(event: LambdaEvent, context: LambdaContext) {
  if (!lambdaHandler) {
    // Imported on the first request, so the SDK clients load then and not at module import.
    const { createAwsApiDependencies } = await import('../adapters/aws/aws-api-dependencies');
    const dependencies = createAwsApiDependencies(loadConfig(process.env));
    // The console's built files travel in the function's asset next to the bundle (infra/constructs/functions.ts).
    const taskRoot = process.env.LAMBDA_TASK_ROOT;
    lambdaHandler = handle(
      createApp({
        ...dependencies,
        console: {
          directory: taskRoot ? join(taskRoot, 'console') : undefined,
          oidc: consoleOidcFrom(dependencies.services.settings),
        },
      }),
    );
  }
  return lambdaHandler(event, context);
}
