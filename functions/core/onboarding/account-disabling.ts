import type { Account } from '../../../schemas/account';
import { NotFoundError } from '../errors';
import type { Logger } from '../logger';
import type { SecretStore } from '../ports/secret-store';
import type { AccountRepository } from '../repositories/account-repository';
import type { ScheduleRepository } from '../repositories/schedule-repository';

/**
 * Disabling an account: apart from the account service because it reaches the scheduler (through
 * the schedule service's pause), which only the function serving the schedule routes may call.
 */

/** The caller's tenant, or null for a platform administrator (every tenant). */
export type TenantScope = string | null;

/** Pauses one schedule (the schedule service: table and scheduler entry together). */
export interface SchedulePauser {
  pause(tenantId: string, scheduleId: string, options: { note?: string; by?: string }): Promise<unknown>;
}

export interface DisabledAccount {
  account: Account;
  paused_schedule_ids: string[];
  secret_deletion_date: string | null;
}

export interface AccountDisablingDependencies {
  accounts: AccountRepository;
  schedules: ScheduleRepository;
  secretStore: SecretStore;
  schedulePauser: SchedulePauser;
  logger: Logger;
}

/** The account, if the scope may see it; another tenant's answers NotFoundError like a missing one. */
export async function accountInScope(
  accounts: Pick<AccountRepository, 'get'>,
  scope: TenantScope,
  accountId: string,
): Promise<Account> {
  const account = await accounts.get(accountId);
  if (!account || (scope !== null && account.tenant_id !== scope))
    throw new NotFoundError('account', accountId);
  return account;
}

/**
 * Schedules the deletion of the account's secret (7-day recovery window) unless it holds no
 * credential; answers the deletion date, or null when there was nothing to delete. Idempotent.
 */
export async function scheduleSecretDeletion(
  secretStore: SecretStore,
  accountId: string,
): Promise<string | null> {
  const secret = await secretStore.describe(accountId);
  if (!secret) return null;
  if (secret.scheduledDeletionAt) return secret.scheduledDeletionAt;
  if (!secret.currentVersionId && !secret.pendingVersionId) return null;
  const { deletionDate } = await secretStore.scheduleDeletion(accountId);
  return deletionDate;
}

/**
 * Disables the account (soft delete), pauses its active schedules (table and scheduler entry)
 * and schedules its secret's deletion (7-day recovery window). Idempotent.
 */
export async function disableAccount(
  deps: AccountDisablingDependencies,
  scope: TenantScope,
  accountId: string,
  by?: string,
): Promise<DisabledAccount> {
  const account = await accountInScope(deps.accounts, scope, accountId);
  const disabled = await deps.accounts.disable(account.account_id);
  const paused: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.schedules.listByAccount(account.account_id, {
      status: 'active',
      page: { limit: 100, ...(cursor ? { cursor } : {}) },
    });
    for (const schedule of page.items) {
      await deps.schedulePauser.pause(account.tenant_id, schedule.schedule_id, {
        note: 'account disabled',
        ...(by ? { by } : {}),
      });
      paused.push(schedule.schedule_id);
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const deletion = await scheduleSecretDeletion(deps.secretStore, account.account_id);
  deps.logger.info('account disabled', {
    tenant_id: account.tenant_id,
    account_id: account.account_id,
    paused_schedules: paused.length,
    by,
  });
  return { account: disabled, paused_schedule_ids: paused, secret_deletion_date: deletion };
}
