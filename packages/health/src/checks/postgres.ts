import { createRequire } from 'node:module';
import { checkOptions as checkSchema, rejectUnknownKeys, rules } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import { type ErrorEmitterLike, warnIfNoErrorListener } from '../listeners.js';
import type { CheckContext, CheckOptions, CheckOutcome, HealthCheckDefinition } from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/**
 * The part of a `pg` `PoolClient` the check uses. `on`/`removeListener`: pg-pool takes its own
 * `'error'` listener off a checked-out client, so the check attaches one while it holds the client
 * (a connection that dies mid-query then fails the check instead of crashing the process).
 */
export interface PgClientLike extends ErrorEmitterLike {
  /** Runs one parameterized query; the check reads its first row. A rejection fails the check. */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** `release(err)` with an error destroys the connection instead of returning it to the pool. */
  release(err?: Error | boolean): void;
}

/**
 * The part of a `pg` `Pool` the check uses; a `pg.Pool` fits. One shape across the SDK: it is a
 * superset of `@deia/metrics`' `PgPoolLike` (the counts `metrics.observePgPool(pool)` samples), so
 * the pool you give `postgresCheck` also fits `observePgPool`. Give your pool an `'error'` listener
 * (`pool.on('error', ...)`): pg emits idle clients' errors (a server restart) on the pool, and with
 * no listener that crashes the process. The check warns once when there is none.
 */
export interface PgPoolLike extends ErrorEmitterLike {
  /** Checks out a client, released after each run; a rejection fails the check. */
  connect(): Promise<PgClientLike>;
  /** Clients the pool holds, idle or checked out (`pool_total` in the check's details). */
  readonly totalCount: number;
  /** Clients connected and not checked out (`pool_idle`). */
  readonly idleCount: number;
  /** Callers queued for a client because the pool is at `max` (`pool_waiting`). */
  readonly waitingCount: number;
  /** The pool's settings; `max` is its size. */
  readonly options?: { max?: number };
}

/** `postgresCheck({ connectionString })`: the check creates and owns a one-connection pool. */
export interface PostgresConnectionConfig {
  /** A `postgres://` URL, passed to `pg.Pool`; an empty or missing one throws `DEIA_HEALTH_OPTIONS`. */
  connectionString: string;
  /** Passed to `pg.Pool` as is (e.g. `true` or `{ rejectUnauthorized: false }`). */
  ssl?: unknown;
}

/** Options of `postgresCheck`. */
export interface PostgresCheckOptions extends CheckOptions {
  /**
   * Schema whose tables are counted for `tables_accessible`.
   * @default the schemas on the connection's search path (`current_schemas(false)`)
   */
  schema?: string;
}

// One round trip: proves the connection works (what `SELECT 1` proves) and reads the details.
const SQL = `SELECT current_database() AS database,
  (SELECT count(*)::int FROM information_schema.tables
    WHERE table_type = 'BASE TABLE'
      AND table_schema = ANY(COALESCE($1::text[], current_schemas(false)))) AS tables_accessible`;

/** How long the owned pool keeps its one idle connection between runs. */
const OWNED_POOL_IDLE_MS = 30_000;

interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => PgPoolLike & {
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): unknown;
  };
}

/** Loads the optional peer `pg` when it is needed, with a clear error when it is missing. */
function loadPg(): PgModule {
  const req = createRequire(import.meta.url);
  try {
    const mod = req('pg') as PgModule & { default?: PgModule };
    return mod.Pool ? mod : (mod.default as PgModule);
  } catch (err) {
    throw new DeiaHealthError(
      'DEIA_HEALTH_PG_MISSING',
      `postgresCheck({ connectionString }) needs the "pg" package: npm install pg (or pass your pg Pool instead). ${
        (err as Error).message.split('\n')[0]
      }`,
    );
  }
}

const isPool = (x: unknown): x is PgPoolLike =>
  typeof x === 'object' && x !== null && typeof (x as PgPoolLike).connect === 'function';

/**
 * The check's own pool for `{ connectionString, ssl }` (checked; throws `DEIA_HEALTH_OPTIONS`), one
 * connection at most, made by `poolFor` on the first run; `end()` ends it once.
 */
function ownedPool(target: PostgresConnectionConfig): {
  poolFor: (timeoutMs: number) => PgPoolLike;
  end: () => Promise<void>;
} {
  if (target && typeof target === 'object')
    rejectUnknownKeys('postgresCheck', target, ['connectionString', 'ssl'], failOptions);
  const connectionString = (target as PostgresConnectionConfig | undefined)?.connectionString;
  if (typeof connectionString !== 'string' || connectionString === '') {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      'postgresCheck needs a pg Pool or { connectionString: "postgres://..." }.',
    );
  }
  const { Pool } = loadPg();
  const ssl = target.ssl;
  // Made on the first run, when the check's resolved timeout is known (its own `timeoutMs`, else
  // createHealth's `defaults.timeoutMs`): the pool gives up a connection attempt when the check does.
  let owned: ReturnType<typeof newPool> | undefined;
  const newPool = (timeoutMs: number) => {
    const p = new Pool({
      connectionString,
      ...(ssl !== undefined ? { ssl } : {}),
      max: 1,
      connectionTimeoutMillis: timeoutMs,
      idleTimeoutMillis: OWNED_POOL_IDLE_MS,
      allowExitOnIdle: true,
      application_name: 'deia-health',
    });
    // An idle client's error (server restart) must not crash the app; the next check reports it.
    p.on('error', () => undefined);
    return p;
  };
  let ended: Promise<void> | undefined;
  return {
    poolFor: (timeoutMs) => {
      owned ??= newPool(timeoutMs);
      return owned;
    },
    end: () => {
      ended ??= owned ? owned.end().catch(() => undefined) : Promise.resolve();
      return ended;
    },
  };
}

/**
 * PostgreSQL: one query on a pooled connection (database name, tables accessible in the schema,
 * latency, pool counts). The client is always given back, also on timeout: a client that did not
 * answer in time is destroyed (`release(err)`), never returned to the pool. Critical by default.
 *
 * With your `pg` Pool, set its `connectionTimeoutMillis`: pg cannot cancel a connection attempt,
 * so without it an attempt to a server that never answers stays in the pool until the socket dies.
 */
export function postgresCheck(
  target: PgPoolLike | PostgresConnectionConfig,
  options: PostgresCheckOptions = {},
): HealthCheckDefinition {
  checkSchema(
    'postgresCheck',
    options ?? {},
    { ...CHECK_OPTIONS_SCHEMA, schema: rules.nonEmptyString() },
    failOptions,
  );
  const { schema, ...checkOptions } = options;
  let poolFor: (timeoutMs: number) => PgPoolLike;
  let ownedEnd: (() => Promise<void>) | undefined;
  const ownsPool = !isPool(target);
  if (isPool(target)) {
    const pool = target;
    poolFor = () => pool;
  } else {
    ({ poolFor, end: ownedEnd } = ownedPool(target));
  }
  const values = [schema === undefined ? null : [schema]];

  // A connection that dies while checked out emits 'error' on its client; the query rejects too,
  // so the listener only has to exist (the rejection fails the check).
  const onClientError = () => undefined;

  const run = async (signal: AbortSignal, ctx: CheckContext): Promise<CheckOutcome> => {
    const pool = poolFor(ctx.timeoutMs);
    if (!ownsPool) {
      warnIfNoErrorListener(
        pool,
        'postgresCheck: the pg Pool',
        "an idle connection's error (a server restart, a failover) crashes the process. Add pool.on('error', (err) => log.warn(err)).",
      );
    }
    const start = performance.now();
    let client: PgClientLike | undefined;
    let released = false;
    const release = (err?: Error) => {
      if (!client || released) return;
      released = true;
      try {
        client.release(err);
      } catch {
        // already released by pg after a fatal error: keep the listener, the client is dead
        return;
      }
      // pg-pool has put its own idle listener back (and ends the client when err is set)
      client.removeListener?.('error', onClientError);
    };
    const onAbort = () => release(new Error('health check timed out; connection destroyed'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      client = await pool.connect();
      // attached before anything else can happen on this connection, removed only after release
      client.on?.('error', onClientError);
      if (signal.aborted) {
        // connected after the timeout: hand the connection back destroyed and stop
        release(new Error('health check timed out; connection destroyed'));
        return { status: 'fail', message: 'timed out' };
      }
      const result = await client.query(SQL, values);
      release();
      const row = (result.rows[0] ?? {}) as { database?: string; tables_accessible?: number };
      const latencyMs = performance.now() - start;
      return {
        status: 'pass',
        latencyMs,
        details: {
          database: row.database,
          tables_accessible: row.tables_accessible,
          ...(ownsPool
            ? {}
            : { pool_total: pool.totalCount, pool_idle: pool.idleCount, pool_waiting: pool.waitingCount }),
        },
      };
    } catch (err) {
      release(err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };

  return {
    kind: 'database',
    critical: true,
    ...checkOptions,
    run,
    ...(ownedEnd ? { close: ownedEnd } : {}),
  };
}
