// Fault injection: a service (fault/service.ts, a child process) with the real PostgreSQL and its
// own redis-server, each behind a TCP proxy that refuses, blackholes, resets mid-query or mid-
// handshake and goes half-open. Each scenario asserts the process stays up, probes answer within
// their timeout + 10%, the status is right, it recovers within one refresh interval (+ the check's
// timeout) once the fault clears, and 1,000 faulted checks leak no socket or pool client.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from './fault/proxy.js';
import { sleep, startRedisServer } from './helpers.js';

const TIMEOUT_MS = 1000;
const REFRESH_MS = 500;
const root = fileURLToPath(new URL('../../..', import.meta.url));
const serviceFile = fileURLToPath(new URL('./fault/service.ts', import.meta.url));

interface Service {
  base: string;
  child: ChildProcess;
  stderr: () => string;
  get(path: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }>;
  stats(): Promise<{ fds: number; pool: { total: number; idle: number; waiting: number } | null }>;
  stop(): Promise<void>;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', serviceFile], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not left running: afterAll only knows the services that started
      reject(new Error(`service did not start: ${err}`));
    }, 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      const m = /READY (\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}: ${err}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    child,
    stderr: () => err,
    async get(path) {
      const start = performance.now();
      const res = await fetch(base + path, { signal: AbortSignal.timeout(30_000) });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      return { status: res.status, body, ms: performance.now() - start };
    },
    async stats() {
      return (await (await fetch(`${base}/stats`)).json()) as Awaited<ReturnType<Service['stats']>>;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Polls `probe` until `ok` holds; returns how long that took. Fails after `withinMs`. */
async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, withinMs: number): Promise<number> {
  const start = performance.now();
  let last: T | undefined;
  while (performance.now() - start < withinMs) {
    last = await probe();
    if (ok(last)) return performance.now() - start;
    await sleep(25);
  }
  throw new Error(`condition not met within ${withinMs} ms; last: ${JSON.stringify(last)}`);
}

const table: Array<Record<string, string | number>> = [];

for (const mode of ['pool', 'url'] as const) {
  const label = mode === 'pool' ? 'postgresCheck(pool)' : 'postgresCheck({ connectionString })';
  describe(`faults, ${label} + redisCheck(ioredis)`, () => {
    let pgProxy: FaultProxy;
    let redisProxy: FaultProxy;
    let redisServer: Awaited<ReturnType<typeof startRedisServer>>;
    let svc: Service;
    let loop: Service;

    beforeAll(async () => {
      redisServer = await startRedisServer();
      pgProxy = await new FaultProxy(5432).start();
      redisProxy = await new FaultProxy(redisServer.port).start();
      const env = {
        PG_PORT: String(pgProxy.port),
        REDIS_PORT: String(redisProxy.port),
        PG_MODE: mode,
        TIMEOUT_MS: String(TIMEOUT_MS),
      };
      [svc, loop] = await Promise.all([
        startService({ ...env, REFRESH_MS: String(REFRESH_MS) }),
        startService({ ...env, REFRESH_MS: '0' }),
      ]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([svc?.stop(), loop?.stop()]);
      await pgProxy?.close();
      await redisProxy?.close();
      await redisServer?.stop();
      if (table.length > 0 && mode === 'url') console.table(table);
    }, 30_000);

    const alive = () => {
      expect(svc.stderr()).not.toMatch(/UNCAUGHT/);
      expect(svc.child.exitCode).toBeNull();
      expect(loop.stderr()).not.toMatch(/UNCAUGHT/);
      expect(loop.child.exitCode).toBeNull();
    };

    /** Drives a fault, checks status and probe latency, clears it and measures recovery. */
    async function scenario(
      name: string,
      fault: () => Promise<void> | void,
      expected: { health: number; db?: number; cache?: number },
    ) {
      const before = await svc.stats();
      await fault();
      // the fault becomes visible within failureThreshold (2) refreshes + timeouts
      const path = expected.db ? '/health/db' : '/health/cache';
      const code = expected.db ?? expected.cache;
      await until(
        () => svc.get(path),
        (r) => r.status === code,
        3 * (REFRESH_MS + TIMEOUT_MS) + 2000,
      );
      // while the fault lasts every probe answers fast, from the last result
      let worst = 0;
      for (let i = 0; i < 10; i++) {
        const probes = await Promise.all([
          svc.get('/health'),
          svc.get('/health/ready'),
          svc.get('/health/live'),
          ...(expected.db ? [svc.get('/health/db')] : []),
          ...(expected.cache ? [svc.get('/health/cache')] : []),
        ]);
        const [h, , live, ...rest] = probes;
        expect(h!.status).toBe(expected.health);
        expect(live!.status).toBe(200);
        if (expected.db) expect(rest[0]!.status).toBe(expected.db);
        if (expected.cache) expect(rest[expected.db ? 1 : 0]!.status).toBe(expected.cache);
        worst = Math.max(worst, ...probes.map((p) => p.ms));
        await sleep(50);
      }
      expect(worst).toBeLessThan(TIMEOUT_MS * 1.1);
      alive();
      await pgProxy.set('pass');
      await redisProxy.set('pass');
      const recoveryMs = await until(
        () => svc.get('/health'),
        (r) => r.status === 200 && r.body.status === 'healthy',
        // one refresh interval + the check's timeout (+ ioredis' reconnect back-off and a loaded host)
        REFRESH_MS + TIMEOUT_MS + 4000,
      );
      const after = await svc.stats();
      alive();
      table.push({
        check: label,
        scenario: name,
        '/health': expected.health,
        'worst probe ms': Math.round(worst),
        'timeout ms': TIMEOUT_MS,
        'recovery ms': Math.round(recoveryMs),
        'fds before/after': `${before.fds}/${after.fds}`,
        'pool total before/after': before.pool
          ? `${before.pool.total}/${after.pool?.total}`
          : 'owned (max 1)',
      });
    }

    it('healthy to start with', async () => {
      await until(
        () => svc.get('/health'),
        (r) => r.status === 200 && r.body.status === 'healthy',
        10_000,
      );
      alive();
    });

    const SCENARIO_MS = 60_000;

    it(
      'PostgreSQL refuses connections: 503, live 200, recovers',
      async () => {
        await scenario(
          'pg refused',
          async () => {
            await pgProxy.set('refuse');
            pgProxy.cut();
          },
          { health: 503, db: 503 },
        );
      },
      SCENARIO_MS,
    );

    it(
      'PostgreSQL blackholed (connect hangs): 503 after the timeout, probes stay fast, recovers',
      async () => {
        await scenario(
          'pg blackhole',
          () => {
            void pgProxy.set('blackhole');
            pgProxy.cut();
          },
          { health: 503, db: 503 },
        );
      },
      SCENARIO_MS,
    );

    it(
      'PostgreSQL reset in the handshake: 503, recovers',
      async () => {
        await scenario(
          'pg reset mid-handshake',
          async () => {
            await pgProxy.set('reset-handshake');
            pgProxy.cut();
          },
          { health: 503, db: 503 },
        );
      },
      SCENARIO_MS,
    );

    it(
      'PostgreSQL half-open (peer gone without FIN/RST): 503 after the timeout, recovers',
      async () => {
        await scenario('pg half-open', () => pgProxy.set('half-open'), { health: 503, db: 503 });
      },
      SCENARIO_MS,
    );

    it(
      'Redis reset and refused: degraded 200, /health/cache 503, recovers',
      async () => {
        await scenario(
          'redis reset + refused',
          async () => {
            await redisProxy.set('refuse');
            redisProxy.cut();
          },
          { health: 200, cache: 503 },
        );
      },
      SCENARIO_MS,
    );

    it(
      'Redis half-open: degraded 200, /health/cache 503 after its timeout, recovers',
      async () => {
        await scenario('redis half-open', () => redisProxy.set('half-open'), { health: 200, cache: 503 });
      },
      SCENARIO_MS,
    );

    it('every query and command reset while in flight: never crashes, fails, recovers', async () => {
      await pgProxy.set('reset-mid-request');
      await redisProxy.set('reset-mid-request');
      const res = await fetch(`${loop.base}/loop?n=30`, { signal: AbortSignal.timeout(60_000) });
      const counts = (await res.json()) as Record<string, number>;
      expect(counts).toEqual({ fail: 30 });
      await until(
        () => svc.get('/health/db'),
        (r) => r.status === 503,
        10_000,
      );
      alive();
      await pgProxy.set('pass');
      await redisProxy.set('pass');
      await until(
        () => svc.get('/health'),
        (r) => r.status === 200 && r.body.status === 'healthy',
        10_000,
      );
      alive();
    }, 90_000);

    it('connections reset at random moments, again and again: never crashes', async () => {
      // every chunk delayed 100 ms so cuts land mid-query, checks run back to back meanwhile
      await pgProxy.set('pass', { delayMs: 100 });
      let cuts = 0;
      let stop = false;
      const cutter = (async () => {
        while (!stop) {
          await sleep(120);
          cuts += pgProxy.cut();
        }
      })();
      const res = await fetch(`${loop.base}/loop?n=25`, { signal: AbortSignal.timeout(60_000) });
      const counts = (await res.json()) as Record<string, number>;
      stop = true;
      await cutter;
      await pgProxy.set('pass');
      expect(cuts).toBeGreaterThan(5);
      expect(counts.fail ?? 0).toBeGreaterThan(0);
      alive();
      await until(
        () => svc.get('/health'),
        (r) => r.status === 200 && r.body.status === 'healthy',
        10_000,
      );
    }, 90_000);

    it('1,000 checks with connections reset under them leak no socket or pool client', async () => {
      await pgProxy.set('pass', { delayMs: 2 });
      const before = await loop.stats();
      let stop = false;
      const cutter = (async () => {
        while (!stop) {
          await sleep(40);
          pgProxy.cut();
        }
      })();
      const start = performance.now();
      const res = await fetch(`${loop.base}/loop?n=1000`, {
        signal: AbortSignal.timeout(120_000),
      });
      const counts = (await res.json()) as Record<string, number>;
      stop = true;
      await cutter;
      const ms = performance.now() - start;
      await pgProxy.set('pass');
      expect((counts.pass ?? 0) + (counts.fail ?? 0)).toBe(1000);
      expect(counts.fail ?? 0).toBeGreaterThan(0); // the cuts did land
      // settled: back to the fds it had, at most the pool's connections open on the proxy
      const afterMs = await until(
        () => loop.stats(),
        (s) => s.fds <= before.fds + 1 && (s.pool === null || s.pool.waiting === 0),
        10_000,
      );
      const after = await loop.stats();
      expect(pgProxy.open).toBeLessThanOrEqual(mode === 'pool' ? 4 + 1 : 1 + 1);
      if (after.pool) expect(after.pool.total).toBeLessThanOrEqual(4);
      alive();
      table.push({
        check: label,
        scenario: `1,000 checks, reset every 40 ms (${counts.fail} failed)`,
        '/health': '-',
        'worst probe ms': `${(ms / 1000).toFixed(1)} avg/check`,
        'timeout ms': TIMEOUT_MS,
        'recovery ms': Math.round(afterMs),
        'fds before/after': `${before.fds}/${after.fds}`,
        'pool total before/after': before.pool
          ? `${before.pool.total}/${after.pool?.total}`
          : 'owned (max 1)',
      });
    }, 150_000);
  });
}
