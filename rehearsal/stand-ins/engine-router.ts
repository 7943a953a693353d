import { type LoopbackService, startLoopbackService } from './loopback-service';

/**
 * The one engine URL the template is synthesized with: forwards every request to the engine
 * simulator base URL the current scenario chose (sync, async, or a scan that never ends).
 */
export class EngineRouter {
  #service: LoopbackService | undefined;
  /** Where requests go now, e.g. `http://127.0.0.1:PORT/sync/aws`. */
  target = '';

  get url(): string {
    if (!this.#service) throw new Error('the engine router is not started');
    return this.#service.url;
  }

  async start(): Promise<void> {
    this.#service = await startLoopbackService(async (request) => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).flatMap(([key, value]) =>
          typeof value === 'string' && key !== 'host' && key !== 'content-length' ? [[key, value]] : [],
        ),
      );
      const answer = await fetch(`${this.target}${request.url.pathname}${request.url.search}`, {
        method: request.method,
        headers,
        ...(request.body && request.method !== 'GET' && request.method !== 'HEAD'
          ? { body: request.body }
          : {}),
      });
      return {
        status: answer.status,
        headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' },
        body: await answer.text(),
      };
    });
  }

  async close(): Promise<void> {
    await this.#service?.close();
  }
}
