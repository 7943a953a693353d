import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { Logger } from '../core/logger';
import type { ApiEnv } from './api-context';
import type { RequestServices } from './api-services';
import { authenticate } from './authenticate';
import { errorBody, respondWithError } from './error-response';
import { idempotency } from './idempotency';

export const API_PREFIX = '/api/v1';

const JSON_CONTENT_TYPE = /^application\/(.+\+)?json\s*(;|$)/i;

/**
 * An HTTP application of this API (app.ts, scheduling-app.ts): the cross-cutting rules, in this
 * order: request id and safe headers, CORS (an explicit allow-list, none by default), body size
 * (413), authentication (401), JSON content type (415), Idempotency-Key; then what `mount` adds;
 * then the JSON 404 and the error mapping.
 */
export function createHttpApp(
  dependencies: { logger: Logger; services: RequestServices },
  mount: (app: Hono<ApiEnv>) => void,
): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { logger, services } = dependencies;
  const { settings } = services;

  app.use('*', async (context, next) => {
    const requestId = randomUUID();
    context.set('requestId', requestId);
    context.header('X-Request-Id', requestId);
    context.header('X-Content-Type-Options', 'nosniff');
    context.header('Cache-Control', 'no-store');
    await next();
    // A request refused before its body was read (413, 401, 415 …) leaves unread bytes on the
    // connection: close it, so a keep-alive client never sends its next request into that stream.
    const sentBody =
      context.req.header('content-length') !== undefined || context.req.header('transfer-encoding');
    if (context.res.status >= 400 && sentBody) context.res.headers.set('Connection', 'close');
  });

  if (settings.API_CORS_ALLOWED_ORIGINS.length > 0) {
    app.use(
      '*',
      cors({
        origin: [...settings.API_CORS_ALLOWED_ORIGINS],
        allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
        exposeHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
        maxAge: 600,
      }),
    );
  }

  const limitBody = bodyLimit({
    maxSize: settings.API_MAX_BODY_BYTES,
    onError: (context) =>
      context.json(
        errorBody(
          413,
          'payload_too_large',
          `the request body is larger than ${settings.API_MAX_BODY_BYTES} bytes`,
          [{ field: '(body)', message: `must be at most ${settings.API_MAX_BODY_BYTES} bytes` }],
        ),
        413,
      ),
  });
  // A GET or HEAD request has no body (the Fetch API refuses one), and asking the node server's
  // request for it builds a whole Fetch Request: ~3% of a read request's CPU for nothing.
  app.use('*', (context, next) =>
    context.req.method === 'GET' || context.req.method === 'HEAD' ? next() : limitBody(context, next),
  );

  app.use('*', authenticate(services));

  app.use('*', async (context, next) => {
    const method = context.req.method;
    const hasBody =
      (context.req.header('content-length') ?? '0') !== '0' ||
      context.req.header('transfer-encoding') !== undefined;
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && hasBody) {
      const type = context.req.header('content-type') ?? '';
      if (!JSON_CONTENT_TYPE.test(type)) {
        return context.json(
          errorBody(415, 'unsupported_media_type', 'the request body must be JSON', [
            { field: 'content-type', message: 'must be application/json' },
          ]),
          415,
        );
      }
    }
    await next();
  });

  app.use('*', idempotency(services));

  mount(app);

  app.notFound((context) =>
    context.json(
      errorBody(
        404,
        'route_not_found',
        `no route for ${context.req.method} ${context.req.path.slice(0, 200)}`,
      ),
      404,
    ),
  );
  app.onError((error, context) => respondWithError(context, error, logger));
  return app;
}
