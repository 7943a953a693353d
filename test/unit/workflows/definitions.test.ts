import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { SERVICE_TASKS, TASKS } from '../../../functions/tasks/task-catalog';
import { TASK_FACTORIES } from '../../../functions/tasks/task-factories';
import { WORKFLOW_DEFINITIONS } from '../../../workflows/definitions';

type State = Record<string, unknown> & { Type: string };
type Definition = { States: Record<string, State>; QueryLanguage?: string };

const definitions = Object.entries(WORKFLOW_DEFINITIONS) as [string, Definition][];

function allStates(definition: Definition): [string, State][] {
  return Object.entries(definition.States);
}

/** What the CDK app does: every `${Token}` becomes a Lambda ARN. */
function substituted(definition: Definition): unknown {
  return JSON.parse(
    JSON.stringify(definition).replace(
      /\$\{(\w+)\}/g,
      (_, token) => `arn:aws:lambda:ap-south-1:111111111111:function:${token}`,
    ),
  );
}

describe.each(definitions)('Workflow definition: %s', (_name, definition) => {
  it('is valid Amazon States Language once its resources are substituted', () => {
    const result = aslValidator(substituted(definition), { checkPaths: true, checkArn: true });

    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('uses JSONPath only (the local interpreter ignores JSONata)', () => {
    expect(definition.QueryLanguage).toBeUndefined();
    for (const [, state] of allStates(definition)) {
      expect(state).not.toHaveProperty('QueryLanguage');
      expect(state).not.toHaveProperty('Arguments');
      expect(state).not.toHaveProperty('Output');
      expect(state).not.toHaveProperty('Assign');
    }
  });

  it.each(allStates(definition).filter(([, state]) => state.Type === 'Task'))(
    'task "%s" has a comment, a timeout, explicit retries with backoff and a known resource',
    (_stateName, state) => {
      expect(typeof state.Comment).toBe('string');
      expect(state.TimeoutSeconds).toBeGreaterThan(0);
      const retries = state.Retry as Array<{
        ErrorEquals: string[];
        BackoffRate: number;
        MaxAttempts: number;
      }>;
      expect(retries.length).toBeGreaterThan(0);
      for (const retry of retries) {
        expect(retry.BackoffRate).toBeGreaterThanOrEqual(2);
        // Throttling alone gets a long tail (schedules firing together); every other error a few tries.
        const throttling = retry.ErrorEquals.every((error) => error === 'Lambda.TooManyRequestsException');
        expect(retry.MaxAttempts).toBeLessThanOrEqual(throttling ? 10 : 3);
        // Only transient errors are retried: input that can never succeed is not.
        expect(retry.ErrorEquals).not.toContain('States.ALL');
        expect(retry.ErrorEquals).not.toContain('States.TaskFailed');
        expect(retry.ErrorEquals).not.toContain('ValidationError');
        expect(retry.ErrorEquals).not.toContain('CredentialValidationError');
      }
      const token = /^\$\{(\w+)\}$/.exec(String(state.Resource))?.[1];
      expect(TASKS.map((task) => task.token)).toContain(token);
    },
  );

  it('catches every task failure into a state that records it, except the recorders themselves', () => {
    const recorders = allStates(definition)
      .filter(([, state]) => state.Type === 'Task' && state.Catch === undefined)
      .map(([name]) => name);
    for (const name of recorders) expect(name).toMatch(/^Record (the failed|why)/);
    for (const [, state] of allStates(definition)) {
      const catches = state.Catch as Array<{ ErrorEquals: string[]; Next: string }> | undefined;
      for (const caught of catches ?? []) expect(definition.States[caught.Next]).toBeDefined();
    }
  });
});

describe('Task catalog', () => {
  it('has a handler factory for every token, and every token is used by a workflow or is a service task (recorder, sweep)', () => {
    const used = new Set(
      definitions.flatMap(([, definition]) =>
        allStates(definition)
          .filter(([, state]) => state.Type === 'Task')
          .map(([, state]) => String(state.Resource).slice(2, -1)),
      ),
    );
    for (const task of SERVICE_TASKS) used.add(task.token);
    expect(new Set(Object.keys(TASK_FACTORIES))).toEqual(used);
    expect(new Set([...TASKS, ...SERVICE_TASKS].map((task) => task.token))).toEqual(used);
  });
});
