// Each run gets its own schema in the shared test database (DB_SCHEMA), named with its start time
// so a run that was interrupted before afterAll is cleaned up by a later one.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SCHEMA_RE = /^e2e_(\d+)_[0-9a-f]+$/;

export function newSchemaName(): string {
  return `e2e_${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function dropSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_RE.test(schema)) throw new Error(`refusing to drop schema ${schema}: not an e2e schema`);
  return withClient(url, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}

/** Drops e2e schemas older than `maxAgeSeconds` (left by runs that were killed). */
export function dropStaleSchemas(url: string, maxAgeSeconds = 3_600): Promise<string[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'e2e\\_%'",
    );
    const cutoff = Date.now() / 1000 - maxAgeSeconds;
    const stale = rows
      .map((row) => row.nspname)
      .filter((name) => Number(SCHEMA_RE.exec(name)?.[1] ?? Number.POSITIVE_INFINITY) < cutoff);
    for (const name of stale) {
      // Another suite may be dropping the same schema right now; either outcome is fine.
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => undefined);
    }
    return stale;
  });
}
