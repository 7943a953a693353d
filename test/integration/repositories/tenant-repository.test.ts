import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../../functions/core/errors';
import { ClaimRepository } from '../../../functions/core/repositories/claim-repository';
import {
  normalizeTenantName,
  RECENT_TENANT_MAX_AGE_MS,
  TenantRepository,
  tenantNameClaimId,
} from '../../../functions/core/repositories/tenant-repository';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-03-01T09:00:00.000Z');

describe('Class: TenantRepository', () => {
  let env: TestTables;
  let tenants: TenantRepository;
  let claims: ClaimRepository;
  let now = T0;
  const clock = () => new Date(now);
  let serial = 0;
  const uniqueName = (base: string) => `${base} ${++serial}`;

  beforeAll(async () => {
    env = await startTestTables();
    tenants = new TenantRepository({
      client: env.client,
      tableName: env.tables.tenants,
      claimsTableName: env.tables.claims,
      clock,
    });
    claims = new ClaimRepository({ client: env.client, tableName: env.tables.claims, clock });
  });
  afterAll(async () => {
    await env.close();
  });

  const rawTenant = async (tenantId: string) =>
    (await env.client.send(new GetCommand({ TableName: env.tables.tenants, Key: { tenant_id: tenantId } })))
      .Item;

  describe('Method: create', () => {
    it('writes the tenant with Z timestamps and claims its normalized name', async () => {
      // Prepare
      const name = uniqueName('Acme Corp');

      // Act
      const tenant = await tenants.create({ tenant_name: name, description: 'first' });

      // Assess
      expect(tenant).toMatchObject({ tenant_name: name, description: 'first', status: 'active' });
      const raw = await rawTenant(tenant.tenant_id);
      expect(raw?.created_at).toBe('2031-03-01T09:00:00.000Z');
      expect(raw?.updated_at).toBe('2031-03-01T09:00:00.000Z');
      const claim = await claims.get(tenantNameClaimId(name));
      expect(claim?.owner).toBe(tenant.tenant_id);
    });

    it('throws a ValidationError naming tenant_name when the name is invalid', async () => {
      // Act
      const attempt = tenants.create({ tenant_name: '  ' });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({
        issues: expect.arrayContaining([expect.objectContaining({ field: 'tenant_name' })]),
      });
    });

    it('throws a ConflictError on tenant_name for the same name in another case and spacing', async () => {
      // Prepare
      const name = uniqueName('Globex Industries');
      await tenants.create({ tenant_name: name });

      // Act
      const attempt = tenants.create({ tenant_name: `  ${name.toUpperCase().replace(' ', '   ')}` });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toMatchObject({ field: 'tenant_name' });
    });

    it('lets exactly one of 10 concurrent creations of the same name win', async () => {
      // Prepare
      const name = uniqueName('Race Ltd');

      // Act
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          tenants.create({ tenant_name: i % 2 === 0 ? name : name.toLowerCase() }, `race-${serial}-${i}`),
        ),
      );

      // Assess
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(9);
      for (const loser of losers) {
        expect(loser.reason).toBeInstanceOf(ConflictError);
        expect(loser.reason).toMatchObject({ field: 'tenant_name' });
      }
      const stored = await env.client.send(new ScanCommand({ TableName: env.tables.tenants }));
      const holders = (stored.Items ?? []).filter(
        (item) => normalizeTenantName(String(item.tenant_name)) === normalizeTenantName(name),
      );
      expect(holders).toHaveLength(1);
    });

    it('refuses the exact name of a legacy tenant found through tenant-name-index', async () => {
      // Prepare
      const name = uniqueName('Legacy Holdings');
      await env.client.send(
        new PutCommand({
          TableName: env.tables.tenants,
          Item: {
            tenant_id: `legacy-${serial}`,
            tenant_name: name,
            status: 'active',
            created_at: '2024-05-01T10:00:00.123456',
            updated_at: '2024-05-01T10:00:00.123456',
          },
        }),
      );

      // Act
      const attempt = tenants.create({ tenant_name: name });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', field: 'tenant_name' });
      expect(await claims.get(tenantNameClaimId(name))).toBeUndefined();
    });

    it('matches a legacy tenant name with the same case rule as new ones (no "Legacy Co" beside "legacy co")', async () => {
      // Prepare
      const name = uniqueName('Legacy Co');
      const legacyId = `legacy-case-${serial}`;
      await env.client.send(
        new PutCommand({
          TableName: env.tables.tenants,
          Item: {
            tenant_id: legacyId,
            tenant_name: name,
            status: 'active',
            created_at: '2024-05-01T10:00:00.123456',
            updated_at: '2024-05-01T10:00:00.123456',
          },
        }),
      );
      const other = await tenants.create({ tenant_name: uniqueName('Renamed Later') });

      // Act
      const lowerCase = await tenants
        .create({ tenant_name: `  ${name.toLowerCase()} ` })
        .catch((e: unknown) => e);
      const rename = await tenants
        .update(other.tenant_id, { tenant_name: name.toUpperCase() })
        .catch((e: unknown) => e);
      const found = await tenants.getByName(name.toUpperCase());

      // Assess
      expect(lowerCase).toMatchObject({ name: 'ConflictError', field: 'tenant_name' });
      expect(rename).toMatchObject({ name: 'ConflictError', field: 'tenant_name' });
      expect(found?.tenant_id).toBe(legacyId);
    });

    it('returns the tenant when the same creation is repeated with the same id', async () => {
      // Prepare
      const name = uniqueName('Repeat Inc');
      const first = await tenants.create({ tenant_name: name }, `repeat-${serial}`);

      // Act
      const second = await tenants.create({ tenant_name: name }, `repeat-${serial}`);

      // Assess
      expect(second).toEqual(first);
    });

    it('gives the name claim back when the tenant cannot be written', async () => {
      // Prepare
      const existing = await tenants.create({ tenant_name: uniqueName('Occupied') });
      const name = uniqueName('Rolled Back');

      // Act
      const attempt = tenants.create({ tenant_name: name }, existing.tenant_id);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', field: 'tenant_id' });
      expect(await claims.get(tenantNameClaimId(name))).toBeUndefined();
      await expect(tenants.create({ tenant_name: name })).resolves.toMatchObject({ tenant_name: name });
    });
  });

  describe('Method: get / getByName', () => {
    it('reads a legacy tenant with naive timestamps as Z timestamps', async () => {
      // Prepare
      const tenantId = `legacy-read-${++serial}`;
      await env.client.send(
        new PutCommand({
          TableName: env.tables.tenants,
          Item: {
            tenant_id: tenantId,
            tenant_name: `Old Timer ${serial}`,
            created_at: '2023-11-02T08:15:30.654321',
            updated_at: '2023-11-02 08:15:30',
          },
        }),
      );

      // Act
      const tenant = await tenants.get(tenantId);
      const byName = await tenants.getByName(`Old Timer ${serial}`);

      // Assess
      expect(tenant).toMatchObject({
        status: 'active',
        created_at: '2023-11-02T08:15:30.654Z',
        updated_at: '2023-11-02T08:15:30.000Z',
      });
      expect(byName?.tenant_id).toBe(tenantId);
    });

    it('finds a tenant by name case-insensitively and returns undefined for unknown names', async () => {
      // Prepare
      const name = uniqueName('Initech Systems');
      const tenant = await tenants.create({ tenant_name: name });

      // Act
      const found = await tenants.getByName(name.toLowerCase());
      const missing = await tenants.getByName('No Such Tenant Anywhere');

      // Assess
      expect(found?.tenant_id).toBe(tenant.tenant_id);
      expect(missing).toBeUndefined();
    });
  });

  describe('Method: update', () => {
    it('moves the name claim on rename and frees the old name', async () => {
      // Prepare
      const oldName = uniqueName('Before Rename');
      const newName = uniqueName('After Rename');
      const tenant = await tenants.create({ tenant_name: oldName });
      now += 60_000;

      // Act
      const renamed = await tenants.update(tenant.tenant_id, {
        tenant_name: newName,
        description: 'renamed',
      });

      // Assess
      expect(renamed).toMatchObject({
        tenant_name: newName,
        description: 'renamed',
        updated_at: new Date(now).toISOString(),
      });
      expect((await claims.get(tenantNameClaimId(newName)))?.owner).toBe(tenant.tenant_id);
      expect(await claims.get(tenantNameClaimId(oldName))).toBeUndefined();
      await expect(tenants.create({ tenant_name: oldName })).resolves.toMatchObject({ tenant_name: oldName });
    });

    it('throws a ConflictError on tenant_name when renaming to a taken name, changing nothing', async () => {
      // Prepare
      const taken = await tenants.create({ tenant_name: uniqueName('Taken Name') });
      const tenant = await tenants.create({ tenant_name: uniqueName('Would Rename') });

      // Act
      const attempt = tenants.update(tenant.tenant_id, { tenant_name: taken.tenant_name.toUpperCase() });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', field: 'tenant_name' });
      expect((await tenants.get(tenant.tenant_id))?.tenant_name).toBe(tenant.tenant_name);
      expect((await claims.get(tenantNameClaimId(taken.tenant_name)))?.owner).toBe(taken.tenant_id);
    });

    it('changes only the case of a name without losing its claim', async () => {
      // Prepare
      const tenant = await tenants.create({ tenant_name: uniqueName('lower case co') });

      // Act
      const renamed = await tenants.update(tenant.tenant_id, {
        tenant_name: tenant.tenant_name.toUpperCase(),
      });

      // Assess
      expect(renamed.tenant_name).toBe(tenant.tenant_name.toUpperCase());
      expect((await claims.get(tenantNameClaimId(tenant.tenant_name)))?.owner).toBe(tenant.tenant_id);
    });

    it('removes the description when it is set to null', async () => {
      // Prepare
      const tenant = await tenants.create({ tenant_name: uniqueName('Described'), description: 'to remove' });

      // Act
      await tenants.update(tenant.tenant_id, { description: null });

      // Assess
      const raw = await rawTenant(tenant.tenant_id);
      expect(raw).toBeDefined();
      expect(raw).not.toHaveProperty('description');
    });

    it('throws a NotFoundError for an unknown tenant', async () => {
      await expect(tenants.update('missing-tenant', { description: 'x' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('Method: disable / delete', () => {
    it('disables a tenant and keeps its name taken', async () => {
      // Prepare
      const tenant = await tenants.create({ tenant_name: uniqueName('Disabled Co') });

      // Act
      const disabled = await tenants.disable(tenant.tenant_id);

      // Assess
      expect(disabled).toMatchObject({ status: 'disabled', disabled_at: new Date(now).toISOString() });
      await expect(tenants.create({ tenant_name: tenant.tenant_name })).rejects.toBeInstanceOf(ConflictError);
    });

    it('deletes a tenant, frees its name and throws a NotFoundError the second time', async () => {
      // Prepare
      const tenant = await tenants.create({ tenant_name: uniqueName('Short Lived') });

      // Act
      const deleted = await tenants.delete(tenant.tenant_id);

      // Assess
      expect(deleted.tenant_id).toBe(tenant.tenant_id);
      expect(await tenants.get(tenant.tenant_id)).toBeUndefined();
      expect(await claims.get(tenantNameClaimId(tenant.tenant_name))).toBeUndefined();
      await expect(tenants.delete(tenant.tenant_id)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('Method: list', () => {
    it('walks every tenant in pages of 7 without duplicates or gaps', async () => {
      // Prepare
      for (let i = 0; i < 12; i += 1) await tenants.create({ tenant_name: uniqueName('Listed') });
      const all = await env.client.send(new ScanCommand({ TableName: env.tables.tenants }));
      const expected = (all.Items ?? []).map((item) => String(item.tenant_id)).sort();

      // Act
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await tenants.list({ limit: 7, cursor });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((tenant) => tenant.tenant_id));
        cursor = page.next_cursor ?? undefined;
        pages += 1;
      } while (cursor);

      // Assess
      expect(seen.slice().sort()).toEqual(expected);
      expect(new Set(seen).size).toBe(seen.length);
      expect(pages).toBe(Math.ceil(expected.length / 7));
    });

    it('throws a ValidationError on cursor for a tampered cursor', async () => {
      // Prepare
      const first = await tenants.list({ limit: 1 });
      const tampered = Buffer.from(JSON.stringify({ tenant_id: 1 })).toString('base64url');

      // Act / Assess
      expect(first.next_cursor).not.toBeNull();
      await expect(tenants.list({ cursor: `${first.next_cursor}!` })).rejects.toMatchObject({
        name: 'ValidationError',
        issues: [{ field: 'cursor', message: expect.any(String) }],
      });
      await expect(tenants.list({ cursor: tampered })).rejects.toMatchObject({
        issues: [{ field: 'cursor' }],
      });
    });
  });

  describe('Method: getRecent', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('refuses a disable made through the repository from the very next call, remembered or not', async () => {
      // Prepare: the tenant is remembered
      const tenant = await tenants.create({ tenant_name: uniqueName('Recent') });
      expect((await tenants.getRecent(tenant.tenant_id))?.status).toBe('active');

      // Act
      await tenants.disable(tenant.tenant_id);

      // Assess
      expect((await tenants.getRecent(tenant.tenant_id))?.status).toBe('disabled');
    });

    it('sees a rename and a delete made through the repository at once', async () => {
      // Prepare
      const tenant = await tenants.create({ tenant_name: uniqueName('Recent') });
      await tenants.getRecent(tenant.tenant_id);
      const renamed = uniqueName('Renamed');

      // Act
      await tenants.update(tenant.tenant_id, { tenant_name: renamed });
      const afterRename = await tenants.getRecent(tenant.tenant_id);
      await tenants.delete(tenant.tenant_id);

      // Assess
      expect(afterRename?.tenant_name).toBe(renamed);
      expect(await tenants.getRecent(tenant.tenant_id)).toBeUndefined();
    });

    it('sees a disable written by another process within RECENT_TENANT_MAX_AGE_MS', async () => {
      // Prepare: another repository over the same table stands for another API instance
      vi.useFakeTimers({ toFake: ['performance'] });
      const elsewhere = new TenantRepository({
        client: env.client,
        tableName: env.tables.tenants,
        claimsTableName: env.tables.claims,
        clock,
      });
      const tenant = await tenants.create({ tenant_name: uniqueName('Recent') });
      await tenants.getRecent(tenant.tenant_id);

      // Act
      await elsewhere.disable(tenant.tenant_id);
      const soon = await tenants.getRecent(tenant.tenant_id);
      vi.advanceTimersByTime(RECENT_TENANT_MAX_AGE_MS);
      const later = await tenants.getRecent(tenant.tenant_id);

      // Assess: remembered for at most the bound, then read again
      expect(soon?.status).toBe('active');
      expect(later?.status).toBe('disabled');
    });

    it('never remembers a missing tenant', async () => {
      // Prepare: asked for before it exists
      const tenantId = '7a0c0d7e-2f6b-4d0e-9c55-0d5f3c7a1b01';
      expect(await tenants.getRecent(tenantId)).toBeUndefined();

      // Act
      await env.client.send(
        new PutCommand({
          TableName: env.tables.tenants,
          Item: {
            tenant_id: tenantId,
            tenant_name: uniqueName('Late'),
            status: 'active',
            created_at: '2031-03-01T09:00:00.000Z',
            updated_at: '2031-03-01T09:00:00.000Z',
          },
        }),
      );

      // Assess
      expect((await tenants.getRecent(tenantId))?.tenant_id).toBe(tenantId);
    });
  });
});
