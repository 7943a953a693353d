import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../infra/constructs/functions';
import { createThreatEngineApp, type ThreatEngineApp } from '../../infra/create-threat-engine-app';

/** A CloudFormation resource as the synthesized template holds it. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface IamStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

export interface SynthesizedApp extends ThreatEngineApp {
  template: Template;
  resources: Record<string, CfnResource>;
  nagReport: PolicyValidationPluginReport;
}

/**
 * Synthesizes the app exactly as `cdk synth` does (cdk.json context, cdk-nag registered) with
 * extra context on top. Bundling is skipped (`aws:cdk:bundling-stacks: []`): the template is the
 * same apart from asset hashes, and `npm run synth` is what proves the bundles build.
 * `cloudFormationValidation: false` skips CDK's built-in template schema check (~4 s).
 */
export function synthesizeApp(
  extraContext: Record<string, unknown> = {},
  { cloudFormationValidation = true }: { cloudFormationValidation?: boolean } = {},
): SynthesizedApp {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const built = createThreatEngineApp({
    outdir: mkdtempSync(join(tmpdir(), 'threat-engine-cdk-')),
    builtinCloudFormationValidation: cloudFormationValidation,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...extraContext },
  });
  built.app.synth();
  const template = Template.fromStack(built.stack);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  return { ...built, template, resources, nagReport: built.nag.validateScope(built.app) };
}

export function resourcesOfType(
  resources: Record<string, CfnResource>,
  type: string,
): [string, CfnResource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every Allow/Deny statement of the identity policies (AWS::IAM::Policy and roles' inline policies). */
export function identityStatements(
  resources: Record<string, CfnResource>,
): { policy: string; roles: string[]; statement: IamStatement }[] {
  const found: { policy: string; roles: string[]; statement: IamStatement }[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::Policy') {
      const document = resource.Properties?.PolicyDocument as { Statement: IamStatement[] };
      const roles = asArray(resource.Properties?.Roles as { Ref: string }[]).map((role) => role.Ref);
      for (const statement of document.Statement) found.push({ policy: id, roles, statement });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of asArray(
        resource.Properties?.Policies as { PolicyDocument: { Statement: IamStatement[] } }[],
      )) {
        for (const statement of policy.PolicyDocument.Statement)
          found.push({ policy: id, roles: [id], statement });
      }
    }
  }
  return found;
}

/** The logical id of the function whose description is `description` (descriptions come from the catalog). */
export function functionIdByDescription(resources: Record<string, CfnResource>, description: string): string {
  const matches = resourcesOfType(resources, 'AWS::Lambda::Function').filter(
    ([, fn]) => fn.Properties?.Description === description,
  );
  if (matches.length !== 1)
    throw new Error(
      `expected one function described ${JSON.stringify(description)}, found ${matches.length}`,
    );
  return (matches[0] as [string, CfnResource])[0];
}

/** The logical id of the role a function runs as. */
export function roleOfFunction(resources: Record<string, CfnResource>, functionId: string): string {
  const role = resources[functionId]?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
  if (!role) throw new Error(`function ${functionId} has no role`);
  return role['Fn::GetAtt'][0];
}

/** A property of a resource, failing the test with its name when it is missing. */
export function propertyOf<T>(resource: CfnResource | undefined, name: string): T {
  const value = resource?.Properties?.[name];
  if (value === undefined) throw new Error(`the resource has no ${name} property`);
  return value as T;
}
