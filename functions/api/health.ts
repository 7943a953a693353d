export interface HealthCheck {
  readonly name: string;
  /** Resolves when the dependency answered a real request; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: 'ok' | 'failing'; latency_ms: number; error?: string }>;
}

/** Runs every check concurrently, each bounded by `timeoutMs`. */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs = 2_000,
): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (health) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          health.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [
          health.name,
          { status: 'ok' as const, latency_ms: Math.round(performance.now() - started) },
        ] as const;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return [
          health.name,
          {
            status: 'failing' as const,
            latency_ms: Math.round(performance.now() - started),
            error: reason.slice(0, 200),
          },
        ] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checksByName = Object.fromEntries(results);
  const failing = results.some(([, result]) => result.status === 'failing');
  return { status: failing ? 'unavailable' : 'ok', checks: checksByName };
}
