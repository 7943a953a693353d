import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, type TenantFixture, unique } from '../../support/api-harness';

interface TenantBody {
  tenant_id: string;
  tenant_name: string;
  description: string | null;
  status: string;
}

describe('Tenants API', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
    other = await harness.createTenant();
  });
  afterAll(async () => {
    await harness?.close();
  });

  describe('POST /tenants', () => {
    it('creates a tenant (201, Location) for a platform admin', async () => {
      const name = unique('Globex');

      const response = await harness.request<TenantBody>('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        json: { tenant_name: name, description: 'Widgets' },
      });

      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ tenant_name: name, description: 'Widgets', status: 'active' });
      expect(response.headers.get('location')).toBe(`/api/v1/tenants/${response.body.tenant_id}`);
    });

    it('answers 409 naming tenant_name for a name taken in another case', async () => {
      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        json: { tenant_name: tenant.tenantName.toUpperCase() },
      });

      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ code: 'conflict', details: [{ field: 'tenant_name' }] });
    });

    it.each([
      [{}, 'tenant_name'],
      [{ tenant_name: '' }, 'tenant_name'],
      [{ tenant_name: '<script>alert(1)</script>' }, 'tenant_name'],
      [{ tenant_name: 'Fine', status: 'disabled' }, 'status'],
      [{ tenant_name: 'x'.repeat(200) }, 'tenant_name'],
    ])('answers 400 for %j naming %s, and creates nothing', async (body, field) => {
      const before = await harness.itemCounts();

      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        json: body,
      });

      expect(response.status).toBe(400);
      expect((response.body.details as { field: string }[]).map((issue) => issue.field)).toContain(field);
      expect(await harness.itemCounts()).toEqual(before);
    });

    it.each(['tenant_admin', 'operator', 'viewer'] as const)('answers 403 to a %s', async (role) => {
      const response = await harness.request('POST', '/api/v1/tenants', {
        token: tenant.tokens[role],
        json: { tenant_name: unique('Not mine') },
      });

      expect(response.status).toBe(403);
    });

    it('creates one tenant for a retried request with the same Idempotency-Key', async () => {
      const name = unique('Retried');
      const request = {
        token: harness.adminToken,
        json: { tenant_name: name },
        headers: { 'idempotency-key': name.replaceAll(' ', '_') },
      };

      const first = await harness.request<TenantBody>('POST', '/api/v1/tenants', request);
      const second = await harness.request<TenantBody>('POST', '/api/v1/tenants', request);

      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body.tenant_id).toBe(first.body.tenant_id);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
    });
  });

  describe('GET /tenants', () => {
    it('pages through every tenant for a platform admin', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { tenants: TenantBody[]; next_cursor: string | null } } =
          await harness.request('GET', `/api/v1/tenants?limit=1${cursor ? `&cursor=${cursor}` : ''}`, {
            token: harness.adminToken,
          });
        expect(page.status).toBe(200);
        seen.push(...page.body.tenants.map((item) => item.tenant_id));
        cursor = page.body.next_cursor;
      } while (cursor);

      expect(seen).toEqual(expect.arrayContaining([tenant.tenantId, other.tenantId]));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it.each([
      ['limit=0', 'limit', 'must be 1 to 100'],
      ['limit=2.5', 'limit', 'must be a whole number'],
      ['cursor=', 'cursor', 'must not be empty'],
    ])('answers 400 for ?%s naming %s, as every listing does', async (query, field, message) => {
      const response = await harness.request('GET', `/api/v1/tenants?${query}`, {
        token: harness.adminToken,
      });

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([expect.objectContaining({ field, message })]);
    });

    it('answers 403 to tenant users', async () => {
      const response = await harness.request('GET', '/api/v1/tenants', { token: tenant.tokens.tenant_admin });

      expect(response.status).toBe(403);
    });
  });

  describe('GET /tenants/{tenant_id}', () => {
    it('shows tenant users their own tenant and 404 for any other', async () => {
      const own = await harness.request<TenantBody>('GET', `/api/v1/tenants/${tenant.tenantId}`, {
        token: tenant.tokens.viewer,
      });
      const foreign = await harness.request('GET', `/api/v1/tenants/${other.tenantId}`, {
        token: tenant.tokens.viewer,
      });
      const unknown = await harness.request('GET', '/api/v1/tenants/no-such-tenant', {
        token: harness.adminToken,
      });

      expect(own.status).toBe(200);
      expect(own.body.tenant_name).toBe(tenant.tenantName);
      expect(foreign.status).toBe(404);
      expect(foreign.body).toMatchObject({
        code: 'not_found',
        message: `tenant ${other.tenantId} was not found`,
      });
      expect(unknown.status).toBe(404);
    });

    it('answers 400 naming tenant_id for a malformed id', async () => {
      const response = await harness.request('GET', `/api/v1/tenants/${encodeURIComponent('a b')}`, {
        token: harness.adminToken,
      });

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([{ field: 'tenant_id', message: expect.any(String) }]);
    });
  });

  describe('PATCH /tenants/{tenant_id}', () => {
    it('renames a tenant and frees the old name', async () => {
      const fresh = await harness.createTenant();
      const newName = unique('Renamed');

      const renamed = await harness.request<TenantBody>('PATCH', `/api/v1/tenants/${fresh.tenantId}`, {
        token: harness.adminToken,
        json: { tenant_name: newName, description: null },
      });
      const reuse = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        json: { tenant_name: fresh.tenantName },
      });

      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ tenant_name: newName, description: null });
      expect(reuse.status).toBe(201);
    });

    it.each([
      [{}, 400],
      [{ tenant_name: 'X', id: 'y' }, 400],
    ])('answers %j with %i', async (body, status) => {
      const response = await harness.request('PATCH', `/api/v1/tenants/${tenant.tenantId}`, {
        token: harness.adminToken,
        json: body,
      });

      expect(response.status).toBe(status);
    });

    it('answers 409 naming tenant_name when renaming onto a taken name, 404 for an unknown tenant, 403 to tenant admins', async () => {
      const taken = await harness.request('PATCH', `/api/v1/tenants/${tenant.tenantId}`, {
        token: harness.adminToken,
        json: { tenant_name: other.tenantName },
      });
      const unknown = await harness.request('PATCH', '/api/v1/tenants/no-such-tenant', {
        token: harness.adminToken,
        json: { description: 'x' },
      });
      const forbidden = await harness.request('PATCH', `/api/v1/tenants/${tenant.tenantId}`, {
        token: tenant.tokens.tenant_admin,
        json: { description: 'x' },
      });

      expect(taken.status).toBe(409);
      expect(taken.body.details).toEqual([{ field: 'tenant_name', message: expect.any(String) }]);
      expect(unknown.status).toBe(404);
      expect(forbidden.status).toBe(403);
    });
  });

  describe('DELETE /tenants/{tenant_id}', () => {
    it('disables the tenant (idempotent); its users are refused from then on', async () => {
      const fresh = await harness.createTenant();

      const disabled = await harness.request<TenantBody>('DELETE', `/api/v1/tenants/${fresh.tenantId}`, {
        token: harness.adminToken,
      });
      const again = await harness.request<TenantBody>('DELETE', `/api/v1/tenants/${fresh.tenantId}`, {
        token: harness.adminToken,
      });
      const refused = await harness.request('GET', `/api/v1/tenants/${fresh.tenantId}`, {
        token: fresh.tokens.viewer,
      });
      const adminRead = await harness.request<TenantBody>('GET', `/api/v1/tenants/${fresh.tenantId}`, {
        token: harness.adminToken,
      });

      expect(disabled.status).toBe(200);
      expect(disabled.body.status).toBe('disabled');
      expect(again.status).toBe(200);
      expect(refused.status).toBe(403);
      expect(refused.body.message).toContain('disabled');
      expect(adminRead.body.status).toBe('disabled');
    });

    it("pauses the disabled tenant's active schedules, so its scans stop", async () => {
      // Prepare
      const fresh = await harness.createTenant();
      const account = await harness.activeAccount(fresh);
      const created = await harness.request<{ schedule_id: string }>('POST', '/api/v1/schedules', {
        token: fresh.tokens.tenant_admin,
        json: { account_id: account.accountId, name: 'Hourly', preset: 'hourly' },
      });
      expect(created.status, created.text).toBe(201);

      // Act
      await harness.request('DELETE', `/api/v1/tenants/${fresh.tenantId}`, { token: harness.adminToken });
      const schedule = await harness.request<{ status: string; paused_by: string; pause_note: string }>(
        'GET',
        `/api/v1/schedules/${created.body.schedule_id}`,
        { token: harness.adminToken },
      );

      // Assess
      expect(schedule.body).toMatchObject({ status: 'paused', pause_note: 'tenant disabled' });
    });

    it('answers 404 for an unknown tenant and 403 to a tenant admin', async () => {
      const unknown = await harness.request('DELETE', '/api/v1/tenants/no-such-tenant', {
        token: harness.adminToken,
      });
      const forbidden = await harness.request('DELETE', `/api/v1/tenants/${tenant.tenantId}`, {
        token: tenant.tokens.tenant_admin,
      });

      expect(unknown.status).toBe(404);
      expect(forbidden.status).toBe(403);
    });
  });
});
