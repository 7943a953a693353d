import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { loadConfig } from '../core/config';

let lambdaHandler: Promise<ReturnType<typeof handle>> | undefined;

/** Composed on the first request, as the API function's (lambda.ts): init only parses the bundle. */
async function composeHandler(): Promise<ReturnType<typeof handle>> {
  const [{ createAwsSchedulingDependencies }, { createSchedulingApp }] = await Promise.all([
    import('../adapters/aws/aws-scheduling-dependencies'),
    import('./scheduling-app'),
  ]);
  return handle(createSchedulingApp(createAwsSchedulingDependencies(loadConfig(process.env))));
}

/**
 * The routes that change scheduler entries behind API Gateway (HTTP API, payload v2): the schedules,
 * the reconcile, disabling a tenant or an account (scheduling-app.ts).
 */
export async function handler(event: LambdaEvent, context: LambdaContext) {
  lambdaHandler ??= composeHandler().catch((error: unknown) => {
    lambdaHandler = undefined; // A configuration error is reported again on the next request.
    throw error;
  });
  return (await lambdaHandler)(event, context);
}
