import { createMetrics } from '@deia/metrics';
import Redis, { type RedisOptions } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRedisInfo, parseUsedMemoryMb } from '../src/checks/redis.js';
import { createHealth, type Health, type RedisClientLike, redisCheck } from '../src/index.js';
import {
  closedPort,
  get,
  REDIS_URL,
  sleep,
  startRedisServer,
  tcpServer,
  timed,
  timedAgainst,
} from './helpers.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
const client = (options: RedisOptions | string) => {
  const c = typeof options === 'string' ? new Redis(options) : new Redis(options);
  c.on('error', () => undefined); // ioredis logs unhandled errors; the test asserts on status instead
  cleanup.push(() => c.disconnect());
  return c;
};
// these tests read the check's details: full detail unless a test says otherwise (who may see
// them is tested in health.test.ts)
const health = (options: Parameters<typeof createHealth>[0]): Health => {
  const h = createHealth({ detail: 'full', ...options });
  cleanup.push(() => h.close());
  return h;
};
const ready = (c: Redis) =>
  c.status === 'ready' ? Promise.resolve() : new Promise((r) => c.once('ready', r));
/**
 * The real client as the check sees it (the public `RedisClientLike`), counting the commands the
 * check sends and those not answered yet. A command of the check waiting in ioredis' offline or
 * command queue is one pending here: the queues are observed without ioredis' internals.
 */
const watched = (c: Redis) => {
  let sent = 0;
  let pending = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    sent++;
    pending++;
    const settle = () => {
      pending--;
    };
    p.then(settle, settle);
    return p;
  };
  const view: RedisClientLike = {
    get status() {
      return c.status;
    },
    on: (event, listener) => c.on(event, listener),
    removeListener: (event, listener) => c.removeListener(event, listener),
    listenerCount: (event) => c.listenerCount(event),
    ping: () => track(c.ping()),
    info: (section) => track(c.info(section)),
  };
  return { client: view, sent: () => sent, pending: () => pending };
};
/**
 * The most connection attempts ioredis' default retryStrategy (wait min(50 ms × n, 2 s) before
 * retry n) can make in `ms`, the first one included. Late timers on a loaded machine only make fewer.
 */
const backoffAttempts = (ms: number) => {
  let attempts = 1;
  let at = 0;
  for (;;) {
    at += Math.min(50 * attempts, 2000);
    if (at > ms) return attempts;
    attempts++;
  }
};

describe('redisCheck against the real Redis', () => {
  it('/health/cache has the guides shape', async () => {
    const c = client(REDIS_URL);
    await ready(c);
    const h = health({ checks: { redis: redisCheck(c) } });
    const res = await get(h, '/health/cache');
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status: 'healthy', provider: 'redis' });
    expect(body.memory_used_mb).toBeGreaterThan(0);
    expect(body.latency_ms).toBeGreaterThan(0);
    expect(body.latency_ms).toBeLessThan(500);
  });

  it('records memory, memory limit and evictions from INFO through the metrics sink (own redis-server)', async () => {
    // Its own server: CONFIG SET maxmemory would change the shared one for everybody.
    const server = await startRedisServer();
    cleanup.push(() => server.stop());
    const c = client({ port: server.port, host: '127.0.0.1' });
    await ready(c);
    const registry = new Registry();
    const metrics = createMetrics({ registry });
    const h = health({ cacheTtlMs: 0, metrics, checks: { cache: redisCheck(c) } });
    const sample = async (name: string) => {
      const line = (await registry.metrics())
        .split('\n')
        .find((l) => l.startsWith(`${name}{cache="cache"} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    const info = async () => ({
      ...parseRedisInfo(await c.info('memory')),
      ...parseRedisInfo(await c.info('stats')),
    });

    // No limit yet: maxmemory 0, nothing evicted; the counter exists at 0 from the first read.
    expect((await get(h, '/health/cache')).statusCode).toBe(200);
    expect(await sample('cache_memory_max_bytes')).toBe(0);
    expect(await sample('cache_evictions_total')).toBe(0);
    const used = await sample('cache_memory_used_bytes');
    expect(used).toBeGreaterThan(100_000);
    expect(Math.abs((used as number) - Number((await info()).used_memory))).toBeLessThan(1_000_000);

    // A 4 MB limit with LRU eviction, then 8 MB of values: Redis evicts, the counter follows INFO.
    const limit = 4 * 1024 * 1024;
    await c.config('SET', 'maxmemory', String(limit));
    await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const value = 'x'.repeat(10_000);
    const deadline = Date.now() + 10_000;
    let i = 0;
    while (Number((await info()).evicted_keys) < 50 && Date.now() < deadline) {
      const batch = c.pipeline();
      for (let j = 0; j < 100; j++) batch.set(`deia-dash-test:${i++}`, value);
      await batch.exec();
    }
    expect(Number((await info()).evicted_keys)).toBeGreaterThanOrEqual(50);
    expect((await get(h, '/health/cache')).statusCode).toBe(200);
    const evictedNow = Number((await info()).evicted_keys);
    expect(await sample('cache_memory_max_bytes')).toBe(limit);
    expect(await sample('cache_evictions_total')).toBe(evictedNow);
    expect(await sample('cache_memory_used_bytes')).toBeLessThanOrEqual(limit * 1.1);

    // CONFIG RESETSTAT zeroes evicted_keys: a reset, the counter never goes down.
    await c.config('RESETSTAT');
    while (Number((await info()).evicted_keys) === 0 && Date.now() < deadline + 10_000)
      await c.set(`deia-dash-test:${i++}`, value);
    const afterReset = Number((await info()).evicted_keys);
    expect(afterReset).toBeGreaterThan(0);
    expect(afterReset).toBeLessThan(evictedNow);
    expect((await get(h, '/health/cache')).statusCode).toBe(200);
    expect(await sample('cache_evictions_total')).toBe(evictedNow + Number((await info()).evicted_keys));
  });

  it('parses used_memory from INFO memory', () => {
    expect(parseUsedMemoryMb('# Memory\r\nused_memory:47185920\r\nused_memory_human:45.00M\r\n')).toBe(45);
    expect(parseUsedMemoryMb('')).toBeUndefined();
  });

  it('is non-critical by default: a failing cache degrades the service (200), /health/cache itself is 503', async () => {
    const c = client({ port: await closedPort(), host: '127.0.0.1', lazyConnect: true });
    const h = health({ checks: { database: () => true, redis: redisCheck(c) } });
    const res = await get(h, '/health');
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).status).toBe('degraded');
    expect((await get(h, '/health/cache')).statusCode).toBe(503);
  });
});

describe('redisCheck faults', () => {
  it('Redis going away mid-run (own redis-server, killed): fails fast, queues nothing, recovers', async () => {
    const server = await startRedisServer();
    cleanup.push(() => server.stop());
    const c = client({ port: server.port, host: '127.0.0.1' });
    await ready(c);
    const w = watched(c);
    const h = health({ cacheTtlMs: 0, checks: { redis: redisCheck(w.client) } });
    expect(JSON.parse((await get(h, '/health/cache')).body).status).toBe('healthy');
    const sentWhileUp = w.sent();
    expect(w.pending()).toBe(0);

    await server.stop();
    await expect.poll(() => c.status, { timeout: 5000 }).not.toBe('ready');
    const { value: first, ms, stalledMs } = await timed(() => get(h, '/health/cache'));
    expect(ms - stalledMs).toBeLessThan(300); // a tenth of the 3 s timeout: reported down at once
    expect(first.statusCode).toBe(200); // 1 of 2 consecutive failures: degraded
    expect(JSON.parse(first.body)).toMatchObject({ status: 'degraded', provider: 'redis' });
    expect(JSON.parse(first.body).error).toMatch(/client not ready \((reconnecting|connecting|connect)\)/);
    const second = await get(h, '/health/cache');
    expect(second.statusCode).toBe(503);
    expect(JSON.parse(second.body).status).toBe('unhealthy');
    for (let i = 0; i < 50; i++) await get(h, '/health/cache');
    // not one command sent while the client was not ready: nothing waits in the offline queue
    expect(w.sent()).toBe(sentWhileUp);
    expect(w.pending()).toBe(0);

    // it comes back on the same port: the client reconnects by itself and the check passes
    const { spawn } = await import('node:child_process');
    const again = spawn(
      'redis-server',
      ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    cleanup.push(() => again.kill('SIGKILL'));
    await ready(c);
    expect((await get(h, '/health/cache')).statusCode).toBe(200);
  });

  it('Redis stops answering (SIGSTOP) while the client is ready: timeout within 10%, no pile-up', async () => {
    const server = await startRedisServer();
    cleanup.push(() => server.stop());
    const c = client({ port: server.port, host: '127.0.0.1' });
    await ready(c);
    const w = watched(c);
    const h = health({ cacheTtlMs: 0, checks: { redis: redisCheck(w.client, { timeoutMs: 1000 }) } });
    expect((await get(h, '/health/cache')).statusCode).toBe(200);
    expect(w.pending()).toBe(0);
    server.process.kill('SIGSTOP');
    const { value: res, ms, lateMs } = await timedAgainst(1000, () => get(h, '/health/cache'));
    expect(ms).toBeGreaterThanOrEqual(995);
    expect(ms).toBeLessThan(1100 + lateMs);
    expect(JSON.parse(res.body).error).toMatch(/timed out after 1000 ms/);
    // the timed-out run's commands wait for the stopped server's answer
    const sent = w.sent();
    expect(w.pending()).toBeGreaterThan(0);
    // while the previous run is pending, later runs send nothing
    for (let i = 0; i < 20; i++) await get(h, '/health/cache');
    expect(w.sent()).toBe(sent);
    server.process.kill('SIGCONT');
    // the server answers what it was sent: nothing is left waiting in the client
    await expect.poll(() => w.pending(), { timeout: 5000 }).toBe(0);
    expect(w.sent()).toBe(sent);
    expect((await get(h, '/health/cache')).statusCode).toBe(200);
  });

  it('client pointed at a closed port: every check fails fast, no commands, no extra connection attempts', async () => {
    const port = await closedPort();
    const started = performance.now();
    const c = client({ port, host: '127.0.0.1' });
    let reconnects = 0;
    c.on('reconnecting', () => reconnects++);
    const w = watched(c);
    const h = health({ cacheTtlMs: 0, checks: { redis: redisCheck(w.client) } });
    const RUNS = 150;
    let slowest = 0;
    for (let i = 0; i < RUNS; i++) {
      const { value, ms, stalledMs } = await timed(() => get(h, '/health/cache'));
      slowest = Math.max(slowest, ms - stalledMs);
      expect(value.statusCode).toBeGreaterThanOrEqual(200);
      await sleep(5);
    }
    const elapsed = performance.now() - started;
    const attempts = reconnects;
    expect(slowest).toBeLessThan(1500); // never waits for the 3 s timeout
    expect(w.sent()).toBe(0);
    // ioredis' own back-off (50 ms, 100 ms, ...) is the only source of attempts: far fewer than runs
    expect(attempts).toBeLessThanOrEqual(backoffAttempts(elapsed));
    expect(attempts).toBeLessThan(RUNS / 5);
  });

  it('server that accepts and drops connections: attempts follow the client back-off, not the check rate', async () => {
    const flaky = await tcpServer((s) => s.destroy());
    cleanup.push(() => flaky.close());
    const started = performance.now();
    const c = client({ port: flaky.port, host: '127.0.0.1' });
    const w = watched(c);
    const h = health({ cacheTtlMs: 0, checks: { redis: redisCheck(w.client) } });
    const RUNS = 150;
    for (let i = 0; i < RUNS; i++) {
      await get(h, '/health/cache');
      await sleep(2);
    }
    const connections = flaky.connections;
    const elapsed = performance.now() - started;
    expect(connections).toBeLessThanOrEqual(backoffAttempts(elapsed));
    expect(connections).toBeLessThan(RUNS / 5);
    expect(w.sent()).toBe(0);
  });

  it('bad input throws a coded error', () => {
    expect(() => redisCheck({} as never)).toThrow(/DEIA_HEALTH_OPTIONS/);
  });
});
