import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../../schemas/config';
import { WORKFLOW_FILES } from '../../../workflows/definitions';
import { createApiServices, SCAN_ROLE_TEMPLATE_YAML_FILE } from '../../api/api-services';
import type { ApiDependencies } from '../../api/app';
import { WindowRateLimiter } from '../../api/rate-limiter';
import { tablesHealthCheck } from '../../api/tables-health-check';
import type { WorkflowName } from '../../core/ports/orchestrator';
import { createAwsRequestServices } from './aws-request-services';

/**
 * The API Lambda's composition root: every route but the scheduling function's
 * (aws-scheduling-dependencies.ts), so no scheduler client and no schedule service.
 */
export function createAwsApiDependencies(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): ApiDependencies {
  const { tables, documentClient, ...request } = createAwsRequestServices(config, env, 'threat-engine-api');
  const { repositories, secretStore, settings, clock, logger } = request;
  let scanRoleTemplateYaml: Promise<string> | undefined;
  const workflowDefinitions: Partial<Record<WorkflowName, Promise<Record<string, unknown>>>> = {};
  const region = config.AWS_REGION;
  const services = createApiServices({
    ...request,
    rateLimiter: new WindowRateLimiter({
      claims: repositories.claims,
      limit: settings.API_VALIDATION_RATE_LIMIT,
      windowSeconds: settings.API_VALIDATION_RATE_WINDOW_SECONDS,
      clock,
    }),
    platformAwsAccountId: config.PLATFORM_AWS_ACCOUNT_ID,
    // Rendered when the asset was built (infra/constructs/functions.ts); read on first use.
    scanRoleTemplateYaml: () =>
      (scanRoleTemplateYaml ??= readFile(
        join(env.LAMBDA_TASK_ROOT ?? '.', SCAN_ROLE_TEMPLATE_YAML_FILE),
        'utf8',
      )),
    // Copied into the asset from workflows/ when it was built (infra/constructs/functions.ts).
    workflowDefinition: (workflow) =>
      (workflowDefinitions[workflow] ??= readFile(
        join(env.LAMBDA_TASK_ROOT ?? '.', WORKFLOW_FILES[workflow]),
        'utf8',
      ).then((text) => JSON.parse(text) as Record<string, unknown>)),
    consoleUrlFor: (executionArn) =>
      `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`,
  });
  return {
    logger,
    target: 'aws',
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? 'unknown',
    healthChecks: [
      tablesHealthCheck(documentClient, tables),
      { name: 'secret_store', check: () => secretStore.checkHealth() },
    ],
    services,
  };
}
