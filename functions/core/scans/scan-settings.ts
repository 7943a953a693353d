/** Tunables of the scan workflow, from configuration; defaults suit the legacy engines. */
export interface ScanSettings {
  /** Lease of the per-account scan lock; renewed by every poll, so a crash frees it after this long. */
  lockLeaseSeconds: number;
  /** A scan still running this long after it started is given up as timed out. */
  maxScanSeconds: number;
  /** First wait before polling an asynchronous engine; each later wait doubles, up to the maximum. */
  firstPollWaitSeconds: number;
  maxPollWaitSeconds: number;
  /** Consecutive failed runs after which a schedule pauses itself, unless it sets its own (0 = never). */
  autoPauseAfterFailures: number;
  /**
   * How often a buffered or queued run claims again. The lock is kept for the waiting run, so no
   * later slot overtakes it; this only bounds how late it starts after the lock is released.
   */
  waitingRecheckSeconds: number;
  /** Scans of one tenant running at once; the others wait in order (0 = no bound). */
  maxRunningScansPerTenant: number;
}

export const DEFAULT_SCAN_SETTINGS: ScanSettings = {
  lockLeaseSeconds: 900,
  maxScanSeconds: 4 * 3600,
  firstPollWaitSeconds: 5,
  maxPollWaitSeconds: 300,
  autoPauseAfterFailures: 5,
  waitingRecheckSeconds: 5,
  maxRunningScansPerTenant: 0,
};

/** Waits 5, 10, 20, 40 … seconds between polls, capped. */
export function nextPollWaitSeconds(settings: ScanSettings, polls: number): number {
  return Math.min(settings.maxPollWaitSeconds, settings.firstPollWaitSeconds * 2 ** Math.min(polls, 20));
}

export function scanSettingsFrom(config: {
  SCAN_LOCK_LEASE_SECONDS: number;
  SCAN_MAX_SECONDS: number;
  SCAN_MAX_RUNNING_PER_TENANT?: number | undefined;
}): ScanSettings {
  return {
    ...DEFAULT_SCAN_SETTINGS,
    lockLeaseSeconds: config.SCAN_LOCK_LEASE_SECONDS,
    maxScanSeconds: config.SCAN_MAX_SECONDS,
    maxRunningScansPerTenant:
      config.SCAN_MAX_RUNNING_PER_TENANT ?? DEFAULT_SCAN_SETTINGS.maxRunningScansPerTenant,
  };
}
