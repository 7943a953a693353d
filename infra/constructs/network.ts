import { Annotations, Fn } from 'aws-cdk-lib';
import {
  GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type ISecurityGroup,
  type ISubnet,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  Subnet,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { EngineVpcSettings } from '../environment';

export interface EngineNetworkProps {
  readonly settings: EngineVpcSettings;
  /** The engine base URLs: their ports are the only non-443 egress the functions get. */
  readonly engineUrls: readonly string[];
}

/**
 * The AWS services the engine-calling functions use (interface endpoints; DynamoDB through its
 * gateway endpoint): secrets for the scan start, Step Functions for the sweep, Scheduler for
 * auto-pause, EventBridge for notifications. KMS, CloudWatch Logs and X-Ray are called by the
 * services themselves (Secrets Manager, DynamoDB, Lambda), not from the function's network.
 */
export const ENGINE_FUNCTION_INTERFACE_ENDPOINTS = {
  SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  StepFunctions: InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  Scheduler: new InterfaceVpcEndpointAwsService('scheduler'),
  EventBridge: InterfaceVpcEndpointAwsService.EVENTBRIDGE,
} as const;

/**
 * The network path to private scan engines: the engine-calling functions join the given subnets
 * (of the existing VPC, e.g. the EKS cluster's) with the given security groups or one created
 * here that may only talk HTTPS and the engines' ports; with `awsServiceAccess: endpoints` the
 * VPC endpoints they need are created too (otherwise the subnets must route to a NAT).
 */
export class EngineNetwork extends Construct {
  readonly vpc: IVpc;
  readonly subnets: readonly ISubnet[];
  readonly securityGroups: readonly ISecurityGroup[];

  constructor(scope: Construct, id: string, props: EngineNetworkProps) {
    super(scope, id);
    const { settings } = props;
    this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: settings.vpcId, availabilityZones: Fn.getAzs() });
    Annotations.of(this.vpc).acknowledgeWarning(
      '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      'Subnets are always given explicitly (engineVpc.subnetIds): nothing selects subnets of this VPC by zone.',
    );
    this.subnets = settings.subnetIds.map((subnetId, index) => {
      const routeTableId = settings.routeTableIds[index];
      const subnet = Subnet.fromSubnetAttributes(this, `Subnet${index}`, {
        subnetId,
        ...(routeTableId ? { routeTableId } : {}),
      });
      if (!routeTableId) {
        Annotations.of(subnet).acknowledgeWarning(
          '@aws-cdk/aws-ec2:noSubnetRouteTableId',
          'Route tables are only needed for the DynamoDB gateway endpoint (awsServiceAccess "endpoints"); with a NAT nothing reads them.',
        );
      }
      return subnet;
    });

    if (settings.securityGroupIds.length > 0) {
      this.securityGroups = settings.securityGroupIds.map((groupId, index) =>
        SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${index}`, groupId, { mutable: false }),
      );
    } else {
      const group = new SecurityGroup(this, 'EngineCallers', {
        vpc: this.vpc,
        description:
          'Threat engine functions that call the scan engines: HTTPS and the engine ports out, nothing in',
        allowAllOutbound: false,
      });
      group.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS: engines and AWS service endpoints');
      for (const port of enginePorts(props.engineUrls)) {
        if (port !== 443) group.addEgressRule(Peer.anyIpv4(), Port.tcp(port), `Scan engine port ${port}`);
      }
      this.securityGroups = [group];
    }

    if (settings.awsServiceAccess === 'endpoints') {
      const endpointGroup = new SecurityGroup(this, 'EndpointsSecurityGroup', {
        vpc: this.vpc,
        description: 'Threat engine VPC endpoints: HTTPS from the engine-calling functions only',
        allowAllOutbound: false,
      });
      for (const group of this.securityGroups) {
        endpointGroup.addIngressRule(
          Peer.securityGroupId(group.securityGroupId),
          Port.tcp(443),
          'HTTPS from the threat engine functions',
        );
      }
      for (const [name, service] of Object.entries(ENGINE_FUNCTION_INTERFACE_ENDPOINTS)) {
        new InterfaceVpcEndpoint(this, `${name}Endpoint`, {
          vpc: this.vpc,
          service,
          subnets: { subnets: [...this.subnets] },
          securityGroups: [endpointGroup],
          privateDnsEnabled: true,
          open: false,
        });
      }
      new GatewayVpcEndpoint(this, 'DynamoDbEndpoint', {
        vpc: this.vpc,
        service: GatewayVpcEndpointAwsService.DYNAMODB,
        subnets: [{ subnets: [...this.subnets] }],
      });
    }
  }

  /** The Lambda placement of an engine-calling function. */
  get functionPlacement() {
    return {
      vpc: this.vpc,
      vpcSubnets: { subnets: [...this.subnets] },
      securityGroups: [...this.securityGroups],
    };
  }
}

/** The TCP ports of the engine URLs (default 443 for https, 80 for http). */
export function enginePorts(urls: readonly string[]): number[] {
  return [
    ...new Set(
      urls.map((url) => {
        const parsed = new URL(url);
        return parsed.port ? Number(parsed.port) : parsed.protocol === 'http:' ? 80 : 443;
      }),
    ),
  ].sort((a, b) => a - b);
}
