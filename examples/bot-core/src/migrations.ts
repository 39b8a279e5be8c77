import type pg from 'pg';

/** Quotes an identifier (schema names come from validated configuration). */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Schema migrations, applied in order at start-up (and when the database first becomes reachable).
 * Version 1 creates the three tables of the guides and the index they recommend for a bot's
 * recent messages: `CREATE INDEX idx_bot_created ON chat_messages(bot_id, created_at DESC)`.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: (schema: string) => string }> = [
  {
    version: 1,
    name: 'bots, chat_messages, audit_logs',
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.bots (
        id          text PRIMARY KEY,
        status      text NOT NULL,
        model       text NOT NULL,
        restarts    integer NOT NULL DEFAULT 0,
        last_error  text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS ${s}.chat_messages (
        id          bigserial PRIMARY KEY,
        bot_id      text NOT NULL,
        task_id     uuid,
        role        text NOT NULL CHECK (role IN ('user', 'assistant')),
        content     text NOT NULL,
        model       text,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS idx_bot_created ON ${s}.chat_messages (bot_id, created_at DESC);
      CREATE TABLE IF NOT EXISTS ${s}.audit_logs (
        id          bigserial PRIMARY KEY,
        action      text NOT NULL,
        bot_id      text,
        details     jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS idx_audit_created ON ${s}.audit_logs (created_at DESC);
    `,
  },
  {
    version: 2,
    name: 'task_queue (accepted messages survive restarts), one exchange per task',
    // A message answered 202 is a row here until its exchange is stored (in the same statement
    // that deletes it) or it fails; a restart re-queues what is left. The unique index makes a
    // replayed or re-run exchange a no-op, so nothing is stored twice.
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.task_queue (
        id           uuid PRIMARY KEY,
        bot_id       text NOT NULL,
        message      text NOT NULL,
        enqueued_at  timestamptz NOT NULL
      );
      DELETE FROM ${s}.chat_messages a USING ${s}.chat_messages b
        WHERE a.task_id = b.task_id AND a.role = b.role AND a.id > b.id;
      CREATE UNIQUE INDEX IF NOT EXISTS idx_chat_task_role ON ${s}.chat_messages (task_id, role)
        WHERE task_id IS NOT NULL;
    `,
  },
];

/**
 * Applies pending migrations on one connection, in one transaction, under an advisory lock so
 * two replicas starting together do not race. Returns the versions applied.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<number[]> {
  const s = ident(schema);
  const client = await pool.connect();
  // pg-pool removes its own 'error' listener from a checked-out client: if the connection dies
  // mid-migration the client emits 'error', which would crash the process without this listener.
  // The failed query rejects as well, so the error is reported through the throw below.
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(727860017)');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)).rows.map(
        (r) => r.version,
      ),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    // a client whose connection failed is destroyed, not returned to the pool
    client.release(lost);
    client.removeListener('error', onError);
  }
}
