/**
 * The GETs the page's inline boot script (boot.ts) starts while the bundle is still loading, keyed
 * by path: the first Runs page and the caller's identity. The bundle's first call for a path takes
 * its answer over (api.ts); later calls ask again.
 */

export type EarlyRequests = Record<string, Promise<Response>>;

const GLOBAL_KEY = '__threatEngineEarlyRequests';

type WithEarlyRequests = typeof globalThis & { [GLOBAL_KEY]?: EarlyRequests };

export function publishEarlyRequests(requests: EarlyRequests): void {
  (globalThis as WithEarlyRequests)[GLOBAL_KEY] = requests;
}

/** The early answer for `path`, once; undefined when none was started (or it was taken). */
export function takeEarlyRequest(path: string): Promise<Response> | undefined {
  const requests = (globalThis as WithEarlyRequests)[GLOBAL_KEY];
  const pending = requests?.[path];
  if (requests && pending) delete requests[path];
  return pending;
}
