import type { Config } from '../../../schemas/config';
import type { SchedulingServices } from '../../api/api-services';
import type { Logger } from '../../core/logger';
import { lazySchedulerPort } from '../../core/ports/scheduler';
import { ScheduleService } from '../../core/scheduling/schedule-service';
import { createAwsRequestServices } from './aws-request-services';
import { awsScheduler } from './eventbridge-scheduler';

/**
 * The scheduling API Lambda's composition root (functions/api/scheduling-lambda.ts): the schedule
 * service over EventBridge Scheduler, for the routes that change scheduler entries.
 */
export function createAwsSchedulingDependencies(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): { logger: Logger; services: SchedulingServices } {
  const request = createAwsRequestServices(config, env, 'threat-engine-api');
  const { repositories, orchestrator, clock, logger } = request;
  const scheduler = lazySchedulerPort(() => awsScheduler(config));
  const scheduleService = new ScheduleService({
    schedules: repositories.schedules,
    accounts: repositories.accounts,
    executions: repositories.executions,
    scheduler,
    orchestrator,
    clock,
    logger,
    settings: { autoPauseAfterFailuresDefault: config.SCHEDULE_AUTO_PAUSE_AFTER_FAILURES },
  });
  return { logger, services: { ...request, scheduler, scheduleService } };
}
