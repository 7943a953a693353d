import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialValidationError } from '../../../functions/core/ports/provider-validator';
import {
  boundedTimeoutMs,
  INVOCATION_MARGIN_MS,
  invocationRemainingMs,
  runWithDeadline,
} from '../../../functions/core/time-budget';
import type {
  EngineHttpRequest,
  EngineHttpResponse,
  EngineHttpTransport,
} from '../../../functions/engines/engine-http-transport';
import { EngineUnavailableError, HttpScanEngine } from '../../../functions/engines/scan-engine-client';
import { ProviderHttp } from '../../../functions/providers/provider-http';

/** An engine (or provider) that accepts the connection and never answers, until the call is aborted. */
function hangingFetch(): typeof fetch & { calls: number } {
  const fake = Object.assign(
    (_url: unknown, init?: RequestInit) => {
      fake.calls += 1;
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    },
    { calls: 0 },
  );
  return fake as typeof fetch & { calls: number };
}

function hangingTransport(): EngineHttpTransport & { calls: number } {
  const fake = Object.assign(
    (request: EngineHttpRequest) => {
      fake.calls += 1;
      return new Promise<EngineHttpResponse>((_resolve, reject) => {
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
      });
    },
    { calls: 0 },
  );
  return fake;
}

/** What a Lambda function of `timeoutSeconds` has left at the start of its invocation. */
const FUNCTION_TIMEOUT_MS = 50_000;
/** The engine timeout the legacy configuration allows (ENGINE_REQUEST_TIMEOUT_SECONDS=300). */
const CONFIGURED_ENGINE_TIMEOUT_MS = 300_000;

describe('Time budgets', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-03-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('Function: invocationRemainingMs', () => {
    it('is undefined outside an invocation, and the time to the deadline minus the margin inside one', async () => {
      // Prepare
      const deadline = Date.now() + FUNCTION_TIMEOUT_MS;

      // Act
      const inside = await runWithDeadline(deadline, async () => invocationRemainingMs());

      // Assess
      expect(invocationRemainingMs()).toBeUndefined();
      expect(inside).toBe(FUNCTION_TIMEOUT_MS - INVOCATION_MARGIN_MS);
      expect(boundedTimeoutMs(CONFIGURED_ENGINE_TIMEOUT_MS, () => 1234)).toBe(1234);
      expect(boundedTimeoutMs(1000, () => 1234)).toBe(1000);
      expect(boundedTimeoutMs(1000, undefined)).toBe(1000);
    });
  });

  describe('Class: HttpScanEngine', () => {
    it('gives up on a hanging engine before the calling function would be killed, whatever its configured timeout', async () => {
      // Prepare
      const transport = hangingTransport();
      const engine = new HttpScanEngine({
        urls: { aws: 'https://aws-engine.example.test' },
        transport,
        timeoutMs: CONFIGURED_ENGINE_TIMEOUT_MS,
        remainingTime: invocationRemainingMs,
      });
      const invocationEnds = Date.now() + FUNCTION_TIMEOUT_MS;

      // Act
      const status = runWithDeadline(invocationEnds, () => engine.getStatus('aws', 'scan-1'));
      const outcome = status.then(
        () => 'answered',
        (error: unknown) => error,
      );
      await vi.advanceTimersByTimeAsync(FUNCTION_TIMEOUT_MS - INVOCATION_MARGIN_MS - 1);
      const settledBeforeBudget = await Promise.race([outcome, Promise.resolve('pending')]);
      await vi.advanceTimersByTimeAsync(1);
      const error = await outcome;

      // Assess
      expect(settledBeforeBudget).toBe('pending');
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect((error as Error).message).toContain(
        `did not answer within ${FUNCTION_TIMEOUT_MS - INVOCATION_MARGIN_MS} ms`,
      );
      expect(Date.now()).toBeLessThan(invocationEnds);
      expect(transport.calls).toBe(1);
    });

    it('does not call the engine at all when the invocation has no time left for it', async () => {
      // Prepare
      const transport = hangingTransport();
      const engine = new HttpScanEngine({
        urls: { aws: 'https://aws-engine.example.test' },
        transport,
        timeoutMs: CONFIGURED_ENGINE_TIMEOUT_MS,
        remainingTime: invocationRemainingMs,
      });

      // Act
      const call = runWithDeadline(Date.now() + INVOCATION_MARGIN_MS, () => engine.cancel('aws', 'scan-1'));

      // Assess
      await expect(call).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(call).rejects.toThrow(/no longer has/);
      expect(transport.calls).toBe(0);
    });

    it('keeps the configured timeout when nothing bounds the call (the local runtime)', async () => {
      // Prepare
      const transport = hangingTransport();
      const engine = new HttpScanEngine({
        urls: { aws: 'https://aws-engine.example.test' },
        transport,
        timeoutMs: 2_000,
        remainingTime: invocationRemainingMs,
      });

      // Act
      const outcome = engine.getStatus('aws', 'scan-1').catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(2_000);

      // Assess
      await expect(outcome).resolves.toBeInstanceOf(EngineUnavailableError);
      await expect(outcome).resolves.toHaveProperty('message', expect.stringContaining('within 2000 ms'));
    });
  });

  describe('Class: ProviderHttp', () => {
    it('bounds a hanging provider call by the remaining invocation time', async () => {
      // Prepare
      const http = new ProviderHttp({
        fetch: hangingFetch(),
        timeoutMs: 60_000,
        remainingTime: invocationRemainingMs,
      });
      const remaining = 20_000;

      // Act
      const outcome = runWithDeadline(Date.now() + remaining, () =>
        http.send({ service: 'Azure AD', method: 'POST', url: 'https://login.example.test/token' }),
      ).catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(remaining - INVOCATION_MARGIN_MS);
      const error = await outcome;

      // Assess
      expect(error).toBeInstanceOf(CredentialValidationError);
      expect((error as CredentialValidationError).reason).toBe('provider_unreachable');
      expect((error as Error).message).toContain(`timed out after ${remaining - INVOCATION_MARGIN_MS} ms`);
    });
  });
});
