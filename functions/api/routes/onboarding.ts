import { Hono } from 'hono';
import { IdSchema } from '../../../schemas/common';
import { AUTH_METHODS } from '../../../schemas/credentials';
import { ConflictError, ValidationError } from '../../core/errors';
import { scanRoleTemplate, scanRoleTemplateYaml } from '../../core/onboarding/cloudformation-template';
import { describeFailure } from '../../core/task-failure';
import { accountView, submissionAccepted } from '../account-view';
import {
  type ApiEnv,
  lookupScope,
  parseJsonBody,
  parseQuery,
  parseWith,
  requestTokenOf,
  requireRole,
  TenantQuerySchema,
  tenantScope,
} from '../api-context';
import {
  AccountDetailSchema,
  AccountListQuerySchema,
  AccountPageSchema,
  AuthMethodsViewSchema,
  CloudFormationTemplateQuerySchema,
  CloudFormationTemplateResponseSchema,
  ExecutionIdParamSchema,
  ExecutionStatusViewSchema,
  InitAccountBodySchema,
  InitAccountResponseSchema,
  ProviderParamSchema,
  SubmissionAcceptedSchema,
  ValidateBodySchema,
  ValidateJsonBodySchema,
  ValidationRefusedSchema,
  ValidationSucceededSchema,
} from '../api-schemas';
import type { ApiServices } from '../api-services';
import { onboardingJsonOf } from '../onboarding-json';
import { registerRoute, rolesFrom } from '../openapi';
import { answerValidation, SYNCHRONOUS_VALIDATION_DESCRIPTION } from '../validation-answer';
import { consumeValidationBudget } from '../validation-budget';

const TAGS = ['onboarding'];
const PROVIDER_PARAMS = { provider: ProviderParamSchema };
const ACCOUNT_PARAMS = { account_id: IdSchema };
const VALIDATION_ANSWERS = {
  '202': {
    description: 'still validating at the deadline, or Prefer: respond-async',
    schema: SubmissionAcceptedSchema,
  },
  '400': {
    description: 'invalid input, or the credentials were refused (the reason in detail.errors)',
    schema: ValidationRefusedSchema,
  },
};

/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/onboarding/accounts',
  summary: "List the tenant's accounts (filters, cursor pagination)",
  tags: TAGS,
  roles: rolesFrom('viewer'),
  query: AccountListQuerySchema,
  response: AccountPageSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/onboarding/accounts/:account_id',
  summary: 'Read an account, with the state of its credentials (never their values)',
  tags: TAGS,
  roles: rolesFrom('viewer'),
  params: ACCOUNT_PARAMS,
  query: TenantQuerySchema,
  response: AccountDetailSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/onboarding/executions/:execution_id',
  summary: 'Status of an onboarding or validation execution (the status_url of a 202)',
  tags: TAGS,
  roles: rolesFrom('viewer'),
  params: { execution_id: ExecutionIdParamSchema },
  response: ExecutionStatusViewSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/onboarding/aws/cloudformation-template',
  summary: 'The least-privilege CloudFormation template of an AWS account initialised for role onboarding',
  tags: TAGS,
  roles: rolesFrom('viewer'),
  query: CloudFormationTemplateQuerySchema,
  response: CloudFormationTemplateResponseSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'get',
  path: '/onboarding/:provider/methods',
  summary: "A provider's auth methods and their credential fields",
  tags: TAGS,
  roles: rolesFrom('viewer'),
  params: PROVIDER_PARAMS,
  response: AuthMethodsViewSchema,
});
/* @__PURE__ */ registerRoute({
  method: 'post',
  path: '/onboarding/:provider/init',
  summary: 'Create a pending account (and, for AWS roles, issue and store its external id)',
  description:
    'The onboarding id and the onboarding execution id are assigned when credentials are submitted (validate / validate-json).',
  tags: TAGS,
  roles: rolesFrom('tenant_admin'),
  params: PROVIDER_PARAMS,
  request: InitAccountBodySchema,
  response: InitAccountResponseSchema,
  status: 201,
  idempotent: true,
});
/* @__PURE__ */ registerRoute({
  method: 'post',
  path: '/onboarding/:provider/validate',
  summary: 'Submit credentials: staged, then validated and promoted by the onboarding workflow',
  description: `The account becomes active when the workflow succeeds. ${SYNCHRONOUS_VALIDATION_DESCRIPTION}`,
  tags: TAGS,
  roles: rolesFrom('tenant_admin'),
  params: PROVIDER_PARAMS,
  request: ValidateBodySchema,
  response: ValidationSucceededSchema,
  otherResponses: VALIDATION_ANSWERS,
  idempotent: true,
  rateLimited: true,
});
/* @__PURE__ */ registerRoute({
  method: 'post',
  path: '/onboarding/:provider/validate-json',
  summary: "Submit the CloudFormation stack's output (AWS role onboarding)",
  description: `onboarding_json: {account_id (the 12-digit AWS account), role_arn, external_id}, the template's OnboardingJson output, the PascalCase {AccountId, RoleArn, ExternalId}, {OnboardingJson} or the stack's Outputs list, as an object or as JSON text. ${SYNCHRONOUS_VALIDATION_DESCRIPTION}`,
  tags: TAGS,
  roles: rolesFrom('tenant_admin'),
  params: PROVIDER_PARAMS,
  request: ValidateJsonBodySchema,
  response: ValidationSucceededSchema,
  otherResponses: VALIDATION_ANSWERS,
  idempotent: true,
  rateLimited: true,
});

/** Onboarding (legacy paths): auth methods, init, the AWS template, credential submission, accounts. */
export function onboardingRoutes(services: ApiServices): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const accounts = services.accountService;

  app.get('/onboarding/accounts', async (context) => {
    const caller = context.get('caller');
    const query = parseQuery(context, AccountListQuerySchema);
    const tenantId = tenantScope(caller, query.tenant_id);
    const page = await accounts.list(tenantId, {
      provider_type: query.provider_type,
      status: query.status,
      page: { limit: query.limit, cursor: query.cursor },
    });
    return context.json({ accounts: page.items.map(accountView), next_cursor: page.next_cursor });
  });

  app.get('/onboarding/accounts/:account_id', async (context) => {
    const caller = context.get('caller');
    const accountId = parseWith(IdSchema, context.req.param('account_id'), 'account_id');
    const query = parseQuery(context, TenantQuerySchema);
    const account = await accounts.get(lookupScope(caller, query.tenant_id), accountId);
    const secret = await accounts.credentialState(account);
    return context.json({
      ...accountView(account),
      credentials: {
        current: Boolean(secret?.currentVersionId) && !secret?.scheduledDeletionAt,
        pending: Boolean(secret?.pendingVersionId),
        scheduled_deletion_at: secret?.scheduledDeletionAt ?? null,
      },
    });
  });

  app.get('/onboarding/executions/:execution_id', async (context) => {
    const caller = context.get('caller');
    const executionId = parseWith(ExecutionIdParamSchema, context.req.param('execution_id'), 'execution_id');
    const status = await accounts.executionStatus(lookupScope(caller), executionId);
    const { description, account } = status;
    const ended = description.status !== 'RUNNING';
    const failure =
      ended && description.status !== 'SUCCEEDED'
        ? describeFailure({
            ...(description.error ? { Error: description.error } : {}),
            ...(description.cause ? { Cause: description.cause } : {}),
          })
        : undefined;
    const consoleUrl = services.consoleUrlFor?.(description.executionArn);
    return context.json({
      execution_id: status.execution_id,
      workflow: status.workflow,
      status: description.status,
      account_id: account?.account_id ?? null,
      started_at: description.startedAt,
      stopped_at: description.stoppedAt ?? null,
      error: failure ? { code: failure.error_code, message: failure.error_message } : null,
      account: account
        ? {
            status: account.status,
            onboarding_status: account.onboarding_status,
            account_number: account.account_number ?? null,
            validated_offline: account.validated_offline ?? false,
            last_validated_at: account.last_validated_at ?? null,
          }
        : null,
      ...(consoleUrl ? { console_url: consoleUrl } : {}),
    });
  });

  app.get('/onboarding/aws/cloudformation-template', async (context) => {
    const caller = context.get('caller');
    const query = parseQuery(context, CloudFormationTemplateQuerySchema);
    const tenantId = tenantScope(caller, query.tenant_id);
    const account = await accounts.findByExternalId(tenantId, query.external_id);
    if (!services.platformAwsAccountId) {
      throw new ConflictError(
        'role onboarding is not available: the platform AWS account is not configured (PLATFORM_AWS_ACCOUNT_ID)',
        'platform_account_id',
      );
    }
    const template = scanRoleTemplate(services.platformAwsAccountId, query.external_id);
    return context.json({
      template: scanRoleTemplateYaml(
        await services.scanRoleTemplateYaml(),
        services.platformAwsAccountId,
        query.external_id,
      ),
      template_object: template,
      external_id: query.external_id,
      platform_account_id: services.platformAwsAccountId,
      account_id: account.account_id,
    });
  });

  app.get('/onboarding/:provider/methods', (context) => {
    const provider = parseWith(ProviderParamSchema, context.req.param('provider'), 'provider');
    return context.json({
      provider,
      methods: AUTH_METHODS[provider].map((method, _index, all) => ({
        method: method.auth_method,
        name: method.recommended && all.length > 1 ? `${method.label} (Recommended)` : method.label,
        requires: [...method.required_fields],
        cloudformation_supported: method.credential_type === 'aws_iam_role',
        auth_method: method.auth_method,
        credential_type: method.credential_type,
        label: method.label,
        description: method.description,
        recommended: method.recommended,
        required_fields: [...method.required_fields],
        optional_fields: [...method.optional_fields],
      })),
    });
  });

  app.post('/onboarding/:provider/init', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const provider = parseWith(ProviderParamSchema, context.req.param('provider'), 'provider');
    const body = await parseJsonBody(context, InitAccountBodySchema);
    const tenantId = tenantScope(caller, body.tenant_id);
    const callerTenant = context.get('callerTenant');
    const account = await accounts.init(
      tenantId,
      provider,
      { account_name: body.account_name, auth_method: body.auth_method },
      callerTenant?.tenant_id === tenantId ? callerTenant : undefined,
    );
    const externalId = account.external_id ?? null;
    context.header('Location', `/api/v1/onboarding/accounts/${account.account_id}`);
    return context.json(
      {
        onboarding_id: account.onboarding_id ?? null,
        account_id: account.account_id,
        tenant_id: account.tenant_id,
        provider,
        auth_method: account.auth_method ?? '',
        account_name: account.account_name,
        external_id: externalId,
        ...(externalId
          ? {
              cloudformation_template_url: `/api/v1/onboarding/aws/cloudformation-template?external_id=${externalId}`,
            }
          : {}),
        status: account.status,
        onboarding_status: account.onboarding_status,
        validate_url: `/api/v1/onboarding/${provider}/${externalId ? 'validate-json' : 'validate'}`,
      },
      201,
    );
  });

  app.post('/onboarding/:provider/validate', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const provider = parseWith(ProviderParamSchema, context.req.param('provider'), 'provider');
    const body = await parseJsonBody(context, ValidateBodySchema);
    const submitted = await accounts.submit(lookupScope(caller, body.tenant_id), body.account_id, {
      provider,
      authMethod: body.auth_method,
      credentials: body.credentials,
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

  app.post('/onboarding/:provider/validate-json', async (context) => {
    const caller = context.get('caller');
    requireRole(caller, 'tenant_admin');
    const provider = parseWith(ProviderParamSchema, context.req.param('provider'), 'provider');
    if (provider !== 'aws') {
      throw new ValidationError('validate-json onboards AWS accounts only', [
        { field: 'provider', message: 'must be aws' },
      ]);
    }
    const body = await parseJsonBody(context, ValidateJsonBodySchema);
    const credentials = onboardingJsonOf(body.onboarding_json);
    const submitted = await accounts.submit(lookupScope(caller, body.tenant_id), body.account_id, {
      provider,
      authMethod: 'iam_role',
      credentials,
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

  return app;
}
