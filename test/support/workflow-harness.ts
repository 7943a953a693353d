import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../functions/core/clock';
import { scanExecutionName } from '../../functions/core/execution-names';
import { createJsonLogger } from '../../functions/core/json-logger';
import { submitCredentials } from '../../functions/core/onboarding/credential-submission';
import type {
  WorkflowExecutionDescription,
  WorkflowHistoryEvent,
} from '../../functions/core/ports/orchestrator';
import { createRepositories, type Repositories } from '../../functions/core/repositories/repositories';
import { DEFAULT_SCAN_SETTINGS, type ScanSettings } from '../../functions/core/scans/scan-settings';
import type { WorkflowDependencies } from '../../functions/core/workflow-dependencies';
import { HttpScanEngine } from '../../functions/engines/scan-engine-client';
import type { LocalStepFunctions } from '../../local/local-step-functions';
import { LocalVaultSecretStore } from '../../local/local-vault-secret-store';
import { openLocalWorkflows } from '../../local/local-workflows';
import { ScanEngineSimulator } from '../../local/scan-engine-simulator';
import { PROVIDER_TYPES, type ProviderType } from '../../schemas/common';
import type { CredentialType } from '../../schemas/credentials';
import type { ScanRequest } from '../../schemas/workflow-payloads';
import { fakeCredentials } from '../fixtures/credentials';
import { startTestTables, type TestTables } from './dynalite';
import { RecordingScheduler } from './recording-scheduler';
import { ScriptedValidator } from './scripted-validator';

export interface WorkflowHarnessOptions {
  engineMode?: 'sync' | 'async';
  runningPolls?: number;
  settings?: Partial<ScanSettings>;
  /** Scales Wait states and retry pauses (task timeouts stay real). */
  timeScale?: number;
  engineTimeoutMs?: number;
}

const CREDENTIAL_TYPE_OF: Record<ProviderType, CredentialType> = {
  aws: 'aws_access_key',
  azure: 'azure_service_principal',
  gcp: 'gcp_service_account',
  alicloud: 'alicloud_access_key',
  oci: 'oci_user_principal',
  ibm: 'ibm_api_key',
};

/**
 * The real workflows from `workflows/` on the local runtime, against dynalite, the encrypted
 * vault and the engine simulator; only the provider's live check is scripted.
 */
export class WorkflowHarness {
  private constructor(
    readonly directory: string,
    readonly tables: TestTables,
    readonly repositories: Repositories,
    readonly secretStore: LocalVaultSecretStore,
    readonly simulator: ScanEngineSimulator,
    readonly validator: ScriptedValidator,
    readonly scheduler: RecordingScheduler,
    readonly workflows: LocalStepFunctions,
    readonly dependencies: WorkflowDependencies,
    readonly logLines: string[],
  ) {}

  static async start(options: WorkflowHarnessOptions = {}): Promise<WorkflowHarness> {
    const directory = await mkdtemp(join(tmpdir(), 'te-workflows-'));
    const logLines: string[] = [];
    const logger = createJsonLogger({
      level: 'DEBUG',
      service: 'workflow-test',
      write: (line) => logLines.push(line),
    });
    const tables = await startTestTables();
    const repositories = createRepositories(tables.client, tables.tables);
    const secretStore = await LocalVaultSecretStore.open({
      directory: join(directory, 'vault'),
      prefix: 'threat-engine',
    });
    const simulator = new ScanEngineSimulator({ logger, runningPolls: options.runningPolls ?? 2 });
    await simulator.start();
    const mode = options.engineMode ?? 'sync';
    const engine = new HttpScanEngine({
      urls: Object.fromEntries(
        PROVIDER_TYPES.map((provider) => [provider, simulator.urlFor(provider, mode)]),
      ),
      timeoutMs: options.engineTimeoutMs ?? 5_000,
      logger,
    });
    const validator = new ScriptedValidator();
    const scheduler = new RecordingScheduler();
    const dependencies: WorkflowDependencies = {
      ...repositories,
      secretStore,
      engine,
      validator,
      scheduler,
      clock: systemClock,
      logger,
      settings: { ...DEFAULT_SCAN_SETTINGS, firstPollWaitSeconds: 1, ...options.settings },
    };
    const workflows = await openLocalWorkflows({
      directory: join(directory, 'workflows'),
      region: 'ap-south-1',
      dependencies,
      logger,
      timeScale: options.timeScale ?? 0.01,
    });
    return new WorkflowHarness(
      directory,
      tables,
      repositories,
      secretStore,
      simulator,
      validator,
      scheduler,
      workflows,
      dependencies,
      logLines,
    );
  }

  /** A tenant, its provider and a pending account. */
  async createAccount(provider: ProviderType = 'aws', accountName = 'Production') {
    const tenant = await this.repositories.tenants.create({
      tenant_name: `Tenant ${Math.random().toString(36).slice(2, 10)}`,
    });
    const providerItem = await this.repositories.providers.getOrCreate(tenant.tenant_id, provider);
    const account = await this.repositories.accounts.create({
      tenant_id: tenant.tenant_id,
      provider_id: providerItem.provider_id,
      provider_type: provider,
      account_name: accountName,
    });
    return { tenant, account };
  }

  /** Stages credentials and runs the onboarding workflow to its end. */
  async onboard(
    tenantId: string,
    accountId: string,
    credentials: { credential_type: CredentialType; credentials: unknown },
    options: { requestToken?: string; firstSchedule?: Record<string, unknown> } = {},
  ) {
    const submitted = await submitCredentials(
      {
        accounts: this.repositories.accounts,
        secretStore: this.secretStore,
        orchestrator: this.workflows,
        clock: systemClock,
      },
      {
        tenantId,
        accountId,
        credentialType: credentials.credential_type,
        credentials: credentials.credentials,
        requestToken: options.requestToken ?? `token-${Math.random().toString(36).slice(2)}`,
        firstSchedule: options.firstSchedule ?? null,
      },
    );
    const description = await this.workflows.waitForCompletion(submitted.execution.executionArn, 20_000);
    return { submitted, description, history: await this.history(submitted.execution.executionArn) };
  }

  /** An active account, onboarded with generated fake credentials. */
  async activeAccount(
    provider: ProviderType = 'aws',
    credentials?: { credential_type: CredentialType; credentials: unknown },
  ) {
    const { tenant, account } = await this.createAccount(provider);
    const type = CREDENTIAL_TYPE_OF[provider];
    await this.onboard(
      tenant.tenant_id,
      account.account_id,
      credentials ?? { credential_type: type, credentials: fakeCredentials(type) },
    );
    const onboarded = await this.repositories.accounts.get(account.account_id);
    if (onboarded?.status !== 'active')
      throw new Error(`onboarding of the fixture account failed: ${JSON.stringify(onboarded)}`);
    return { tenant, account: onboarded };
  }

  async startScan(request: ScanRequest, name?: string) {
    return this.workflows.start({
      workflow: 'scan',
      name:
        name ??
        scanExecutionName({
          accountId: request.account_id,
          triggeredBy: request.triggered_by,
          ...(request.schedule_id ? { scheduleId: request.schedule_id } : {}),
          ...(request.scheduled_time ? { scheduledTime: request.scheduled_time } : {}),
          requestedAt: new Date(),
        }),
      input: request,
    });
  }

  async runScan(request: ScanRequest, name?: string) {
    const handle = await this.startScan(request, name);
    const description = await this.workflows.waitForCompletion(handle.executionArn, 20_000);
    return { handle, description, history: await this.history(handle.executionArn) };
  }

  async history(executionArn: string): Promise<WorkflowHistoryEvent[]> {
    const events: WorkflowHistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.workflows.history(executionArn, {
        limit: 500,
        ...(nextToken ? { nextToken } : {}),
      });
      events.push(...page.events);
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  async close(): Promise<void> {
    await this.workflows.close({ gracePeriodMs: 200 });
    await this.simulator.stop();
    await this.tables.close();
    await rm(this.directory, { recursive: true, force: true });
  }
}

/** The states a run entered, in order (what an operator reads in the console). */
export function statesEntered(history: WorkflowHistoryEvent[]): string[] {
  return history.filter((event) => event.type.endsWith('StateEntered')).map((event) => event.stateName ?? '');
}

export type { WorkflowExecutionDescription };
