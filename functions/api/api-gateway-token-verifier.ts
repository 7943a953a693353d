import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import { UnauthenticatedError } from '../core/errors';
import type { Caller } from './api-context';
import {
  type AuthenticationRequest,
  type ClaimNames,
  callerFromClaims,
  DEFAULT_CLAIM_NAMES,
  type TokenVerifier,
} from './token-verifier';

export interface ApiGatewayTokenVerifierOptions {
  claimNames?: ClaimNames;
  /** When set, `iss` must equal it (API Gateway's authorizer checked it already: defence in depth). */
  issuer?: string | undefined;
  /** When set, `aud` must hold one of them. */
  audiences?: readonly string[] | undefined;
  clock?: Clock;
}

/**
 * On AWS, API Gateway's JWT authorizer has verified the token's signature, issuer, audience and
 * expiry against the configured OIDC issuer (Cognito or any) before the Lambda runs: this reads the
 * claims it passes on (`requestContext.authorizer.jwt.claims`) and refuses the request when they
 * are absent (a route deployed without the authorizer must not become open).
 */
export class ApiGatewayTokenVerifier implements TokenVerifier {
  readonly #options: ApiGatewayTokenVerifierOptions;
  readonly #clock: Clock;

  constructor(options: ApiGatewayTokenVerifierOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  async verify(request: AuthenticationRequest): Promise<Caller> {
    const claims = request.authorizerClaims;
    if (!claims || typeof claims !== 'object' || Object.keys(claims).length === 0) {
      throw new UnauthenticatedError('the request was not authorized by the API Gateway JWT authorizer');
    }
    const { issuer, audiences } = this.#options;
    if (issuer !== undefined && claims.iss !== issuer)
      throw new UnauthenticatedError("the token's iss claim is not accepted");
    // Cognito access tokens carry the app client as client_id rather than aud.
    const presented = [...audiencesOf(claims.aud), ...audiencesOf(claims.client_id)];
    if (
      audiences !== undefined &&
      audiences.length > 0 &&
      !presented.some((aud) => audiences.includes(aud))
    ) {
      throw new UnauthenticatedError("the token's aud claim is not accepted");
    }
    const exp = Number(claims.exp);
    if (!Number.isFinite(exp) || exp * 1000 <= this.#clock().getTime()) {
      throw new UnauthenticatedError('the token has expired');
    }
    try {
      return callerFromClaims(claims, this.#options.claimNames ?? DEFAULT_CLAIM_NAMES);
    } catch (error) {
      // Cognito puts custom: attributes in the ID token only: say which token to send.
      if (error instanceof UnauthenticatedError && claims.token_use === 'access') {
        throw new UnauthenticatedError(
          `${error.message}: this is a Cognito access token, which carries no custom: claims; send the ID token, or add tenant_id and role to access tokens with a pre-token-generation trigger`,
        );
      }
      throw error;
    }
  }
}

/** API Gateway passes list claims as `[a b]` strings; tokens may carry a string or an array. */
function audiencesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  const trimmed = value.trim();
  if (trimmed.startsWith('[') && trimmed.endsWith(']'))
    return trimmed
      .slice(1, -1)
      .split(/[\s,]+/)
      .filter(Boolean);
  return [trimmed];
}
