/**
 * Exit codes of `threat-engine`, one per kind of failure, so that scripts can tell them apart.
 * 0 success; 1 the thing asked about failed (a run that failed, a migration with failed records);
 * 2 usage (bad flags or arguments); 3 not found or refused by the API (4xx); 4 server or network
 * failure (5xx, connection refused, timeout).
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  unavailable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr, exiting with its code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions & { status?: number },
  ) {
    super(message, options);
    this.status = options?.status;
  }

  /** The HTTP status the API answered, when the error is an API answer. */
  readonly status: number | undefined;
}
