import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { scanRoleTemplate, TEMPLATE_PLACEHOLDERS } from '../core/onboarding/cloudformation-template';
import { SCAN_ROLE_TEMPLATE_YAML_FILE } from './api-services';

/**
 * The role-onboarding template as YAML with its placeholder values (what
 * `GET /onboarding/aws/cloudformation-template` fills in with scanRoleTemplateYaml). Rendered when
 * the API is built (the CDK app writes it into the API function's asset) or started (the local
 * runtime), never inside the API function: the yaml library stays out of its bundle.
 */
export function renderScanRoleTemplateYaml(): string {
  return stringify(
    scanRoleTemplate(TEMPLATE_PLACEHOLDERS.platformAccountId, TEMPLATE_PLACEHOLDERS.externalId),
    {
      lineWidth: 0,
    },
  );
}

/** Writes it into `directory` as the API function's asset holds it; returns the file's path. */
export function writeScanRoleTemplateYaml(directory: string): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, SCAN_ROLE_TEMPLATE_YAML_FILE);
  writeFileSync(file, renderScanRoleTemplateYaml());
  return file;
}
