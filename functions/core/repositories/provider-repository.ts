import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ProviderType, ProviderTypeSchema, toIsoUtc } from '../../../schemas/common';
import {
  type Provider,
  ProviderSchema,
  type ProviderStatus,
  ProviderStatusSchema,
} from '../../../schemas/provider';
import { INDEX, TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { NotFoundError } from '../errors';
import { deterministicId } from '../ids';
import { DynamoDbTable, type Item } from './dynamodb-table';
import type { Page, PageRequest } from './pagination';
import { parseInput, parseStored } from './stored-item';

export interface ProviderRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

/** The one id a (tenant, provider type) pair gets: concurrent creators meet on the same item. */
export function providerIdFor(tenantId: string, providerType: ProviderType): string {
  return deterministicId('provider', `${tenantId}:${providerType}`);
}

const EXISTS = { expression: 'attribute_exists(#id)', names: { '#id': 'provider_id' } };

export class ProviderRepository {
  private readonly table: DynamoDbTable;
  private readonly clock: Clock;

  constructor(options: ProviderRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.providers);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The tenant's provider of this type, created when missing; exactly one per (tenant, type),
   * race-free: a legacy provider (random id) found through tenant-provider-index is reused;
   * otherwise the provider gets a deterministic id and a conditional put, so concurrent callers
   * all end up with the same item.
   */
  async getOrCreate(tenantId: string, providerType: ProviderType): Promise<Provider> {
    const type = parseInput(ProviderTypeSchema, providerType, 'provider', 'provider_type');
    const providerId = providerIdFor(tenantId, type);
    const own = await this.get(providerId);
    if (own) return own;

    const legacy = await this.table.queryAll({
      indexName: INDEX.tenantProvider,
      key: { tenant_id: tenantId, provider_type: type },
    });
    const oldest = legacy
      .map((item) => this.parse(item))
      .sort((a, b) => a.created_at.localeCompare(b.created_at))[0];
    if (oldest) return oldest;

    const now = toIsoUtc(this.clock());
    const item = {
      provider_id: providerId,
      tenant_id: tenantId,
      provider_type: type,
      status: 'active',
      created_at: now,
      updated_at: now,
    };
    const written = await this.table.put(item, {
      expression: 'attribute_not_exists(#id)',
      names: { '#id': 'provider_id' },
    });
    if (written) return this.parse(item);
    const winner = await this.get(providerId);
    if (!winner) throw new NotFoundError('provider', providerId); // Deleted in between: the caller may retry.
    return winner;
  }

  async get(providerId: string): Promise<Provider | undefined> {
    const item = await this.table.get({ provider_id: providerId });
    return item ? this.parse(item) : undefined;
  }

  /** The tenant's providers (tenant-provider-index), a page at a time. */
  async listByTenant(tenantId: string, page?: PageRequest): Promise<Page<Provider>> {
    return this.table.queryPage(
      { indexName: INDEX.tenantProvider, key: { tenant_id: tenantId } },
      page,
      (item) => this.parse(item),
    );
  }

  async updateStatus(providerId: string, status: ProviderStatus): Promise<Provider> {
    const value = parseInput(ProviderStatusSchema, status, 'provider', 'status');
    const updated = await this.table.update(
      { provider_id: providerId },
      { set: { status: value, updated_at: toIsoUtc(this.clock()) } },
      EXISTS,
    );
    if (!updated) throw new NotFoundError('provider', providerId);
    return this.parse(updated);
  }

  /** Deletes the provider; NotFoundError when there is none. */
  async delete(providerId: string): Promise<Provider> {
    const deleted = await this.table.delete({ provider_id: providerId }, EXISTS);
    if (!deleted) throw new NotFoundError('provider', providerId);
    return this.parse(deleted);
  }

  private parse(item: Item): Provider {
    return parseStored(ProviderSchema, item, 'provider', 'provider_id');
  }
}
