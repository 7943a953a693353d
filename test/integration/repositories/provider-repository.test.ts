import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../functions/core/errors';
import { ProviderRepository, providerIdFor } from '../../../functions/core/repositories/provider-repository';
import { PROVIDER_TYPES } from '../../../schemas/common';
import { INDEX } from '../../../schemas/tables';
import { startTestTables, type TestTables } from '../../support/dynalite';

describe('Class: ProviderRepository', () => {
  let env: TestTables;
  let providers: ProviderRepository;
  const clock = () => new Date('2031-04-01T12:00:00.000Z');

  beforeAll(async () => {
    env = await startTestTables();
    providers = new ProviderRepository({ client: env.client, tableName: env.tables.providers, clock });
  });
  afterAll(async () => {
    await env.close();
  });

  const itemsOf = async (tenantId: string, providerType: string) =>
    (
      await env.client.send(
        new QueryCommand({
          TableName: env.tables.providers,
          IndexName: INDEX.tenantProvider,
          KeyConditionExpression: 'tenant_id = :t AND provider_type = :p',
          ExpressionAttributeValues: { ':t': tenantId, ':p': providerType },
        }),
      )
    ).Items ?? [];

  describe('Method: getOrCreate', () => {
    it('creates one provider with a deterministic UUID-shaped id and Z timestamps', async () => {
      // Act
      const provider = await providers.getOrCreate('tenant-a', 'aws');

      // Assess
      expect(provider.provider_id).toBe(providerIdFor('tenant-a', 'aws'));
      expect(provider.provider_id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(provider).toMatchObject({ tenant_id: 'tenant-a', provider_type: 'aws', status: 'active' });
      expect(provider.created_at).toBe('2031-04-01T12:00:00.000Z');
      expect(providerIdFor('tenant-b', 'aws')).not.toBe(provider.provider_id);
      expect(providerIdFor('tenant-a', 'gcp')).not.toBe(provider.provider_id);
    });

    it('gives 10 concurrent callers the same single provider', async () => {
      // Act
      const results = await Promise.all(
        Array.from({ length: 10 }, () => providers.getOrCreate('tenant-race', 'azure')),
      );

      // Assess
      expect(new Set(results.map((provider) => provider.provider_id)).size).toBe(1);
      expect(await itemsOf('tenant-race', 'azure')).toHaveLength(1);
    });

    it('reuses a legacy provider (random id, naive timestamps) found through tenant-provider-index', async () => {
      // Prepare
      await env.client.send(
        new PutCommand({
          TableName: env.tables.providers,
          Item: {
            provider_id: '3f1c2a9e-0000-4000-8000-00000000abcd',
            tenant_id: 'tenant-legacy',
            provider_type: 'gcp',
            status: 'active',
            created_at: '2024-01-02T03:04:05.678901',
            updated_at: '2024-01-02T03:04:05.678901',
          },
        }),
      );

      // Act
      const provider = await providers.getOrCreate('tenant-legacy', 'gcp');

      // Assess
      expect(provider.provider_id).toBe('3f1c2a9e-0000-4000-8000-00000000abcd');
      expect(provider.created_at).toBe('2024-01-02T03:04:05.678Z');
      expect(await itemsOf('tenant-legacy', 'gcp')).toHaveLength(1);
    });

    it('throws a ValidationError on provider_type for an unknown type', async () => {
      // Act
      const attempt = providers.getOrCreate('tenant-a', 'digitalocean' as 'aws');

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({ issues: [{ field: 'provider_type' }] });
    });
  });

  describe('Method: listByTenant', () => {
    it('lists the tenant providers page by page and refuses a cursor of another tenant', async () => {
      // Prepare
      for (const type of PROVIDER_TYPES) await providers.getOrCreate('tenant-many', type);
      await providers.getOrCreate('tenant-other', 'aws');
      await providers.getOrCreate('tenant-other', 'oci');

      // Act
      const first = await providers.listByTenant('tenant-many', { limit: 4 });
      const second = await providers.listByTenant('tenant-many', {
        limit: 4,
        cursor: first.next_cursor ?? '',
      });
      const foreign = providers.listByTenant('tenant-other', { cursor: first.next_cursor ?? '' });

      // Assess
      expect(first.items).toHaveLength(4);
      expect(second.items).toHaveLength(2);
      expect(second.next_cursor).toBeNull();
      expect(new Set([...first.items, ...second.items].map((provider) => provider.provider_type))).toEqual(
        new Set(PROVIDER_TYPES),
      );
      await expect(foreign).rejects.toMatchObject({ name: 'ValidationError', issues: [{ field: 'cursor' }] });
    });
  });

  describe('Method: updateStatus / delete', () => {
    it('updates the status, deletes, then throws a NotFoundError', async () => {
      // Prepare
      const provider = await providers.getOrCreate('tenant-gone', 'ibm');

      // Act
      const disabled = await providers.updateStatus(provider.provider_id, 'disabled');
      const deleted = await providers.delete(provider.provider_id);

      // Assess
      expect(disabled.status).toBe('disabled');
      expect(deleted.provider_id).toBe(provider.provider_id);
      expect(await providers.get(provider.provider_id)).toBeUndefined();
      await expect(providers.updateStatus(provider.provider_id, 'active')).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(providers.delete(provider.provider_id)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
