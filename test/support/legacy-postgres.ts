import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { type LegacyDatabaseSummary, seedLegacyDatabase } from '../fixtures/legacy/legacy-postgres-fixtures';

export interface LegacyPostgres {
  db: PGlite;
  /** postgresql:// URL of the socket server (real wire protocol, for the `pg` client). */
  url: string;
  summary: LegacyDatabaseSummary;
  close(): Promise<void>;
}

/**
 * The legacy database on PGlite behind a PostgreSQL wire-protocol socket (PGlite.create takes
 * seconds: one per test file).
 */
export async function startLegacyPostgres(options: { accounts: number }): Promise<LegacyPostgres> {
  const db = await PGlite.create();
  const summary = await seedLegacyDatabase(db, options);
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 4 });
  await server.start();
  return {
    db,
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    summary,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
