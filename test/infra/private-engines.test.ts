import { beforeAll, describe, expect, it } from 'vitest';
import { TASKS, type TaskDefinition } from '../../functions/tasks/task-catalog';
import { flattenCfnReference } from '../../infra/acknowledge-wildcard-resources';
import { API_ACCESS } from '../../infra/constructs/functions';
import { createThreatEngineApp } from '../../infra/create-threat-engine-app';
import { EnvironmentContextError } from '../../infra/environment';
import {
  type CfnResource,
  functionIdByDescription,
  propertyOf,
  resourcesOfType,
  type SynthesizedApp,
  synthesizeApp,
} from './synthesize-app';

/** A deployment next to the legacy EKS engines: in-cluster http engines, every channel kind, scopes. */
const PRIVATE_ENGINES_CONTEXT = {
  env: 'prod-like',
  engineUrls: JSON.stringify({
    aws: 'http://aws-engine.threat-engine.svc.cluster.local:8080',
    azure: 'https://azure-engine.internal.example.test',
  }),
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
  oidcRequiredScopes: JSON.stringify(['threat-engine/api']),
};

let synthesized: SynthesizedApp;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  // The template schema check runs in threat-engine-stack.test.ts; skipped here for speed.
  synthesized = synthesizeApp(PRIVATE_ENGINES_CONTEXT, { cloudFormationValidation: false });
  resources = synthesized.resources;
});

const engineCallers = (TASKS as readonly TaskDefinition[])
  .filter((task) => task.callsEngines)
  .map((task) => task.description)
  .concat([
    'Record executions that timed out, were aborted or failed unrecorded',
    'Record runs still marked running whose workflow execution has ended or overrun',
  ]);

describe('Stack: ThreatEngine next to private engines (-c engineVpc=… with http engines)', () => {
  it('passes cdk-nag with no unacknowledged finding', () => {
    // Assess
    expect(synthesized.nagReport.violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it('places exactly the engine-calling functions in the given subnets, with a security group that only talks HTTPS and the engine ports', () => {
    // Prepare
    const [[groupId, group]] = resourcesOfType(resources, 'AWS::EC2::SecurityGroup').filter(([id]) =>
      id.startsWith('EngineNetworkEngineCallers'),
    ) as [[string, CfnResource]];
    const inVpc = resourcesOfType(resources, 'AWS::Lambda::Function')
      .filter(([, fn]) => fn.Properties?.VpcConfig)
      .map(([id]) => id)
      .sort();

    // Assess
    expect(inVpc).toEqual(
      engineCallers.map((description) => functionIdByDescription(resources, description)).sort(),
    );
    for (const id of inVpc) {
      expect(propertyOf(resources[id], 'VpcConfig'), id).toEqual({
        SubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1b2c3d4e5f60718'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
      });
    }
    expect(
      resources[functionIdByDescription(resources, API_ACCESS.description)]?.Properties?.VpcConfig,
    ).toBeUndefined();
    expect(
      propertyOf<{ IpProtocol: string; FromPort: number; ToPort: number; CidrIp: string }[]>(
        group,
        'SecurityGroupEgress',
      ).map((rule) => `${rule.IpProtocol}/${rule.FromPort}-${rule.ToPort}`),
    ).toEqual(['tcp/443-443', 'tcp/8080-8080']);
    expect(group.Properties?.SecurityGroupIngress).toBeUndefined();
  });

  it('creates the VPC endpoints those functions need, reachable from their security group only', () => {
    // Prepare
    const endpoints = resourcesOfType(resources, 'AWS::EC2::VPCEndpoint').map(([, endpoint]) => ({
      service: flattenCfnReference(endpoint.Properties?.ServiceName),
      type: endpoint.Properties?.VpcEndpointType,
      vpc: endpoint.Properties?.VpcId,
    }));

    // Assess
    expect(endpoints.map((endpoint) => endpoint.service.replace(/^.*\.(?=[a-z-]+$)/, '')).sort()).toEqual(
      ['dynamodb', 'events', 'scheduler', 'secretsmanager', 'states'].sort(),
    );
    expect(endpoints.every((endpoint) => endpoint.vpc === 'vpc-0a1b2c3d4e5f60718')).toBe(true);
    expect(endpoints.find((endpoint) => endpoint.service.endsWith('dynamodb'))?.type).toBe('Gateway');
    const [[, endpointGroup]] = resourcesOfType(resources, 'AWS::EC2::SecurityGroup').filter(([id]) =>
      id.startsWith('EngineNetworkEndpointsSecurityGroup'),
    ) as [[string, CfnResource]];
    expect(propertyOf<Record<string, unknown>[]>(endpointGroup, 'SecurityGroupIngress')).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: {
          'Fn::GetAtt': [expect.stringMatching(/^EngineNetworkEngineCallers/), 'GroupId'],
        },
      }),
    ]);
  });

  it('creates one rule per channel kind: e-mail through SNS, Slack and the webhook through API destinations', () => {
    // Prepare
    const rules = Object.fromEntries(
      resourcesOfType(resources, 'AWS::Events::Rule').map(([, rule]) => [rule.Properties?.Name, rule]),
    );
    const targetTypes = (name: string) =>
      propertyOf<{ Arn: unknown }[]>(rules[name], 'Targets').map((target) => flattenCfnReference(target.Arn));

    // Assess
    for (const kind of ['email', 'slack', 'webhook', 'operations']) {
      expect(rules[`threat-engine-notify-${kind}`]?.Properties?.EventPattern, kind).toEqual({
        source: ['threat-engine.orchestrator'],
        detail: { channels: [kind] },
      });
    }
    expect(targetTypes('threat-engine-notify-email')[0]).toMatch(/^<NotificationsEmailTopic/);
    expect(targetTypes('threat-engine-notify-slack')[0]).toMatch(/^<NotificationsSlackDestination\w+\.Arn>$/);
    expect(targetTypes('threat-engine-notify-webhook')[0]).toMatch(
      /^<NotificationsWebhookDestination\w+\.Arn>$/,
    );
    synthesized.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.test',
    });
    // The Slack URL and the webhook key are NoEcho parameters, never template text.
    const parameters = synthesized.template.toJSON().Parameters as Record<string, { NoEcho?: boolean }>;
    expect(Object.entries(parameters).filter(([, parameter]) => parameter.NoEcho).length).toBe(2);
  });

  it('requires the configured scopes on every route behind the authorizer', () => {
    for (const [, route] of resourcesOfType(resources, 'AWS::ApiGatewayV2::Route')) {
      // Assess
      if (route.Properties?.AuthorizationType === 'JWT') {
        expect(route.Properties?.AuthorizationScopes, String(route.Properties?.RouteKey)).toEqual([
          'threat-engine/api',
        ]);
      }
    }
  });
});

describe('Function: createThreatEngineApp', () => {
  it('refuses a plain-http engine outside a VPC, naming the setting and the way out', () => {
    // Act
    const create = () =>
      createThreatEngineApp({
        context: { env: 'dev', engineUrls: JSON.stringify({ aws: 'http://aws-engine.example.test:8080' }) },
      });

    // Assess
    expect(create).toThrow(EnvironmentContextError);
    expect(create).toThrow(/engineUrls\.aws: http:\/\/aws-engine\.example\.test:8080 is plain http/);
    expect(create).toThrow(/engineVpc/);
  });
});
