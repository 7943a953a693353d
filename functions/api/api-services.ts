import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { AccountService } from '../core/onboarding/account-service';
import type { Orchestrator, WorkflowName } from '../core/ports/orchestrator';
import type { SchedulerPort } from '../core/ports/scheduler';
import type { SecretStore } from '../core/ports/secret-store';
import type { Repositories } from '../core/repositories/repositories';
import type { ScheduleService } from '../core/scheduling/schedule-service';
import type { ApiSettings } from './api-settings';
import type { IdempotencyStore } from './idempotency-store';
import type { RateLimiter } from './rate-limiter';
import type { TokenVerifier } from './token-verifier';

/**
 * Everything the route modules may use, built once per process by each target's composition root
 * (the API Lambda's, the local runtime's) and handed to `createApp`. Routes parse, authorize, call
 * a core service and shape the answer; they never build clients.
 */
export interface ApiServices {
  repositories: Repositories;
  secretStore: SecretStore;
  orchestrator: Orchestrator;
  /** The ARN of execution `name` of `workflow` on this target. */
  executionArnFor(workflow: WorkflowName, name: string): string;
  scheduler: SchedulerPort;
  scheduleService: ScheduleService;
  accountService: AccountService;
  tokenVerifier: TokenVerifier;
  rateLimiter: RateLimiter;
  idempotencyStore: IdempotencyStore;
  /** The AWS account customers' scan roles trust ('' when not configured). */
  platformAwsAccountId: string;
  /**
   * The role-onboarding template's YAML with its placeholder values (scan-role-template-yaml.ts),
   * rendered when the API was built (read from SCAN_ROLE_TEMPLATE_YAML_FILE in its asset on AWS)
   * or started (locally).
   */
  scanRoleTemplateYaml(): Promise<string>;
  settings: ApiSettings;
  clock: Clock;
  logger: Logger;
  /** Where an operator sees an execution (the Step Functions console on AWS); absent locally. */
  consoleUrlFor?(executionArn: string): string;
}

/** The rendered template's file in the API function's asset, beside the bundle (infra/constructs/functions.ts). */
export const SCAN_ROLE_TEMPLATE_YAML_FILE = 'scan-role-template.yaml';

/** What `createApiServices` needs; the account service is derived from it. */
export type ApiServicesInput = Omit<ApiServices, 'accountService'>;

/** Completes the container with the services derived from the others. */
export function createApiServices(input: ApiServicesInput): ApiServices {
  const accountService = new AccountService({
    ...input.repositories,
    secretStore: input.secretStore,
    orchestrator: input.orchestrator,
    executionArnFor: (workflow, name) => input.executionArnFor(workflow, name),
    schedulePauser: {
      pause: (tenantId, scheduleId, options) => input.scheduleService.pause(tenantId, scheduleId, options),
    },
    clock: input.clock,
    logger: input.logger,
  });
  return { ...input, accountService };
}
