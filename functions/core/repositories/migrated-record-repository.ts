import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod/mini';
import { AccountSchema } from '../../../schemas/account';
import { ExecutionSchema } from '../../../schemas/execution';
import { ProviderSchema } from '../../../schemas/provider';
import { ScanResultSchema } from '../../../schemas/scan-result';
import { ScheduleSchema } from '../../../schemas/schedule';
import { TABLES, type TableNames } from '../../../schemas/tables';
import { TenantSchema } from '../../../schemas/tenant';
import { ConflictError } from '../errors';
import { ClaimRepository } from './claim-repository';
import { DynamoDbTable, type Item } from './dynamodb-table';
import { parseStored } from './stored-item';
import { tenantNameClaimId } from './tenant-repository';

/** The entities a migration moves, keyed like the tables. */
export type MigratedEntity =
  | 'tenants'
  | 'providers'
  | 'accounts'
  | 'schedules'
  | 'executions'
  | 'scanResults';

export const MIGRATED_ENTITIES: readonly MigratedEntity[] = [
  'tenants',
  'providers',
  'accounts',
  'schedules',
  'executions',
  'scanResults',
];

const ENTITY: Record<MigratedEntity, { schema: z.ZodMiniType<Item>; idAttribute: string; label: string }> = {
  tenants: { schema: TenantSchema, idAttribute: 'tenant_id', label: 'tenant' },
  providers: { schema: ProviderSchema, idAttribute: 'provider_id', label: 'provider' },
  accounts: { schema: AccountSchema, idAttribute: 'account_id', label: 'account' },
  schedules: { schema: ScheduleSchema, idAttribute: 'schedule_id', label: 'schedule' },
  executions: { schema: ExecutionSchema, idAttribute: 'execution_id', label: 'execution' },
  scanResults: { schema: ScanResultSchema, idAttribute: 'scan_id', label: 'scan result' },
};

export type SaveOutcome = 'created' | 'unchanged' | 'updated';

export interface Comparison {
  outcome: SaveOutcome;
  /** The fields whose stored value differs from the record's (names only, never values). */
  differences: string[];
}

export interface CompareOptions {
  /**
   * Fields the runtime keeps up to date after the move (a schedule's next_run_at): compared only
   * when the stored item lacks them, never overwritten once there.
   */
  runtimeFields?: readonly string[];
  /**
   * The record was built from the stored item itself (adoption in place): it is compared with the
   * stored item as it is (a naive timestamp or a null differs) and replaces it whole when it differs.
   */
  inPlace?: boolean;
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Item).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

/**
 * Writes records moved from the legacy service, with their ids, statuses and timestamps as they
 * were (the repositories' create methods start every entity afresh). Each record is parsed with
 * its entity schema first, so what is written reads back under it (timestamps normalized to
 * ISO-8601 UTC `Z`, as every repository writes them); a record that does not parse is a
 * StoredItemError naming the fields. Idempotent by id: an identical record is left alone, a
 * changed one has the migrated fields replaced (fields only the new service writes are kept).
 */
export class MigratedRecordRepository {
  private readonly tables: Record<MigratedEntity, DynamoDbTable>;
  private readonly claims: ClaimRepository;

  constructor(options: { client: DynamoDBDocumentClient; tables: TableNames }) {
    const { client, tables } = options;
    this.tables = {
      tenants: new DynamoDbTable(client, tables.tenants, TABLES.tenants),
      providers: new DynamoDbTable(client, tables.providers, TABLES.providers),
      accounts: new DynamoDbTable(client, tables.accounts, TABLES.accounts),
      schedules: new DynamoDbTable(client, tables.schedules, TABLES.schedules),
      executions: new DynamoDbTable(client, tables.executions, TABLES.executions),
      scanResults: new DynamoDbTable(client, tables.scanResults, TABLES.scanResults),
    };
    this.claims = new ClaimRepository({ client, tableName: tables.claims });
  }

  /** The record as it will be stored: parsed by its entity schema, without null attributes. */
  prepare(entity: MigratedEntity, record: Item): Item {
    const { schema, idAttribute, label } = ENTITY[entity];
    return this.tables[entity].writable(parseStored(schema, record, label, idAttribute));
  }

  /** The stored item of this id (raw), or undefined. */
  async get(entity: MigratedEntity, id: string): Promise<Item | undefined> {
    return this.tables[entity].get({ [ENTITY[entity].idAttribute]: id });
  }

  /** How the stored item differs from a prepared record (the stored one parsed the same way first). */
  compare(
    entity: MigratedEntity,
    prepared: Item,
    stored: Item | undefined,
    options: CompareOptions = {},
  ): Comparison {
    if (!stored) return { outcome: 'created', differences: [] };
    let normalized: Item = stored;
    if (!options.inPlace) {
      try {
        normalized = this.prepare(entity, stored);
      } catch {
        normalized = stored;
      }
    }
    const runtime = new Set(options.runtimeFields ?? []);
    const fields = options.inPlace
      ? new Set([...Object.keys(prepared), ...Object.keys(stored)])
      : Object.keys(prepared);
    const differences = [...fields].filter(
      (field) =>
        !(runtime.has(field) && normalized[field] !== undefined) &&
        canonical(prepared[field]) !== canonical(normalized[field]),
    );
    return { outcome: differences.length === 0 ? 'unchanged' : 'updated', differences };
  }

  /** Writes a prepared record unless the stored item already matches it; with dryRun only compares. */
  async save(
    entity: MigratedEntity,
    prepared: Item,
    options: CompareOptions & { dryRun?: boolean } = {},
  ): Promise<Comparison> {
    const table = this.tables[entity];
    const { idAttribute } = ENTITY[entity];
    const id = prepared[idAttribute] as string;
    const stored = await this.get(entity, id);
    const comparison = this.compare(entity, prepared, stored, options);
    if (options.dryRun || comparison.outcome === 'unchanged') return comparison;
    if (!stored) {
      const written = await table.put(prepared, {
        expression: 'attribute_not_exists(#id)',
        names: { '#id': idAttribute },
      });
      if (written) return comparison;
      // Written meanwhile (another run of the same migration): compare with what is there now.
      return this.save(entity, prepared, options);
    }
    if (options.inPlace) {
      await table.put(prepared);
      return comparison;
    }
    const runtime = new Set(options.runtimeFields ?? []);
    const kept = Object.fromEntries(
      Object.entries(prepared).filter(([field]) => !(runtime.has(field) && stored[field] !== undefined)),
    );
    await table.put({ ...stored, ...kept });
    return comparison;
  }

  /**
   * Takes the tenant's name claim (case-insensitive uniqueness, as the tenant repository keeps
   * it). ConflictError on `tenant_name` when another tenant holds the name.
   */
  async claimTenantName(tenantId: string, tenantName: string, options: { dryRun?: boolean } = {}) {
    const claimId = tenantNameClaimId(tenantName);
    if (options.dryRun) {
      const claim = await this.claims.get(claimId);
      if (claim && claim.owner !== tenantId) throw nameTaken(tenantName);
      return;
    }
    try {
      await this.claims.claim(claimId, tenantId, { entity: 'tenant' });
    } catch (error) {
      if (error instanceof ConflictError) throw nameTaken(tenantName);
      throw error;
    }
  }

  /** Every stored item of a table, a page at a time (raw: adoption checks them against the schemas). */
  async *scanAll(entity: MigratedEntity, pageSize = 100): AsyncGenerator<Item> {
    let cursor: string | undefined;
    do {
      const page = await this.tables[entity].scanPage({ limit: pageSize, cursor }, (item) => item);
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(
    `another tenant already holds the name '${name}' (names are case-insensitive)`,
    'tenant_name',
  );
}
