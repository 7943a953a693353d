import { beforeAll, describe, expect, it } from 'vitest';
import { flattenCfnReference } from '../../infra/acknowledge-wildcard-resources';
import { API_ACCESS } from '../../infra/constructs/functions';
import { TABLE_DEFINITIONS, TABLES } from '../../schemas/tables';
import {
  asArray,
  functionIdByDescription,
  identityStatements,
  propertyOf,
  resourcesOfType,
  roleOfFunction,
  type SynthesizedApp,
  synthesizeApp,
} from './synthesize-app';

let synthesized: SynthesizedApp;

beforeAll(() => {
  // The template schema check runs in threat-engine-stack.test.ts; skipped here for speed.
  synthesized = synthesizeApp(
    { env: 'legacy', adoptLegacyTables: 'true', namePrefix: 'legacy-' },
    { cloudFormationValidation: false },
  );
});

describe('Stack: ThreatEngine adopting the legacy tables (-c adoptLegacyTables=true)', () => {
  it('creates none of the six legacy tables, only the new claims table (prefixed)', () => {
    // Prepare
    const tables = resourcesOfType(synthesized.resources, 'AWS::DynamoDB::Table').map(
      ([, table]) => table.Properties?.TableName,
    );

    // Assess
    expect(TABLE_DEFINITIONS.filter((definition) => definition.legacy)).toHaveLength(6);
    expect(tables).toEqual([`legacy-${TABLES.claims.defaultName}`]);
  });

  it('points the functions at the legacy tables by their exact names', () => {
    // Prepare
    const api = synthesized.resources[functionIdByDescription(synthesized.resources, API_ACCESS.description)];
    const variables = propertyOf<{ Variables: Record<string, unknown> }>(api, 'Environment').Variables;

    // Assess
    expect(variables).toMatchObject({
      DYNAMODB_TENANTS_TABLE: 'threat-engine-tenants',
      DYNAMODB_ACCOUNTS_TABLE: 'threat-engine-accounts',
      DYNAMODB_SCAN_RESULTS_TABLE: 'threat-engine-scan-results',
      DYNAMODB_CLAIMS_TABLE: 'legacy-threat-engine-claims',
    });
  });

  it('grants the adopted tables and each of their indexes by name, without wildcards', () => {
    // Prepare
    const apiRole = roleOfFunction(
      synthesized.resources,
      functionIdByDescription(synthesized.resources, API_ACCESS.description),
    );
    const granted = identityStatements(synthesized.resources)
      .filter((entry) => entry.roles.includes(apiRole))
      .flatMap((entry) => asArray(entry.statement.Resource).map(flattenCfnReference))
      .filter((resource) => resource.includes(':dynamodb:'));
    const tableArn = (name: string) =>
      `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${name}`;

    // Assess
    expect(granted).toEqual(
      expect.arrayContaining([
        tableArn('threat-engine-accounts'),
        `${tableArn('threat-engine-accounts')}/index/tenant-accounts-index`,
        `${tableArn('threat-engine-schedules')}/index/next-run-index`,
      ]),
    );
    expect(granted.filter((resource) => resource.includes('*'))).toEqual([]);
  });

  it('stays cdk-nag clean', () => {
    // Assess
    expect(synthesized.nagReport.violations).toEqual([]);
  });
});
