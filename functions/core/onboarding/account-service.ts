import { randomBytes } from 'node:crypto';
import type { Account, AccountStatus } from '../../../schemas/account';
import { fieldPath, type ProviderType, quoted } from '../../../schemas/common';
import { AUTH_METHODS, CredentialSubmissionSchema, credentialTypeFor } from '../../../schemas/credentials';
import type { Tenant } from '../../../schemas/tenant';
import type { Clock } from '../clock';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { onboardingExecutionName, validationExecutionName } from '../execution-names';
import { newId } from '../ids';
import type { Logger } from '../logger';
import type {
  Orchestrator,
  WorkflowExecutionDescription,
  WorkflowExecutionHandle,
  WorkflowName,
} from '../ports/orchestrator';
import type { SecretDescription, SecretStore } from '../ports/secret-store';
import type { AccountRepository } from '../repositories/account-repository';
import type { Page, PageRequest } from '../repositories/pagination';
import type { ProviderRepository } from '../repositories/provider-repository';
import type { TenantRepository } from '../repositories/tenant-repository';
import { accountInScope, scheduleSecretDeletion, type TenantScope } from './account-disabling';
import { type SubmittedOnboarding, submitCredentials } from './credential-submission';

export type { TenantScope } from './account-disabling';

/**
 * Accounts as the API manages them: onboarding (init, credential submission), reads, credential
 * re-validation and deletion (disabling: account-disabling.ts), and the status of onboarding/validation executions.
 *
 * Tenant isolation lives here, not only in routing: every method takes the caller's tenant scope
 * (`null` only for platform administrators acting across tenants) and answers NotFoundError for an
 * id of another tenant, exactly as for an id that does not exist.
 */

export interface AccountServiceDependencies {
  tenants: TenantRepository;
  providers: ProviderRepository;
  accounts: AccountRepository;
  secretStore: SecretStore;
  orchestrator: Orchestrator;
  /** The ARN of execution `name` of `workflow` on this target (names are ids; ARNs are where they live). */
  executionArnFor(workflow: WorkflowName, name: string): string;
  clock: Clock;
  logger: Logger;
}

export interface InitAccountInput {
  account_name: string;
  auth_method?: string | undefined;
}

export interface SubmitAccountCredentials {
  /** The provider named by the caller (the URL path); it must be the account's. */
  provider?: ProviderType | undefined;
  /** Given by the onboarding endpoints; the credential type then follows from it. */
  authMethod?: string | undefined;
  credentialType?: string | undefined;
  credentials: unknown;
  expiresAt?: string | null | undefined;
  /** A retried submission with the same token stages and starts nothing new. */
  requestToken: string;
  by?: string | undefined;
  /**
   * Called once every check has passed, just before anything is staged or started: the API
   * counts the submission against the tenant's validation rate limit here, so that a refused
   * body or an unknown account spends nothing.
   */
  beforeStart?: (() => Promise<void>) | undefined;
}

export interface ExecutionStatus {
  execution_id: string;
  workflow: 'onboarding' | 'validation';
  description: WorkflowExecutionDescription;
  account: Account | undefined;
}

const EXECUTION_WORKFLOW_BY_PREFIX: ReadonlyArray<readonly [string, 'onboarding' | 'validation']> = [
  ['onboard-', 'onboarding'],
  ['validate-', 'validation'],
];

/** A new external id: `threat-engine-` + 16 hex characters (64 random bits). */
export function newExternalId(): string {
  return `threat-engine-${randomBytes(8).toString('hex')}`;
}

/** The id (execution name) of the account's latest onboarding, once credentials were submitted. */
export function onboardingExecutionIdOf(
  account: Pick<Account, 'account_id' | 'onboarding_id' | 'onboarding_status'>,
): string | null {
  // Before any submission the onboarding id is the one issued at init: no execution carries it.
  if (!account.onboarding_id || account.onboarding_status === 'pending') return null;
  const token = account.onboarding_id.replaceAll('-', '').slice(0, 16);
  try {
    return onboardingExecutionName(account.account_id, token);
  } catch {
    return null; // A legacy onboarding id too short to name an execution: it had none.
  }
}

export class AccountService {
  constructor(private readonly deps: AccountServiceDependencies) {}

  /**
   * Creates the pending account of `provider` for the tenant (and the tenant's provider when
   * missing). For AWS role onboarding an external id is issued and stored on the account, so the
   * role's trust condition can be checked against it later.
   */
  /** `tenant`: the tenant as this request already read it (authentication), not read again. */
  async init(
    tenantId: string,
    provider: ProviderType,
    input: InitAccountInput,
    tenant: Tenant | undefined = undefined,
  ): Promise<Account> {
    tenant ??= await this.deps.tenants.get(tenantId);
    if (!tenant) throw new NotFoundError('tenant', tenantId);
    if (tenant.status === 'disabled') {
      throw new ConflictError(`tenant ${tenantId} is disabled: it cannot onboard accounts`, 'tenant_id');
    }
    const methods = AUTH_METHODS[provider];
    const method =
      input.auth_method === undefined
        ? (methods.find((candidate) => candidate.recommended) ?? methods[0])
        : methods.find((candidate) => candidate.auth_method === input.auth_method);
    if (!method) {
      throw new ValidationError(`${provider} accounts cannot use auth method ${quoted(input.auth_method)}`, [
        { field: 'auth_method', message: `must be one of ${methods.map((m) => m.auth_method).join(', ')}` },
      ]);
    }
    const providerItem = await this.deps.providers.getOrCreate(tenantId, provider);
    const account = await this.deps.accounts.create({
      tenant_id: tenantId,
      provider_id: providerItem.provider_id,
      provider_type: provider,
      account_name: input.account_name,
      auth_method: method.auth_method,
      credential_type: method.credential_type,
      onboarding_id: newId(),
      ...(provider === 'aws' && method.auth_method === 'iam_role' ? { external_id: newExternalId() } : {}),
    });
    this.deps.logger.info('account initialised', {
      tenant_id: tenantId,
      account_id: account.account_id,
      provider,
      auth_method: method.auth_method,
    });
    return account;
  }

  async get(scope: TenantScope, accountId: string): Promise<Account> {
    return accountInScope(this.deps.accounts, scope, accountId);
  }

  async list(
    tenantId: string,
    options: {
      provider_type?: ProviderType | undefined;
      status?: AccountStatus | undefined;
      page?: PageRequest;
    },
  ): Promise<Page<Account>> {
    return this.deps.accounts.listByTenant(tenantId, {
      ...(options.provider_type ? { provider_type: options.provider_type } : {}),
      ...(options.status ? { status: options.status } : {}),
      ...(options.page ? { page: options.page } : {}),
    });
  }

  /** Which credential versions the account holds, without reading any value. */
  async credentialState(account: Account): Promise<SecretDescription | undefined> {
    return this.deps.secretStore.describe(account.account_id);
  }

  /** The tenant's AWS account holding this external id (404 when none of the tenant's does). */
  async findByExternalId(tenantId: string, externalId: string): Promise<Account> {
    let cursor: string | undefined;
    do {
      const page = await this.deps.accounts.listByTenant(tenantId, {
        provider_type: 'aws',
        page: { limit: 100, ...(cursor ? { cursor } : {}) },
      });
      const found = page.items.find((account) => account.external_id === externalId);
      if (found) return found;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    throw new NotFoundError('external id', externalId);
  }

  /**
   * Stages credentials and starts the onboarding workflow (202: the workflow validates them and
   * promotes them only on success). A disabled account is reopened first: onboarding it again is
   * how it comes back (its secret, if scheduled for deletion, is restored by the secret store).
   */
  async submit(
    scope: TenantScope,
    accountId: string,
    request: SubmitAccountCredentials,
  ): Promise<SubmittedOnboarding & { account: Account }> {
    const account = await this.get(scope, accountId);
    const providerType = account.provider_type;
    if (request.provider && providerType && request.provider !== providerType) {
      throw new ValidationError(`account ${account.account_id} is a ${providerType} account`, [
        { field: 'provider', message: `must be ${providerType} for this account` },
      ]);
    }
    const provider = providerType ?? request.provider;
    let credentialType = request.credentialType;
    if (request.authMethod !== undefined) {
      const fromMethod = provider ? credentialTypeFor(provider, request.authMethod) : undefined;
      if (!fromMethod) {
        const methods = provider ? AUTH_METHODS[provider].map((method) => method.auth_method) : [];
        throw new ValidationError(
          `${provider ?? 'this'} account cannot use auth method ${quoted(request.authMethod)}`,
          [{ field: 'auth_method', message: `must be one of ${methods.join(', ')}` }],
        );
      }
      credentialType = fromMethod;
    }
    if (credentialType === undefined) {
      throw new ValidationError('credential_type is required', [
        { field: 'credential_type', message: 'is required' },
      ]);
    }
    // Structural checks before anything changes (submitCredentials checks again, cheaply).
    const parsed = CredentialSubmissionSchema.safeParse({
      credential_type: credentialType,
      credentials: request.credentials,
    });
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({
        field: fieldPath(issue.path) || 'credentials',
        message: issue.message,
      }));
      throw new ValidationError(
        `invalid credentials: ${issues.map((issue) => issue.field).join(', ')}`,
        issues,
      );
    }
    if (parsed.data.credential_type === 'aws_iam_role') {
      if (!account.external_id) {
        throw new ValidationError('no external id was issued for this account', [
          {
            field: 'credentials.external_id',
            message: 'initialise the account with auth_method iam_role to get an external id',
          },
        ]);
      }
      if (parsed.data.credentials.external_id !== account.external_id) {
        throw new ValidationError('the external id is not the one issued for this account', [
          { field: 'credentials.external_id', message: 'must be the external id issued at init' },
        ]);
      }
    }
    await request.beforeStart?.();
    if (account.status === 'disabled') await this.deps.accounts.reopen(account.account_id);
    const submitted = await submitCredentials(this.deps, {
      tenantId: account.tenant_id,
      accountId: account.account_id,
      ...(provider ? { provider } : {}),
      credentialType: parsed.data.credential_type,
      credentials: request.credentials,
      requestToken: request.requestToken,
      expiresAt: request.expiresAt ?? null,
    });
    const methodOfType = provider
      ? AUTH_METHODS[provider].find((method) => method.credential_type === parsed.data.credential_type)
      : undefined;
    let current = account;
    if (account.credential_type !== parsed.data.credential_type && methodOfType) {
      current = await this.deps.accounts.update(account.account_id, {
        credential_type: parsed.data.credential_type,
        auth_method: methodOfType.auth_method,
      });
    }
    this.deps.logger.info('credentials submitted for onboarding', {
      tenant_id: account.tenant_id,
      account_id: account.account_id,
      credential_type: parsed.data.credential_type,
      execution: submitted.execution.name,
      already_started: submitted.execution.alreadyStarted,
      by: request.by,
    });
    return { ...submitted, account: current };
  }

  /** Starts the validation workflow on the account's current credentials. */
  async startValidation(
    scope: TenantScope,
    accountId: string,
    by?: string,
    /** See {@link SubmitAccountCredentials.beforeStart}. */
    beforeStart?: () => Promise<void>,
  ): Promise<WorkflowExecutionHandle> {
    const account = await this.get(scope, accountId);
    if (account.status === 'disabled') {
      throw new ConflictError(`account ${accountId} is disabled: onboard it again first`, 'status');
    }
    const secret = await this.deps.secretStore.describe(account.account_id);
    if (!secret?.currentVersionId || secret.scheduledDeletionAt) {
      throw new ConflictError(
        `account ${accountId} has no current credentials to validate: submit credentials first`,
        'credentials',
      );
    }
    await beforeStart?.();
    const handle = await this.deps.orchestrator.start({
      workflow: 'validation',
      name: validationExecutionName(account.account_id, this.deps.clock()),
      input: { tenant_id: account.tenant_id, account_id: account.account_id, triggered_by: 'api' },
    });
    this.deps.logger.info('credential validation started', {
      tenant_id: account.tenant_id,
      account_id: account.account_id,
      execution: handle.name,
      by,
    });
    return handle;
  }

  /**
   * Schedules the deletion of the account's credentials (404 when it holds none) and returns the
   * account to `pending` (as the legacy service did): it is not scanned until new credentials are
   * submitted. Idempotent.
   */
  async deleteCredentials(
    scope: TenantScope,
    accountId: string,
    by?: string,
  ): Promise<{ deletion_date: string; account: Account }> {
    const account = await this.get(scope, accountId);
    const deletion = await scheduleSecretDeletion(this.deps.secretStore, account.account_id);
    if (deletion === null) throw new NotFoundError('credentials of account', account.account_id);
    const pending = await this.deps.accounts.returnToPending(account.account_id);
    this.deps.logger.info('account credentials scheduled for deletion', {
      tenant_id: account.tenant_id,
      account_id: account.account_id,
      status: pending.status,
      by,
    });
    return { deletion_date: deletion, account: pending };
  }

  /** The status of an onboarding or validation execution of one of the scope's accounts. */
  async executionStatus(scope: TenantScope, executionId: string): Promise<ExecutionStatus> {
    const workflow = EXECUTION_WORKFLOW_BY_PREFIX.find(([prefix]) => executionId.startsWith(prefix))?.[1];
    if (!workflow || !/^[A-Za-z0-9_.-]{1,80}$/.test(executionId))
      throw new NotFoundError('execution', executionId);
    let description: WorkflowExecutionDescription;
    try {
      description = await this.deps.orchestrator.describe(this.deps.executionArnFor(workflow, executionId));
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError('execution', executionId, { cause: error });
      throw error;
    }
    const input = (description.input ?? {}) as { tenant_id?: unknown; account_id?: unknown };
    if (scope !== null && input.tenant_id !== scope) throw new NotFoundError('execution', executionId);
    const account =
      typeof input.account_id === 'string' ? await this.deps.accounts.get(input.account_id) : undefined;
    return { execution_id: executionId, workflow, description, account };
  }
}
