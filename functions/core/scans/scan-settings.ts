/** Tunables of the scan workflow, from configuration; defaults suit the legacy engines. */
export interface ScanSettings {
  /** Lease of the per-account scan lock; renewed by every poll, so a crash frees it after this long. */
  lockLeaseSeconds: number;
  /** A scan still running this long after it started is given up as timed out. */
  maxScanSeconds: number;
  /** A run waiting behind a running scan (overlap policy buffer_one) gives up after this long. */
  maxBufferedWaitSeconds: number;
  /** The stuck-run sweep leaves running records younger than this alone. */
  stuckRunMinAgeSeconds: number;
  /** First wait before polling an asynchronous engine; each later wait doubles, up to the maximum. */
  firstPollWaitSeconds: number;
  maxPollWaitSeconds: number;
  /** Consecutive failed runs after which a schedule pauses itself, unless it sets its own (0 = never). */
  autoPauseAfterFailures: number;
}

export const DEFAULT_SCAN_SETTINGS: ScanSettings = {
  lockLeaseSeconds: 900,
  maxScanSeconds: 4 * 3600,
  maxBufferedWaitSeconds: 3600,
  stuckRunMinAgeSeconds: 900,
  firstPollWaitSeconds: 5,
  maxPollWaitSeconds: 300,
  autoPauseAfterFailures: 5,
};

/** Waits 5, 10, 20, 40 … seconds between polls, capped. */
export function nextPollWaitSeconds(settings: ScanSettings, polls: number): number {
  return Math.min(settings.maxPollWaitSeconds, settings.firstPollWaitSeconds * 2 ** Math.min(polls, 20));
}

export function scanSettingsFrom(config: {
  SCAN_LOCK_LEASE_SECONDS: number;
  SCAN_MAX_SECONDS: number;
  SCAN_BUFFER_MAX_WAIT_SECONDS?: number;
  STUCK_RUN_MIN_AGE_SECONDS?: number;
}): ScanSettings {
  return {
    ...DEFAULT_SCAN_SETTINGS,
    lockLeaseSeconds: config.SCAN_LOCK_LEASE_SECONDS,
    maxScanSeconds: config.SCAN_MAX_SECONDS,
    maxBufferedWaitSeconds:
      config.SCAN_BUFFER_MAX_WAIT_SECONDS ?? DEFAULT_SCAN_SETTINGS.maxBufferedWaitSeconds,
  };
}

/**
 * What the scan workflow needs besides the scan itself: the claim, the credential check, the
 * engine start with its retries, the last poll wait and the recording steps (an upper bound).
 */
export const SCAN_STEPS_ALLOWANCE_SECONDS = 3600;

/**
 * The scan state machine's TimeoutSeconds, derived from the two bounds of a run (the longest
 * scan and the buffered wait) so the workflow never ends a scan its own deadline still allows.
 * Both targets apply it to workflows/scan.asl.json, which holds no TimeoutSeconds of its own.
 */
export function scanWorkflowTimeoutSeconds(
  settings: Pick<ScanSettings, 'maxScanSeconds' | 'maxBufferedWaitSeconds'>,
): number {
  return settings.maxScanSeconds + settings.maxBufferedWaitSeconds + SCAN_STEPS_ALLOWANCE_SECONDS;
}

/** The scan definition with its derived execution timeout. */
export function withScanWorkflowTimeout<Definition extends object>(
  definition: Definition,
  settings: Pick<ScanSettings, 'maxScanSeconds' | 'maxBufferedWaitSeconds'>,
): Definition & { TimeoutSeconds: number } {
  return { ...definition, TimeoutSeconds: scanWorkflowTimeoutSeconds(settings) };
}
