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
 * What the cross-cutting middleware of every API app uses (authentication, Idempotency-Key) and
 * every route module may: built once per process by each target's composition root (the API
 * Lambdas', the local runtime's). Routes parse, authorize, call a core service and shape the
 * answer; they never build clients.
 */
export interface RequestServices {
  repositories: Repositories;
  tokenVerifier: TokenVerifier;
  idempotencyStore: IdempotencyStore;
  settings: ApiSettings;
  clock: Clock;
  logger: Logger;
}

/** What the route modules of the API function (app.ts) use. */
export interface ApiServices extends RequestServices {
  secretStore: SecretStore;
  orchestrator: Orchestrator;
  /** The ARN of execution `name` of `workflow` on this target. */
  executionArnFor(workflow: WorkflowName, name: string): string;
  accountService: AccountService;
  rateLimiter: RateLimiter;
  /** The AWS account customers' scan roles trust ('' when not configured). */
  platformAwsAccountId: string;
  /**
   * The role-onboarding template's YAML with its placeholder values (scan-role-template-yaml.ts),
   * rendered when the API was built (read from SCAN_ROLE_TEMPLATE_YAML_FILE in its asset on AWS)
   * or started (locally).
   */
  scanRoleTemplateYaml(): Promise<string>;
  /**
   * A state machine definition as its workflows/*.asl.json file holds it (the API function's asset
   * carries copies of the files; locally, workflows/definitions.ts).
   */
  workflowDefinition(workflow: WorkflowName): Promise<Record<string, unknown>>;
  /** Where an operator sees an execution (the Step Functions console on AWS); absent locally. */
  consoleUrlFor?(executionArn: string): string;
}

/**
 * What the routes that change scheduler entries use (scheduling-app.ts): the schedules, the
 * reconcile, and disabling a tenant or an account (which pauses their schedules). On AWS they are
 * served by their own function, the only API function granted the scheduler.
 */
export interface SchedulingServices extends RequestServices {
  secretStore: SecretStore;
  scheduler: SchedulerPort;
  scheduleService: ScheduleService;
}

/** The rendered template's file in the API function's asset, beside the bundle (infra/constructs/functions.ts). */
export const SCAN_ROLE_TEMPLATE_YAML_FILE = 'scan-role-template.yaml';

/** What `createApiServices` needs; the account service is derived from it. */
export type ApiServicesInput = Omit<ApiServices, 'accountService'>;

/** Completes the container with the services derived from the others (other members kept as given). */
export function createApiServices<Input extends ApiServicesInput>(
  input: Input,
): Input & Pick<ApiServices, 'accountService'> {
  const accountService = new AccountService({
    ...input.repositories,
    secretStore: input.secretStore,
    orchestrator: input.orchestrator,
    executionArnFor: (workflow, name) => input.executionArnFor(workflow, name),
    clock: input.clock,
    logger: input.logger,
  });
  return { ...input, accountService };
}
