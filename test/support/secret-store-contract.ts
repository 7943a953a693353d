import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/core/clock';
import {
  InvalidTransitionError,
  SecretExpiredError,
  SecretNotFoundError,
  ValidationError,
} from '../../functions/core/errors';
import type { SecretPayload, SecretStore } from '../../functions/core/ports/secret-store';

export const CONTRACT_PREFIX = 'contract-prefix';
export const CONTRACT_CACHE_TTL_MS = 30_000;

/** What the contract needs from one implementation over one backend. */
export interface SecretStoreHarness {
  /**
   * A new store instance over the same backend (same fake service / same vault directory),
   * built with the harness clock, the prefix CONTRACT_PREFIX and the cache TTL
   * CONTRACT_CACHE_TTL_MS. Two instances model two Lambda containers or processes.
   */
  newStore(): SecretStore;
  /** How many versions the backend holds for the account, with or without labels. */
  versionCount(accountId: string): Promise<number>;
  close?(): Promise<void>;
}

/** A clock the tests move by hand. */
export function manualClock(start = '2026-03-01T10:00:00.000Z') {
  let now = new Date(start).getTime();
  const clock: Clock = () => new Date(now);
  return {
    clock,
    advance(ms: number) {
      now += ms;
    },
  };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** An obviously fake credential set; `marker` tells versions apart. */
export function fakePayload(
  accountId: string,
  marker: string,
  overrides: Partial<SecretPayload> = {},
): SecretPayload {
  return {
    credential_type: 'azure_service_principal',
    credentials: {
      client_id: `fake-client-${marker}`,
      client_secret: `fake-secret-${marker}`,
      tenant_id: 'fake-tenant',
      subscription_id: 'fake-subscription',
    },
    account_id: accountId,
    created_at: '2026-03-01T10:00:00.000Z',
    expires_at: null,
    ...overrides,
  };
}

/**
 * The behaviour every SecretStore implementation must show. Run it from the test file of each
 * implementation with a harness over a fresh backend.
 */
export function describeSecretStoreContract(
  name: string,
  /** A harness over a fresh backend; the backend and its stores use `clock` for "now". */
  makeHarness: (clock: Clock) => Promise<SecretStoreHarness>,
): void {
  describe(`Contract: SecretStore (${name})`, () => {
    let harness: SecretStoreHarness;
    let time: ReturnType<typeof manualClock>;
    let store: SecretStore;
    let sequence = 0;
    const nextAccount = () => `acc-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;

    /** Stages and promotes one version; returns its id. */
    const onboard = async (accountId: string, marker: string, token = `token-${marker}`) => {
      const { versionId } = await store.stage(accountId, fakePayload(accountId, marker), token);
      await store.promote(accountId, versionId);
      return versionId;
    };

    beforeEach(async () => {
      time = manualClock();
      harness = await makeHarness(time.clock);
      store = harness.newStore();
    });

    afterEach(async () => {
      await harness.close?.();
    });

    describe('Method: secretNameFor', () => {
      it('names secrets {prefix}/account/{accountId}', () => {
        expect(store.secretNameFor('acc-42')).toBe(`${CONTRACT_PREFIX}/account/acc-42`);
      });

      it('throws when the account id cannot be part of a secret name', () => {
        expect(() => store.secretNameFor('acc 42/../x')).toThrow(ValidationError);
      });
    });

    describe('Method: stage', () => {
      it('stores a first version as pending only: nothing is current until promoted', async () => {
        const accountId = nextAccount();

        const ref = await store.stage(accountId, fakePayload(accountId, 'one'), 'token-one');

        expect(ref.secretName).toBe(store.secretNameFor(accountId));
        await expect(store.read(accountId)).rejects.toMatchObject({
          name: 'SecretNotFoundError',
          stage: 'current',
        });
        const pending = await store.read(accountId, { stage: 'pending' });
        expect(pending).toMatchObject({
          versionId: ref.versionId,
          credentials: { client_id: 'fake-client-one' },
        });
        expect(await store.describe(accountId)).toEqual({
          secretName: ref.secretName,
          pendingVersionId: ref.versionId,
        });
      });

      it('does not change the current version', async () => {
        const accountId = nextAccount();
        const first = await onboard(accountId, 'one');

        const second = await store.stage(accountId, fakePayload(accountId, 'two'), 'token-two');

        const current = await store.read(accountId);
        expect(current.versionId).toBe(first);
        expect(current.credentials).toMatchObject({ client_id: 'fake-client-one' });
        expect(await store.describe(accountId)).toMatchObject({
          currentVersionId: first,
          pendingVersionId: second.versionId,
        });
      });

      it('is idempotent: the same request token gives the same version and writes one version', async () => {
        const accountId = nextAccount();

        const first = await store.stage(accountId, fakePayload(accountId, 'one'), 'same-token');
        const versionsAfterFirst = await harness.versionCount(accountId);
        const again = await store.stage(accountId, fakePayload(accountId, 'one'), 'same-token');
        // A retried request whose payload was rebuilt (another created_at) still maps to one version.
        const rebuilt = await store.stage(
          accountId,
          fakePayload(accountId, 'one', { created_at: '2026-03-01T10:00:05.000Z' }),
          'same-token',
        );

        expect(again).toEqual(first);
        expect(rebuilt).toEqual(first);
        expect(await harness.versionCount(accountId)).toBe(versionsAfterFirst);
        expect((await store.read(accountId, { stage: 'pending' })).created_at).toBe(
          '2026-03-01T10:00:00.000Z',
        );
        const other = await store.stage(accountId, fakePayload(accountId, 'two'), 'other-token');
        expect(other.versionId).not.toBe(first.versionId);
        expect(await harness.versionCount(accountId)).toBe(versionsAfterFirst + 1);
      });

      it('keeps a promoted version current when its request is retried', async () => {
        const accountId = nextAccount();
        const versionId = await onboard(accountId, 'one', 'token-one');

        const retried = await store.stage(accountId, fakePayload(accountId, 'one'), 'token-one');

        expect(retried.versionId).toBe(versionId);
        expect((await store.read(accountId)).versionId).toBe(versionId);
      });

      it('uses version ids of 32 to 64 characters', async () => {
        const accountId = nextAccount();

        const { versionId } = await store.stage(accountId, fakePayload(accountId, 'one'), 't');

        expect(versionId.length).toBeGreaterThanOrEqual(32);
        expect(versionId.length).toBeLessThanOrEqual(64);
      });

      it('throws when the credentials are not an object', async () => {
        const accountId = nextAccount();
        const payload = {
          ...fakePayload(accountId, 'one'),
          credentials: ['fake'],
        } as unknown as SecretPayload;

        const attempt = store.stage(accountId, payload, 'token-one');

        await expect(attempt).rejects.toBeInstanceOf(ValidationError);
        await expect(attempt).rejects.toMatchObject({ issues: [{ field: 'credentials' }] });
        expect(await store.describe(accountId)).toBeUndefined();
      });

      it('throws when the payload names another account', async () => {
        const accountId = nextAccount();

        const attempt = store.stage(accountId, fakePayload('someone-else', 'one'), 'token-one');

        await expect(attempt).rejects.toMatchObject({ issues: [{ field: 'account_id' }] });
      });
    });

    describe('Method: promote', () => {
      it('makes the staged version current and the old one no longer current', async () => {
        const accountId = nextAccount();
        const first = await onboard(accountId, 'one');
        const second = await store.stage(accountId, fakePayload(accountId, 'two'), 'token-two');

        await store.promote(accountId, second.versionId);

        const current = await store.read(accountId);
        expect(current.versionId).toBe(second.versionId);
        expect(current.credentials).toMatchObject({ client_secret: 'fake-secret-two' });
        await expect(store.read(accountId, { stage: 'current', versionId: first })).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
        await expect(store.read(accountId, { stage: 'pending' })).rejects.toBeInstanceOf(SecretNotFoundError);
        expect((await store.read(accountId, { versionId: first })).credentials).toMatchObject({
          client_id: 'fake-client-one',
        });
        expect(await store.describe(accountId)).toEqual({
          secretName: store.secretNameFor(accountId),
          currentVersionId: second.versionId,
        });
      });

      it('is idempotent', async () => {
        const accountId = nextAccount();
        const versionId = await onboard(accountId, 'one');

        await store.promote(accountId, versionId);

        expect((await store.read(accountId)).versionId).toBe(versionId);
      });

      it('throws when the version was superseded by a newer stage', async () => {
        const accountId = nextAccount();
        const older = await store.stage(accountId, fakePayload(accountId, 'one'), 'token-one');
        await store.stage(accountId, fakePayload(accountId, 'two'), 'token-two');

        await expect(store.promote(accountId, older.versionId)).rejects.toBeInstanceOf(
          InvalidTransitionError,
        );
      });

      it('throws when the version is unknown', async () => {
        const accountId = nextAccount();
        await store.stage(accountId, fakePayload(accountId, 'one'), 'token-one');

        await expect(store.promote(accountId, '00000000-0000-8000-8000-000000000000')).rejects.toBeInstanceOf(
          InvalidTransitionError,
        );
      });

      it('throws when the secret does not exist', async () => {
        const accountId = nextAccount();

        await expect(store.promote(accountId, '00000000-0000-8000-8000-000000000000')).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
      });
    });

    describe('Method: discard', () => {
      it('drops the pending version and leaves the current one', async () => {
        const accountId = nextAccount();
        const first = await onboard(accountId, 'one');
        const rejected = await store.stage(accountId, fakePayload(accountId, 'two'), 'token-two');

        await store.discard(accountId, rejected.versionId);

        expect((await store.read(accountId)).versionId).toBe(first);
        await expect(store.read(accountId, { stage: 'pending' })).rejects.toMatchObject({
          name: 'SecretNotFoundError',
          stage: 'pending',
        });
        await expect(store.promote(accountId, rejected.versionId)).rejects.toBeInstanceOf(
          InvalidTransitionError,
        );
        await store.discard(accountId, rejected.versionId);
        expect(await store.describe(accountId)).toEqual({
          secretName: store.secretNameFor(accountId),
          currentVersionId: first,
        });
      });

      it('throws when asked to discard the current version', async () => {
        const accountId = nextAccount();
        const current = await onboard(accountId, 'one');

        await expect(store.discard(accountId, current)).rejects.toBeInstanceOf(InvalidTransitionError);
        expect((await store.read(accountId)).versionId).toBe(current);
      });

      it('does nothing for a secret that does not exist', async () => {
        await expect(
          store.discard(nextAccount(), '00000000-0000-8000-8000-000000000000'),
        ).resolves.toBeUndefined();
      });
    });

    describe('Method: read', () => {
      it('throws SecretNotFoundError when nothing is stored', async () => {
        const accountId = nextAccount();

        await expect(store.read(accountId)).rejects.toBeInstanceOf(SecretNotFoundError);
        await expect(store.read(accountId, { stage: 'pending' })).rejects.toBeInstanceOf(SecretNotFoundError);
        expect(await store.describe(accountId)).toBeUndefined();
      });

      it('throws SecretExpiredError once expires_at has passed, cached or not, without the value', async () => {
        const accountId = nextAccount();
        const expiresAt = new Date(time.clock().getTime() + HOUR).toISOString();
        const { versionId } = await store.stage(
          accountId,
          fakePayload(accountId, 'expiring', { expires_at: expiresAt }),
          'token-expiring',
        );
        await store.promote(accountId, versionId);
        expect((await store.read(accountId)).expires_at).toBe(expiresAt);

        time.advance(HOUR);

        const cached = await store.read(accountId).catch((error: unknown) => error);
        expect(cached).toBeInstanceOf(SecretExpiredError);
        expect(cached).toMatchObject({ accountId, expiredAt: expiresAt });
        expect(String((cached as Error).message)).not.toContain('fake-secret-expiring');
        time.advance(CONTRACT_CACHE_TTL_MS);
        await expect(store.read(accountId)).rejects.toBeInstanceOf(SecretExpiredError);
        await expect(store.read(accountId, { stage: 'pending', versionId })).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
        await expect(store.read(accountId, { versionId })).rejects.toBeInstanceOf(SecretExpiredError);
      });

      it('serves a second current read within the TTL from memory, not the backend', async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'one');
        const other = harness.newStore();
        expect((await store.read(accountId)).credentials).toMatchObject({ client_id: 'fake-client-one' });

        // Another instance rotates the credentials behind this instance's back.
        const { versionId } = await other.stage(accountId, fakePayload(accountId, 'two'), 'token-two');
        await other.promote(accountId, versionId);
        time.advance(CONTRACT_CACHE_TTL_MS - 1);
        const withinTtl = await store.read(accountId);
        time.advance(1);
        const afterTtl = await store.read(accountId);

        expect(withinTtl.credentials).toMatchObject({ client_id: 'fake-client-one' });
        expect(afterTtl.credentials).toMatchObject({ client_id: 'fake-client-two' });
        expect((await other.read(accountId)).versionId).toBe(versionId);
      });

      it("drops the cached value on this instance's own promote", async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'one');
        await store.read(accountId);

        const second = await onboard(accountId, 'two');

        expect((await store.read(accountId)).versionId).toBe(second);
      });

      it('returns copies: changing a returned value does not change the cache', async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'one');

        const first = await store.read(accountId);
        first.credentials.client_id = 'changed';

        expect((await store.read(accountId)).credentials).toMatchObject({ client_id: 'fake-client-one' });
      });
    });

    describe('Method: scheduleDeletion', () => {
      it('schedules deletion after 7 days by default and hides the credentials', async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'one');
        await store.read(accountId);

        const { deletionDate } = await store.scheduleDeletion(accountId);

        expect(deletionDate).toBe(new Date(time.clock().getTime() + 7 * DAY).toISOString());
        await expect(store.read(accountId)).rejects.toBeInstanceOf(SecretNotFoundError);
        expect(await store.describe(accountId)).toMatchObject({ scheduledDeletionAt: deletionDate });
        expect(await store.scheduleDeletion(accountId, 30)).toEqual({ deletionDate });
      });

      it('throws when the recovery window is outside 7..30 days', async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'one');

        await expect(store.scheduleDeletion(accountId, 6)).rejects.toMatchObject({
          issues: [{ field: 'recoveryWindowDays' }],
        });
        await expect(store.scheduleDeletion(accountId, 31)).rejects.toBeInstanceOf(ValidationError);
      });

      it('restores the secret on a new stage (re-onboarding) without resurrecting the old credentials', async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'old');
        await store.scheduleDeletion(accountId);
        time.advance(DAY);

        const { versionId } = await store.stage(accountId, fakePayload(accountId, 'new'), 'token-new');

        await expect(store.read(accountId)).rejects.toBeInstanceOf(SecretNotFoundError);
        const description = await store.describe(accountId);
        expect(description).toEqual({
          secretName: store.secretNameFor(accountId),
          pendingVersionId: versionId,
        });
        await store.promote(accountId, versionId);
        expect((await store.read(accountId)).credentials).toMatchObject({ client_id: 'fake-client-new' });
      });

      it('purges the secret once the recovery window has passed', async () => {
        const accountId = nextAccount();
        await onboard(accountId, 'old');
        await store.scheduleDeletion(accountId, 7);

        time.advance(7 * DAY);

        expect(await store.describe(accountId)).toBeUndefined();
        const { versionId } = await store.stage(accountId, fakePayload(accountId, 'new'), 'token-new');
        await store.promote(accountId, versionId);
        expect((await store.read(accountId)).versionId).toBe(versionId);
      });

      it('throws SecretNotFoundError when there is nothing to delete', async () => {
        await expect(store.scheduleDeletion(nextAccount())).rejects.toBeInstanceOf(SecretNotFoundError);
      });
    });

    describe('Method: checkHealth', () => {
      it('resolves when the backend answers', async () => {
        await expect(store.checkHealth()).resolves.toBeUndefined();
      });
    });
  });
}
