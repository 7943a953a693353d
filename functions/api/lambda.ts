import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { loadConfig } from '../core/config';
import { createApp } from './app';

let lambdaHandler: ReturnType<typeof handle> | undefined;

/** The API behind API Gateway (HTTP API, payload v2): the same Hono app the local runtime serves. */
export async function handler(event: LambdaEvent, context: LambdaContext) {
  if (!lambdaHandler) {
    // Imported on the first request, so the SDK clients load then and not at module import.
    const { createAwsApiDependencies } = await import('../adapters/aws/aws-api-dependencies');
    const dependencies = createAwsApiDependencies(loadConfig(process.env));
    lambdaHandler = handle(createApp(dependencies));
  }
  return lambdaHandler(event, context);
}
