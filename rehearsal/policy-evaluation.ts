import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { CfnResource } from '../test/infra/synthesize-app';
import type { IamRequest } from './iam-requests';

/** Who makes a request: a role session (a function, a state machine, Scheduler) or a service. */
export interface RequestPrincipal {
  /** How the report names it (the function's or role's logical id without its hash). */
  name: string;
  /** The role's ARN, or a service principal such as `events.amazonaws.com`. */
  arn: string;
  /** The role's logical id in the template (absent for a service principal). */
  roleLogicalId?: string;
}

export type Verdict =
  | 'Allowed'
  | 'ImplicitlyDenied'
  | 'ExplicitlyDenied'
  | 'NotEvaluated'
  | 'SimulationError';

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface NamedPolicy {
  name: string;
  policy: PolicyDocument;
}

const ENCRYPTION_CONTEXT_KEY = /^kms:EncryptionContext:/i;

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The policies of a resolved template, as IAM would hold them once deployed. */
export class StackPolicies {
  readonly #identity = new Map<string, NamedPolicy[]>();
  readonly #managed = new Map<string, string[]>();
  readonly #keyPolicies = new Map<string, PolicyDocument>();
  readonly #functionPolicies = new Map<string, PolicyDocument>();
  readonly #topicPolicies = new Map<string, PolicyDocument>();

  constructor(
    resources: Record<string, CfnResource>,
    physical: Record<string, { ref: string; attributes: Record<string, string> }>,
  ) {
    const roleByName = new Map(
      Object.entries(resources)
        .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
        .map(([id]) => [physical[id]?.ref ?? id, id]),
    );
    const add = (roleId: string, policy: NamedPolicy) =>
      this.#identity.set(roleId, [...(this.#identity.get(roleId) ?? []), policy]);
    for (const [id, resource] of Object.entries(resources)) {
      const properties = resource.Properties ?? {};
      if (resource.Type === 'AWS::IAM::Role') {
        for (const inline of asArray(
          properties.Policies as { PolicyName: string; PolicyDocument: PolicyDocument }[],
        )) {
          add(id, { name: `${id}/${inline.PolicyName}`, policy: inline.PolicyDocument });
        }
        const managed = asArray(properties.ManagedPolicyArns as string[]);
        if (managed.length > 0) this.#managed.set(id, managed);
      }
      if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
        for (const roleName of asArray(properties.Roles as string[])) {
          const roleId = roleByName.get(roleName);
          if (roleId) add(roleId, { name: id, policy: properties.PolicyDocument as PolicyDocument });
        }
      }
      if (resource.Type === 'AWS::KMS::Key') {
        const arn = physical[id]?.attributes.Arn;
        if (arn) this.#keyPolicies.set(arn, properties.KeyPolicy as PolicyDocument);
      }
      if (resource.Type === 'AWS::SNS::TopicPolicy') {
        for (const topic of asArray(properties.Topics as string[])) {
          this.#topicPolicies.set(topic, properties.PolicyDocument as PolicyDocument);
        }
      }
      if (resource.Type === 'AWS::Lambda::Permission') {
        const functionArn = String(properties.FunctionName);
        const statement: PolicyStatement = {
          Sid: id,
          Effect: 'Allow',
          Principal: String(properties.Principal).includes('.amazonaws.com')
            ? { Service: properties.Principal }
            : { AWS: properties.Principal },
          Action: String(properties.Action),
          Resource: functionArn,
        };
        const condition: Record<string, Record<string, unknown>> = {};
        if (properties.SourceArn) condition.ArnLike = { 'aws:SourceArn': properties.SourceArn };
        if (properties.SourceAccount)
          condition.StringEquals = { 'aws:SourceAccount': properties.SourceAccount };
        if (Object.keys(condition).length > 0) statement.Condition = condition;
        const existing = this.#functionPolicies.get(functionArn) ?? { Version: '2012-10-17', Statement: [] };
        existing.Statement.push(statement);
        this.#functionPolicies.set(functionArn, existing);
      }
    }
  }

  identityPoliciesOf(roleLogicalId: string | undefined): NamedPolicy[] {
    return roleLogicalId ? (this.#identity.get(roleLogicalId) ?? []) : [];
  }

  managedPolicyArnsOf(roleLogicalId: string | undefined): string[] {
    return roleLogicalId ? (this.#managed.get(roleLogicalId) ?? []) : [];
  }

  keyPolicyOf(keyArn: string): PolicyDocument | undefined {
    return this.#keyPolicies.get(keyArn);
  }

  topicPolicyOf(topicArn: string): PolicyDocument | undefined {
    return this.#topicPolicies.get(topicArn);
  }

  functionPolicyOf(functionArn: string): PolicyDocument | undefined {
    return this.#functionPolicies.get(functionArn);
  }
}

export interface Evaluation {
  verdict: Verdict;
  /** Why a request was not evaluated or could not be. */
  detail?: string;
}

/**
 * Evaluates one request with @cloud-copilot/iam-simulate: the principal's identity policies, and
 * the key policy (KMS) or function policy (Lambda) as the resource policy. A request a resource
 * policy governs but the template holds none for (an AWS managed key) is denied: the stack cannot
 * prove it.
 */
export async function evaluateRequest(
  request: IamRequest,
  principal: RequestPrincipal,
  policies: StackPolicies,
  account: string,
): Promise<Evaluation> {
  if (request.notEvaluated) return { verdict: 'NotEvaluated', detail: request.notEvaluated };
  const managed = policies.managedPolicyArnsOf(principal.roleLogicalId);
  let resourcePolicy: PolicyDocument | undefined;
  if (request.resourcePolicy === 'kms-key') {
    resourcePolicy = policies.keyPolicyOf(request.resource);
    if (!resourcePolicy)
      return { verdict: 'ImplicitlyDenied', detail: `no key policy in the template for ${request.resource}` };
  }
  if (request.resourcePolicy === 'lambda-function')
    resourcePolicy = policies.functionPolicyOf(request.resource);
  if (request.resourcePolicy === 'sns-topic') resourcePolicy = policies.topicPolicyOf(request.resource);
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables: {
        'aws:SecureTransport': 'true',
        'aws:RequestedRegion': request.resource.split(':')[3] || 'ap-south-1',
        ...request.context,
      },
    },
    identityPolicies: policies.identityPoliciesOf(principal.roleLogicalId),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy } : {}),
  };
  let result: Awaited<ReturnType<typeof runSimulation>>;
  try {
    result = await runSimulation(withSimulatorKeyNames(simulation), {});
  } catch (error) {
    return { verdict: 'SimulationError', detail: error instanceof Error ? error.message : String(error) };
  }
  if (result.resultType === 'error')
    return { verdict: 'SimulationError', detail: JSON.stringify(result.errors) };
  let verdict = result.overallResult as Verdict;
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  if (ignored.some((key) => ENCRYPTION_CONTEXT_KEY.test(key))) {
    // The simulator models KMS itself (identity policies count only where the key policy lets them).
    const carried = await runSimulation(carryEncryptionContext(withSimulatorKeyNames(simulation)), {});
    verdict = carried.resultType === 'error' ? 'SimulationError' : (carried.overallResult as Verdict);
  }
  const unknown = ignored.filter((key) => !ENCRYPTION_CONTEXT_KEY.test(key));
  const details = [
    ...(unknown.length > 0
      ? [`condition keys that do not apply to ${request.action}: ${unknown.join(', ')}`]
      : []),
    ...(verdict !== 'Allowed' && managed.length > 0
      ? [`the role also has managed policies the rehearsal cannot read: ${managed.join(', ')}`]
      : []),
  ];
  return details.length > 0 ? { verdict, detail: details.join('; ') } : { verdict };
}

/**
 * `secretsmanager:ResourceTag/<key>` is the service's name for `aws:ResourceTag/<key>` (the same
 * value); the simulator knows only the global one, so conditions and requests use it.
 */
function withSimulatorKeyNames(simulation: Simulation): Simulation {
  return JSON.parse(
    JSON.stringify(simulation).replace(/"secretsmanager:ResourceTag\//gi, '"aws:ResourceTag/'),
  ) as Simulation;
}

/**
 * The simulator drops `kms:EncryptionContext:<key>` from a request (it only recognises variable
 * keys written `prefix/<key>`), so a condition on it could never match. Both the conditions and
 * the request carry it here under a global variable key the simulator keeps; string operators
 * compare the same values either way.
 */
const CARRIED_ENCRYPTION_CONTEXT = 'aws:PrincipalTag/RehearsalKmsEncryptionContext-';

function carryEncryptionContext<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value).replace(
      /"kms:EncryptionContext:([A-Za-z0-9_:.-]+)"/gi,
      `"${CARRIED_ENCRYPTION_CONTEXT}$1"`,
    ),
  ) as T;
}
