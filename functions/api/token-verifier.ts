import { IdSchema } from '../../schemas/common';
import { UnauthenticatedError } from '../core/errors';
import { type Caller, ROLES, type Role } from './api-context';

/** What a request offers to prove who is calling. */
export interface AuthenticationRequest {
  /** The bearer token (without the `Bearer ` prefix). */
  token: string;
  /**
   * The claims API Gateway's JWT authorizer validated (payload v2:
   * `requestContext.authorizer.jwt.claims`), when the app runs behind it.
   */
  authorizerClaims?: Record<string, unknown> | undefined;
}

/** Turns a request's credentials into a caller, or throws UnauthenticatedError (401). */
export interface TokenVerifier {
  verify(request: AuthenticationRequest): Promise<Caller>;
}

/** Which claims carry the tenant and the role: the first present of each list wins. */
export interface ClaimNames {
  tenant: readonly string[];
  role: readonly string[];
}

export const DEFAULT_CLAIM_NAMES: ClaimNames = {
  tenant: ['tenant_id', 'custom:tenant_id'],
  role: ['role', 'custom:role'],
};

const firstClaim = (claims: Record<string, unknown>, names: readonly string[]): unknown => {
  for (const name of names) {
    const value = claims[name];
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return undefined;
};

/**
 * The caller a token's (already verified) claims describe. Every refusal is a 401 naming the
 * claim, never echoing the token: `sub` is required, the role must be one of ROLES, and every role
 * but platform_admin must carry a valid tenant id.
 */
export function callerFromClaims(
  claims: Record<string, unknown>,
  names: ClaimNames = DEFAULT_CLAIM_NAMES,
): Caller {
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
    throw new UnauthenticatedError('the token has no subject (sub claim)');
  }
  const role = firstClaim(claims, names.role);
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new UnauthenticatedError(
      `the token's ${names.role.join('/')} claim must be one of ${ROLES.join(', ')}`,
    );
  }
  const tenant = firstClaim(claims, names.tenant);
  if (tenant === undefined) {
    if (role === 'platform_admin') return { subject, tenantId: null, role };
    throw new UnauthenticatedError(`the token has no ${names.tenant.join('/')} claim (required for ${role})`);
  }
  if (!IdSchema.safeParse(tenant).success) {
    throw new UnauthenticatedError(`the token's ${names.tenant.join('/')} claim is not a valid tenant id`);
  }
  return { subject, tenantId: tenant as string, role: role as Role };
}
