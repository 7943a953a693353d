import type { ScanEngine } from '../engines/scan-engine-client';
import type { Clock } from './clock';
import type { Logger } from './logger';
import type { DomainEventPublisher } from './ports/event-publisher';
import type { Orchestrator } from './ports/orchestrator';
import type { ProviderValidator } from './ports/provider-validator';
import type { SchedulerPort } from './ports/scheduler';
import type { SecretStore } from './ports/secret-store';
import type { AccountRepository } from './repositories/account-repository';
import type { ExecutionRepository } from './repositories/execution-repository';
import type { ScanResultRepository } from './repositories/scan-result-repository';
import type { ScheduleRepository } from './repositories/schedule-repository';
import type { ScanSettings } from './scans/scan-settings';

/**
 * Everything a workflow task may use, built once per process by the composition root of each
 * target (the Lambda environment on AWS, the local runtime) and handed to the task factories.
 */
export interface WorkflowDependencies {
  accounts: AccountRepository;
  schedules: ScheduleRepository;
  executions: ExecutionRepository;
  scanResults: ScanResultRepository;
  secretStore: SecretStore;
  engine: ScanEngine;
  validator: ProviderValidator;
  scheduler: SchedulerPort;
  clock: Clock;
  logger: Logger;
  settings: ScanSettings;
  /** Where domain events (notifications) go; absent: nothing is published. */
  events?: DomainEventPublisher;
  /** What the stuck-run sweep asks about executions; only the sweep uses it. */
  orchestrator?: Pick<Orchestrator, 'describe'>;
}
