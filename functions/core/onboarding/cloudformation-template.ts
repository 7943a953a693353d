import { ValidationError } from '../errors';

/** The external ids this service issues: `threat-engine-` and 16 lowercase hexadecimal digits. */
export const EXTERNAL_ID_PATTERN = /^threat-engine-[0-9a-f]{16}$/;

export const SCAN_ROLE_MANAGED_POLICIES = ['SecurityAudit', 'ReadOnlyAccess'] as const;

/**
 * The CloudFormation template a customer deploys in their AWS account for role onboarding: one
 * role the platform account may assume only with the external id issued for this account (the
 * confused-deputy guard), holding the AWS managed read-only policies SecurityAudit and
 * ReadOnlyAccess and nothing else (no inline policy, never `*:*`). Its outputs include the
 * OnboardingJson that `POST /onboarding/aws/validate-json` accepts as is.
 */
export function scanRoleTemplate(platformAccountId: string, externalId: string): Record<string, unknown> {
  if (!/^\d{12}$/.test(platformAccountId)) {
    throw new ValidationError('the platform AWS account id must be 12 digits', [
      { field: 'platform_account_id', message: 'expected a 12-digit AWS account id' },
    ]);
  }
  if (!EXTERNAL_ID_PATTERN.test(externalId)) {
    throw new ValidationError('external_id is not one this service issued', [
      { field: 'external_id', message: 'expected threat-engine- followed by 16 hexadecimal digits' },
    ]);
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'Threat engine read-only scan role: trusted by the platform account on your external id, with SecurityAudit and ReadOnlyAccess only.',
    Parameters: {
      ThreatEngineAccountId: {
        Type: 'String',
        Description: 'The threat engine platform AWS account that assumes the role.',
        Default: platformAccountId,
        AllowedPattern: '^\\d{12}$',
      },
      ExternalId: {
        Type: 'String',
        Description:
          'The external id issued for this account at onboarding (not a secret; do not change it).',
        Default: externalId,
        AllowedPattern: '^threat-engine-[0-9a-f]{16}$',
      },
      RoleName: {
        Type: 'String',
        Description: 'The name of the role to create.',
        Default: 'ThreatEngineScanRole',
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
      },
    },
    Resources: {
      ThreatEngineScanRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: { Ref: 'RoleName' },
          Description: 'Read-only access for the threat engine compliance scans.',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'ThreatEnginePlatformWithExternalId',
                Effect: 'Allow',
                // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
                Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ThreatEngineAccountId}:root' } },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
              },
            ],
          },
          ManagedPolicyArns: SCAN_ROLE_MANAGED_POLICIES.map((policy) => ({
            'Fn::Sub': `arn:\${AWS::Partition}:iam::aws:policy/${policy}`,
          })),
        },
      },
    },
    Outputs: {
      RoleArn: {
        Description: 'The role to give the threat engine.',
        Value: { 'Fn::GetAtt': ['ThreatEngineScanRole', 'Arn'] },
      },
      ExternalId: { Description: 'The external id the role requires.', Value: { Ref: 'ExternalId' } },
      OnboardingJson: {
        Description: 'Paste this into the onboarding form (POST /api/v1/onboarding/aws/validate-json).',
        Value: {
          'Fn::Sub':
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
            '{"role_arn":"${ThreatEngineScanRole.Arn}","external_id":"${ExternalId}","account_number":"${AWS::AccountId}"}',
        },
      },
    },
  };
}

/**
 * The values the template's YAML text is rendered with when the API is built or started
 * (functions/api/scan-role-template-yaml.ts renders it with the yaml library once), so the API
 * function carries no YAML writer.
 */
export const TEMPLATE_PLACEHOLDERS = {
  platformAccountId: '000000000000',
  externalId: 'threat-engine-0000000000000000',
} as const;

const PLACEHOLDER = /threat-engine-0{16}|0{12}/g;

/**
 * The template of (platform account, external id) as YAML, from `rendered`: the YAML text of the
 * template with TEMPLATE_PLACEHOLDERS. Both values are checked first to the shapes the placeholders
 * have (12 digits; threat-engine- and 16 hexadecimal digits), which YAML writes exactly as it
 * writes the placeholders, so the text is the one the yaml library writes for these values.
 */
export function scanRoleTemplateYaml(
  rendered: string,
  platformAccountId: string,
  externalId: string,
): string {
  scanRoleTemplate(platformAccountId, externalId);
  // One pass: a value put in is never scanned again (an external id may hold twelve zeros).
  return rendered.replace(PLACEHOLDER, (placeholder) =>
    placeholder === TEMPLATE_PLACEHOLDERS.externalId ? externalId : platformAccountId,
  );
}
