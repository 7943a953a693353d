import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createAwsWorkflowDependencies,
  UngrantedDependencyError,
} from '../../../functions/adapters/aws/aws-workflow-dependencies';
import { SecretsManagerSecretStore } from '../../../functions/adapters/aws/secrets-manager-secret-store';
import { clientFlagsOf, TASKS } from '../../../functions/tasks/task-catalog';
import { ConfigSchema } from '../../../schemas/config';

const config = ConfigSchema.parse({ AWS_REGION: 'ap-south-1' });
const taskNamed = (token: string) => {
  const found = TASKS.find((task) => task.token === token);
  if (!found) throw new Error(`no task ${token}`);
  return found;
};

describe('Function: createAwsWorkflowDependencies', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('builds every dependency when no client flag is set (unbundled)', async () => {
    const dependencies = await createAwsWorkflowDependencies(config);

    expect(dependencies.secretStore).toBeInstanceOf(SecretsManagerSecretStore);
    expect(typeof dependencies.accounts.get).toBe('function');
  });

  it('throws UngrantedDependencyError naming the access when a task uses what its flags leave out', async () => {
    // Prepare: the flags PromoteCredentials is bundled with (secrets only).
    for (const [name, value] of Object.entries(clientFlagsOf(taskNamed('PromoteCredentialsFunctionArn')))) {
      vi.stubEnv(name.replace('process.env.', ''), value);
    }

    // Act
    const dependencies = await createAwsWorkflowDependencies(config);

    // Assess
    expect(dependencies.secretStore).toBeInstanceOf(SecretsManagerSecretStore);
    expect(() => dependencies.accounts.get('a')).toThrow(UngrantedDependencyError);
    expect(() => dependencies.validator.validate).toThrow(/provider calls/);
    expect(() => dependencies.scheduler.remove('s')).toThrow(/schedule management/);
  });
});

describe('Function: clientFlagsOf', () => {
  it('flags exactly the clients the catalog grants a task', () => {
    expect(clientFlagsOf(taskNamed('ClaimScanFunctionArn'))).toEqual({
      'process.env.TASK_USES_DYNAMODB': 'true',
      'process.env.TASK_USES_SECRETS_MANAGER': 'false',
      'process.env.TASK_USES_PROVIDERS': 'false',
      'process.env.TASK_USES_ENGINES': 'false',
      'process.env.TASK_USES_SCHEDULER': 'true',
    });
  });
});
