import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ConflictError, ValidationError } from '../core/errors';
import type { ApiEnv } from './api-context';
import type { RequestServices } from './api-services';

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

const sha256 = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/**
 * `Idempotency-Key` on mutating POSTs, scoped per tenant (per subject for platform admins): the
 * first successful answer is kept (claims table, with an expiry) and replayed to every retry of the
 * same request (same method, path, query and body), with `Idempotent-Replayed: true`; the same key
 * with another request is a 409 naming `Idempotency-Key`; a retry while the first is still running
 * is a 409 too. A failed request (4xx/5xx) releases the key so a corrected retry can use it. Core
 * services get a request token derived from (tenant, key, request), so even a retry that races
 * past the record creates nothing twice.
 */
export function idempotency(services: RequestServices): MiddlewareHandler<ApiEnv> {
  return async (context, next) => {
    context.set('idempotencyToken', undefined);
    if (context.req.method !== 'POST') return next();
    const key = context.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new ValidationError('the Idempotency-Key header is not valid', [
        { field: 'Idempotency-Key', message: 'must be 1 to 128 characters of A-Z a-z 0-9 _ . : -' },
      ]);
    }
    const caller = context.get('caller');
    const scope = caller.tenantId ?? `platform-${sha256(caller.subject).slice(0, 32)}`;
    const url = new URL(context.req.url);
    const body = await context.req.text();
    const fingerprint = sha256(context.req.method, url.pathname, url.search, body);
    const store = services.idempotencyStore;

    const begun = await store.begin(scope, key, fingerprint);
    if (begun.state === 'replay') {
      const { response } = begun;
      const headers = new Headers(context.res.headers);
      headers.set('content-type', response.contentType);
      headers.set('idempotent-replayed', 'true');
      if (response.location) headers.set('location', response.location);
      return new Response(response.body, { status: response.status, headers });
    }
    if (begun.state === 'in_progress') {
      throw new ConflictError(
        'a request with this Idempotency-Key is still being handled: retry it in a moment',
        'Idempotency-Key',
      );
    }

    context.set('idempotencyToken', `idem-${sha256(scope, key, fingerprint).slice(0, 48)}`);
    try {
      await next();
    } catch (error) {
      await store.abandon(scope, key, fingerprint);
      throw error;
    }
    if (context.error || context.res.status >= 300) {
      await store.abandon(scope, key, fingerprint);
      return;
    }
    const answer = context.res.clone();
    await store.complete(scope, key, fingerprint, {
      status: answer.status,
      body: await answer.text(),
      contentType: answer.headers.get('content-type') ?? 'application/json',
      location: answer.headers.get('location') ?? undefined,
    });
  };
}
