import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../../../functions/core/errors';
import {
  AccountRepository,
  type NewAccount,
  ONBOARDING_TRANSITIONS,
  onboardingSourcesOf,
} from '../../../functions/core/repositories/account-repository';
import type { Page } from '../../../functions/core/repositories/pagination';
import type { Account } from '../../../schemas/account';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-05-01T00:00:00.000Z');

describe('Class: AccountRepository', () => {
  let env: TestTables;
  let accounts: AccountRepository;
  let now = T0;
  let serial = 0;

  beforeAll(async () => {
    env = await startTestTables();
    accounts = new AccountRepository({
      client: env.client,
      tableName: env.tables.accounts,
      clock: () => new Date(now),
    });
  });
  afterAll(async () => {
    await env.close();
  });

  const newAccount = (overrides: Partial<NewAccount> = {}): NewAccount => ({
    account_id: `acc-${++serial}`,
    tenant_id: 'tenant-1',
    provider_id: 'provider-aws-1',
    provider_type: 'aws',
    account_name: `Account ${serial}`,
    ...overrides,
  });
  const rawItem = async (accountId: string) =>
    (
      await env.client.send(
        new GetCommand({ TableName: env.tables.accounts, Key: { account_id: accountId } }),
      )
    ).Item;

  async function walk(list: (cursor: string | undefined) => Promise<Page<Account>>): Promise<Account[]> {
    const seen: Account[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(cursor);
      seen.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return seen;
  }

  describe('Method: create', () => {
    it('creates a pending account with Z timestamps', async () => {
      // Act
      const account = await accounts.create(newAccount({ external_id: 'threat-engine-0123456789abcdef' }));

      // Assess
      expect(account).toMatchObject({
        status: 'pending',
        onboarding_status: 'pending',
        external_id: 'threat-engine-0123456789abcdef',
      });
      const raw = await rawItem(account.account_id);
      expect(raw?.created_at).toBe('2031-05-01T00:00:00.000Z');
      expect(raw).not.toHaveProperty('account_number');
    });

    it('refuses an unknown field, such as a credential, with a ValidationError naming it', async () => {
      // Prepare
      const input = { ...newAccount(), secret_access_key: 'not-a-real-secret' } as NewAccount;

      // Act
      const attempt = accounts.create(input);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining('secret_access_key') });
      expect(JSON.stringify(await attempt.catch((error: unknown) => error))).not.toContain(
        'not-a-real-secret',
      );
    });

    it('throws a ConflictError on account_id when the id exists', async () => {
      // Prepare
      const account = await accounts.create(newAccount());

      // Act
      const attempt = accounts.create(newAccount({ account_id: account.account_id }));

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', field: 'account_id' });
    });
  });

  describe('Method: get', () => {
    it('reads a legacy item with naive timestamps as Z timestamps', async () => {
      // Prepare
      await env.client.send(
        new PutCommand({
          TableName: env.tables.accounts,
          Item: {
            account_id: 'legacy-account',
            provider_id: 'legacy-provider',
            tenant_id: 'legacy-tenant',
            account_name: 'Prod',
            account_number: '123456789012',
            status: 'active',
            onboarding_status: 'completed',
            onboarding_id: 'legacy-onboarding',
            last_validated_at: '2024-06-01T10:11:12.131415',
            created_at: '2024-05-01T10:00:00.123456',
            updated_at: '2024-05-01T10:00:00',
          },
        }),
      );

      // Act
      const account = await accounts.get('legacy-account');

      // Assess
      expect(account).toMatchObject({
        last_validated_at: '2024-06-01T10:11:12.131Z',
        created_at: '2024-05-01T10:00:00.123Z',
        updated_at: '2024-05-01T10:00:00.000Z',
      });
      expect(await accounts.get('no-such-account')).toBeUndefined();
    });

    it("derives a legacy account's provider_type from its provider, on get and in filtered lists", async () => {
      // Prepare: a legacy provider and account rows (the account without provider_type)
      const withProviders = new AccountRepository({
        client: env.client,
        tableName: env.tables.accounts,
        providersTableName: env.tables.providers,
      });
      await env.client.send(
        new PutCommand({
          TableName: env.tables.providers,
          Item: {
            provider_id: 'legacy-gcp-provider',
            tenant_id: 'legacy-tenant-2',
            provider_type: 'gcp',
            status: 'active',
            created_at: '2024-05-01T10:00:00',
            updated_at: '2024-05-01T10:00:00',
          },
        }),
      );
      await env.client.send(
        new PutCommand({
          TableName: env.tables.accounts,
          Item: {
            account_id: 'legacy-gcp-account',
            provider_id: 'legacy-gcp-provider',
            tenant_id: 'legacy-tenant-2',
            account_name: 'Legacy GCP',
            status: 'active',
            onboarding_status: 'completed',
            created_at: '2024-05-01T10:00:00',
            updated_at: '2024-05-01T10:00:00',
          },
        }),
      );

      // Act
      const account = await withProviders.get('legacy-gcp-account');
      const gcp = await withProviders.listByTenant('legacy-tenant-2', { provider_type: 'gcp' });
      const aws = await withProviders.listByTenant('legacy-tenant-2', { provider_type: 'aws' });
      const byProvider = await withProviders.listByProvider('legacy-gcp-provider');

      // Assess
      expect(account?.provider_type).toBe('gcp');
      expect(gcp.items.map((item) => item.account_id)).toEqual(['legacy-gcp-account']);
      expect(aws.items).toEqual([]);
      expect(byProvider.items[0]?.provider_type).toBe('gcp');
    });
  });

  describe('Method: listByTenant / listByProvider', () => {
    beforeAll(async () => {
      const types = ['aws', 'azure', 'gcp'] as const;
      for (let i = 0; i < 30; i += 1) {
        await accounts.create(
          newAccount({
            account_id: `page-${String(i).padStart(2, '0')}`,
            tenant_id: 'tenant-paged',
            provider_id: `provider-${types[i % 3]}`,
            provider_type: types[i % 3],
          }),
        );
      }
      for (let i = 0; i < 3; i += 1) {
        await accounts.create(newAccount({ tenant_id: 'tenant-neighbour', provider_id: 'provider-aws' }));
      }
      await accounts.disable('page-00');
      await accounts.disable('page-01');
    });

    it('walks 30 accounts in pages of 7 with no duplicates and no gaps', async () => {
      // Act
      const pages: number[] = [];
      const seen = await walk(async (cursor) => {
        const page = await accounts.listByTenant('tenant-paged', { page: { limit: 7, cursor } });
        pages.push(page.items.length);
        return page;
      });

      // Assess
      const ids = seen.map((account) => account.account_id);
      expect(pages).toEqual([7, 7, 7, 7, 2]);
      expect(new Set(ids).size).toBe(30);
      expect(ids.slice().sort()).toEqual(
        Array.from({ length: 30 }, (_, i) => `page-${String(i).padStart(2, '0')}`),
      );
    });

    it('uses the status as key condition and the provider type as a filter', async () => {
      // Act
      const disabled = await accounts.listByTenant('tenant-paged', { status: 'disabled' });
      const azure = await walk((cursor) =>
        accounts.listByTenant('tenant-paged', { provider_type: 'azure', page: { limit: 4, cursor } }),
      );
      const pendingGcp = await accounts.listByTenant('tenant-paged', {
        status: 'pending',
        provider_type: 'gcp',
      });

      // Assess
      expect(disabled.items.map((account) => account.account_id).sort()).toEqual(['page-00', 'page-01']);
      expect(azure).toHaveLength(10);
      expect(azure.every((account) => account.provider_type === 'azure')).toBe(true);
      expect(new Set(azure.map((account) => account.account_id)).size).toBe(10);
      expect(pendingGcp.items).toHaveLength(10);
    });

    it('lists a provider accounts through provider-accounts-index', async () => {
      // Act
      const seen = await walk((cursor) =>
        accounts.listByProvider('provider-gcp', { page: { limit: 3, cursor } }),
      );
      const pending = await accounts.listByProvider('provider-aws', {
        status: 'pending',
        page: { limit: 100 },
      });

      // Assess
      expect(seen).toHaveLength(10);
      expect(pending.items.map((account) => account.account_id)).not.toContain('page-00');
      expect(pending.items.filter((account) => account.tenant_id === 'tenant-neighbour')).toHaveLength(3);
    });

    it('throws a ValidationError on cursor for a tampered cursor', async () => {
      // Prepare
      const first = await accounts.listByTenant('tenant-paged', { page: { limit: 7 } });
      const cursor = first.next_cursor ?? '';
      const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>;
      const withExtraKey = Buffer.from(JSON.stringify({ ...decoded, admin: 'true' })).toString('base64url');
      const notJson = Buffer.from('{"tenant_id":').toString('base64url');

      // Act / Assess
      for (const tampered of [`${cursor.slice(0, -3)}@@@`, withExtraKey, notJson, 'x'.repeat(5000)]) {
        await expect(
          accounts.listByTenant('tenant-paged', { page: { cursor: tampered } }),
        ).rejects.toMatchObject({
          name: 'ValidationError',
          issues: [{ field: 'cursor' }],
        });
      }
    });

    it('throws a ValidationError on cursor for a cursor of tenant A used for tenant B', async () => {
      // Prepare: past the two disabled accounts, so the cursor stands on a pending one.
      const tenantA = await accounts.listByTenant('tenant-paged', { page: { limit: 5 } });
      const cursor = tenantA.next_cursor ?? '';
      const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>;

      // Act
      const attempts = [
        () => accounts.listByTenant('tenant-neighbour', { page: { cursor } }),
        () => accounts.listByTenant('tenant-paged', { status: 'disabled', page: { cursor } }),
        () => accounts.listByProvider('provider-aws', { page: { cursor } }),
      ];

      // Assess
      expect(decoded).toMatchObject({ tenant_id: 'tenant-paged', status: 'pending' });
      for (const attempt of attempts) {
        await expect(attempt()).rejects.toMatchObject({
          name: 'ValidationError',
          issues: [{ field: 'cursor' }],
        });
      }
      await expect(
        accounts.listByTenant('tenant-paged', { status: 'pending', page: { cursor } }),
      ).resolves.toBeDefined();
    });

    it('throws a ValidationError on limit outside 1..100', async () => {
      for (const limit of [0, 101, 2.5]) {
        await expect(accounts.listByTenant('tenant-paged', { page: { limit } })).rejects.toMatchObject({
          issues: [{ field: 'limit' }],
        });
      }
    });
  });

  describe('Method: update / delete', () => {
    it('updates plain fields, removes a nulled one and refuses status changes', async () => {
      // Prepare
      const account = await accounts.create(newAccount({ external_id: 'threat-engine-aaaaaaaaaaaaaaaa' }));
      now += 1000;

      // Act
      const updated = await accounts.update(account.account_id, {
        account_name: 'Renamed',
        external_id: null,
      });
      const refused = accounts.update(account.account_id, { status: 'active' } as never);

      // Assess
      await expect(refused).rejects.toMatchObject({
        name: 'ValidationError',
        issues: expect.arrayContaining([expect.objectContaining({ field: 'status' })]),
      });
      expect(updated).toMatchObject({ account_name: 'Renamed', updated_at: new Date(now).toISOString() });
      expect(await rawItem(account.account_id)).not.toHaveProperty('external_id');
    });

    it('deletes an account and throws a NotFoundError for a missing one', async () => {
      // Prepare
      const account = await accounts.create(newAccount());

      // Act
      await accounts.delete(account.account_id);

      // Assess
      expect(await accounts.get(account.account_id)).toBeUndefined();
      await expect(accounts.delete(account.account_id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(accounts.update(account.account_id, { account_name: 'x' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('Onboarding transitions', () => {
    it('exports the transition table as data', () => {
      expect(ONBOARDING_TRANSITIONS).toEqual({
        pending: ['in_progress'],
        in_progress: ['completed', 'failed'],
        completed: ['in_progress'],
        failed: ['in_progress'],
      });
      expect(onboardingSourcesOf('completed')).toEqual(['in_progress']);
      expect(onboardingSourcesOf('in_progress').sort()).toEqual(['completed', 'failed', 'pending']);
    });

    it('refuses pending → completed with an InvalidTransitionError and writes nothing', async () => {
      // Prepare
      const account = await accounts.create(newAccount());

      // Act
      const attempt = accounts.completeOnboarding(account.account_id, {
        account_number: '123456789012',
        last_validated_at: new Date(now).toISOString(),
      });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(InvalidTransitionError);
      await expect(attempt).rejects.toMatchObject({ to: 'completed', allowedFrom: ['in_progress'] });
      expect(await accounts.get(account.account_id)).toMatchObject({
        status: 'pending',
        onboarding_status: 'pending',
      });
    });

    it('goes pending → in_progress → completed and activates the account, idempotently', async () => {
      // Prepare
      const account = await accounts.create(newAccount());

      // Act
      const begun = await accounts.beginOnboarding(account.account_id, 'onb-1');
      const begunAgain = await accounts.beginOnboarding(account.account_id, 'onb-1');
      const completed = await accounts.completeOnboarding(account.account_id, {
        onboarding_id: 'onb-1',
        account_number: '123456789012',
        last_validated_at: '2031-05-01T00:00:05',
        validated_offline: true,
      });
      const completedAgain = await accounts.completeOnboarding(account.account_id, {
        onboarding_id: 'onb-1',
        account_number: '123456789012',
        last_validated_at: '2031-05-01T00:00:05Z',
      });

      // Assess
      expect(begun).toMatchObject({
        onboarding_status: 'in_progress',
        onboarding_id: 'onb-1',
        status: 'pending',
      });
      expect(begunAgain.onboarding_id).toBe('onb-1');
      expect(completed).toMatchObject({
        status: 'active',
        onboarding_status: 'completed',
        account_number: '123456789012',
        validated_offline: true,
      });
      expect((await rawItem(account.account_id))?.last_validated_at).toBe('2031-05-01T00:00:05.000Z');
      expect(completedAgain).toEqual(completed);
    });

    it('refuses to begin a second onboarding while one is in progress', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.beginOnboarding(account.account_id, 'onb-a');

      // Act
      const attempt = accounts.beginOnboarding(account.account_id, 'onb-b');

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidTransitionError', to: 'in_progress' });
    });

    it('marks a failed first onboarding as error, then allows failed → in_progress', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.beginOnboarding(account.account_id, 'onb-f');

      // Act
      const failed = await accounts.failOnboarding(account.account_id, {
        onboarding_id: 'onb-f',
        code: 'access_denied',
        message: 'AssumeRole was denied',
      });
      const failedAgain = await accounts.failOnboarding(account.account_id, {
        onboarding_id: 'onb-f',
        code: 'access_denied',
        message: 'AssumeRole was denied',
      });
      const retried = await accounts.beginOnboarding(account.account_id, 'onb-g');

      // Assess
      expect(failed).toMatchObject({
        status: 'error',
        onboarding_status: 'failed',
        onboarding_error_code: 'access_denied',
        onboarding_error_message: 'AssumeRole was denied',
      });
      expect(failedAgain).toEqual(failed);
      expect(retried).toMatchObject({ onboarding_status: 'in_progress', onboarding_id: 'onb-g' });
      expect(await rawItem(account.account_id)).not.toHaveProperty('onboarding_error_code');
    });

    it('keeps an active account active when a re-validation of new credentials fails', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.beginOnboarding(account.account_id, 'onb-1');
      await accounts.completeOnboarding(account.account_id, {
        account_number: '123456789012',
        last_validated_at: new Date(now).toISOString(),
      });

      // Act
      const revalidating = await accounts.beginOnboarding(account.account_id, 'onb-2');
      const failed = await accounts.failOnboarding(account.account_id, {
        onboarding_id: 'onb-2',
        code: 'invalid_credentials',
        message: 'the new key was rejected',
      });

      // Assess
      expect(revalidating.onboarding_status).toBe('in_progress');
      expect(failed).toMatchObject({
        status: 'active',
        onboarding_status: 'failed',
        onboarding_error_code: 'invalid_credentials',
      });
    });

    it('refuses to fail an onboarding that is not in progress, or another onboarding', async () => {
      // Prepare
      const pending = await accounts.create(newAccount());
      const other = await accounts.create(newAccount());
      await accounts.beginOnboarding(other.account_id, 'onb-current');

      // Act
      const notStarted = accounts.failOnboarding(pending.account_id, { code: 'x', message: 'y' });
      const stale = accounts.failOnboarding(other.account_id, {
        onboarding_id: 'onb-old',
        code: 'x',
        message: 'y',
      });

      // Assess
      await expect(notStarted).rejects.toBeInstanceOf(InvalidTransitionError);
      await expect(stale).rejects.toBeInstanceOf(InvalidTransitionError);
      expect((await accounts.get(other.account_id))?.onboarding_status).toBe('in_progress');
    });

    it('does not re-activate a disabled account when its onboarding completes', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.beginOnboarding(account.account_id, 'onb-d');
      await accounts.disable(account.account_id);

      // Act
      const attempt = accounts.completeOnboarding(account.account_id, {
        account_number: '123456789012',
        last_validated_at: new Date(now).toISOString(),
      });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(InvalidTransitionError);
      expect((await accounts.get(account.account_id))?.status).toBe('disabled');
    });

    it('throws a NotFoundError for a missing account', async () => {
      await expect(accounts.beginOnboarding('missing', 'onb')).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        accounts.completeOnboarding('missing', {
          account_number: '1',
          last_validated_at: new Date(now).toISOString(),
        }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(accounts.failOnboarding('missing', { code: 'x', message: 'y' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('Method: recordValidation', () => {
    it('moves active → error on failure and error → active on success', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.beginOnboarding(account.account_id, 'onb');
      await accounts.completeOnboarding(account.account_id, {
        account_number: '123456789012',
        last_validated_at: '2031-05-01T00:00:00Z',
      });

      // Act
      const failed = await accounts.recordValidation(account.account_id, {
        ok: false,
        validated_at: '2031-05-02T00:00:00Z',
        code: 'access_denied',
        message: 'the role no longer trusts the platform',
      });
      const recovered = await accounts.recordValidation(account.account_id, {
        ok: true,
        validated_at: '2031-05-03T00:00:00Z',
        account_number: '123456789012',
        validated_offline: false,
      });

      // Assess
      expect(failed).toMatchObject({
        status: 'error',
        last_validated_at: '2031-05-01T00:00:00.000Z',
        validation_error_code: 'access_denied',
        validation_failed_at: '2031-05-02T00:00:00.000Z',
      });
      expect(recovered).toMatchObject({ status: 'active', last_validated_at: '2031-05-03T00:00:00.000Z' });
      expect(await rawItem(account.account_id)).not.toHaveProperty('validation_error_code');
    });

    it('applies the rule to the current status when the status the caller knew is stale', async () => {
      // Prepare: the caller read the account active; it was disabled since.
      const account = await accounts.create(newAccount());
      await accounts.beginOnboarding(account.account_id, 'onb');
      await accounts.completeOnboarding(account.account_id, {
        account_number: '123456789012',
        last_validated_at: '2031-05-01T00:00:00Z',
      });
      await accounts.disable(account.account_id);

      // Act
      const recorded = await accounts.recordValidation(
        account.account_id,
        { ok: false, validated_at: '2031-05-02T00:00:00Z', code: 'expired', message: 'the key expired' },
        { status: 'active' },
      );

      // Assess: disabled stays disabled (an active account would have gone to error).
      expect(recorded).toMatchObject({ status: 'disabled', validation_error_code: 'expired' });
    });

    it('leaves a disabled account disabled', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.disable(account.account_id);

      // Act
      const recorded = await accounts.recordValidation(account.account_id, {
        ok: true,
        validated_at: '2031-05-03T00:00:00Z',
      });

      // Assess
      expect(recorded.status).toBe('disabled');
    });
  });

  describe('Scan lock', () => {
    it('gives the lock to exactly one of two concurrent owners', async () => {
      // Prepare
      const account = await accounts.create(newAccount());

      // Act
      const [first, second] = await Promise.all([
        accounts.acquireScanLock(account.account_id, 'execution-1', 300),
        accounts.acquireScanLock(account.account_id, 'execution-2', 300),
      ]);

      // Assess
      expect([first, second].filter(Boolean)).toHaveLength(1);
      const holder = first ? 'execution-1' : 'execution-2';
      expect((await accounts.get(account.account_id))?.scan_lock_owner).toBe(holder);
    });

    it('renews for the holder, refuses others until the lease expires, then hands over', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.acquireScanLock(account.account_id, 'execution-a', 60);

      // Act
      const renewed = await accounts.acquireScanLock(account.account_id, 'execution-a', 60);
      const contended = await accounts.acquireScanLock(account.account_id, 'execution-b', 60);
      now += 61_000;
      const takenOver = await accounts.acquireScanLock(account.account_id, 'execution-b', 60);

      // Assess
      expect(renewed).toBe(true);
      expect(contended).toBe(false);
      expect(takenOver).toBe(true);
      expect(await accounts.get(account.account_id)).toMatchObject({
        scan_lock_owner: 'execution-b',
        scan_lock_expires_at: new Date(now + 60_000).toISOString(),
      });
    });

    it('releases only for the owner, idempotently', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.acquireScanLock(account.account_id, 'execution-a', 60);

      // Act
      const byOther = await accounts.releaseScanLock(account.account_id, 'execution-b');
      const byOwner = await accounts.releaseScanLock(account.account_id, 'execution-a');
      const again = await accounts.releaseScanLock(account.account_id, 'execution-a');
      const next = await accounts.acquireScanLock(account.account_id, 'execution-b', 60);

      // Assess
      expect([byOther, byOwner, again, next]).toEqual([false, true, false, true]);
    });

    it('renews only a lock the owner still holds, never re-taking a released one', async () => {
      // Prepare
      const account = await accounts.create(newAccount());
      await accounts.acquireScanLock(account.account_id, 'execution-a', 60);

      // Act
      now += 30_000;
      const renewed = await accounts.renewScanLock(account.account_id, 'execution-a', 60);
      const byOther = await accounts.renewScanLock(account.account_id, 'execution-b', 60);
      await accounts.releaseScanLock(account.account_id, 'execution-a');
      const afterRelease = await accounts.renewScanLock(account.account_id, 'execution-a', 60);

      // Assess
      expect([renewed, byOther, afterRelease]).toEqual([true, false, false]);
      expect((await accounts.get(account.account_id))?.scan_lock_owner ?? undefined).toBeUndefined();
    });

    it('throws a NotFoundError for a missing account instead of returning false', async () => {
      await expect(accounts.acquireScanLock('missing', 'execution-a', 60)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await accounts.releaseScanLock('missing', 'execution-a')).toBe(false);
      expect(await rawItem('missing')).toBeUndefined();
    });
  });
});
