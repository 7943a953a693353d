import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildConsoleAssets } from '../console/build-console';
import {
  createDynamoDbClient,
  LOCAL_ENDPOINT_CREDENTIALS,
  toDocumentClient,
} from '../functions/adapters/aws/dynamodb-client';
import { writeOpenApiDocument } from '../functions/api/openapi-document';
import { writeScanRoleTemplateYaml } from '../functions/api/scan-role-template-yaml';
import { loadConfig } from '../functions/core/config';
import type { ExecutionTerminatedEvent, WorkflowName } from '../functions/core/ports/orchestrator';
import { createMissingTables } from '../local/create-tables';
import { type LocalDynamoDbServer, startLocalDynamoDbServer } from '../local/dynamodb-server';
import { ScanEngineSimulator } from '../local/scan-engine-simulator';
import { type TableNames, tableNamesFrom } from '../schemas/tables';
import {
  type ApiRequest,
  type ApiRoute,
  apiGatewayEvent,
  apiRoutesOf,
  executeApiSourceArn,
  matchRoute,
} from './api-gateway-events';
import { matchesEventPattern } from './event-patterns';
import { type Deployment, type IamRequest, iamRequestsFor } from './iam-requests';
import { type Evaluation, evaluateRequest, type RequestPrincipal, StackPolicies } from './policy-evaluation';
import type { RecordedAwsCall } from './recorded-call';
import {
  FunctionWorkers,
  labelOf,
  type RehearsedFunction,
  rehearsedFunctionsOf,
} from './rehearsed-functions';
import { type ResolvedTemplate, synthesizeAndResolve } from './resolved-template';
import { EngineRouter } from './stand-ins/engine-router';
import { EventBridgeStandIn, type PublishedEvent } from './stand-ins/eventbridge-stand-in';
import { SchedulerStandIn } from './stand-ins/scheduler-stand-in';
import { SecretsManagerStandIn } from './stand-ins/secrets-manager-stand-in';
import { currentExecution, StepFunctionsStandIn } from './stand-ins/step-functions-stand-in';
import { StsStandIn } from './stand-ins/sts-stand-in';
import { type Justification, staleJustifications, type UnusedGrant, unusedGrants } from './unused-grants';

/** One request made during the rehearsal, by whom, in which scenario, and IAM's verdict. */
export interface RehearsedRequest {
  scenario: string;
  principal: RequestPrincipal;
  /** The SDK call it came from (absent for what AWS services do themselves, e.g. invoke a target). */
  call?: { client: string; operation: string; error?: string };
  request: IamRequest;
  evaluation: Evaluation;
}

export interface ScenarioOutcome {
  name: string;
  ok: boolean;
  /** What went wrong (a step's unexpected answer), when not ok. */
  failure?: string;
}

export interface RehearsalReport {
  stackName: string;
  account: string;
  region: string;
  scenarios: ScenarioOutcome[];
  /** SDK calls the functions made. */
  callCount: number;
  requests: RehearsedRequest[];
  denied: RehearsedRequest[];
  /** Rule → target deliveries of the events the functions published. */
  deliveries: { rule: string; target: string }[];
  unused: UnusedGrant[];
  /**
   * Requests the stand-ins received that no middleware recorded (a client created outside the
   * instrumented composition roots): must be 0, or the IAM check is incomplete. DynamoDB is not
   * counted (dynalite is not a stand-in of ours).
   */
  unrecordedCalls: number;
  /** Signed requests the stand-ins (all but DynamoDB) received. */
  standInRequests: number;
  /** Entries of the justifications file that justify nothing any more. */
  staleJustifications: Justification[];
  durationMs: number;
}

export interface RehearsalContext {
  readonly template: ResolvedTemplate;
  readonly functions: readonly RehearsedFunction[];
  readonly routes: readonly ApiRoute[];
  readonly engine: EngineRouter;
  readonly simulator: ScanEngineSimulator;
  readonly endlessSimulator: ScanEngineSimulator;
  readonly sts: StsStandIn;
  readonly scheduler: SchedulerStandIn;
  readonly events: EventBridgeStandIn;
  readonly stepFunctions: StepFunctionsStandIn;
  /** The stand-in tables (to set up what only a lost event or a crash leaves behind). */
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** Where EventBridge delivered the events put on a bus (rule and target). */
  readonly deliveries: readonly { rule: string; target: string }[];
  /** Delivers a schedule of the template (AWS::Scheduler::Schedule) to its target, as Scheduler would. */
  fireTemplateSchedule(logicalIdPrefix: string): Promise<unknown>;
  /** Sends a request through the template's API route to the API function (as API Gateway would). */
  api(request: ApiRequest): Promise<{ status: number; body: Record<string, unknown>; text: string }>;
  /** Delivers a Scheduler entry's target as Scheduler would (its role starts the execution). */
  fireSchedule(scheduleArn: string, scheduledTime: Date): Promise<string>;
  /** Invokes a function directly as the service the template lets invoke it. */
  invokeAs(principal: string, sourceArn: string, fn: RehearsedFunction, event: unknown): Promise<unknown>;
  functionByLabel(label: string): RehearsedFunction;
}

export type Scenario = { name: string; run(context: RehearsalContext): Promise<void> };

interface Recorded {
  scenario: string;
  principal: RequestPrincipal;
  call?: RecordedAwsCall;
  request?: IamRequest;
}

/**
 * The deployment rehearsed: next to private engines (the legacy EKS services, plain http inside
 * the VPC; here the engine simulator behind one loopback URL), with every notification channel.
 */
export function rehearsalContext(engineUrl: string): Record<string, unknown> {
  return {
    engineUrls: JSON.stringify({ aws: engineUrl }),
    engineVpc: JSON.stringify({
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1b2c3d4e5f60718'],
      routeTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b1b2c3d4e5f60718'],
    }),
    notificationChannels: JSON.stringify({
      email: ['secops@example.test'],
      slack: true,
      webhookUrl: 'https://hooks.example.test/threat-engine',
    }),
  };
}

/** The physical id of the one resource of `type` whose logical id starts with `prefix`. */
function single(template: ResolvedTemplate, type: string, prefix = ''): string {
  const ids = Object.entries(template.resources)
    .filter(([id, resource]) => resource.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}, found ${ids.length}`);
  return ids[0] as string;
}

/**
 * Deploys the synthesized stack on loopback and runs the scenarios against it: the template
 * resolved for a fixed account and region, its three state machines in the local interpreter,
 * each Lambda ARN mapped to its handler in its own worker under the template's environment, the
 * AWS adapters talking to stand-ins. Every SDK call is evaluated against the caller's policies.
 */
export async function runDeployRehearsal(scenarios: readonly Scenario[]): Promise<RehearsalReport> {
  const started = Date.now();
  const closers: Array<() => Promise<void>> = [];
  const recorded: Recorded[] = [];
  let scenario = 'start-up';
  try {
    const simulator = new ScanEngineSimulator({ runningPolls: 2 });
    const endlessSimulator = new ScanEngineSimulator({ runningPolls: 1_000_000 });
    const engine = new EngineRouter();
    for (const service of [simulator, endlessSimulator]) {
      await service.start();
      closers.push(() => service.stop());
    }
    await engine.start();
    closers.push(() => engine.close());
    engine.target = simulator.urlFor('aws', 'sync');

    const template = synthesizeAndResolve(rehearsalContext(engine.url));
    const { account, region } = template;
    const functions = rehearsedFunctionsOf(template);
    const policies = new StackPolicies(template.resources, template.physical);
    const routes = apiRoutesOf(template.resources);
    const apiFunction = functions.find((fn) => fn.label === 'FunctionsApiFunction');
    if (!apiFunction) throw new Error('the template has no API function');

    const dynamo: LocalDynamoDbServer = await startLocalDynamoDbServer();
    closers.push(() => dynamo.close());
    const dynamoClient = createDynamoDbClient({
      region,
      endpoint: dynamo.endpoint,
      credentials: LOCAL_ENDPOINT_CREDENTIALS,
    });
    closers.push(async () => dynamoClient.destroy());
    const tables = tableNamesFrom(loadConfig(apiFunction.environment));
    await createMissingTables(dynamoClient, tables);
    const documentClient = toDocumentClient(dynamoClient);

    const secrets = new SecretsManagerStandIn(region, account);
    const sts = new StsStandIn();
    const scheduler = new SchedulerStandIn(region, account);
    const deliveries: { rule: string; target: string }[] = [];

    const deployment: Deployment = {
      region,
      account,
      partition: 'aws',
      secrets,
      tableKeyArnOf: (table) => {
        const found = Object.values(template.resources).find(
          (resource) => resource.Type === 'AWS::DynamoDB::Table' && resource.Properties?.TableName === table,
        );
        const sse = found?.Properties?.SSESpecification as
          | { SSEEnabled?: boolean; KMSMasterKeyId?: string }
          | undefined;
        return sse?.SSEEnabled && sse.KMSMasterKeyId ? deployment.keyArnOf(sse.KMSMasterKeyId) : undefined;
      },
      keyArnOf: (keyId) =>
        Object.values(template.physical).find(
          (physical) => physical.attributes.Arn === keyId || physical.attributes.KeyId === keyId,
        )?.attributes.Arn,
    };

    const functionPrincipal = (fn: RehearsedFunction): RequestPrincipal => ({
      name: fn.label,
      arn: fn.sessionArn,
      roleLogicalId: fn.roleLogicalId,
    });
    const roleByArn = (roleArn: string): RequestPrincipal => {
      const id = Object.entries(template.physical).find(
        ([logicalId, physical]) =>
          physical.attributes.Arn === roleArn && template.resources[logicalId]?.Type === 'AWS::IAM::Role',
      )?.[0];
      if (!id) throw new Error(`${roleArn} is not a role of the template`);
      const name = roleArn.slice(roleArn.indexOf('/') + 1);
      return {
        name: labelOf(id),
        arn: `arn:aws:sts::${account}:assumed-role/${name}/rehearsal`,
        roleLogicalId: id,
      };
    };

    const standIns: Record<string, string> = {};
    // The API function's asset carries the built console and the OpenAPI document beside its bundle
    // (infra/constructs/functions.ts).
    const taskRoot = await mkdtemp(join(tmpdir(), 'te-rehearsal-task-root-'));
    closers.push(() => rm(taskRoot, { recursive: true, force: true }));
    await buildConsoleAssets(join(taskRoot, 'console'));
    writeOpenApiDocument(taskRoot);
    writeScanRoleTemplateYaml(taskRoot);
    const workers = new FunctionWorkers(
      region,
      standIns,
      ({ fn, calls }) => {
        for (const call of calls) recorded.push({ scenario, principal: functionPrincipal(fn), call });
      },
      taskRoot,
    );
    closers.push(() => workers.close());
    const byArn = new Map(functions.map((fn) => [fn.arn, fn]));

    // The state machines, from the template's DefinitionStrings with its substitutions applied.
    const definitions = {} as Record<WorkflowName, object>;
    const machineRoles = new Map<string, RequestPrincipal>();
    for (const [id, resource] of Object.entries(template.resources)) {
      if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const properties = resource.Properties ?? {};
      const name = String(properties.StateMachineName);
      const workflow = /(onboarding|validation|scan)$/.exec(name)?.[1] as WorkflowName | undefined;
      if (!workflow || name !== `threat-engine-${workflow}`) {
        throw new Error(
          `state machine ${id} is named ${name}: the rehearsal runs threat-engine-<workflow> machines`,
        );
      }
      let text = String(properties.DefinitionString);
      for (const [token, value] of Object.entries(
        (properties.DefinitionSubstitutions as Record<string, string>) ?? {},
      )) {
        text = text.replaceAll(`\${${token}}`, value);
      }
      definitions[workflow] = JSON.parse(text) as object;
      machineRoles.set(workflow, roleByArn(String(properties.RoleArn)));
    }

    const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [workflow, definition] of Object.entries(definitions)) {
      for (const arn of JSON.stringify(definition).match(/arn:aws:lambda:[^"]+/g) ?? []) {
        const fn = byArn.get(arn);
        if (!fn)
          throw new Error(
            `the ${workflow} state machine invokes ${arn}, which is not a function of the template`,
          );
        // One handler per function, whichever machine invokes it: the invoker is the running execution's machine.
        taskHandlers[fn.name] = async (input) => {
          const running = currentExecution.getStore()?.workflow;
          const invoker = running ? machineRoles.get(running) : undefined;
          if (!invoker) throw new Error(`${fn.label} was invoked outside any execution`);
          recorded.push({
            scenario,
            principal: invoker,
            request: { action: 'lambda:InvokeFunction', resource: fn.arn, context: {} },
          });
          return workers.invoke(fn, input);
        };
      }
    }

    const rule =
      template.resources[single(template, 'AWS::Events::Rule', 'WorkflowsTerminatedExecutionsRule')];
    const ruleArn = String(
      template.physical[single(template, 'AWS::Events::Rule', 'WorkflowsTerminatedExecutionsRule')]
        ?.attributes.Arn,
    );
    const invokeAs = async (principal: string, sourceArn: string, fn: RehearsedFunction, event: unknown) => {
      recorded.push({
        scenario,
        principal: { name: principal, arn: principal },
        request: {
          action: 'lambda:InvokeFunction',
          resource: fn.arn,
          context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account },
          resourcePolicy: 'lambda-function',
        },
      });
      return workers.invoke(fn, event);
    };
    const onTerminated = async (terminated: ExecutionTerminatedEvent) => {
      const stateMachineArn = stepFunctions.workflows.stateMachineArnFor(terminated.workflow);
      const event = {
        version: '0',
        id: `rehearsal-${terminated.name}`,
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        account,
        time: new Date().toISOString(),
        region,
        resources: [terminated.executionArn],
        detail: {
          executionArn: terminated.executionArn,
          stateMachineArn,
          name: terminated.name,
          status: terminated.status,
          startDate: Date.now() - 1000,
          stopDate: Date.now(),
          input: JSON.stringify(terminated.input),
          inputDetails: { included: true },
          output: null,
          error: terminated.error ?? null,
          cause: terminated.cause ?? null,
        },
      };
      const pattern = rule?.Properties?.EventPattern as {
        source: string[];
        'detail-type': string[];
        detail: { status: string[]; stateMachineArn: string[] };
      };
      const matches =
        pattern.source.includes(event.source) &&
        pattern['detail-type'].includes(event['detail-type']) &&
        pattern.detail.status.includes(event.detail.status) &&
        pattern.detail.stateMachineArn.includes(stateMachineArn);
      if (!matches) return;
      const targets = (rule?.Properties?.Targets as { Arn: string }[] | undefined) ?? [];
      for (const target of targets) {
        const fn = byArn.get(target.Arn);
        if (fn) await invokeAs('events.amazonaws.com', ruleArn, fn, event);
      }
    };

    // What EventBridge does with an event put on a bus: each matching rule delivers to its targets.
    const routeEvent = (entry: PublishedEvent) => {
      const event = {
        source: entry.Source,
        'detail-type': entry.DetailType,
        detail: entry.Detail ? (JSON.parse(entry.Detail) as unknown) : {},
      };
      for (const [ruleId, resource] of Object.entries(template.resources)) {
        if (resource.Type !== 'AWS::Events::Rule') continue;
        const properties = resource.Properties ?? {};
        if ((properties.EventBusName ?? 'default') !== (entry.EventBusName ?? 'default')) continue;
        if (!matchesEventPattern(properties.EventPattern, event)) continue;
        const ruleArnOfTarget = String(template.physical[ruleId]?.attributes.Arn);
        for (const target of (properties.Targets as { Arn: string; RoleArn?: string }[] | undefined) ?? []) {
          deliveries.push({ rule: labelOf(ruleId), target: target.Arn });
          const sourced = { 'aws:SourceArn': ruleArnOfTarget, 'aws:SourceAccount': account };
          if (target.RoleArn) {
            const action = target.Arn.includes(':api-destination/')
              ? 'events:InvokeApiDestination'
              : 'unknown:Deliver';
            recorded.push({
              scenario,
              principal: roleByArn(target.RoleArn),
              request: { action, resource: target.Arn, context: {} },
            });
          } else if (target.Arn.startsWith('arn:aws:sns:')) {
            const events = { name: 'events.amazonaws.com', arn: 'events.amazonaws.com' };
            recorded.push({
              scenario,
              principal: events,
              request: {
                action: 'sns:Publish',
                resource: target.Arn,
                context: sourced,
                resourcePolicy: 'sns-topic',
              },
            });
            const topic = Object.entries(template.physical).find(
              ([, physical]) => physical.ref === target.Arn,
            )?.[0];
            const topicKey = topic ? template.resources[topic]?.Properties?.KmsMasterKeyId : undefined;
            const keyArn = typeof topicKey === 'string' ? deployment.keyArnOf(topicKey) : undefined;
            if (keyArn) {
              recorded.push({
                scenario,
                principal: events,
                request: {
                  action: 'kms:GenerateDataKey',
                  resource: keyArn,
                  context: sourced,
                  resourcePolicy: 'kms-key',
                  via: 'sns:Publish',
                },
              });
            }
          }
        }
      }
    };

    const scanWaits = Object.entries(
      (definitions.scan as { States: Record<string, { Type: string }> }).States,
    )
      .filter(([, state]) => state.Type === 'Wait')
      .map(([name]) => [name, 150]);
    const directory = await mkdtemp(join(tmpdir(), 'te-rehearsal-'));
    closers.push(() => rm(directory, { recursive: true, force: true }));
    const stepFunctions = new StepFunctionsStandIn({
      directory,
      region,
      account,
      definitions,
      taskHandlers,
      onTerminated,
      waitTimeOverrides: { scan: Object.fromEntries(scanWaits) },
    });
    await stepFunctions.start();
    closers.push(() => stepFunctions.close());
    const events = new EventBridgeStandIn((entry) => routeEvent(entry));
    for (const service of [secrets, sts, scheduler, events]) {
      await service.start();
      closers.push(() => service.close());
    }

    Object.assign(standIns, {
      DynamoDBClient: dynamo.endpoint,
      SecretsManagerClient: secrets.url,
      SFNClient: stepFunctions.url,
      SchedulerClient: scheduler.url,
      STSClient: sts.url,
      EventBridgeClient: events.url,
    });

    const apiId = single(template, 'AWS::ApiGatewayV2::Api');
    const stage = String(
      template.resources[single(template, 'AWS::ApiGatewayV2::Stage')]?.Properties?.StageName ?? '$default',
    );
    const apiInfo = { account, apiId, region, stage };
    const context: RehearsalContext = {
      template,
      functions,
      routes,
      engine,
      simulator,
      endlessSimulator,
      sts,
      scheduler,
      events,
      stepFunctions,
      documentClient,
      tables,
      deliveries,
      fireTemplateSchedule: async (logicalIdPrefix) => {
        const id = single(template, 'AWS::Scheduler::Schedule', logicalIdPrefix);
        const target = template.resources[id]?.Properties?.Target as {
          Arn: string;
          RoleArn: string;
          Input?: string;
        };
        const fn = byArn.get(target.Arn);
        if (!fn) throw new Error(`schedule ${id} targets ${target.Arn}, not a function of the template`);
        recorded.push({
          scenario,
          principal: roleByArn(target.RoleArn),
          request: {
            action: 'lambda:InvokeFunction',
            resource: fn.arn,
            context: {
              'aws:SourceArn': String(template.physical[id]?.attributes.Arn),
              'aws:SourceAccount': account,
            },
          },
        });
        return workers.invoke(fn, JSON.parse(target.Input ?? '{}'));
      },
      functionByLabel: (label) => {
        const fn = functions.find((candidate) => candidate.label === label);
        if (!fn) throw new Error(`the template has no function ${label}`);
        return fn;
      },
      invokeAs,
      api: async (request) => {
        const path = new URL(request.path, 'https://x.invalid').pathname;
        const route = matchRoute(routes, request.method, path);
        if (!route) return { status: 404, body: { message: 'Not Found' }, text: '{"message":"Not Found"}' };
        const event = apiGatewayEvent(request, route, apiInfo);
        // The function behind the route's integration (the scheduling routes have their own).
        const integrationUri = route.integrationId
          ? template.resources[route.integrationId]?.Properties?.IntegrationUri
          : undefined;
        const routeFunction = functions.find((fn) => fn.arn === integrationUri);
        if (!routeFunction) throw new Error(`route ${route.routeKey} reaches no function of the template`);
        const response = (await invokeAs(
          'apigateway.amazonaws.com',
          executeApiSourceArn(route, request.method, apiInfo),
          routeFunction,
          event,
        )) as { statusCode: number; body?: string; isBase64Encoded?: boolean };
        const text = response.isBase64Encoded
          ? Buffer.from(response.body ?? '', 'base64').toString('utf8')
          : (response.body ?? '');
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = {};
        }
        return { status: response.statusCode, body, text };
      },
      fireSchedule: async (scheduleArn, scheduledTime) => {
        const entry = [...scheduler.schedules.values()].find((schedule) => schedule.Arn === scheduleArn);
        if (!entry?.Target?.Arn || !entry.Target.RoleArn) throw new Error(`no schedule entry ${scheduleArn}`);
        const principal = roleByArn(entry.Target.RoleArn);
        recorded.push({
          scenario,
          principal,
          request: {
            action: 'states:StartExecution',
            resource: entry.Target.Arn,
            context: { 'aws:SourceArn': scheduleArn, 'aws:SourceAccount': account },
          },
        });
        const input = String(entry.Target.Input ?? '{}').replace(
          '<aws.scheduler.scheduled-time>',
          scheduledTime.toISOString(),
        );
        const answer = await fetch(stepFunctions.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'AWSStepFunctions.StartExecution',
          },
          body: JSON.stringify({ stateMachineArn: entry.Target.Arn, input }),
        });
        const started = (await answer.json()) as { executionArn?: string; message?: string };
        if (!started.executionArn) throw new Error(`Scheduler could not start the scan: ${started.message}`);
        return started.executionArn;
      },
    };

    const outcomes: ScenarioOutcome[] = [];
    for (const each of scenarios) {
      scenario = each.name;
      if (process.env.REHEARSAL_PROGRESS === '1') console.error(`scenario: ${each.name}`);
      try {
        await each.run(context);
        await stepFunctions.settle();
        outcomes.push({ name: each.name, ok: true });
      } catch (error) {
        outcomes.push({
          name: each.name,
          ok: false,
          failure: error instanceof Error ? error.message : String(error),
        });
        if (process.env.REHEARSAL_PROGRESS === '1') console.error(outcomes.at(-1));
      }
    }

    // Evaluation: every recorded call becomes its IAM requests, each judged against the caller's policies.
    const cache = new Map<string, Promise<Evaluation>>();
    const requests: RehearsedRequest[] = [];
    for (const entry of recorded) {
      const platformKey = functions.find((fn) => fn.label === entry.principal.name)?.accessKeyId ?? '';
      const derived = entry.call
        ? iamRequestsFor(entry.call, deployment, platformKey)
        : entry.request
          ? [entry.request]
          : [];
      for (const request of derived) {
        const key = JSON.stringify([entry.principal.arn, request]);
        let evaluation = cache.get(key);
        if (!evaluation) {
          evaluation = evaluateRequest(request, entry.principal, policies, account);
          cache.set(key, evaluation);
        }
        requests.push({
          scenario: entry.scenario,
          principal: entry.principal,
          ...(entry.call
            ? {
                call: {
                  client: entry.call.client,
                  operation: entry.call.operation,
                  ...(entry.call.error ? { error: entry.call.error } : {}),
                },
              }
            : {}),
          request,
          evaluation: await evaluation,
        });
      }
    }
    const denied = requests.filter(
      (request) => request.evaluation.verdict !== 'Allowed' && request.evaluation.verdict !== 'NotEvaluated',
    );
    const unused = unusedGrants(template, policies, requests);
    let standInRequests = 0;
    const received = new Map<string, number>();
    for (const service of [secrets, sts, scheduler, events, stepFunctions]) {
      for (const [key, count] of service.requestsByAccessKey) {
        received.set(key, (received.get(key) ?? 0) + count);
        standInRequests += count;
      }
    }
    for (const entry of recorded) {
      if (!entry.call || entry.call.client.startsWith('DynamoDB') || !entry.call.accessKeyId) continue;
      received.set(entry.call.accessKeyId, (received.get(entry.call.accessKeyId) ?? 0) - 1);
    }
    const unrecordedCalls = [...received.values()].reduce((sum, count) => sum + Math.max(0, count), 0);
    return {
      stackName: template.stackName,
      account,
      region,
      scenarios: outcomes,
      deliveries,
      callCount: recorded.filter((entry) => entry.call).length,
      requests,
      denied,
      unused,
      unrecordedCalls,
      standInRequests,
      staleJustifications: staleJustifications(unused),
      durationMs: Date.now() - started,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}
