import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { quoted, toIsoUtc } from '../../../schemas/common';
import { INDEX, TABLES } from '../../../schemas/tables';
import {
  type CreateTenantInput,
  CreateTenantInputSchema,
  type Tenant,
  TenantSchema,
  type UpdateTenantInput,
  UpdateTenantInputSchema,
} from '../../../schemas/tenant';
import { type Clock, systemClock } from '../clock';
import { ConflictError, NotFoundError } from '../errors';
import { newId } from '../ids';
import { ClaimRepository } from './claim-repository';
import { DynamoDbTable, type Item } from './dynamodb-table';
import type { Page, PageRequest } from './pagination';
import { parseInput, parseStored } from './stored-item';

export interface TenantRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** The claims table, where `tenant-name#<normalized name>` makes names unique. */
  claimsTableName: string;
  clock?: Clock;
}

/** Tenant names are unique case-insensitively, and regardless of Unicode form and inner spacing. */
export function normalizeTenantName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function tenantNameClaimId(name: string): string {
  return `tenant-name#${normalizeTenantName(name)}`;
}

/** How old a tenant read for a request's authentication may be (see `getRecent`). */
export const RECENT_TENANT_MAX_AGE_MS = 1000;
const RECENT_TENANTS_MAX_ENTRIES = 1000;

const EXISTS = { expression: 'attribute_exists(#id)', names: { '#id': 'tenant_id' } };

const nameTaken = (name: string) =>
  new ConflictError(`a tenant named ${quoted(name)} already exists`, 'tenant_name');

export class TenantRepository {
  private readonly table: DynamoDbTable;
  private readonly claims: ClaimRepository;
  private readonly clock: Clock;
  /** Tenants `getRecent` read, with when (monotonic ms); every write through this repository drops one. */
  readonly #recent = new Map<string, { tenant: Tenant; readAtMs: number }>();
  /** Bumped when a write starts and when it ends: a read that overlapped one is not remembered. */
  #writeGeneration = 0;

  constructor(options: TenantRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.tenants);
    this.clock = options.clock ?? systemClock;
    this.claims = new ClaimRepository({
      client: options.client,
      tableName: options.claimsTableName,
      clock: this.clock,
    });
  }

  /**
   * Creates a tenant with a unique name, race-free: the name claim is taken first (one
   * conditional write decides between concurrent creators), a legacy tenant holding the name
   * (created before claims existed) is refused too, and the claim is given back if the tenant
   * itself cannot be written. ConflictError on `tenant_name` when the name is taken.
   */
  async create(input: CreateTenantInput, tenantId: string = newId()): Promise<Tenant> {
    const data = parseInput(CreateTenantInputSchema, input, 'tenant');
    const claimId = tenantNameClaimId(data.tenant_name);
    if (await this.legacyHolderOf(data.tenant_name, tenantId)) throw nameTaken(data.tenant_name);

    const claimed = await this.claimName(claimId, tenantId, data.tenant_name);
    const now = toIsoUtc(this.clock());
    const item = {
      tenant_id: tenantId,
      tenant_name: data.tenant_name,
      description: data.description,
      status: 'active',
      created_at: now,
      updated_at: now,
    };
    let written: boolean;
    try {
      written = await this.table.put(item, {
        expression: 'attribute_not_exists(#id)',
        names: { '#id': 'tenant_id' },
      });
    } catch (error) {
      if (claimed) await this.claims.release(claimId, tenantId);
      throw error;
    }
    if (written) return parseStored(TenantSchema, item, 'tenant', 'tenant_id');

    // The id exists: a repeat of this very creation returns the tenant; anything else is a conflict.
    const existing = await this.get(tenantId);
    if (existing && normalizeTenantName(existing.tenant_name) === normalizeTenantName(data.tenant_name)) {
      return existing;
    }
    if (claimed) await this.claims.release(claimId, tenantId);
    throw new ConflictError(`tenant ${tenantId} already exists`, 'tenant_id');
  }

  async get(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.table.get({ tenant_id: tenantId });
    return item ? this.parse(item) : undefined;
  }

  /**
   * The tenant as every authenticated request checks it (exists, not disabled): a strongly
   * consistent read at most RECENT_TENANT_MAX_AGE_MS old, so a client's burst of requests costs
   * one read a second instead of one each. A write through this repository (update, disable,
   * delete) forgets the tenant at once, so within this process (the whole local runtime) a disable
   * is refused from the next request; another process (another API Lambda instance, the migration)
   * sees a disable within RECENT_TENANT_MAX_AGE_MS. A missing tenant is never remembered.
   */
  async getRecent(tenantId: string): Promise<Tenant | undefined> {
    const nowMs = performance.now();
    const recent = this.#recent.get(tenantId);
    if (recent && nowMs - recent.readAtMs < RECENT_TENANT_MAX_AGE_MS) return recent.tenant;
    const generation = this.#writeGeneration;
    const tenant = await this.get(tenantId);
    this.#recent.delete(tenantId);
    if (tenant && generation === this.#writeGeneration) {
      if (this.#recent.size >= RECENT_TENANTS_MAX_ENTRIES) {
        const oldest = this.#recent.keys().next().value;
        if (oldest !== undefined) this.#recent.delete(oldest);
      }
      this.#recent.set(tenantId, { tenant, readAtMs: nowMs });
    }
    return tenant;
  }

  /** Runs a write of one tenant so that no `getRecent` answer read before it outlives it. */
  async #writing<Result>(tenantId: string, write: () => Promise<Result>): Promise<Result> {
    this.#writeGeneration += 1;
    this.#recent.delete(tenantId);
    try {
      return await write();
    } finally {
      this.#writeGeneration += 1;
      this.#recent.delete(tenantId);
    }
  }

  /** Looks a tenant up by name: case-insensitively, legacy tenants (without a name claim) included. */
  async getByName(name: string): Promise<Tenant | undefined> {
    const claim = await this.claims.get(tenantNameClaimId(name));
    if (claim) {
      const tenant = await this.get(claim.owner);
      if (tenant && normalizeTenantName(tenant.tenant_name) === normalizeTenantName(name)) return tenant;
    }
    const [exact] = await this.table.queryAll({
      indexName: INDEX.tenantName,
      key: { tenant_name: name.trim() },
    });
    if (exact) return this.parse(exact);
    const [legacy] = await this.legacyHolders(name);
    return legacy ? this.parse(legacy) : undefined;
  }

  /**
   * Every tenant, a page at a time. A Scan, on purpose: this is an administrator's listing, tenants
   * are few (one per customer organisation), and no tenant's request path ever calls it.
   */
  async list(page?: PageRequest): Promise<Page<Tenant>> {
    return this.table.scanPage(page, (item) => this.parse(item));
  }

  /**
   * Updates the description and/or the name. A rename claims the new name first, then updates
   * the tenant on condition that its name is still the one read, then releases the old claim.
   */
  async update(tenantId: string, input: UpdateTenantInput): Promise<Tenant> {
    return this.#writing(tenantId, () => this.#update(tenantId, input));
  }

  async #update(tenantId: string, input: UpdateTenantInput): Promise<Tenant> {
    const data = parseInput(UpdateTenantInputSchema, input, 'tenant');
    const current = await this.get(tenantId);
    if (!current) throw new NotFoundError('tenant', tenantId);
    const now = toIsoUtc(this.clock());

    const renaming = data.tenant_name !== undefined && data.tenant_name !== current.tenant_name;
    if (!renaming || data.tenant_name === undefined) {
      const updated = await this.table.update(
        { tenant_id: tenantId },
        { set: { description: data.description, updated_at: now } },
        EXISTS,
      );
      if (!updated) throw new NotFoundError('tenant', tenantId);
      return this.parse(updated);
    }

    const newName = data.tenant_name;
    const sameClaim = normalizeTenantName(newName) === normalizeTenantName(current.tenant_name);
    const newClaimId = tenantNameClaimId(newName);
    const oldClaimId = tenantNameClaimId(current.tenant_name);
    let claimed = false;
    if (!sameClaim) {
      if (await this.legacyHolderOf(newName, tenantId)) throw nameTaken(newName);
      claimed = await this.claimName(newClaimId, tenantId, newName);
    }
    let updated: Item | undefined;
    try {
      updated = await this.table.update(
        { tenant_id: tenantId },
        { set: { tenant_name: newName, description: data.description, updated_at: now } },
        {
          expression: 'attribute_exists(#id) AND #name = :expectedName',
          names: { '#id': 'tenant_id', '#name': 'tenant_name' },
          values: { ':expectedName': current.tenant_name },
        },
      );
    } catch (error) {
      if (claimed) await this.claims.release(newClaimId, tenantId);
      throw error;
    }
    if (!updated) {
      if (claimed) await this.claims.release(newClaimId, tenantId);
      if (!(await this.get(tenantId))) throw new NotFoundError('tenant', tenantId);
      throw new ConflictError(`tenant ${tenantId} was renamed meanwhile; read it again`, 'tenant_name');
    }
    if (!sameClaim) await this.claims.release(oldClaimId, tenantId);
    return this.parse(updated);
  }

  /** Status → disabled (idempotent). The name stays taken. */
  async disable(tenantId: string): Promise<Tenant> {
    return this.#writing(tenantId, () => this.#disable(tenantId));
  }

  async #disable(tenantId: string): Promise<Tenant> {
    const now = toIsoUtc(this.clock());
    const current = await this.get(tenantId);
    if (!current) throw new NotFoundError('tenant', tenantId);
    if (current.status === 'disabled') return current;
    const updated = await this.table.update(
      { tenant_id: tenantId },
      { set: { status: 'disabled', disabled_at: now, updated_at: now } },
      EXISTS,
    );
    if (!updated) throw new NotFoundError('tenant', tenantId);
    return this.parse(updated);
  }

  /** Deletes the tenant and frees its name. NotFoundError when there is no such tenant. */
  async delete(tenantId: string): Promise<Tenant> {
    return this.#writing(tenantId, () => this.#delete(tenantId));
  }

  async #delete(tenantId: string): Promise<Tenant> {
    const deleted = await this.table.delete({ tenant_id: tenantId }, EXISTS);
    if (!deleted) throw new NotFoundError('tenant', tenantId);
    const tenant = this.parse(deleted);
    await this.releaseIfOwned(tenantNameClaimId(tenant.tenant_name), tenantId);
    return tenant;
  }

  /** Claims a name for a tenant; true when this call took it. ConflictError on `tenant_name` otherwise. */
  private async claimName(claimId: string, tenantId: string, name: string): Promise<boolean> {
    try {
      const result = await this.claims.claim(claimId, tenantId, { entity: 'tenant' });
      return result.created;
    } catch (error) {
      if (error instanceof ConflictError) throw nameTaken(name);
      throw error;
    }
  }

  private async releaseIfOwned(claimId: string, tenantId: string): Promise<void> {
    try {
      await this.claims.release(claimId, tenantId);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  /**
   * A tenant other than `tenantId` holding this exact name through the legacy name index (legacy
   * tenants predate claims; the index matches exact names only).
   */
  private async legacyHolderOf(name: string, tenantId: string): Promise<boolean> {
    const holders = await this.legacyHolders(name);
    return holders.some((item) => item.tenant_id !== tenantId);
  }

  /**
   * Tenants whose name is `name` under the one rule (normalizeTenantName), claim or not: legacy
   * tenants were written before claims existed, so the index (exact names) cannot find "Legacy Co"
   * for "legacy co". A Scan, on purpose: only tenant creation, renames and lookups by name come
   * here, tenants are few, and no tenant's request path calls it.
   */
  private async legacyHolders(name: string): Promise<Item[]> {
    const wanted = normalizeTenantName(name);
    const holders: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.table.scanPage({ limit: 100, ...(cursor ? { cursor } : {}) }, (item) => item);
      for (const item of page.items) {
        if (typeof item.tenant_name === 'string' && normalizeTenantName(item.tenant_name) === wanted) {
          holders.push(item);
        }
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return holders;
  }

  private parse(item: Item): Tenant {
    return parseStored(TenantSchema, item, 'tenant', 'tenant_id');
  }
}
