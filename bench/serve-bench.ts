/**
 * The service side of a bench's service process (see startServiceProcess): kept apart so a service
 * script loads nothing of the bench's.
 */

/** A service process's message to the bench: its CPU time, answering `cpu`. */
export interface CpuAnswer {
  cpuMicros: number;
}

export function isCpuAnswer(message: unknown): message is CpuAnswer {
  return typeof (message as Partial<CpuAnswer> | null)?.cpuMicros === 'number';
}

/**
 * What a service script runs once it serves: sends its address, answers `cpu` with its CPU time,
 * and stops (then exits) on `stop`.
 */
export function serveBench(ready: object, stop: () => Promise<void>): void {
  process.send?.(ready);
  process.on('message', async (message) => {
    if (message === 'cpu') {
      const used = process.cpuUsage();
      process.send?.({ cpuMicros: used.user + used.system } satisfies CpuAnswer);
      return;
    }
    await stop();
    process.exit(0);
  });
}
