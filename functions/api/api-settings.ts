import * as z from 'zod/mini';
import { ConfigurationError } from '../core/errors';

/**
 * The HTTP API's own settings, read once from the environment next to the service configuration
 * (schemas/config.ts). Kept here because only the API reads them; every value has a safe default
 * (no CORS origin, 64 KiB bodies, 10 validation calls per tenant per minute).
 */

const positiveInt = (what: string, min: number, max: number) =>
  z.coerce
    .number({ message: `expected ${what}` })
    .check(
      z.int(`expected a whole number of ${what}`),
      z.gte(min, `expected at least ${min}`),
      z.lte(max, `expected at most ${max}`),
    );

/** A comma-separated list: each item trimmed (then normalized), empty items dropped. */
const commaList = (normalize: (item: string) => string = (item) => item) =>
  z.pipe(
    z.string(),
    z.transform((value) =>
      value
        .split(',')
        .map((item) => normalize(item.trim()))
        .filter(Boolean),
    ),
  );

const CLAIM_NAME = /^[A-Za-z0-9_:.-]{1,64}$/;

const claimNames = (fallback: string) =>
  z._default(
    z.pipe(
      commaList(),
      z
        .array(z.string().check(z.regex(CLAIM_NAME, 'expected claim names of A-Z a-z 0-9 _ : . -')))
        .check(z.minLength(1, 'expected at least one claim name')),
    ),
    fallback.split(','),
  );

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

export const ApiSettingsSchema = z.object({
  /** Comma-separated origins allowed by CORS (scheme://host[:port]); empty: no CORS headers at all. */
  API_CORS_ALLOWED_ORIGINS: z._default(
    z.pipe(
      commaList((origin) => origin.replace(/\/+$/, '')),
      z.array(
        z.string().check(z.regex(ORIGIN, 'expected origins such as https://console.example.com (never *)')),
      ),
    ),
    [],
  ),
  /** Largest accepted request body; larger ones get 413. */
  API_MAX_BODY_BYTES: z._default(positiveInt('bytes', 1024, 1024 * 1024), 64 * 1024),
  /** Validation calls (validate, validate-json, credentials POST, credentials/validate) per tenant per window. */
  API_VALIDATION_RATE_LIMIT: z._default(positiveInt('requests', 1, 100_000), 10),
  API_VALIDATION_RATE_WINDOW_SECONDS: z._default(positiveInt('seconds', 1, 86_400), 60),
  /**
   * How long validate, validate-json and the credentials routes wait for their workflow before
   * answering 202 instead (0: always 202 at once). Below API Gateway's 29 s integration timeout.
   */
  API_VALIDATION_WAIT_SECONDS: z._default(
    z.coerce
      .number({ message: 'expected seconds' })
      .check(
        z.gte(0, 'expected at least 0'),
        z.lte(25, 'expected at most 25 (API Gateway ends a request at 29 s)'),
      ),
    20,
  ),
  /** How long an Idempotency-Key is remembered. */
  API_IDEMPOTENCY_TTL_SECONDS: z._default(positiveInt('seconds', 60, 7 * 86_400), 24 * 3600),
  /** Token claims holding the tenant id and the role, first present wins (Cognito prefixes custom ones). */
  AUTH_TENANT_CLAIMS: claimNames('tenant_id,custom:tenant_id'),
  AUTH_ROLE_CLAIMS: claimNames('role,custom:role'),
  /**
   * The OIDC issuer and the accepted audiences (comma-separated) of API Gateway's JWT authorizer
   * (set by the CDK app). When set, the API checks `iss` / `aud` again (defence in depth).
   */
  OIDC_ISSUER: z.optional(z.string().check(z.minLength(1))),
  OIDC_AUDIENCE: z.optional(commaList()),
  /** The console's hosted login (authorization code + PKCE at OIDC_ISSUER): its public client id. */
  CONSOLE_OIDC_CLIENT_ID: z.optional(
    z.string().check(z.regex(CLAIM_NAME, 'expected a client id of A-Z a-z 0-9 _ : . -')),
  ),
  CONSOLE_OIDC_SCOPES: z._default(z.string().check(z.minLength(1)), 'openid'),
});

export type ApiSettings = z.infer<typeof ApiSettingsSchema>;

export const DEFAULT_API_SETTINGS: ApiSettings = ApiSettingsSchema.parse({});

/** Parses the API settings; a malformed value stops start-up naming the variable. */
export function loadApiSettings(env: Record<string, string | undefined> = process.env): ApiSettings {
  const present = Object.fromEntries(
    Object.entries(env).filter(
      ([name, value]) => value !== undefined && value !== '' && name in ApiSettingsSchema.shape,
    ),
  );
  const result = ApiSettingsSchema.safeParse(present);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: String(issue.path[0] ?? '(environment)'),
    message: issue.message,
  }));
  throw new ConfigurationError(
    `invalid API configuration: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
    issues,
  );
}
