import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Aws, Duration, Stack, Stage } from 'aws-cdk-lib';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildConsoleAssetsSync } from '../../console/build-console';
import { API_DOCS_ASSETS, SWAGGER_UI_BUNDLE_DIRECTORY } from '../../functions/api/api-docs';
import { SCAN_ROLE_TEMPLATE_YAML_FILE } from '../../functions/api/api-services';
import { OPENAPI_DOCUMENT_FILE } from '../../functions/api/openapi';
import { writeOpenApiDocument } from '../../functions/api/openapi-document';
import { writeScanRoleTemplateYaml } from '../../functions/api/scan-role-template-yaml';
import {
  clientFlagsOf,
  EXECUTION_TERMINATED_TASK,
  SERVICE_TASKS,
  type SecretAccess,
  STUCK_RUN_SWEEP_TASK,
  TASKS,
  type TableAccess,
  type TaskDefinition,
  type TaskToken,
} from '../../functions/tasks/task-catalog';
import { PROVIDER_TYPES } from '../../schemas/common';
import { TABLE_NAME_VARIABLES } from '../../schemas/config';
import type { TableLogicalName } from '../../schemas/tables';
import { WORKFLOW_FILES } from '../../workflows/definitions';
import { acknowledgeWildcardResources } from '../acknowledge-wildcard-resources';
import type { ThreatEngineEnvironment } from '../environment';
import { stateMachineNameFor } from '../state-machine-names';
import type { Data } from './data';
import type { Keys } from './keys';
import type { EngineNetwork } from './network';

/** The repository root (entries, lock file and tsconfig are resolved from it). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The newest Node.js runtime this aws-cdk-lib knows; bundles target node22 so they also run there. */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/**
 * No BatchGetItem, BatchWriteItem, ConditionCheckItem or DescribeTable: no repository sends them
 * (the deploy rehearsal lists every action a function uses, see rehearsal/).
 */
const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
  write: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  readWrite: [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:UpdateItem',
  ],
};

/** Secret access levels of the catalog (plus the API functions'), as Secrets Manager actions. */
export const SECRET_ACTIONS: Record<Exclude<SecretAccess, 'none'> | 'manage' | 'retire', string[]> = {
  read: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
  promote: ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'],
  stage: [
    'secretsmanager:CreateSecret',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
    'secretsmanager:PutSecretValue',
    'secretsmanager:RestoreSecret',
    'secretsmanager:TagResource',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  /** The API: staging plus deleting (7-day recovery window); it never reads a credential back. */
  manage: [
    'secretsmanager:CreateSecret',
    'secretsmanager:DeleteSecret',
    'secretsmanager:DescribeSecret',
    'secretsmanager:PutSecretValue',
    'secretsmanager:RestoreSecret',
    'secretsmanager:TagResource',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  /** The scheduling API: disabling an account schedules its secret's deletion, nothing else. */
  retire: ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'],
};

const SCHEDULER_ACTIONS = [
  'scheduler:CreateSchedule',
  'scheduler:DeleteSchedule',
  'scheduler:GetSchedule',
  'scheduler:UpdateSchedule',
];

const X_RAY_REASON =
  'Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (AWS requires Resource "*").';

const VPC_REASON =
  'In the engine VPC, Lambda manages the function network interfaces with ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DescribeSubnets/DeleteNetworkInterface/AssignPrivateIpAddresses/UnassignPrivateIpAddresses, granted on Resource "*" as in the AWS managed AWSLambdaVPCAccessExecutionRole.';

/** What the API function needs beyond the tables (which it reads and writes, all of them). */
export const API_ACCESS = {
  token: 'ApiFunction',
  entry: 'functions/api/lambda.ts',
  description: 'Threat engine HTTP API (Hono on API Gateway HTTP API, payload v2)',
  timeoutSeconds: 29,
  memoryMb: 512,
} as const;

/**
 * The scheduling API function (functions/api/scheduling-app.ts): the routes that change scheduler
 * entries, the only API function granted EventBridge Scheduler and the scheduler role.
 */
export const SCHEDULING_API_ACCESS = {
  token: 'SchedulingApiFunction',
  entry: 'functions/api/scheduling-lambda.ts',
  description:
    'Threat engine HTTP API, the routes that change scheduler entries (schedules, reconcile, disabling)',
  timeoutSeconds: 29,
  memoryMb: 512,
  /**
   * What its routes read and write: the caller's tenant (authentication) and tenant disabling, the
   * accounts, the schedules, the runs (listed, and recorded by a manual trigger), the
   * Idempotency-Key claims. Not the providers or the scan results.
   */
  tables: {
    tenants: 'readWrite',
    accounts: 'readWrite',
    schedules: 'readWrite',
    executions: 'readWrite',
    claims: 'readWrite',
  } satisfies Partial<Record<TableLogicalName, TableAccess>>,
} as const;

export interface FunctionsProps {
  readonly environment: ThreatEngineEnvironment;
  readonly data: Data;
  readonly keys: Keys;
  /** `arn:…:secret:{prefix}/account/*`: every secret this service creates or reads. */
  readonly secretArnPattern: string;
  /** Where the engine-calling functions run when the engines are private (engineVpc). */
  readonly network?: EngineNetwork;
}

export interface WorkflowConnections {
  readonly onboarding: StateMachine;
  readonly validation: StateMachine;
  readonly scan: StateMachine;
  readonly scheduleGroupName: string;
  readonly schedulerRole: IRole;
  readonly schedulerDeadLetterQueueArn: string;
  readonly oidcIssuer: string;
  readonly oidcAudience: string;
  /** The bus the tasks publish domain events to, and the console links they carry. */
  readonly eventBusName: string;
  readonly eventBusArn: string;
  readonly consoleBaseUrl: string;
}

/** A function of this stack with the role it runs as (for grants and alarms). */
export interface ServiceFunction {
  readonly name: string;
  readonly fn: NodejsFunction;
  readonly role: Role;
}

/**
 * One NodejsFunction per task of the catalog, the terminated-execution recorder and the two API
 * functions (the scheduling routes in their own, the only API function granted the scheduler),
 * each with its own role holding exactly the catalog's access: its tables (and their indexes by
 * name), its secrets under the prefix, the secrets key through Secrets Manager, its log group.
 */
export class Functions extends Construct {
  readonly tasks: ReadonlyMap<TaskToken, ServiceFunction>;
  readonly terminatedExecution: ServiceFunction;
  readonly stuckRunSweep: ServiceFunction;
  readonly api: ServiceFunction;
  readonly schedulingApi: ServiceFunction;
  readonly all: readonly ServiceFunction[];
  readonly #props: FunctionsProps;
  /** Roles and the created tables they use: one data key statement each. */
  readonly #tableKeyUsers = new Map<IRole, string[]>();

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    this.#props = props;

    this.tasks = new Map(TASKS.map((task) => [task.token, this.#taskFunction(task)]));
    this.terminatedExecution = this.#taskFunction(EXECUTION_TERMINATED_TASK);
    this.stuckRunSweep = this.#taskFunction(STUCK_RUN_SWEEP_TASK);
    // One setting per bound: the tasks and the derived scan state machine timeout agree.
    for (const { fn } of [...this.tasks.values(), this.terminatedExecution, this.stuckRunSweep]) {
      fn.addEnvironment('SCAN_MAX_SECONDS', String(props.environment.scanMaxSeconds));
      fn.addEnvironment('SCAN_BUFFER_MAX_WAIT_SECONDS', String(props.environment.scanBufferMaxWaitSeconds));
    }

    // Built into the cloud assembly directory, so it goes away with it.
    const consoleAssets = buildConsoleAssetsSync(join(Stage.of(this)?.outdir ?? tmpdir(), 'console-assets'));
    // Generated here from the routes' registry and schemas, so the API bundle carries no JSON Schema
    // code; the app fills in its version when it serves the document.
    const openApiDocument = writeOpenApiDocument(
      join(Stage.of(this)?.outdir ?? tmpdir(), 'openapi-document'),
    );
    // The role-onboarding template's YAML likewise (the yaml library stays out of the bundle).
    const templateYaml = writeScanRoleTemplateYaml(
      join(Stage.of(this)?.outdir ?? tmpdir(), 'scan-role-template'),
    );
    this.api = this.#function({
      name: API_ACCESS.token,
      entry: join(PROJECT_ROOT, API_ACCESS.entry),
      description: API_ACCESS.description,
      timeoutSeconds: API_ACCESS.timeoutSeconds,
      memoryMb: API_ACCESS.memoryMb,
      serviceName: 'threat-engine-api',
      reservedConcurrency: props.environment.apiReservedConcurrency,
      callsEngines: false,
      // The /docs page's assets (read next to the bundle: functions/api/api-docs.ts), the OpenAPI
      // document, the workflow definitions and the operator console's built files (not inlined into the bundle: lambda.ts serves them).
      afterBundling: (inputDir, outputDir) => [
        `mkdir -p "${outputDir}/${SWAGGER_UI_BUNDLE_DIRECTORY}"`,
        ...Object.keys(API_DOCS_ASSETS).map(
          (asset) =>
            `cp "${inputDir}/node_modules/swagger-ui-dist/${asset}" "${outputDir}/${SWAGGER_UI_BUNDLE_DIRECTORY}/${asset}"`,
        ),
        `cp "${openApiDocument}" "${outputDir}/${OPENAPI_DOCUMENT_FILE}"`,
        // The state machine definitions GET /workflows/{workflow}/definition serves, as the files are.
        `mkdir -p "${outputDir}/workflows"`,
        ...Object.values(WORKFLOW_FILES).map((file) => `cp "${inputDir}/${file}" "${outputDir}/${file}"`),
        `cp "${templateYaml}" "${outputDir}/${SCAN_ROLE_TEMPLATE_YAML_FILE}"`,
        `mkdir -p "${outputDir}/console" && cp -R "${consoleAssets}/." "${outputDir}/console/"`,
      ],
      otherWildcardReason:
        'secretsmanager:ListSecrets (the API health check) supports no resource-level permissions either.',
    });
    if (props.environment.consoleOidcClientId) {
      this.api.fn.addEnvironment('CONSOLE_OIDC_CLIENT_ID', props.environment.consoleOidcClientId);
    }
    if (props.environment.corsAllowOrigins.length > 0) {
      // The app answers CORS itself too (local runtime); keep both lists the same.
      this.api.fn.addEnvironment('API_CORS_ALLOWED_ORIGINS', props.environment.corsAllowOrigins.join(','));
    }
    for (const logicalName of Object.keys(TABLE_NAME_VARIABLES) as TableLogicalName[]) {
      this.#grantTable(this.api.role, logicalName, 'readWrite');
    }
    this.#grantSecrets(this.api.role, 'manage');
    // ListSecrets (the health check) has no resource-level permissions.
    this.api.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
    );

    this.schedulingApi = this.#function({
      name: SCHEDULING_API_ACCESS.token,
      entry: join(PROJECT_ROOT, SCHEDULING_API_ACCESS.entry),
      description: SCHEDULING_API_ACCESS.description,
      timeoutSeconds: SCHEDULING_API_ACCESS.timeoutSeconds,
      memoryMb: SCHEDULING_API_ACCESS.memoryMb,
      serviceName: 'threat-engine-api',
      // Each API function reserves apiReservedConcurrency of its own (when set).
      reservedConcurrency: props.environment.apiReservedConcurrency,
      callsEngines: false,
      otherWildcardReason:
        'scheduler:ListSchedules (POST /scheduler/reconcile) supports no resource-level permissions either.',
    });
    if (props.environment.corsAllowOrigins.length > 0) {
      this.schedulingApi.fn.addEnvironment(
        'API_CORS_ALLOWED_ORIGINS',
        props.environment.corsAllowOrigins.join(','),
      );
    }
    for (const [logicalName, access] of Object.entries(SCHEDULING_API_ACCESS.tables) as [
      TableLogicalName,
      TableAccess,
    ][]) {
      this.#grantTable(this.schedulingApi.role, logicalName, access);
    }
    this.#grantSecrets(this.schedulingApi.role, 'retire');
    this.schedulingApi.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['scheduler:ListSchedules'], resources: ['*'] }),
    );

    this.all = [
      ...this.tasks.values(),
      this.terminatedExecution,
      this.stuckRunSweep,
      this.api,
      this.schedulingApi,
    ];
    for (const [role, tableNames] of this.#tableKeyUsers) props.keys.grantTableUse(role, tableNames);
  }

  /** The function of a catalog entry (a workflow task or a service task). */
  functionOf(task: TaskDefinition): ServiceFunction {
    if (task === EXECUTION_TERMINATED_TASK) return this.terminatedExecution;
    if (task === STUCK_RUN_SWEEP_TASK) return this.stuckRunSweep;
    return this.task(task.token);
  }

  /** The function that runs the task with this `${Token}` (throws on an unknown token). */
  task(token: string): ServiceFunction {
    const found = this.tasks.get(token as TaskToken);
    if (!found)
      throw new Error(`unknown task token ${JSON.stringify(token)}: not in functions/tasks/task-catalog.ts`);
    return found;
  }

  /**
   * Wires what exists only once the workflows and the scheduling exist: the state machine ARNs
   * and scheduling settings in the environment, and the orchestration and scheduling grants.
   */
  connect(connections: WorkflowConnections): void {
    const stack = Stack.of(this);
    const stateMachines = [connections.onboarding, connections.validation, connections.scan];
    const { api, schedulingApi } = this;
    for (const { fn } of [api, schedulingApi]) {
      fn.addEnvironment('ONBOARDING_STATE_MACHINE_ARN', connections.onboarding.stateMachineArn);
      fn.addEnvironment('VALIDATION_STATE_MACHINE_ARN', connections.validation.stateMachineArn);
      fn.addEnvironment('OIDC_ISSUER', connections.oidcIssuer);
      fn.addEnvironment('OIDC_AUDIENCE', connections.oidcAudience);
    }
    api.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:ListExecutions', 'states:StartExecution'],
        resources: stateMachines.map((machine) => machine.stateMachineArn),
      }),
    );
    const executionArns = stateMachines.map((machine) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${machine.stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    api.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
        resources: executionArns,
      }),
    );
    acknowledgeWildcardResources(
      api.role,
      executionArns,
      "Execution names are chosen at run time (one per request or schedule slot); the grant is limited to executions of this stack's three state machines.",
    );

    // A schedule's manual trigger starts a scan from the scheduling API (and reads the execution a
    // retried start already made); the API function is not in any definition, so no cycle.
    const scanExecutionArns = [executionArns[stateMachines.indexOf(connections.scan)] as string];
    schedulingApi.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [connections.scan.stateMachineArn],
      }),
    );
    schedulingApi.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['states:DescribeExecution'], resources: scanExecutionArns }),
    );
    acknowledgeWildcardResources(
      schedulingApi.role,
      scanExecutionArns,
      "Execution names are chosen at run time (one per schedule slot or manual trigger); the grant is limited to executions of this stack's scan state machine.",
    );

    const catalog: readonly TaskDefinition[] = [...TASKS, ...SERVICE_TASKS];
    for (const task of catalog.filter((entry) => entry.describesExecutions)) {
      const { fn, role } = this.functionOf(task);
      // Not in any definition, so referencing the state machines makes no cycle.
      fn.addEnvironment('ONBOARDING_STATE_MACHINE_ARN', connections.onboarding.stateMachineArn);
      fn.addEnvironment('VALIDATION_STATE_MACHINE_ARN', connections.validation.stateMachineArn);
      role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['states:DescribeExecution'], resources: executionArns }),
      );
      acknowledgeWildcardResources(
        role,
        executionArns,
        "Execution names are chosen at run time (one per request or schedule slot); the sweep only reads the status of executions of this stack's three state machines.",
      );
    }
    for (const task of catalog.filter((entry) => entry.publishesEvents)) {
      const { fn, role } = this.functionOf(task);
      fn.addEnvironment('EVENT_BUS_NAME', connections.eventBusName);
      fn.addEnvironment('CONSOLE_BASE_URL', connections.consoleBaseUrl);
      role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['events:PutEvents'], resources: [connections.eventBusArn] }),
      );
    }

    const schedulingFunctions = [
      schedulingApi,
      ...catalog.filter((task) => task.managesSchedules).map((task) => this.functionOf(task)),
    ];
    const scheduleArns = [
      stack.formatArn({
        service: 'scheduler',
        resource: 'schedule',
        resourceName: `${connections.scheduleGroupName}/*`,
      }),
    ];
    // Built from the name, not referenced: the scan tasks that count runs (and may pause a
    // schedule) are themselves in the scan state machine's definition, so a reference would be a cycle.
    const scanStateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineNameFor(this.#props.environment.namePrefix, 'scan'),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // The API starts scans too (manual runs, redrives), without any scheduler grant.
    api.fn.addEnvironment('SCAN_STATE_MACHINE_ARN', scanStateMachineArn);

    for (const { fn, role } of schedulingFunctions) {
      fn.addEnvironment('SCAN_STATE_MACHINE_ARN', scanStateMachineArn);
      fn.addEnvironment('SCHEDULE_GROUP_NAME', connections.scheduleGroupName);
      fn.addEnvironment('SCHEDULER_ROLE_ARN', connections.schedulerRole.roleArn);
      fn.addEnvironment('SCHEDULER_DLQ_ARN', connections.schedulerDeadLetterQueueArn);
      role.addToPrincipalPolicy(new PolicyStatement({ actions: SCHEDULER_ACTIONS, resources: scheduleArns }));
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [connections.schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
      acknowledgeWildcardResources(
        role,
        scheduleArns,
        "One EventBridge Scheduler entry per schedule, named at run time; the grant is limited to the service's own schedule group.",
      );
    }
  }

  #taskFunction(task: TaskDefinition): ServiceFunction {
    const name = `${pascalCase(task.entry.replace(/\.ts$/, ''))}Function`;
    const created = this.#function({
      name,
      entry: join(PROJECT_ROOT, 'functions', 'tasks', task.entry),
      description: task.description,
      timeoutSeconds: task.timeoutSeconds,
      memoryMb: task.memoryMb,
      serviceName: 'threat-engine-workflows',
      reservedConcurrency: this.#props.environment.taskReservedConcurrency,
      callsEngines: task.callsEngines,
      define: Object.fromEntries(
        Object.entries(clientFlagsOf(task)).map(([name, value]) => [name, JSON.stringify(value)]),
      ),
    });
    for (const [logicalName, access] of Object.entries(task.tables) as [TableLogicalName, TableAccess][]) {
      this.#grantTable(created.role, logicalName, access);
    }
    if (task.secrets !== 'none') this.#grantSecrets(created.role, task.secrets);
    if (task.callsProviders) {
      // AWS iam_role credentials are checked by assuming the customer's role from this
      // (the platform) account; role names and accounts are the customers', known at run time.
      const customerRoles = [`arn:${Aws.PARTITION}:iam::*:role/*`];
      created.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: customerRoles,
          conditions: { Null: { 'sts:ExternalId': 'false' } },
        }),
      );
      acknowledgeWildcardResources(
        created.role,
        customerRoles,
        'Validating an AWS account assumes the role its owner created in their own account (any account, any role name, known only at run time); the statement requires an external id, and the customer role trusts this account only with that id.',
      );
    }
    return created;
  }

  #function(options: {
    name: string;
    entry: string;
    description: string;
    timeoutSeconds: number;
    memoryMb: number;
    serviceName: string;
    reservedConcurrency: number | undefined;
    callsEngines: boolean;
    /** Shell commands run after bundling, given the project root and the bundle directory. */
    afterBundling?: (inputDir: string, outputDir: string) => string[];
    /** Why other statements of this role also need Resource "*" (besides X-Ray). */
    otherWildcardReason?: string;
    /** Bundle-time constants (the task's client flags). */
    define?: Record<string, string>;
  }): ServiceFunction {
    const { environment, data, keys } = this.#props;
    const role = new Role(this, `${options.name}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${options.name}: ${options.description}`.slice(0, 1000),
    });
    const logGroup = new LogGroup(this, `${options.name}LogGroup`, {
      retention: environment.logRetentionDays as RetentionDays,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    // Engine callers join the engines' VPC when one is configured (the legacy engines are private).
    const placement = options.callsEngines ? this.#props.network?.functionPlacement : undefined;
    if (placement) {
      // What Lambda needs to attach the function to the subnets: these EC2 actions (AWS's
      // AWSLambdaVPCAccessExecutionRole) take no resource-level permission.
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [
            'ec2:AssignPrivateIpAddresses',
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    const engineUrls = options.callsEngines
      ? Object.fromEntries(
          PROVIDER_TYPES.flatMap((provider) => {
            const url = environment.engineUrls[provider];
            return url ? [[`${provider.toUpperCase()}_ENGINE_URL`, url]] : [];
          }),
        )
      : {};
    const fn = new NodejsFunction(this, options.name, {
      entry: options.entry,
      handler: 'handler',
      description: options.description.slice(0, 256),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: options.memoryMb,
      timeout: Duration.seconds(options.timeoutSeconds),
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      ...(placement ?? {}),
      ...(options.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: options.reservedConcurrency }),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      awsSdkConnectionReuse: false,
      bundling: {
        // CommonJS: an SDK package imported by a module that is loaded lazily stays a lazy
        // require() (ESM hoists every import of an external to the top). README: "Lambda bundles".
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        bundleAwsSDK: false,
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        define: options.define ?? {},
        ...(options.afterBundling
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: options.afterBundling,
              },
            }
          : {}),
      },
      environment: {
        ...Object.fromEntries(
          Object.entries(TABLE_NAME_VARIABLES).map(([logicalName, variable]) => [
            variable,
            data.tableNames[logicalName as TableLogicalName],
          ]),
        ),
        SECRETS_MANAGER_PREFIX: environment.secretsPrefix,
        SECRETS_MANAGER_KMS_KEY_ID: keys.secretsKey.keyArn,
        PLATFORM_AWS_ACCOUNT_ID: environment.platformAwsAccountId ?? Aws.ACCOUNT_ID,
        LOG_LEVEL: environment.logLevel,
        POWERTOOLS_SERVICE_NAME: options.serviceName,
        POWERTOOLS_LOG_LEVEL: environment.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...engineUrls,
      },
    });
    const reasons = [X_RAY_REASON, options.otherWildcardReason, placement ? VPC_REASON : undefined];
    acknowledgeWildcardResources(role, ['*'], reasons.filter(Boolean).join(' '));
    return { name: options.name, fn, role };
  }

  #grantTable(role: IRole, logicalName: TableLogicalName, access: TableAccess): void {
    const { table, definition, adopted, tableName } = this.#props.data.tables[logicalName];
    if (!adopted) this.#tableKeyUsers.set(role, [...(this.#tableKeyUsers.get(role) ?? []), tableName]);
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: TABLE_ACTIONS[access], resources: [table.tableArn] }),
    );
    if (access === 'write' || definition.globalSecondaryIndexes.length === 0) return;
    // Each index by name: no `index/*` wildcard.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query', 'dynamodb:Scan'],
        resources: definition.globalSecondaryIndexes.map(
          (index) => `${table.tableArn}/index/${index.indexName}`,
        ),
      }),
    );
  }

  #grantSecrets(role: Role, access: Exclude<SecretAccess, 'none'> | 'manage' | 'retire'): void {
    const { secretArnPattern, keys } = this.#props;
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: SECRET_ACTIONS[access], resources: [secretArnPattern] }),
    );
    acknowledgeWildcardResources(
      role,
      [secretArnPattern],
      'Secrets are created at run time, one per cloud account ({prefix}/account/{account_id}); the grant is limited to that name pattern.',
    );
    if (access === 'read') keys.grantSecretsKey(role, 'decrypt');
    if (access === 'stage' || access === 'manage') keys.grantSecretsKey(role, 'encryptDecrypt');
  }
}

function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('');
}
