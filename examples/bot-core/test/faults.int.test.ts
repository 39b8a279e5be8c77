// The examples' database side under network faults, against the real PostgreSQL behind a fault
// proxy: a connection lost while a client is checked out (migrations, postgresCheck(pool)) must
// become degraded mode or a rejected call, never an uncaught 'error' event.
import { createHealth, postgresCheck } from '@deia/health';
import { createMetrics } from '@deia/metrics';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate, Store } from '../src/index.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { DATABASE_URL, dropSchema, uniqueSchema, waitFor } from './helpers.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

describe('database faults with a checked-out client (real PostgreSQL behind a fault proxy)', () => {
  let proxy: FaultProxy;
  const schemas: string[] = [];
  beforeAll(async () => {
    const u = new URL(DATABASE_URL);
    proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port || 5432) });
    process.on('uncaughtException', onUncaught);
  });
  afterEach(() => {
    proxy.delayMs = 0;
    uncaught.length = 0;
  });
  afterAll(async () => {
    process.removeListener('uncaughtException', onUncaught);
    await proxy?.close();
    for (const s of schemas) await dropSchema(s);
  });
  const viaProxy = () => {
    const u = new URL(DATABASE_URL);
    u.port = String(proxy.port);
    return u.toString();
  };

  it('a connection reset in the middle of migrate() rejects it; nothing is thrown out of band', async () => {
    const schema = uniqueSchema('mig');
    schemas.push(schema);
    const pool = new pg.Pool({ connectionString: viaProxy(), max: 2 });
    pool.on('error', () => undefined); // the app's usual idle-client listener; migrate() adds its own
    try {
      proxy.delayMs = 40;
      let checkedOut = false;
      pool.once('acquire', () => {
        checkedOut = true;
      });
      const running = migrate(pool, schema);
      // the client is checked out and its BEGIN is on the wire: the reset lands mid-transaction
      await waitFor('migration client checked out', async () => checkedOut, 5_000);
      proxy.reset();
      await expect(running).rejects.toThrow(/terminated|ECONNRESET|closed/i);
      // let the socket's close events run: an unlistened 'error' would surface here
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
      expect(pool.totalCount).toBe(0); // the broken client was destroyed, not returned
      proxy.delayMs = 0;
      expect((await migrate(pool, schema)).length).toBeGreaterThan(0); // applies after recovery
    } finally {
      await pool.end();
    }
  });

  it('postgresCheck(store.pool) under repeated resets: no crash, degraded, recovers, no leaked clients', async () => {
    const schema = uniqueSchema('chk');
    schemas.push(schema);
    const metrics = createMetrics();
    const store = new Store({
      connectionString: viaProxy(),
      schema,
      poolMax: 4,
      metrics,
      logger: quiet,
      heartbeatMs: 100,
      probe: { initialMs: 50, maxMs: 200 },
    });
    const health = createHealth({ checks: { database: postgresCheck(store.pool) }, cacheTtlMs: 0 });
    try {
      await store.start();
      expect(store.isAvailable).toBe(true);
      proxy.delayMs = 30;
      let stop = false;
      let runs = 0;
      const loop = (async () => {
        while (!stop) {
          await health.run();
          runs++;
        }
      })();
      let wentDown = 0;
      store.onAvailabilityChange((up) => {
        if (!up) wentDown++;
      });
      for (let i = 0; i < 20; i++) {
        const before = runs;
        await waitFor('a check in flight', async () => runs > before && proxy.connections > 0, 5_000);
        await new Promise((r) => setTimeout(r, 10 + (i % 4) * 10));
        proxy.reset();
      }
      stop = true;
      await loop;
      proxy.delayMs = 0;
      expect(uncaught).toEqual([]);
      expect(wentDown).toBeGreaterThan(0);
      await waitFor(
        'database back',
        async () => store.isAvailable && (await health.run()).status === 'healthy',
      );
      // what was destroyed left the pool; at most poolMax clients remain
      expect(store.pool.totalCount).toBeLessThanOrEqual(4);
      expect(store.pool.waitingCount).toBe(0);
    } finally {
      await health.close();
      await store.close();
    }
    expect(store.pool.totalCount).toBe(0);
  }, 60_000);
});
