import { ValidationError } from '../core/errors';
import { OnboardingJsonSchema } from './api-schemas';

/**
 * The AWS role credentials in what a user pastes into validate-json, in every form the legacy UI
 * sent or CloudFormation shows:
 * - `{account_id, role_arn, external_id}` (the legacy form; account_id is the 12-digit AWS account),
 * - the template's own OnboardingJson output `{role_arn, external_id, account_number}`,
 * - PascalCase `{AccountId, RoleArn, ExternalId}` (the stack's output names),
 * - `{OnboardingJson: ...}`, or the stack's Outputs (`[{OutputKey, OutputValue}]`, or `{Outputs: [...]}`),
 * - any of these as JSON text.
 * When the account is left out it is the role ARN's. Unknown fields are refused, naming them.
 */

const ALIASES = {
  role_arn: ['role_arn', 'RoleArn', 'roleArn'],
  external_id: ['external_id', 'ExternalId', 'externalId'],
  account_number: ['account_number', 'account_id', 'AccountId', 'AccountNumber', 'accountId'],
} as const;

const KNOWN = new Set<string>(Object.values(ALIASES).flat());
const MAX_UNWRAP = 3;

const invalid = (message: string, field = 'onboarding_json') =>
  new ValidationError(`invalid onboarding_json: ${message}`, [{ field, message }]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseText(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw invalid("expected the stack's OnboardingJson output (JSON text or an object)");
  }
}

/** `[{OutputKey, OutputValue}]` → `{OutputKey: OutputValue}` (the stack's other outputs ignored). */
function outputsOf(outputs: unknown[]): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const output of outputs) {
    if (!isRecord(output) || typeof output.OutputKey !== 'string') {
      throw invalid('expected the stack outputs as [{OutputKey, OutputValue}]');
    }
    if (output.OutputKey === 'OnboardingJson' || KNOWN.has(output.OutputKey)) {
      map[output.OutputKey] = output.OutputValue;
    }
  }
  return map;
}

export function onboardingJsonOf(value: unknown): {
  role_arn: string;
  external_id: string;
  account_number: string;
} {
  let document = value;
  for (let depth = 0; depth <= MAX_UNWRAP; depth += 1) {
    if (typeof document === 'string') document = parseText(document);
    if (Array.isArray(document)) document = outputsOf(document);
    else if (isRecord(document) && Array.isArray(document.Outputs)) document = outputsOf(document.Outputs);
    if (isRecord(document) && 'OnboardingJson' in document) document = document.OnboardingJson;
    else break;
  }
  if (!isRecord(document))
    throw invalid("expected the stack's OnboardingJson output (JSON text or an object)");

  const unknown = Object.keys(document).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `invalid onboarding_json: unknown field ${unknown.map((key) => key.slice(0, 64)).join(', ')}`,
      unknown.map((key) => ({
        field: `onboarding_json.${key.slice(0, 64)}`,
        message: 'is not a known field (expected account_id, role_arn, external_id)',
      })),
    );
  }
  const picked: Record<string, unknown> = {};
  for (const [field, aliases] of Object.entries(ALIASES)) {
    const values = aliases.filter((alias) => document[alias] !== undefined).map((alias) => document[alias]);
    if (new Set(values).size > 1)
      throw invalid(`names two different values for ${field}`, `onboarding_json.${field}`);
    if (values.length > 0) picked[field] = values[0];
  }
  if (picked.account_number === undefined && typeof picked.role_arn === 'string') {
    picked.account_number = /^arn:[^:]+:iam::(\d{12}):role\//.exec(picked.role_arn)?.[1];
  }
  const parsed = OnboardingJsonSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: ['onboarding_json', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new ValidationError(
    `invalid onboarding_json: ${issues.map((issue) => issue.field).join(', ')}`,
    issues,
  );
}
