import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges the cdk-nag AwsSolutions-IAM5 finding of each wildcard resource in `resources`,
 * on `scope` only (a role or policy, never the stack) and with the caller's reason. The finding
 * id is the resource as cdk-nag prints it (`Resource::arn:<AWS::Partition>:…:secret:prefix/*`),
 * so the acknowledgement covers exactly the resources granted here and nothing else.
 */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    const flat = flattenCfnReference(stack.resolve(resource));
    if (!flat.includes('*')) continue;
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
  }
}

/** The same flattening cdk-nag applies to a resolved resource before it names a finding. */
export function flattenCfnReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const value = node as Record<string, unknown>;
    if (Array.isArray(value['Fn::Join'])) {
      const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
      return items.map(flattenCfnReference).join(delimiter);
    }
    if (value['Fn::Sub'] !== undefined) return flattenCfnReference(value['Fn::Sub']);
    if (Array.isArray(value['Fn::GetAtt'])) {
      const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
    }
    if (value['Fn::ImportValue'] !== undefined) return flattenCfnReference(value['Fn::ImportValue']);
    if (value.Ref !== undefined) return `<${flattenCfnReference(value.Ref)}>`;
  }
  return JSON.stringify(node);
}
