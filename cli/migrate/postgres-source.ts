import pg from 'pg';

/**
 * Reads the legacy PostgreSQL database (the tables of its `database/schema.sql`) a page at a
 * time, by key (keyset pagination: `WHERE key > last ORDER BY key LIMIT n`), on one connection
 * and without holding a transaction: no table is ever held in memory whole, and nothing blocks a
 * second connection (PGlite serves one backend).
 *
 * `TIMESTAMP` (without time zone) columns are read as their text: the legacy service wrote naive
 * UTC, and node-postgres would otherwise read them in the process's local zone (a migration run
 * on a machine in Asia/Kolkata would shift every timestamp by 5h30).
 */

const TIMESTAMP_WITHOUT_TIME_ZONE_OID = 1114;

export type Row = Record<string, unknown>;

export type LegacyTable =
  | 'tenants'
  | 'providers'
  | 'accounts'
  | 'schedules'
  | 'schedule_executions'
  | 'scan_results';

/** Each legacy table's key (and its type, so the key comparison can use the primary-key index). */
const KEYS: Record<LegacyTable, { column: string; type: 'uuid' | 'text' }> = {
  tenants: { column: 'tenant_id', type: 'uuid' },
  providers: { column: 'provider_id', type: 'uuid' },
  accounts: { column: 'account_id', type: 'uuid' },
  schedules: { column: 'schedule_id', type: 'uuid' },
  schedule_executions: { column: 'execution_id', type: 'uuid' },
  scan_results: { column: 'scan_id', type: 'text' },
};

/** What each page selects: the row, plus what the target needs from its parents (uuids read as text). */
const SELECT: Record<LegacyTable, string> = {
  tenants: 'SELECT t.* FROM tenants t',
  providers: 'SELECT p.* FROM providers p',
  accounts: `SELECT a.*, p.provider_type AS provider_type
    FROM accounts a LEFT JOIN providers p ON p.provider_id = a.provider_id`,
  schedules: 'SELECT s.* FROM schedules s',
  schedule_executions: `SELECT e.*, a.tenant_id AS tenant_id, p.provider_type AS provider_type
    FROM schedule_executions e
    LEFT JOIN accounts a ON a.account_id = e.account_id
    LEFT JOIN providers p ON p.provider_id = a.provider_id`,
  scan_results: `SELECT r.*, a.tenant_id AS tenant_id
    FROM scan_results r LEFT JOIN accounts a ON a.account_id = r.account_id`,
};

const ALIAS: Record<LegacyTable, string> = {
  tenants: 't',
  providers: 'p',
  accounts: 'a',
  schedules: 's',
  schedule_executions: 'e',
  scan_results: 'r',
};

export interface LegacyCredentialRow {
  credential_id: string;
  account_id: string;
  credential_type: string;
  encrypted_data: Buffer;
  created_at: string | null;
  expires_at: string | null;
}

export class PostgresSource {
  private constructor(private readonly client: pg.Client) {}

  /** Connects (the URL is never printed: it may hold a password). */
  static async connect(connectionString: string): Promise<PostgresSource> {
    const client = new pg.Client({
      connectionString,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === TIMESTAMP_WITHOUT_TIME_ZONE_OID
            ? (value: string) => value
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // A connection lost between queries fails the next query; it must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot connect to the legacy PostgreSQL database: ${reason}`);
    }
    return new PostgresSource(client);
  }

  async count(table: LegacyTable): Promise<number> {
    const result = await this.client.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${table}`);
    return Number(result.rows[0]?.count ?? 0);
  }

  /** Every row of a table in key order, `pageSize` rows per query. */
  async *pages(table: LegacyTable, pageSize: number): AsyncGenerator<Row[]> {
    const key = KEYS[table];
    const alias = ALIAS[table];
    let last: string | undefined;
    for (;;) {
      const where = last === undefined ? '' : ` WHERE ${alias}.${key.column} > $2::${key.type}`;
      const result = await this.client.query<Row>(
        `${SELECT[table]}${where} ORDER BY ${alias}.${key.column} LIMIT $1`,
        last === undefined ? [pageSize] : [pageSize, last],
      );
      if (result.rows.length === 0) return;
      yield result.rows;
      if (result.rows.length < pageSize) return;
      last = String(result.rows.at(-1)?.[key.column]);
    }
  }

  /** The credential rows of these accounts, newest first within each account. */
  async credentialsOf(accountIds: readonly string[]): Promise<Map<string, LegacyCredentialRow[]>> {
    const byAccount = new Map<string, LegacyCredentialRow[]>();
    if (accountIds.length === 0) return byAccount;
    const result = await this.client.query<LegacyCredentialRow>(
      `SELECT credential_id, account_id, credential_type, encrypted_data, created_at, expires_at
        FROM account_credentials WHERE account_id = ANY($1::uuid[])
        ORDER BY account_id, created_at DESC NULLS LAST, credential_id DESC`,
      [accountIds],
    );
    for (const row of result.rows) {
      const rows = byAccount.get(row.account_id) ?? [];
      rows.push(row);
      byAccount.set(row.account_id, rows);
    }
    return byAccount;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
