import type { WorkflowName } from '../functions/core/ports/orchestrator';

/** A state machine's name is fixed by the environment, so its ARN can be built without a reference. */
export function stateMachineNameFor(namePrefix: string, workflow: WorkflowName): string {
  return `${namePrefix}threat-engine-${workflow}`;
}
