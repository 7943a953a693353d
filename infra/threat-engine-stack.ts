import { ArnFormat, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from './constructs/api';
import { Data } from './constructs/data';
import { Functions } from './constructs/functions';
import { Keys } from './constructs/keys';
import { EngineNetwork } from './constructs/network';
import { Notifications } from './constructs/notifications';
import { Operations } from './constructs/operations';
import { Scheduling } from './constructs/scheduling';
import { Workflows } from './constructs/workflows';
import type { ThreatEngineEnvironment } from './environment';

export interface ThreatEngineStackProps extends StackProps {
  readonly environment: ThreatEngineEnvironment;
}

/**
 * Everything the orchestrator needs on AWS, wired in dependency order: tables and keys, the
 * functions (from the task catalog), the scheduling group and role, the state machines (from
 * `workflows/`), then the cross-links (ARNs into environments, orchestration grants), the API
 * and operations. Account and region come from the deployment unless the context pins them.
 */
export class ThreatEngineStack extends Stack {
  readonly data: Data;
  readonly keys: Keys;
  readonly functions: Functions;
  readonly scheduling: Scheduling;
  readonly workflows: Workflows;
  readonly api: Api;
  readonly operations: Operations;
  readonly notifications: Notifications;
  readonly network: EngineNetwork | undefined;

  constructor(scope: Construct, id: string, props: ThreatEngineStackProps) {
    super(scope, id, props);
    const { environment } = props;

    const oidcIssuer = new CfnParameter(this, 'OidcIssuer', {
      type: 'String',
      description: 'Issuer URL of the OIDC provider whose JWTs the API accepts (the iss claim)',
      allowedPattern: '^https://\\S+$',
      constraintDescription: 'must be an https URL',
      ...(environment.oidcIssuer ? { default: environment.oidcIssuer } : {}),
    });
    const oidcAudience = new CfnParameter(this, 'OidcAudience', {
      type: 'String',
      description: 'Comma-separated audiences (client ids) the API accepts in the aud claim',
      allowedPattern: '^[^,\\s]+(,[^,\\s]+)*$',
      constraintDescription: 'must be one or more audiences separated by commas, without spaces',
      ...(environment.oidcAudience ? { default: environment.oidcAudience.join(',') } : {}),
    });

    const secretArnPattern = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${environment.secretsPrefix}/account/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.keys = new Keys(this, 'Keys', {
      namePrefix: environment.namePrefix,
      secretArnPattern,
      ...(environment.secretsKmsKeyArn ? { existingSecretsKeyArn: environment.secretsKmsKeyArn } : {}),
    });
    this.data = new Data(this, 'Data', {
      adoptLegacyTables: environment.adoptLegacyTables,
      namePrefix: environment.namePrefix,
      timeToLiveEnabled: environment.executionsTtlAttributeEnabled,
      encryptionKey: this.keys.dataKey,
    });
    if (environment.engineVpc) {
      this.network = new EngineNetwork(this, 'EngineNetwork', {
        settings: environment.engineVpc,
        engineUrls: Object.values(environment.engineUrls).filter((url): url is string => Boolean(url)),
      });
    }
    this.functions = new Functions(this, 'Functions', {
      environment,
      data: this.data,
      keys: this.keys,
      secretArnPattern,
      ...(this.network ? { network: this.network } : {}),
    });
    this.scheduling = new Scheduling(this, 'Scheduling', {
      namePrefix: environment.namePrefix,
      keys: this.keys,
    });
    this.workflows = new Workflows(this, 'Workflows', {
      namePrefix: environment.namePrefix,
      functions: this.functions,
      keys: this.keys,
      logRetentionDays: environment.logRetentionDays,
      scanBounds: {
        maxScanSeconds: environment.scanMaxSeconds,
        maxBufferedWaitSeconds: environment.scanBufferMaxWaitSeconds,
      },
    });
    this.notifications = new Notifications(this, 'Notifications', {
      namePrefix: environment.namePrefix,
      keys: this.keys,
      email: environment.notificationChannels.email,
      slack: environment.notificationChannels.slack,
      ...(environment.notificationChannels.webhookUrl
        ? { webhookUrl: environment.notificationChannels.webhookUrl }
        : {}),
      operationsTopic: this.workflows.notificationTopic,
    });
    this.scheduling.allowStartingScans(this.workflows.stateMachines.scan);
    this.scheduling.scheduleSweep(this.functions.stuckRunSweep.fn, environment.stuckRunSweepMinutes);

    this.api = new Api(this, 'Api', {
      handler: this.functions.api.fn,
      schedulingHandler: this.functions.schedulingApi.fn,
      oidcIssuer: oidcIssuer.valueAsString,
      oidcAudience: oidcAudience.valueAsString,
      requiredScopes: environment.oidcRequiredScopes,
      throttleRateLimit: environment.apiThrottleRateLimit,
      throttleBurstLimit: environment.apiThrottleBurstLimit,
      corsAllowOrigins: environment.corsAllowOrigins,
      logRetentionDays: environment.logRetentionDays,
    });
    this.functions.connect({
      ...this.workflows.stateMachines,
      scheduleGroupName: this.scheduling.scheduleGroupName,
      schedulerRole: this.scheduling.schedulerRole,
      schedulerDeadLetterQueueArn: this.scheduling.deadLetterQueue.queueArn,
      oidcIssuer: oidcIssuer.valueAsString,
      oidcAudience: oidcAudience.valueAsString,
      eventBusName: this.notifications.bus.eventBusName,
      eventBusArn: this.notifications.bus.eventBusArn,
      consoleBaseUrl: environment.consoleUrl ?? this.api.url,
    });

    this.operations = new Operations(this, 'Operations', {
      envName: environment.envName,
      stateMachines: this.workflows.stateMachines,
      functions: this.functions.all,
      apiFunctions: [this.functions.api, this.functions.schedulingApi],
      httpApi: this.api.httpApi,
      apiUrl: this.api.url,
      deadLetterQueueAlarm: this.scheduling.deadLetterQueueAlarm,
      otherAlarms: [this.workflows.recorderDeadLetterQueueAlarm, this.notifications.deadLetterQueueAlarm],
      notificationTopic: this.workflows.notificationTopic,
      scheduleGroupName: this.scheduling.scheduleGroupName,
      ...(environment.alarmEmail ? { alarmEmail: environment.alarmEmail } : {}),
      operationalAlarms: environment.operationalAlarms,
      dashboard: environment.dashboard,
    });
  }
}
