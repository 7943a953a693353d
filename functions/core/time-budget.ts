import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Time budgets: every outbound call (scan engines, provider checks) ends before the function that
 * makes it would be killed, whatever its configured timeout. A Lambda timeout surfaces in the
 * workflow as `Lambda.Unknown` with nothing recorded; a call that gives up in time surfaces as
 * the typed error the workflow retries or records.
 */

/** Left for the task to record what happened after its last call gave up. */
export const INVOCATION_MARGIN_MS = 5_000;

/** Milliseconds an outbound call may still take; undefined when nothing bounds it (local runs). */
export type RemainingTime = () => number | undefined;

const deadlines = new AsyncLocalStorage<number>();

/** Runs `work` with a deadline (epoch ms) that every bounded call made inside it respects. */
export function runWithDeadline<T>(deadlineEpochMs: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadlineEpochMs, work);
}

/**
 * The current invocation's remaining time minus the margin (never below 0), or undefined outside
 * an invocation with a deadline.
 */
export const invocationRemainingMs: RemainingTime = () => {
  const deadline = deadlines.getStore();
  if (deadline === undefined) return undefined;
  return Math.max(0, deadline - Date.now() - INVOCATION_MARGIN_MS);
};

/** A call's timeout: the configured one, shortened to what the invocation has left. */
export function boundedTimeoutMs(configuredMs: number, remaining: RemainingTime | undefined): number {
  const left = remaining?.();
  return left === undefined ? configuredMs : Math.min(configuredMs, left);
}

/**
 * An AbortSignal that fires after `ms` with a `TimeoutError` reason, like `AbortSignal.timeout`,
 * but on the ordinary timers (so fake timers drive it in tests) and cancellable once the call ends.
 */
export function timeoutSignal(ms: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
    Math.max(0, ms),
  );
  timer.unref?.();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
