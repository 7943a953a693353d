import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { type CfnResource, synthesizeApp } from '../test/infra/synthesize-app';

/** The fixed account and region the rehearsal deploys to (AWS's documentation account). */
export const REHEARSAL_ACCOUNT = '123456789012';
export const REHEARSAL_REGION = 'ap-south-1';
export const REHEARSAL_PARTITION = 'aws';
export const REHEARSAL_OIDC_ISSUER = 'https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_Rehearsal';
export const REHEARSAL_OIDC_AUDIENCE = 'rehearsal-app-client';

export interface CfnTemplate {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
}

export interface ResolvedTemplate {
  stackName: string;
  account: string;
  region: string;
  /** The template with every intrinsic function resolved for the fixed account and region. */
  resources: Record<string, CfnResource>;
  /** Each resource's physical id (what Ref gives) and attributes (what Fn::GetAtt gives). */
  physical: Record<string, { ref: string; attributes: Record<string, string> }>;
}

type NodeEvaluatorClass = new (
  template: unknown,
  parameters: Record<string, unknown>,
) => { evaluateNodes(): { Resources: Record<string, CfnResource> } };

// cfn-resolver-lib is CommonJS without types.
const NodeEvaluator = createRequire(import.meta.url)('cfn-resolver-lib') as NodeEvaluatorClass;

/** A physical name CloudFormation would generate: `<stack>-<logical id>`, cut to the service's limit. */
function generatedName(stackName: string, logicalId: string, limit: number): string {
  const name = `${stackName}-${logicalId}`;
  return name.length <= limit ? name : name.slice(0, limit);
}

function keyIdOf(logicalId: string): string {
  const hex = createHash('sha256').update(logicalId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Keys the library misreads, renamed while it runs: it takes every `Condition` for a resource's
 * CloudFormation condition, and turns `{AWS: [Fn::GetAtt, …]}` principals into a bare list.
 */
const IAM_CONDITION = 'RehearsalIamCondition';
const KEEP_OBJECT = 'RehearsalKeepObject';

function protect(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(protect);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const protectedEntries = entries.map(([key, item]) =>
    key === 'Condition' && typeof item === 'object' ? [IAM_CONDITION, protect(item)] : [key, protect(item)],
  );
  // The library unwraps any one-key object holding a list as if it were an intrinsic function.
  const [onlyKey, onlyValue] = entries.length === 1 ? (entries[0] as [string, unknown]) : ['', undefined];
  const misread = Array.isArray(onlyValue) && onlyKey !== 'Ref' && !onlyKey.startsWith('Fn::');
  return Object.fromEntries(misread ? [...protectedEntries, [KEEP_OBJECT, true]] : protectedEntries);
}

function restore(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(restore);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, item]) =>
      key === KEEP_OBJECT ? [] : [[key === IAM_CONDITION ? 'Condition' : key, restore(item)]],
    ),
  );
}

const literal = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * What Ref and Fn::GetAtt give for each resource once deployed to `account`/`region`, for the
 * resource types this stack uses (names CloudFormation generates are `<stack>-<logical id>`).
 */
export function physicalIds(
  template: CfnTemplate,
  stackName: string,
  account: string,
  region: string,
): ResolvedTemplate['physical'] {
  const arn = (service: string, resource: string, regional = true) =>
    `arn:${REHEARSAL_PARTITION}:${service}:${regional ? region : ''}:${account}:${resource}`;
  const physical: ResolvedTemplate['physical'] = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties ?? {};
    const named = (property: string, limit: number) =>
      literal(properties[property]) ?? generatedName(stackName, id, limit);
    switch (resource.Type) {
      case 'AWS::IAM::Role': {
        const name = named('RoleName', 64);
        physical[id] = { ref: name, attributes: { Arn: arn('iam', `role/${name}`, false), RoleId: id } };
        break;
      }
      case 'AWS::Lambda::Function': {
        const name = named('FunctionName', 64);
        physical[id] = { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
        break;
      }
      case 'AWS::KMS::Key': {
        const keyId = keyIdOf(id);
        physical[id] = { ref: keyId, attributes: { Arn: arn('kms', `key/${keyId}`), KeyId: keyId } };
        break;
      }
      case 'AWS::DynamoDB::Table': {
        const name = named('TableName', 255);
        const tableArn = arn('dynamodb', `table/${name}`);
        physical[id] = {
          ref: name,
          attributes: { Arn: tableArn, StreamArn: `${tableArn}/stream/rehearsal` },
        };
        break;
      }
      case 'AWS::Logs::LogGroup': {
        const name = named('LogGroupName', 512);
        physical[id] = { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
        break;
      }
      case 'AWS::SQS::Queue': {
        const name = named('QueueName', 80);
        physical[id] = {
          ref: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
          attributes: { Arn: arn('sqs', name), QueueName: name },
        };
        break;
      }
      case 'AWS::SNS::Topic': {
        const name = named('TopicName', 256);
        const topicArn = arn('sns', name);
        physical[id] = { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: name } };
        break;
      }
      case 'AWS::StepFunctions::StateMachine': {
        const name = named('StateMachineName', 80);
        const machineArn = arn('states', `stateMachine:${name}`);
        physical[id] = { ref: machineArn, attributes: { Arn: machineArn, Name: name } };
        break;
      }
      case 'AWS::Events::Rule': {
        const name = named('Name', 64);
        physical[id] = { ref: name, attributes: { Arn: arn('events', `rule/${name}`) } };
        break;
      }
      case 'AWS::Events::EventBus': {
        const name = named('Name', 256);
        physical[id] = { ref: name, attributes: { Arn: arn('events', `event-bus/${name}`), Name: name } };
        break;
      }
      case 'AWS::Events::ApiDestination': {
        const name = named('Name', 64);
        physical[id] = {
          ref: name,
          attributes: {
            Arn: arn('events', `api-destination/${name}/${keyIdOf(id)}`),
            ArnForPolicy: arn('events', `api-destination/${name}`),
          },
        };
        break;
      }
      case 'AWS::Events::Connection': {
        const name = named('Name', 64);
        physical[id] = {
          ref: name,
          attributes: {
            Arn: arn('events', `connection/${name}/${keyIdOf(id)}`),
            SecretArn: arn('secretsmanager', `secret:events!connection/${name}-AbCdEf`),
          },
        };
        break;
      }
      case 'AWS::Scheduler::ScheduleGroup': {
        const name = named('Name', 64);
        physical[id] = { ref: name, attributes: { Arn: arn('scheduler', `schedule-group/${name}`) } };
        break;
      }
      case 'AWS::Scheduler::Schedule': {
        const name = named('Name', 64);
        const group = literal(properties.GroupName) ?? 'default';
        physical[id] = { ref: name, attributes: { Arn: arn('scheduler', `schedule/${group}/${name}`) } };
        break;
      }
      case 'AWS::EC2::SecurityGroup': {
        const groupId = `sg-${keyIdOf(id).replaceAll('-', '').slice(0, 17)}`;
        physical[id] = { ref: groupId, attributes: { GroupId: groupId, VpcId: 'vpc-rehearsal' } };
        break;
      }
      case 'AWS::ApiGatewayV2::Api':
        physical[id] = {
          ref: id,
          attributes: { ApiEndpoint: `https://${id}.execute-api.${region}.amazonaws.com` },
        };
        break;
      default:
        physical[id] = {
          ref: id,
          attributes: { Arn: arn(resource.Type.split('::')[1]?.toLowerCase() ?? 'x', id) },
        };
    }
  }
  return physical;
}

/** Resolves every intrinsic function of a synthesized template for the fixed account and region. */
export function resolveTemplate(template: CfnTemplate, stackName: string): ResolvedTemplate {
  const account = REHEARSAL_ACCOUNT;
  const region = REHEARSAL_REGION;
  const physical = physicalIds(template, stackName, account, region);
  const parameters = {
    RefResolvers: {
      'AWS::Region': region,
      'AWS::Partition': REHEARSAL_PARTITION,
      'AWS::AccountId': account,
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/rehearsal`,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NoValue': undefined,
      OidcIssuer: REHEARSAL_OIDC_ISSUER,
      OidcAudience: REHEARSAL_OIDC_AUDIENCE,
      ...Object.fromEntries(Object.entries(physical).map(([id, value]) => [id, value.ref])),
    },
    'Fn::GetAttResolvers': Object.fromEntries(
      Object.entries(physical).map(([id, value]) => [id, value.attributes]),
    ),
  };
  // The library reports every attribute it falls back on with console.log; none is left unresolved below.
  const log = console.log;
  console.log = () => {};
  let resolved: { Resources: Record<string, CfnResource> };
  try {
    resolved = new NodeEvaluator(protect(template), parameters).evaluateNodes();
  } finally {
    console.log = log;
  }
  resolved = restore(resolved) as typeof resolved;
  const leftover = JSON.stringify(resolved.Resources).match(/"(Ref|Fn::[A-Za-z]+)":/);
  if (leftover) throw new Error(`the template still holds an unresolved ${leftover[1]} after resolution`);
  return { stackName, account, region, resources: resolved.Resources, physical };
}

/** Synthesizes the app as `npm run synth` does (bundling skipped) and resolves the template. */
export function synthesizeAndResolve(extraContext: Record<string, unknown> = {}): ResolvedTemplate {
  const synthesized = synthesizeApp(extraContext, { cloudFormationValidation: false });
  return resolveTemplate(synthesized.template.toJSON() as CfnTemplate, synthesized.stack.stackName);
}
