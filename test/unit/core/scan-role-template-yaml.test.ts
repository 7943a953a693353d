import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderScanRoleTemplateYaml } from '../../../functions/api/scan-role-template-yaml';
import { ValidationError } from '../../../functions/core/errors';
import {
  scanRoleTemplate,
  scanRoleTemplateYaml,
} from '../../../functions/core/onboarding/cloudformation-template';

const accountIds = fc.stringMatching(/^\d{12}$/);
const externalIds = fc.stringMatching(/^[0-9a-f]{16}$/).map((hex) => `threat-engine-${hex}`);

describe('Function: scanRoleTemplateYaml', () => {
  const rendered = renderScanRoleTemplateYaml();

  it('is the text the yaml library writes for the template of any valid account and external id', () => {
    fc.assert(
      fc.property(
        fc.oneof(accountIds, fc.constantFrom('000000000000', '123456789012', '012345678901')),
        fc.oneof(
          externalIds,
          fc.constantFrom('threat-engine-0000000000000000', 'threat-engine-a000000000000000'),
        ),
        (accountId, externalId) => {
          expect(scanRoleTemplateYaml(rendered, accountId, externalId)).toBe(
            stringify(scanRoleTemplate(accountId, externalId), { lineWidth: 0 }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads back as the template object', () => {
    const text = scanRoleTemplateYaml(rendered, '123456789012', 'threat-engine-00000000000000ff');
    expect(parse(text)).toEqual(scanRoleTemplate('123456789012', 'threat-engine-00000000000000ff'));
  });

  it('throws a ValidationError for an account id or external id of another shape', () => {
    expect(() => scanRoleTemplateYaml(rendered, '12345', 'threat-engine-0000000000000000')).toThrow(
      ValidationError,
    );
    expect(() => scanRoleTemplateYaml(rendered, '123456789012', 'threat-engine-ZZ')).toThrow(ValidationError);
  });
});
