import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createHealth,
  DEFAULT_HEALTH_OPTIONS,
  type Health,
  type PgPoolLike,
  postgresCheck,
} from '../src/index.js';
import {
  closedPort,
  DATABASE_URL,
  fakePostgres,
  get,
  httpServer,
  memoryLogger,
  sleep,
  tcpServer,
  timed,
  timedAgainst,
} from './helpers.js';

const opened: Array<{ close(): unknown; end?: () => unknown }> = [];
const track = <T extends { close?(): unknown; end?(): unknown }>(x: T): T => {
  opened.push(x as never);
  return x;
};
// these tests read the check's details: full detail unless a test says otherwise (who may see
// them is tested in health.test.ts)
const newHealth = (options: Parameters<typeof createHealth>[0]): Health =>
  track(createHealth({ detail: 'full', ...options }));
const newPool = (config: pg.PoolConfig) => {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  opened.push({ close: () => pool.end().catch(() => undefined) });
  return pool;
};
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

const TABLE = `deia_health_test_${process.pid}`;
beforeAll(async () => {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id int)`);
  await c.end();
});
afterAll(async () => {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await c.end();
});

describe('postgresCheck against the real PostgreSQL', () => {
  it('with the app pool: /health/db has the guides shape, the client goes back to the pool', async () => {
    const pool = newPool({ connectionString: DATABASE_URL, max: 5 });
    const health = newHealth({ checks: { database: postgresCheck(pool) } });
    const res = await get(health, '/health/db');
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status: 'connected', database: 'test' });
    expect(body.tables_accessible).toBeGreaterThanOrEqual(1);
    expect(body.latency_ms).toBeGreaterThan(0);
    expect(body.latency_ms).toBeLessThan(1000);
    expect(pool.totalCount).toBe(1);
    expect(pool.idleCount).toBe(1);
  });

  it('warns once (not per run) about a pool without an error listener; none with one; the client listener comes off at release', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if ((w as Error & { code?: string }).code === 'DEIA_HEALTH_NO_ERROR_LISTENER') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const bare = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
      opened.push({ close: () => bare.end().catch(() => undefined) });
      const health = newHealth({ cacheTtlMs: 0, checks: { database: postgresCheck(bare) } });
      for (let i = 0; i < 3; i++) expect((await health.run()).checks.database!.status).toBe('pass');
      const withListener = newPool({ connectionString: DATABASE_URL, max: 1 });
      const h2 = newHealth({ cacheTtlMs: 0, checks: { database: postgresCheck(withListener) } });
      await h2.run();
      await sleep(20); // warnings are emitted on the next tick
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/pg Pool has no 'error' listener/);
      // idle again: only pg-pool's own idle listener is left on the client
      const client = await withListener.connect();
      expect(client.listenerCount('error')).toBe(0);
      client.release();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('schema option counts that schema only', async () => {
    const pool = newPool({ connectionString: DATABASE_URL, max: 1 });
    const health = newHealth({ checks: { database: postgresCheck(pool, { schema: 'information_schema' }) } });
    const body = JSON.parse((await get(health, '/health/db')).body);
    expect(body.tables_accessible).toBeGreaterThan(0);
    const none = newHealth({ checks: { database: postgresCheck(pool, { schema: 'no_such_schema' }) } });
    expect(JSON.parse((await get(none, '/health/db')).body).tables_accessible).toBe(0);
  });

  it('with { connectionString }: owns a one-connection pool, closed by health.close()', async () => {
    // A name of this run's own (the connection string's application_name overrides the check's
    // default 'deia-health'): other test files and sessions on the server are not counted.
    const appName = `deia-health-test-${process.pid}`;
    const url = new URL(DATABASE_URL);
    url.searchParams.set('application_name', appName);
    const health = createHealth({ checks: { database: postgresCheck({ connectionString: url.href }) } });
    expect((await get(health, '/health/db')).statusCode).toBe(200);
    const admin = newPool({ connectionString: DATABASE_URL, max: 1 });
    const count = async () =>
      (
        await admin.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [appName],
        )
      ).rows[0]!.n;
    expect(await count()).toBe(1);
    await health.close();
    await expect.poll(count, { timeout: 5000 }).toBe(0);
  });

  it('1,000 concurrent /health/db requests over HTTP cause one query', async () => {
    const pool = newPool({ connectionString: DATABASE_URL, max: 5 });
    let queries = 0;
    // counts every connection taken for a query (pool.connect is the only way the check queries)
    const counting: PgPoolLike = {
      connect: () => {
        queries++;
        return pool.connect();
      },
      get totalCount() {
        return pool.totalCount;
      },
      get idleCount() {
        return pool.idleCount;
      },
      get waitingCount() {
        return pool.waitingCount;
      },
    };
    // a TTL far above how long 1,000 requests can take on a loaded machine: no expiry in between,
    // so every request after the first is served by the one run (in flight, then cached)
    const health = newHealth({ cacheTtlMs: 60_000, checks: { database: postgresCheck(counting) } });
    const server = track(
      await httpServer((req, res) => {
        const out = health.handle({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
        });
        if (!out) {
          res.statusCode = 404;
          res.end();
          return;
        }
        void out.then((r) => {
          res.writeHead(r.statusCode, r.headers);
          res.end(r.body);
        });
      }),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    const one = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${server.url}/health/db`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    const codes = await Promise.all(Array.from({ length: 1000 }, one));
    agent.destroy();
    expect(codes.every((c) => c === 200)).toBe(true);
    expect(queries).toBe(1);
  });

  it('database does not exist: unhealthy, reason without the connection string', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = '/no_such_database_deia';
    url.password = 'pa55word-in-url';
    const logger = memoryLogger();
    const health = newHealth({
      logger,
      detail: 'full',
      checks: { database: postgresCheck({ connectionString: url.href }) },
    });
    const res = await get(health, '/health/db');
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'disconnected', error: 'database does not exist' });
    const detailed = await get(health, '/health/detailed');
    for (const body of [res.body, detailed.body]) {
      expect(body).not.toMatch(/pa55word|postgres:\/\/|127\.0\.0\.1|5432|no_such_database/);
    }
    expect(logger.entries[0]!.obj.err).toBeInstanceOf(Error);
  });
});

describe('postgresCheck faults', () => {
  it('unknown role on the real server (its pg_hba trusts loopback, so no password fault there): unhealthy, no user shown', async () => {
    const url = new URL(DATABASE_URL);
    url.username = 'no_such_role_deia';
    url.password = 'hunter2';
    const pool = newPool({ connectionString: url.href, max: 1 });
    const health = newHealth({ detail: 'full', checks: { database: postgresCheck(pool) } });
    const res = await get(health, '/health/db');
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error).toBe('authorization failed');
    expect(res.body + (await get(health, '/health/detailed')).body).not.toMatch(/no_such_role|hunter2/);
    expect(pool.totalCount).toBe(0);
  });

  it('wrong password: unhealthy with "authentication failed", password never shown', async () => {
    const server = track(await fakePostgres('password'));
    const pool = newPool({
      connectionString: `postgres://app:wr0ng-pa55@127.0.0.1:${server.port}/app`,
      max: 2,
      connectionTimeoutMillis: 2000,
    });
    const health = newHealth({ detail: 'full', checks: { database: postgresCheck(pool) } });
    const { value: res, ms, stalledMs } = await timed(() => get(health, '/health/db'));
    expect(ms - stalledMs).toBeLessThan(1000);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'disconnected', error: 'authentication failed' });
    const all = res.body + (await get(health, '/health/detailed')).body + (await get(health, '/health')).body;
    expect(all).not.toMatch(/wr0ng|pa55|app:|127\.0\.0\.1|postgres:\/\//);
    expect(pool.totalCount).toBe(0);
  });

  it('port refused: unhealthy fast, "connection refused"', async () => {
    const port = await closedPort();
    const pool = newPool({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, max: 2 });
    const health = newHealth({ checks: { database: postgresCheck(pool) } });
    const { value: res, ms, stalledMs } = await timed(() => get(health, '/health/db'));
    expect(ms - stalledMs).toBeLessThan(500);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error).toBe('connection refused');
    expect((await get(health, '/health/ready')).statusCode).toBe(503);
    expect(pool.totalCount).toBe(0);
  });

  it('server accepts and never answers (connect hangs): timeout within 10%, no leaked client or socket', async () => {
    const hang = track(await tcpServer());
    const pool = newPool({
      connectionString: `postgres://postgres@127.0.0.1:${hang.port}/test`,
      max: 2,
      connectionTimeoutMillis: 1500,
    });
    const health = newHealth({ checks: { database: postgresCheck(pool, { timeoutMs: 1000 }) } });
    const { value: res, ms, lateMs } = await timedAgainst(1000, () => get(health, '/health/db'));
    expect(ms).toBeGreaterThanOrEqual(995);
    expect(ms).toBeLessThan(1100 + lateMs);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error).toBe('timed out after 1000 ms');
    // pg cannot cancel a connection attempt; its connectionTimeoutMillis ends it and the pool is empty again
    await expect.poll(() => pool.totalCount, { timeout: 5000 }).toBe(0);
    expect(pool.idleCount).toBe(0);
    await expect.poll(() => hang.open, { timeout: 5000 }).toBe(0);
  });

  it('server never answers the query: timeout within 10%, the client is destroyed, not returned to the pool', async () => {
    const hang = track(await fakePostgres('hang-query'));
    const pool = newPool({ connectionString: `postgres://postgres@127.0.0.1:${hang.port}/test`, max: 2 });
    const health = newHealth({
      cacheTtlMs: 0,
      checks: { database: postgresCheck(pool, { timeoutMs: 1000 }) },
    });
    const { value: res, ms, lateMs } = await timedAgainst(1000, () => get(health, '/health/db'));
    expect(ms).toBeGreaterThanOrEqual(995);
    expect(ms).toBeLessThan(1100 + lateMs);
    expect(res.statusCode).toBe(503);
    await expect.poll(() => pool.totalCount, { timeout: 5000 }).toBe(0);
    expect(pool.idleCount).toBe(0);
    await expect.poll(() => hang.open, { timeout: 5000 }).toBe(0);
    // the next run opens a new connection and times out the same way: no pile-up of clients
    await get(health, '/health/db');
    await expect.poll(() => pool.totalCount, { timeout: 5000 }).toBe(0);
    expect(hang.connections).toBe(2);
  });

  it('connection completes after the timeout: the late client is destroyed, not kept', async () => {
    const slow = track(await fakePostgres('slow-startup', 1500));
    const pool = newPool({ connectionString: `postgres://postgres@127.0.0.1:${slow.port}/test`, max: 2 });
    const health = newHealth({ checks: { database: postgresCheck(pool, { timeoutMs: 1000 }) } });
    const { value: res, ms, lateMs } = await timedAgainst(1000, () => get(health, '/health/db'));
    expect(ms).toBeLessThan(1100 + lateMs);
    expect(res.statusCode).toBe(503);
    expect(pool.totalCount).toBe(1); // still connecting: pg cannot cancel it
    // the start-up completes at 1.5 s; the check then destroys the late client
    await expect.poll(() => pool.totalCount, { timeout: 5000 }).toBe(0);
    await expect.poll(() => slow.open, { timeout: 5000 }).toBe(0);
  });

  it('without connectionTimeoutMillis a hanging connect stays pending in the pool; no second attempt piles up', async () => {
    const hang = track(await tcpServer());
    const pool = newPool({ connectionString: `postgres://postgres@127.0.0.1:${hang.port}/test`, max: 5 });
    const health = newHealth({
      cacheTtlMs: 0,
      checks: { database: postgresCheck(pool, { timeoutMs: 300 }) },
    });
    for (let i = 0; i < 5; i++) expect((await get(health, '/health/db')).statusCode).toBe(503);
    expect(hang.connections).toBe(1);
    expect(pool.totalCount).toBe(1);
    await hang.close(); // the server goes away: the attempt errors and leaves the pool
    await expect.poll(() => pool.totalCount, { timeout: 5000 }).toBe(0);
  });

  it('{ connectionString } pointing at a server that never answers: bounded, pool closed after', async () => {
    const hang = track(await tcpServer());
    const health = createHealth({
      checks: {
        database: postgresCheck(
          { connectionString: `postgres://u:secret@127.0.0.1:${hang.port}/x` },
          { timeoutMs: 500 },
        ),
      },
    });
    const { value: res, ms, lateMs } = await timedAgainst(500, () => get(health, '/health/db'));
    expect(ms).toBeLessThan(550 + lateMs);
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toMatch(/secret/);
    await health.close();
    await expect.poll(() => hang.open, { timeout: 5000 }).toBe(0);
  });

  // One source for the check's timeout: the owned pool's connection timeout is the check's resolved
  // timeout, createHealth's `defaults.timeoutMs` included (it was `options.timeoutMs ?? 5000`).
  it("with { connectionString }: the pool's connection timeout follows createHealth's defaults.timeoutMs", async () => {
    // PostgreSQL itself, behind a proxy that forwards each connection only after a delay longer
    // than the default timeout: with defaults.timeoutMs above that delay the check must pass.
    const delayMs = DEFAULT_HEALTH_OPTIONS.timeoutMs + 1000;
    const db = new URL(DATABASE_URL);
    const slow = track(
      await tcpServer((socket) => {
        socket.pause();
        setTimeout(() => {
          const upstream = connect(Number(db.port || 5432), db.hostname);
          upstream.on('error', () => socket.destroy());
          socket.on('close', () => upstream.destroy());
          socket.pipe(upstream).pipe(socket);
        }, delayMs).unref();
      }),
    );
    const url = new URL(DATABASE_URL);
    url.port = String(slow.port);
    const health = newHealth({
      checks: { database: postgresCheck({ connectionString: url.href }) },
      defaults: { timeoutMs: delayMs + 4000 },
    });
    const res = await get(health, '/health/db');
    expect(res.body).toContain('"status":"connected"');
    expect(res.statusCode).toBe(200);
  }, 30_000);

  it("with { connectionString }: a short defaults.timeoutMs gives up the pool's connection attempt too", async () => {
    const hang = track(await tcpServer());
    const health = newHealth({
      checks: { database: postgresCheck({ connectionString: `postgres://u@127.0.0.1:${hang.port}/x` }) },
      defaults: { timeoutMs: 300 },
    });
    expect((await get(health, '/health/db')).statusCode).toBe(503);
    // pg's own connection timeout (the check's 300 ms) drops the socket; health.close() is not
    // called, so the attempt no longer waits for a 5 s constant
    await expect.poll(() => hang.open, { timeout: DEFAULT_HEALTH_OPTIONS.timeoutMs - 1000 }).toBe(0);
    expect(hang.connections).toBe(1);
  });

  it('bad input throws a coded error without echoing the input', () => {
    expect(() => postgresCheck({ connectionString: '' })).toThrow(/pg Pool or \{ connectionString/);
    expect(() => postgresCheck(undefined as never)).toThrow(/DEIA_HEALTH_OPTIONS/);
  });
});
