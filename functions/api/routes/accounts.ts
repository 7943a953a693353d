import { Hono } from 'hono';
import { IdSchema } from '../../../schemas/common';
import { ValidationError } from '../../core/errors';
import { executionStatusUrl, submissionAccepted } from '../account-view';
import {
  type ApiEnv,
  lookupScope,
  parseJsonBody,
  parseQuery,
  parseWith,
  requestTokenOf,
  requireRole,
  TenantQuerySchema,
} from '../api-context';
import {
  CredentialsBodySchema,
  CredentialsDeletedSchema,
  SubmissionAcceptedSchema,
  ValidationRefusedSchema,
  ValidationStartedSchema,
  ValidationSucceededSchema,
} from '../api-schemas';
import type { ApiServices } from '../api-services';
import { registerRoute, rolesFrom } from '../openapi';
import { answerValidation, SYNCHRONOUS_VALIDATION_DESCRIPTION } from '../validation-answer';
import { consumeValidationBudget } from '../validation-budget';

const TAGS = ['credentials'];
const ACCOUNT_PARAMS = { account_id: IdSchema };

/* @__PURE__ */ registerRoute({
  method: 'post',
  path: '/accounts/:account_id/credentials',
  summary: 'Replace the credentials of an account (validated by the onboarding workflow before use)',
  description: `Write-only: no response ever contains credentials. ${SYNCHRONOUS_VALIDATION_DESCRIPTION}`,
  tags: TAGS,
  roles: rolesFrom('tenant_admin'),
  params: ACCOUNT_PARAMS,
  query: TenantQuerySchema,
  request: CredentialsBodySchema,
  response: ValidationSucceededSchema,
  otherResponses: {
    '202': {
      description: 'still validating at the deadline, or Prefer: respond-async',
      schema: SubmissionAcceptedSchema,
    },
    '400': {
      description: 'invalid input, or the credentials were refused (the reason in detail.errors)',
      schema: ValidationRefusedSchema,
    },
  },
  idempotent: true,
  rateLimited: true,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/accounts/:account_id/credentials/validate',
  summary: "Validate the account's current credentials again (the validation workflow)",
  description: SYNCHRONOUS_VALIDATION_DESCRIPTION,
  tags: TAGS,
  roles: rolesFrom('operator'),
  params: ACCOUNT_PARAMS,
  query: TenantQuerySchema,
  response: ValidationSucceededSchema,
  otherResponses: {
    '202': {
      description: 'still validating at the deadline, or Prefer: respond-async',
      schema: ValidationStartedSchema,
    },
    '400': {
      description: 'the credentials were refused (the reason in detail.errors)',
      schema: ValidationRefusedSchema,
    },
  },
  rateLimited: true,
});
/* @__PURE__ */ registerRoute({
  method: 'delete',
  path: '/accounts/:account_id/credentials',
  summary:
    "Schedule the deletion of the account's credentials (7-day recovery window); the account returns to pending",
  tags: TAGS,
  roles: rolesFrom('tenant_admin'),
  params: ACCOUNT_PARAMS,
  query: TenantQuerySchema,
  response: CredentialsDeletedSchema,
});

/** Credentials of an onboarded account (legacy paths). */
export function accountRoutes(services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const accounts = services.accountService;

  app.post('/accounts/:account_id/credentials', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const accountId = parseWith(IdSchema, context.req.param('account_id'), 'account_id');
    const query = parseQuery(context, TenantQuerySchema);
    const body = await parseJsonBody(context, CredentialsBodySchema);
    if (body.expires_at && Date.parse(body.expires_at) <= services.clock().getTime()) {
      throw new ValidationError('expires_at is in the past', [
        { field: 'expires_at', message: 'must be in the future' },
      ]);
    }
    const submitted = await accounts.submit(lookupScope(caller, query.tenant_id), accountId, {
      credentialType: body.credential_type,
      credentials: body.credentials,
      expiresAt: body.expires_at ?? null,
      requestToken: requestTokenOf(context),
      by: caller.subject,
      beforeStart: () => consumeValidationBudget(services, caller),
    });
    return answerValidation(context, services, {
      workflow: 'onboarding',
      executionId: submitted.execution.name,
      accountId: submitted.account_id,
      accepted: submissionAccepted(submitted),
    });
  });

  app.get('/accounts/:account_id/credentials/validate', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'operator');
    const accountId = parseWith(IdSchema, context.req.param('account_id'), 'account_id');
    const query = parseQuery(context, TenantQuerySchema);
    const handle = await accounts.startValidation(
      lookupScope(caller, query.tenant_id),
      accountId,
      caller.subject,
      () => consumeValidationBudget(services, caller),
    );
    return answerValidation(context, services, {
      workflow: 'validation',
      executionId: handle.name,
      accountId,
      accepted: {
        execution_id: handle.name,
        status_url: executionStatusUrl(handle.name),
        account_id: accountId,
        status: 'accepted' as const,
      },
    });
  });

  app.delete('/accounts/:account_id/credentials', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const accountId = parseWith(IdSchema, context.req.param('account_id'), 'account_id');
    const query = parseQuery(context, TenantQuerySchema);
    const result = await accounts.deleteCredentials(
      lookupScope(caller, query.tenant_id),
      accountId,
      caller.subject,
    );
    return context.json({
      status: 'deleted' as const,
      account_id: accountId,
      account_status: result.account.status,
      deletion_date: result.deletion_date,
      recovery_window_days: 7,
    });
  });

  return app;
}
