import onboarding from './onboarding.asl.json' with { type: 'json' };
import scan from './scan.asl.json' with { type: 'json' };
import validation from './validation.asl.json' with { type: 'json' };

/**
 * The state machine definitions (Amazon States Language, JSONPath) with `${Token}` resources:
 * the CDK app substitutes Lambda ARNs, the local runtime substitutes local handlers.
 */
export const WORKFLOW_DEFINITIONS = { onboarding, validation, scan } as const;

export const WORKFLOW_FILES = {
  onboarding: 'workflows/onboarding.asl.json',
  validation: 'workflows/validation.asl.json',
  scan: 'workflows/scan.asl.json',
} as const;
