import { describe, expect, it } from 'vitest';
import type {
  WorkflowExecutionDescription,
  WorkflowExecutionStatus,
} from '../../../functions/core/ports/orchestrator';
import { waitForWorkflowEnd } from '../../../functions/core/workflow-wait';

/** An orchestrator whose execution reports `statuses` one describe after another, on a fake clock. */
function scripted(statuses: WorkflowExecutionStatus[]) {
  let now = 0;
  const describedAt: number[] = [];
  const orchestrator = {
    describe: async (executionArn: string): Promise<WorkflowExecutionDescription> => {
      describedAt.push(now);
      const status = statuses.shift() ?? 'RUNNING';
      return { workflow: 'onboarding', name: 'onboard-x', executionArn, status, startedAt: '', input: {} };
    },
  };
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  return { orchestrator, clock, describedAt };
}

describe('Function: waitForWorkflowEnd', () => {
  it('answers the description once the execution has ended', async () => {
    // Prepare
    const { orchestrator, clock } = scripted(['RUNNING', 'RUNNING', 'FAILED']);

    // Act
    const ended = await waitForWorkflowEnd(orchestrator, 'arn:x', { timeoutMs: 20_000, ...clock });

    // Assess
    expect(ended?.status).toBe('FAILED');
  });

  it('doubles its pauses up to the cap and gives up at the deadline with undefined', async () => {
    // Prepare
    const { orchestrator, clock, describedAt } = scripted([]);

    // Act
    const ended = await waitForWorkflowEnd(orchestrator, 'arn:x', { timeoutMs: 20_000, ...clock });

    // Assess
    expect(ended).toBeUndefined();
    expect(describedAt.slice(0, 6)).toEqual([150, 450, 1050, 2250, 4250, 6250]);
    expect(describedAt.at(-1)).toBe(20_000);
    expect(describedAt.length).toBeLessThanOrEqual(14);
  });

  it('describes nothing when the wait is 0', async () => {
    // Prepare
    const { orchestrator, clock, describedAt } = scripted(['SUCCEEDED']);

    // Act
    const ended = await waitForWorkflowEnd(orchestrator, 'arn:x', { timeoutMs: 0, ...clock });

    // Assess
    expect(ended).toBeUndefined();
    expect(describedAt).toEqual([]);
  });
});
