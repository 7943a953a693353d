import type { Orchestrator, WorkflowExecutionDescription } from './ports/orchestrator';

export interface WorkflowWaitOptions {
  /** How long to wait in all; 0 describes nothing and answers undefined at once. */
  timeoutMs: number;
  /** The first pause before describing (default 150 ms); each next one doubles, up to `maxDelayMs`. */
  firstDelayMs?: number;
  /** The longest pause between two describes (default 2 s). */
  maxDelayMs?: number;
  /** Milliseconds since the epoch (injected by tests; default Date.now). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits for an execution to end by describing it, with pauses that double from `firstDelayMs` to
 * `maxDelayMs` (150 ms, 300, 600, 1.2 s, then every 2 s: about a dozen DescribeExecution calls in
 * 20 s, far inside Step Functions' quota and never a DynamoDB read). Answers the final
 * description, or undefined when the execution was still running at the deadline.
 */
export async function waitForWorkflowEnd(
  orchestrator: Pick<Orchestrator, 'describe'>,
  executionArn: string,
  options: WorkflowWaitOptions,
): Promise<WorkflowExecutionDescription | undefined> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const maxDelay = options.maxDelayMs ?? 2_000;
  const deadline = now() + options.timeoutMs;
  let delay = options.firstDelayMs ?? 150;
  for (;;) {
    const remaining = deadline - now();
    if (remaining <= 0) return undefined;
    await sleep(Math.min(delay, remaining));
    const description = await orchestrator.describe(executionArn);
    if (description.status !== 'RUNNING') return description;
    delay = Math.min(delay * 2, maxDelay);
  }
}
