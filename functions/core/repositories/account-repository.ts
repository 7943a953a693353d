import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import {
  type Account,
  AccountNameSchema,
  AccountSchema,
  type AccountStatus,
  AccountStatusSchema,
  type OnboardingStatus,
} from '../../../schemas/account';
import {
  IdSchema,
  type ProviderType,
  ProviderTypeSchema,
  TimestampSchema,
  toIsoUtc,
} from '../../../schemas/common';
import { INDEX, TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { ConflictError, InvalidTransitionError, NotFoundError } from '../errors';
import { newId } from '../ids';
import { type Condition, DynamoDbTable, type Item, type UpdateParts } from './dynamodb-table';
import type { Page, PageRequest } from './pagination';
import { parseInput, parseStored } from './stored-item';

export interface AccountRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /**
   * The providers table: a legacy account row has a provider_id but no provider_type, which is
   * then read from its provider (once per provider: a provider's type never changes).
   */
  providersTableName?: string;
  clock?: Clock;
}

/**
 * The onboarding state model, as data: from each status, where it may go. `completed` is reached
 * only from `in_progress` (never straight from `pending`: credentials must be validated first);
 * `completed → in_progress` is the re-validation of new credentials for an onboarded account.
 */
export const ONBOARDING_TRANSITIONS: Readonly<Record<OnboardingStatus, readonly OnboardingStatus[]>> = {
  pending: ['in_progress'],
  in_progress: ['completed', 'failed'],
  completed: ['in_progress'],
  failed: ['in_progress'],
};

/** The statuses an account may be in to move to `to`. */
export function onboardingSourcesOf(to: OnboardingStatus): OnboardingStatus[] {
  return (Object.entries(ONBOARDING_TRANSITIONS) as [OnboardingStatus, readonly OnboardingStatus[]][])
    .filter(([, targets]) => targets.includes(to))
    .map(([from]) => from);
}

const OptionalText = (max: number) => z.nullish(z.string().check(z.trim(), z.minLength(1), z.maxLength(max)));

/** What creates an account. Strict: an unknown field (a credential, say) is refused, not stored. */
export const NewAccountSchema = z.strictObject({
  account_id: z.optional(IdSchema),
  tenant_id: IdSchema,
  provider_id: IdSchema,
  account_name: AccountNameSchema,
  provider_type: z.optional(ProviderTypeSchema),
  account_number: OptionalText(256),
  auth_method: OptionalText(64),
  credential_type: OptionalText(64),
  external_id: OptionalText(1224),
  secret_name: OptionalText(512),
  /** Issued at init (the legacy answered it there); each credential submission replaces it. */
  onboarding_id: z.optional(IdSchema),
});
export type NewAccount = z.input<typeof NewAccountSchema>;

/** The plain fields an update may change (statuses move only through the transition methods). */
export const AccountUpdateSchema = z
  .strictObject({
    account_name: z.optional(AccountNameSchema),
    auth_method: OptionalText(64),
    credential_type: OptionalText(64),
    external_id: OptionalText(1224),
    secret_name: OptionalText(512),
  })
  .check(
    z.refine((value) => Object.values(value).some((field) => field !== undefined), {
      message: 'at least one field must be given',
    }),
  );
export type AccountUpdate = z.input<typeof AccountUpdateSchema>;

export interface AccountListOptions {
  status?: AccountStatus;
  provider_type?: ProviderType;
  page?: PageRequest;
}

export interface OnboardingSuccess {
  /** When given, the account must be in this very onboarding. */
  onboarding_id?: string | undefined;
  account_number: string;
  last_validated_at: string;
  validated_offline?: boolean | undefined;
}

export interface OnboardingFailure {
  onboarding_id?: string | undefined;
  code: string;
  message: string;
}

/** The outcome of a validation of the account's current credentials. */
export type ValidationOutcome =
  | {
      ok: true;
      validated_at: string;
      account_number?: string | undefined;
      validated_offline?: boolean | undefined;
    }
  | { ok: false; validated_at: string; code: string; message: string };

const MAX_ERROR_MESSAGE = 1000;
const MAX_OPTIMISTIC_ATTEMPTS = 5;
const EXISTS: Condition = { expression: 'attribute_exists(#id)', names: { '#id': 'account_id' } };
const ERROR_FIELDS = ['onboarding_error_code', 'onboarding_error_message'] as const;
const VALIDATION_ERROR_FIELDS = [
  'validation_error_code',
  'validation_error_message',
  'validation_failed_at',
] as const;

export class AccountRepository {
  private readonly table: DynamoDbTable;
  private readonly providers: DynamoDbTable | undefined;
  private readonly providerTypes = new Map<string, ProviderType | undefined>();
  private readonly clock: Clock;

  constructor(options: AccountRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.accounts);
    this.providers = options.providersTableName
      ? new DynamoDbTable(options.client, options.providersTableName, TABLES.providers)
      : undefined;
    this.clock = options.clock ?? systemClock;
  }

  /** A new account: status pending, onboarding pending. ConflictError on `account_id` if it exists. */
  async create(input: NewAccount): Promise<Account> {
    const data = parseInput(NewAccountSchema, input, 'account');
    const now = toIsoUtc(this.clock());
    const item = {
      ...data,
      account_id: data.account_id ?? newId(),
      status: 'pending',
      onboarding_status: 'pending',
      created_at: now,
      updated_at: now,
    };
    const written = await this.table.put(item, {
      expression: 'attribute_not_exists(#id)',
      names: { '#id': 'account_id' },
    });
    if (!written) throw new ConflictError(`account ${item.account_id} already exists`, 'account_id');
    return this.parse(this.table.writable(item));
  }

  async get(accountId: string): Promise<Account | undefined> {
    const item = await this.table.get({ account_id: accountId });
    return item ? this.withProviderType(this.parse(item)) : undefined;
  }

  /** A tenant's accounts (tenant-accounts-index): status as key condition, provider type as filter. */
  async listByTenant(tenantId: string, options: AccountListOptions = {}): Promise<Page<Account>> {
    const status =
      options.status === undefined
        ? undefined
        : parseInput(AccountStatusSchema, options.status, 'account', 'status');
    const providerType =
      options.provider_type === undefined
        ? undefined
        : parseInput(ProviderTypeSchema, options.provider_type, 'account', 'provider_type');
    const page = await this.table.queryPage(
      {
        indexName: INDEX.tenantAccounts,
        key: status === undefined ? { tenant_id: tenantId } : { tenant_id: tenantId, status },
        ...(providerType === undefined
          ? {}
          : {
              // Legacy rows have no provider_type: they pass here and are sorted out below.
              filter: {
                expression: '#providerType = :providerType OR attribute_not_exists(#providerType)',
                names: { '#providerType': 'provider_type' },
                values: { ':providerType': providerType },
              },
            }),
      },
      options.page,
      (item) => this.parse(item),
    );
    const items = await this.withProviderTypes(page.items);
    return {
      ...page,
      items: providerType === undefined ? items : items.filter((item) => item.provider_type === providerType),
    };
  }

  /** A provider's accounts (provider-accounts-index), optionally of one status. */
  async listByProvider(
    providerId: string,
    options: { status?: AccountStatus; page?: PageRequest } = {},
  ): Promise<Page<Account>> {
    const status =
      options.status === undefined
        ? undefined
        : parseInput(AccountStatusSchema, options.status, 'account', 'status');
    const page = await this.table.queryPage(
      {
        indexName: INDEX.providerAccounts,
        key: status === undefined ? { provider_id: providerId } : { provider_id: providerId, status },
      },
      options.page,
      (item) => this.parse(item),
    );
    return { ...page, items: await this.withProviderTypes(page.items) };
  }

  /** Changes plain fields; `null` removes an optional one. NotFoundError when there is no account. */
  async update(accountId: string, fields: AccountUpdate): Promise<Account> {
    const data = parseInput(AccountUpdateSchema, fields, 'account');
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { ...data, updated_at: toIsoUtc(this.clock()) } },
      EXISTS,
    );
    if (!updated) throw new NotFoundError('account', accountId);
    return this.parse(updated);
  }

  /** Deletes the account; NotFoundError when there is none. Returns what was deleted. */
  async delete(accountId: string): Promise<Account> {
    const deleted = await this.table.delete({ account_id: accountId }, EXISTS);
    if (!deleted) throw new NotFoundError('account', accountId);
    return this.parse(deleted);
  }

  /**
   * onboarding_status → in_progress for this onboarding (from pending, failed or completed).
   * Repeating it for the onboarding already in progress returns the account.
   */
  async beginOnboarding(accountId: string, onboardingId: string): Promise<Account> {
    const sources = onboardingSourcesOf('in_progress');
    const updated = await this.table.update(
      { account_id: accountId },
      {
        set: {
          onboarding_status: 'in_progress',
          onboarding_id: onboardingId,
          updated_at: toIsoUtc(this.clock()),
        },
        remove: ERROR_FIELDS,
      },
      {
        expression: `attribute_exists(#id) AND #onboarding IN (${sources.map((_, i) => `:from${i}`).join(', ')})`,
        names: { '#id': 'account_id', '#onboarding': 'onboarding_status' },
        values: Object.fromEntries(sources.map((source, i) => [`:from${i}`, source])),
      },
    );
    if (updated) return this.parse(updated);
    const current = await this.require(accountId);
    if (current.onboarding_status === 'in_progress' && current.onboarding_id === onboardingId) return current;
    throw new InvalidTransitionError('account', accountId, 'in_progress', sources);
  }

  /**
   * in_progress → completed, status active, with the validated account number. Idempotent for the
   * same onboarding. A disabled account is not re-activated (InvalidTransitionError).
   */
  async completeOnboarding(accountId: string, success: OnboardingSuccess): Promise<Account> {
    const validatedAt = parseInput(
      TimestampSchema,
      success.last_validated_at,
      'account',
      'last_validated_at',
    );
    const accountNumber = parseInput(
      z.string().check(z.trim(), z.minLength(1), z.maxLength(256)),
      success.account_number,
      'account',
      'account_number',
    );
    const onboarding = this.inOnboarding(success.onboarding_id);
    const updated = await this.table.update(
      { account_id: accountId },
      {
        set: {
          onboarding_status: 'completed',
          status: 'active',
          account_number: accountNumber,
          last_validated_at: validatedAt,
          validated_offline: success.validated_offline ?? false,
          updated_at: toIsoUtc(this.clock()),
        },
        remove: [...ERROR_FIELDS, ...VALIDATION_ERROR_FIELDS],
      },
      {
        expression: `${onboarding.expression} AND #status <> :disabled`,
        names: { ...onboarding.names, '#status': 'status' },
        values: { ...onboarding.values, ':disabled': 'disabled' },
      },
    );
    if (updated) return this.parse(updated);
    const current = await this.require(accountId);
    if (current.onboarding_status === 'completed' && this.sameOnboarding(current, success.onboarding_id)) {
      return current;
    }
    if (current.status === 'disabled') {
      throw new InvalidTransitionError('account', accountId, 'active', ['pending', 'active', 'error']);
    }
    throw new InvalidTransitionError('account', accountId, 'completed', onboardingSourcesOf('completed'));
  }

  /**
   * in_progress → failed, recording why. The status becomes `error`, unless the account was active
   * with working credentials (a re-validation of new ones failed): then it stays active. Idempotent
   * for the same onboarding.
   */
  async failOnboarding(accountId: string, failure: OnboardingFailure): Promise<Account> {
    const code = failure.code.slice(0, 128);
    const message = failure.message.slice(0, MAX_ERROR_MESSAGE);
    for (let attempt = 0; attempt < MAX_OPTIMISTIC_ATTEMPTS; attempt += 1) {
      const current = await this.require(accountId);
      if (current.onboarding_status === 'failed' && this.sameOnboarding(current, failure.onboarding_id)) {
        return current;
      }
      if (
        current.onboarding_status !== 'in_progress' ||
        !this.sameOnboarding(current, failure.onboarding_id)
      ) {
        throw new InvalidTransitionError('account', accountId, 'failed', onboardingSourcesOf('failed'));
      }
      const status: AccountStatus =
        current.status === 'active' || current.status === 'disabled' ? current.status : 'error';
      const onboarding = this.inOnboarding(failure.onboarding_id);
      const updated = await this.table.update(
        { account_id: accountId },
        {
          set: {
            onboarding_status: 'failed',
            status,
            onboarding_error_code: code,
            onboarding_error_message: message,
            updated_at: toIsoUtc(this.clock()),
          },
        },
        {
          expression: `${onboarding.expression} AND #status = :readStatus`,
          names: { ...onboarding.names, '#status': 'status' },
          values: { ...onboarding.values, ':readStatus': current.status },
        },
      );
      if (updated) return this.parse(updated);
    }
    throw new ConflictError(
      `account ${accountId} kept changing while its onboarding failure was recorded`,
      'status',
    );
  }

  /**
   * Records a validation of the current credentials. Success: an account in `error` is active
   * again and the validation time, account number and offline flag are kept. Failure: an active
   * account goes to `error` with the reason recorded (pending and disabled accounts keep their
   * status). A caller that has just read the account passes its status and saves the read: the
   * write is conditional on that status, and a changed account is read and tried again.
   */
  async recordValidation(
    accountId: string,
    outcome: ValidationOutcome,
    known?: { status: Account['status'] },
  ): Promise<Account> {
    const validatedAt = parseInput(TimestampSchema, outcome.validated_at, 'account', 'validated_at');
    for (let attempt = 0; attempt < MAX_OPTIMISTIC_ATTEMPTS; attempt += 1) {
      const current = attempt === 0 && known ? known : await this.require(accountId);
      const now = toIsoUtc(this.clock());
      let parts: UpdateParts;
      if (outcome.ok) {
        parts = {
          set: {
            status: current.status === 'error' ? 'active' : current.status,
            last_validated_at: validatedAt,
            account_number: outcome.account_number,
            validated_offline: outcome.validated_offline,
            updated_at: now,
          },
          remove: VALIDATION_ERROR_FIELDS,
        };
      } else {
        parts = {
          set: {
            status: current.status === 'active' ? 'error' : current.status,
            validation_error_code: outcome.code.slice(0, 128),
            validation_error_message: outcome.message.slice(0, MAX_ERROR_MESSAGE),
            validation_failed_at: validatedAt,
            updated_at: now,
          },
        };
      }
      const updated = await this.table.update({ account_id: accountId }, parts, {
        expression: 'attribute_exists(#id) AND #status = :readStatus',
        names: { '#id': 'account_id', '#status': 'status' },
        values: { ':readStatus': current.status },
      });
      if (updated) return this.parse(updated);
    }
    throw new ConflictError(`account ${accountId} kept changing while a validation was recorded`, 'status');
  }

  /** Status → disabled (idempotent). */
  async disable(accountId: string): Promise<Account> {
    const current = await this.require(accountId);
    if (current.status === 'disabled') return current;
    const now = toIsoUtc(this.clock());
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { status: 'disabled', disabled_at: now, updated_at: now } },
      EXISTS,
    );
    if (!updated) throw new NotFoundError('account', accountId);
    return this.parse(updated);
  }

  /**
   * disabled → pending, so a disabled account can be onboarded again (its onboarding status is
   * kept: the next submission moves it to in_progress as usual). Any other status: returned as is.
   */
  async reopen(accountId: string): Promise<Account> {
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { status: 'pending', updated_at: toIsoUtc(this.clock()) }, remove: ['disabled_at'] },
      {
        expression: 'attribute_exists(#id) AND #status = :disabled',
        names: { '#id': 'account_id', '#status': 'status' },
        values: { ':disabled': 'disabled' },
      },
    );
    if (updated) return this.parse(updated);
    return this.require(accountId);
  }

  /**
   * active or error → pending: the account has no credentials any more (they were deleted), so it
   * is not scanned until new ones are submitted. A pending or disabled account is returned as is.
   */
  async returnToPending(accountId: string): Promise<Account> {
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { status: 'pending', updated_at: toIsoUtc(this.clock()) } },
      {
        expression: 'attribute_exists(#id) AND (#status = :active OR #status = :error)',
        names: { '#id': 'account_id', '#status': 'status' },
        values: { ':active': 'active', ':error': 'error' },
      },
    );
    if (updated) return this.parse(updated);
    return this.require(accountId);
  }

  /**
   * Takes (or renews) the account's scan lock for `leaseSeconds`: free, expired (ISO-8601 UTC
   * strings compare in time order) or already ours, and not kept for another run waiting in the
   * buffer (the waiting run goes first). False on contention, never an exception;
   * NotFoundError only when there is no such account.
   */
  async acquireScanLock(accountId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const now = this.clock();
    const expiresAt = toIsoUtc(new Date(now.getTime() + Math.max(1, leaseSeconds) * 1000));
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { scan_lock_owner: owner, scan_lock_expires_at: expiresAt } },
      {
        // A run waiting in the buffer (buffer_one) has the next turn: no later run overtakes it.
        expression:
          'attribute_exists(#id) AND (attribute_not_exists(#owner) OR #owner = :owner OR #expires < :now)' +
          ' AND (attribute_not_exists(#buffer) OR #buffer = :owner OR #bufferExpires < :now)',
        names: {
          '#id': 'account_id',
          '#owner': 'scan_lock_owner',
          '#expires': 'scan_lock_expires_at',
          '#buffer': 'scan_buffer_owner',
          '#bufferExpires': 'scan_buffer_expires_at',
        },
        values: { ':owner': owner, ':now': toIsoUtc(now) },
      },
    );
    if (updated) return true;
    await this.require(accountId);
    return false;
  }

  /** Frees the scan lock if `owner` holds it; true when it did. Idempotent, never steals. */
  /**
   * Overlap policy buffer_one: takes the single waiting place behind the running scan (free,
   * expired, or already this owner's). False when another run is already waiting.
   */
  async acquireScanBuffer(accountId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const now = this.clock();
    const expiresAt = toIsoUtc(new Date(now.getTime() + Math.max(1, leaseSeconds) * 1000));
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { scan_buffer_owner: owner, scan_buffer_expires_at: expiresAt } },
      {
        expression:
          'attribute_exists(#id) AND (attribute_not_exists(#owner) OR #owner = :owner OR #expires < :now)',
        names: { '#id': 'account_id', '#owner': 'scan_buffer_owner', '#expires': 'scan_buffer_expires_at' },
        values: { ':owner': owner, ':now': toIsoUtc(now) },
      },
    );
    return updated !== undefined;
  }

  /** Frees the waiting place (only its owner may; idempotent). */
  async releaseScanBuffer(accountId: string, owner: string): Promise<boolean> {
    const updated = await this.table.update(
      { account_id: accountId },
      { remove: ['scan_buffer_owner', 'scan_buffer_expires_at'] },
      {
        expression: 'attribute_exists(#id) AND #owner = :owner',
        names: { '#id': 'account_id', '#owner': 'scan_buffer_owner' },
        values: { ':owner': owner },
      },
    );
    return updated !== undefined;
  }

  /**
   * Extends the lease of a lock this owner still holds; false when it no longer does (the run was
   * cancelled and released it, or the lease ran out and another run took it). Never re-takes it.
   */
  async renewScanLock(accountId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const expiresAt = toIsoUtc(new Date(this.clock().getTime() + Math.max(1, leaseSeconds) * 1000));
    const updated = await this.table.update(
      { account_id: accountId },
      { set: { scan_lock_expires_at: expiresAt } },
      {
        expression: 'attribute_exists(#id) AND #owner = :owner',
        names: { '#id': 'account_id', '#owner': 'scan_lock_owner' },
        values: { ':owner': owner },
      },
    );
    return updated !== undefined;
  }

  async releaseScanLock(accountId: string, owner: string): Promise<boolean> {
    const updated = await this.table.update(
      { account_id: accountId },
      { remove: ['scan_lock_owner', 'scan_lock_expires_at'] },
      {
        expression: 'attribute_exists(#id) AND #owner = :owner',
        names: { '#id': 'account_id', '#owner': 'scan_lock_owner' },
        values: { ':owner': owner },
      },
    );
    return updated !== undefined;
  }

  private async require(accountId: string): Promise<Account> {
    const account = await this.get(accountId);
    if (!account) throw new NotFoundError('account', accountId);
    return account;
  }

  private inOnboarding(
    onboardingId: string | undefined,
  ): Condition & { names: Record<string, string>; values: Record<string, unknown> } {
    return onboardingId === undefined
      ? {
          expression: 'attribute_exists(#id) AND #onboarding = :inProgress',
          names: { '#id': 'account_id', '#onboarding': 'onboarding_status' },
          values: { ':inProgress': 'in_progress' },
        }
      : {
          expression: 'attribute_exists(#id) AND #onboarding = :inProgress AND #onboardingId = :onboardingId',
          names: {
            '#id': 'account_id',
            '#onboarding': 'onboarding_status',
            '#onboardingId': 'onboarding_id',
          },
          values: { ':inProgress': 'in_progress', ':onboardingId': onboardingId },
        };
  }

  private sameOnboarding(account: Account, onboardingId: string | undefined): boolean {
    return onboardingId === undefined || account.onboarding_id === onboardingId;
  }

  /** The account with provider_type read from its provider when the row has none (legacy). */
  private async withProviderType(account: Account): Promise<Account> {
    if (account.provider_type || !this.providers) return account;
    let type = this.providerTypes.get(account.provider_id);
    if (!this.providerTypes.has(account.provider_id)) {
      const provider = await this.providers.get({ provider_id: account.provider_id });
      const parsed = ProviderTypeSchema.safeParse(provider?.provider_type);
      type = parsed.success ? parsed.data : undefined;
      if (provider) this.providerTypes.set(account.provider_id, type);
    }
    return type ? { ...account, provider_type: type } : account;
  }

  private withProviderTypes(accounts: Account[]): Promise<Account[]> {
    return Promise.all(accounts.map((account) => this.withProviderType(account)));
  }

  private parse(item: Item): Account {
    return parseStored(AccountSchema, item, 'account', 'account_id');
  }
}
