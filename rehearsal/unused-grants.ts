import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../infra/constructs/functions';
import type { RehearsedRequest } from './deploy-rehearsal';
import type { PolicyDocument, StackPolicies } from './policy-evaluation';
import { labelOf } from './rehearsed-functions';
import type { ResolvedTemplate } from './resolved-template';

/** One granted action on one resource pattern that no rehearsed request used. */
export interface UnusedGrant {
  /** The role (or the key policy / function policy entry) holding the grant. */
  principal: string;
  /** Where the grant is written: a policy's logical id, a key policy, a function's permission. */
  source: string;
  action: string;
  resource: string;
  /** Why it stays, from infra/rehearsal-justifications.json; absent when nothing justifies it. */
  justification?: string;
}

export interface Justification {
  /** Globs (`*`, `?`) over the principal label, the action and the resource. */
  principal: string;
  action: string;
  resource: string;
  reason: string;
}

export const JUSTIFICATIONS_FILE = join(PROJECT_ROOT, 'infra', 'rehearsal-justifications.json');

export function loadJustifications(path = JUSTIFICATIONS_FILE): Justification[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { justifications: Justification[] }).justifications;
}

/** IAM's wildcard match: `*` any run of characters, `?` one character. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${expression}$`, ignoreCase ? 'i' : '').test(value);
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

interface Grant {
  principal: string;
  source: string;
  action: string;
  resource: string;
  usedBy: (request: RehearsedRequest) => boolean;
}

const allowedFor = (request: RehearsedRequest, action: string, resource: string) =>
  request.evaluation.verdict === 'Allowed' &&
  globMatches(action, request.request.action, true) &&
  globMatches(resource, request.request.resource);

/** Every Allow of the template's identity, key and function policies, as action × resource pairs. */
function grantsOf(template: ResolvedTemplate, policies: StackPolicies): Grant[] {
  const grants: Grant[] = [];
  const roleIdByArn = new Map(
    Object.entries(template.physical)
      .filter(([id]) => template.resources[id]?.Type === 'AWS::IAM::Role')
      .map(([id, physical]) => [physical.attributes.Arn, id]),
  );
  for (const [roleId, resource] of Object.entries(template.resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const { name, policy } of policies.identityPoliciesOf(roleId)) {
      for (const statement of policy.Statement) {
        if (statement.Effect !== 'Allow') continue;
        for (const action of asArray(statement.Action)) {
          for (const pattern of asArray(statement.Resource)) {
            grants.push({
              principal: labelOf(roleId),
              source: labelOf(name),
              action,
              resource: pattern,
              usedBy: (request) =>
                request.principal.roleLogicalId === roleId && allowedFor(request, action, pattern),
            });
          }
        }
      }
    }
  }
  for (const [keyId, resource] of Object.entries(template.resources)) {
    if (resource.Type !== 'AWS::KMS::Key') continue;
    const keyArn = template.physical[keyId]?.attributes.Arn ?? '';
    const keyPolicy = resource.Properties?.KeyPolicy as PolicyDocument;
    for (const statement of keyPolicy.Statement) {
      if (statement.Effect !== 'Allow') continue;
      const principal = statement.Principal as
        | { AWS?: string | string[]; Service?: string | string[] }
        | undefined;
      const named = [
        ...asArray(principal?.AWS).map((arn) => ({ arn, roleId: roleIdByArn.get(arn) })),
        ...asArray(principal?.Service).map((service) => ({ arn: service, roleId: undefined })),
      ];
      for (const { arn, roleId } of named) {
        for (const action of asArray(statement.Action)) {
          grants.push({
            principal: `${labelOf(keyId)} key policy: ${roleId ? labelOf(roleId) : arn}`,
            source: `${labelOf(keyId)}.KeyPolicy${statement.Sid ? `.${statement.Sid}` : ''}`,
            action,
            resource: keyArn,
            usedBy: (request) =>
              (roleId ? request.principal.roleLogicalId === roleId : request.principal.arn === arn) &&
              allowedFor(request, action, keyArn),
          });
        }
      }
    }
  }
  for (const [permissionId, resource] of Object.entries(template.resources)) {
    if (resource.Type !== 'AWS::Lambda::Permission') continue;
    const properties = resource.Properties ?? {};
    const functionArn = String(properties.FunctionName);
    const sourceArn = properties.SourceArn === undefined ? '*' : String(properties.SourceArn);
    grants.push({
      principal: `${String(properties.Principal)} → ${labelOf(functionArn.slice(functionArn.lastIndexOf('-') + 1))}`,
      source: labelOf(permissionId),
      action: String(properties.Action),
      resource: `${functionArn} (source ${sourceArn})`,
      usedBy: (request) =>
        request.principal.arn === properties.Principal &&
        allowedFor(request, String(properties.Action), functionArn) &&
        globMatches(sourceArn, String(request.request.context['aws:SourceArn'] ?? '')),
    });
  }
  return grants;
}

/** Justifications that match no unused grant: stale, to be removed from the data file. */
export function staleJustifications(
  unused: readonly UnusedGrant[],
  justifications: readonly Justification[] = loadJustifications(),
): Justification[] {
  return justifications.filter((rule) => !unused.some((grant) => grant.justification === rule.reason));
}

/**
 * What the template grants that no rehearsed request used, each with its justification (from the
 * data file) when one matches. A grant without one is either justified there or removed from infra.
 */
export function unusedGrants(
  template: ResolvedTemplate,
  policies: StackPolicies,
  requests: readonly RehearsedRequest[],
  justifications: readonly Justification[] = loadJustifications(),
): UnusedGrant[] {
  return grantsOf(template, policies)
    .filter((grant) => !requests.some(grant.usedBy))
    .map(({ usedBy: _usedBy, ...grant }) => {
      const justification = justifications.find(
        (rule) =>
          globMatches(rule.principal, grant.principal) &&
          globMatches(rule.action, grant.action, true) &&
          globMatches(rule.resource, grant.resource),
      );
      return justification ? { ...grant, justification: justification.reason } : grant;
    });
}
