import { createMetrics } from '@deia/metrics';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CheckOutcome,
  createHealth,
  createShutdown,
  DeiaHealthError,
  type Health,
  type HealthCheckDefinition,
  memoryCheck,
  ollamaCheck,
  postgresCheck,
} from '../src/index.js';
import { formatUptime } from '../src/safe.js';
import { get, memoryLogger, sleep, timed, timedAgainst } from './helpers.js';

const opened: Health[] = [];
const make = (...args: Parameters<typeof createHealth>) => {
  const h = createHealth(...args);
  opened.push(h);
  return h;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((h) => h.close()));
});

const pass = () => true;
const failing = (): CheckOutcome => ({ status: 'fail', message: 'nope' });

describe('aggregation and criticality', () => {
  it('healthy 200, degraded 200, unhealthy 503', async () => {
    const ok = make({ checks: { a: pass, b: { run: pass, critical: false } } });
    expect((await get(ok, '/health')).statusCode).toBe(200);
    expect(JSON.parse((await get(ok, '/health')).body).status).toBe('healthy');

    const degraded = make({ checks: { a: pass, cache: { run: failing, critical: false } } });
    const d = await get(degraded, '/health');
    expect(d.statusCode).toBe(200);
    expect(JSON.parse(d.body).status).toBe('degraded');

    const down = make({ checks: { a: failing, cache: pass } });
    const u = await get(down, '/health');
    expect(u.statusCode).toBe(503);
    expect(JSON.parse(u.body).status).toBe('unhealthy');
  });

  it('a warn outcome degrades; not_configured is neither failing nor degrading', async () => {
    const h = make({
      checks: { a: () => ({ status: 'warn', message: 'slow' }), b: () => ({ status: 'not_configured' }) },
    });
    const r = await h.run();
    expect(r.status).toBe('degraded');
    const h2 = make({ checks: { a: pass, ollama: () => ({ status: 'not_configured' }) } });
    const d = await get(h2, '/health/detailed');
    expect(d.statusCode).toBe(200);
    expect(JSON.parse(d.body)).toMatchObject({
      status: 'healthy',
      services: { a: 'healthy', ollama: 'not_configured' },
    });
  });

  it('/health has the guides shape', async () => {
    const h = make({ version: '1.0.0', checks: { a: pass } });
    const body = JSON.parse((await get(h, '/health')).body);
    expect(Object.keys(body)).toEqual(['status', 'timestamp', 'version', 'uptime']);
    expect(body.uptime).toMatch(/^\d{2,}:\d{2}:\d{2}$/);
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    expect(formatUptime(45296)).toBe('12:34:56');
    expect(formatUptime(100 * 3600 + 1)).toBe('100:00:01');
  });
});

describe('timeouts and faults of custom checks', () => {
  it('a check that never resolves times out within 10% and is aborted', async () => {
    let aborted: unknown;
    const h = make({
      checks: {
        never: {
          timeoutMs: 1000,
          run: (signal) =>
            new Promise(() => {
              signal.addEventListener('abort', () => {
                aborted = signal.reason;
              });
            }),
        },
      },
    });
    const { value, ms, lateMs } = await timedAgainst(1000, () => get(h, '/health/detailed'));
    expect(ms).toBeGreaterThanOrEqual(995);
    expect(ms).toBeLessThan(1100 + lateMs);
    expect(value.statusCode).toBe(503);
    expect(aborted).toBeInstanceOf(Error);
    const report = await h.run();
    expect(report.checks.never!.message).toMatch(/timed out after 1000 ms/);
  });

  it('does not start another run while a timed-out one is still pending', async () => {
    let calls = 0;
    const h = make({
      cacheTtlMs: 0,
      checks: { hang: { timeoutMs: 1000, run: () => new Promise(() => void calls++) } },
    });
    await h.run();
    const { value, ms, stalledMs } = await timed(() => h.run());
    expect(calls).toBe(1);
    expect(ms - stalledMs).toBeLessThan(500); // answered at once, not after another 1000 ms timeout
    expect(value.checks.hang!.message).toMatch(/previous run has not finished/);
  });

  it('a run that never settles is abandoned after 10 timeouts, so a recovered dependency passes again', async () => {
    let calls = 0;
    let stuck = true;
    const h = make({
      cacheTtlMs: 0,
      checks: {
        flaky: {
          timeoutMs: 20,
          run: () => {
            calls++;
            return stuck ? new Promise(() => undefined) : true;
          },
        },
      },
    });
    await h.run();
    stuck = false;
    expect((await h.run()).checks.flaky!.message).toMatch(/previous run has not finished/);
    expect(calls).toBe(1);
    await sleep(220);
    expect((await h.run()).checks.flaky!.status).toBe('pass');
    expect(calls).toBe(2);
  });

  it('a check that throws (sync or async) fails; the full error goes to the logger, not the body', async () => {
    const logger = memoryLogger();
    const secret = new Error('connect to postgres://admin:s3cret@db.internal:5432/prod failed');
    const h = make({
      logger,
      detail: 'full',
      checks: {
        sync: () => {
          throw secret;
        },
        async: async () => {
          throw secret;
        },
      },
    });
    const res = await get(h, '/health/detailed');
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toMatch(/s3cret|admin|db\.internal|5432|postgres:|at .*\.ts/);
    const body = JSON.parse(res.body);
    expect(body.checks.sync.status).toBe('unhealthy');
    expect(body.checks.sync.message).toBe('check failed (details in the logs)');
    expect(logger.entries.filter((e) => e.level === 'error')).toHaveLength(2);
    expect(logger.entries[0]!.obj.err).toBe(secret);
  });

  it('returning false fails; returning nothing passes; a bad result fails', async () => {
    const h = make({
      checks: { f: () => false, t: () => undefined, bad: () => 'yes' as unknown as CheckOutcome },
    });
    const r = await h.run();
    expect(r.checks.f!.status).toBe('fail');
    expect(r.checks.t!.status).toBe('pass');
    expect(r.checks.bad!.status).toBe('fail');
  });

  it('custom messages are scrubbed of credentials and hosts', async () => {
    const h = make({
      detail: 'full',
      checks: {
        c: () => ({
          status: 'fail',
          message: 'cannot reach redis://user:hunter2@10.0.0.7:6379 (password=hunter2)',
          details: { dsn: 'postgres://u:hunter2@host/db' },
        }),
      },
    });
    const body = (await get(h, '/health/detailed')).body;
    expect(body).not.toMatch(/hunter2|10\.0\.0\.7/);
  });
});

describe('failure threshold', () => {
  it('a check that passed before warns on the first failure and fails on the 2nd consecutive one', async () => {
    let up = true;
    const h = make({ cacheTtlMs: 0, checks: { db: () => up } });
    expect((await h.run()).checks.db!.status).toBe('pass');
    up = false;
    const first = await h.run();
    expect(first.checks.db!).toMatchObject({ status: 'warn', rawStatus: 'fail', consecutiveFailures: 1 });
    expect(first.status).toBe('degraded');
    const res = await get(h, '/health'); // the 2nd consecutive failure
    expect(res.statusCode).toBe(503);
    expect((await h.run()).checks.db!).toMatchObject({ status: 'fail', consecutiveFailures: 3 });
    up = true;
    expect((await h.run()).checks.db!).toMatchObject({ status: 'pass', consecutiveFailures: 0 });
  });

  it('a check that never passed fails at once (not ready at start-up)', async () => {
    const h = make({ checks: { db: () => false } });
    expect((await get(h, '/health/ready')).statusCode).toBe(503);
  });

  it('failureThreshold is per check and has a default for all', async () => {
    let up = true;
    const h = make({
      cacheTtlMs: 0,
      defaults: { failureThreshold: 3 },
      checks: { a: () => up, b: { run: () => up, failureThreshold: 1 } },
    });
    await h.run();
    up = false;
    await h.run();
    const r = await h.run();
    expect(r.checks.a!.status).toBe('warn');
    expect(r.checks.b!.status).toBe('fail');
  });
});

describe('single-flight and cache', () => {
  it('1,000 concurrent requests share one run; the result is cached for cacheTtlMs', async () => {
    // A TTL far longer than 1,000 requests take even on a loaded machine: a run after them is a
    // cache miss, never an expiry. Expiry is then checked against the runs' own timestamps.
    const TTL = 2000;
    const runAt: number[] = [];
    const settledAt: number[] = [];
    const h = make({
      cacheTtlMs: TTL,
      checks: {
        db: async () => {
          runAt.push(performance.now());
          await sleep(50);
          settledAt.push(performance.now());
          return true;
        },
      },
    });
    const responses = await Promise.all(Array.from({ length: 1000 }, () => get(h, '/health')));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(runAt).toHaveLength(1);
    await get(h, '/health/detailed');
    expect(runAt).toHaveLength(1);
    // each request within the TTL is served from the cache; the first after it runs the check again
    await expect
      .poll(
        async () => {
          await get(h, '/health');
          return runAt.length;
        },
        { timeout: TTL + 5000, interval: 20 },
      )
      .toBe(2);
    // not before the result was TTL old (the age counts from when the run settled)
    expect(runAt[1]! - settledAt[0]!).toBeGreaterThanOrEqual(TTL - 1);
  });

  it('cacheTtlMs 0 still shares the in-flight run', async () => {
    let runs = 0;
    const a = async () => {
      runs++;
      await sleep(20);
    };
    const h = make({ cacheTtlMs: 0, checks: { a } });
    await Promise.all(Array.from({ length: 100 }, () => h.run()));
    expect(runs).toBe(1);
    await h.run();
    expect(runs).toBe(2);
  });

  it('background refresh runs checks on its own and stops at close()', async () => {
    let runs = 0;
    const h = make({ refreshIntervalMs: 50, checks: { a: () => void runs++ } });
    // no request is made: only the background refresh can run the check three times
    await expect.poll(() => runs, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const seen = runs;
    const r = await h.run();
    expect(r.checks.a!.cached).toBe(true);
    expect(runs).toBe(seen);
    await h.close();
    const atClose = runs;
    await sleep(120); // more than two intervals: a refresh that survived close() would have run
    expect(runs).toBe(atClose);
  });
});

describe('background refresh never makes a probe wait', () => {
  it('while a refresh hangs, /health/ready and /health answer from the last result', async () => {
    let calls = 0;
    let releaseHang: () => void = () => undefined;
    const hang = new Promise<void>((resolve) => {
      releaseHang = resolve;
    });
    const h = make({
      refreshIntervalMs: 40,
      checks: {
        db: pass,
        ollama: {
          critical: false,
          timeoutMs: 60_000,
          run: () => (++calls === 1 ? true : hang.then(() => true)),
        },
      },
    });
    // first result in, then a refresh that will not settle until released
    await expect.poll(() => calls, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    let settled = false;
    const ready = get(h, '/health/ready').then((r) => {
      settled = true;
      return r;
    });
    const full = get(h, '/health');
    // answered while the hanging run is still pending: nothing waited for it
    expect((await ready).statusCode).toBe(200);
    expect(settled).toBe(true);
    expect(JSON.parse((await full).body).status).toBe('healthy');
    expect(calls).toBe(2); // single-flight: the hanging run was not started again
    releaseHang();
  });
});

describe('endpoints', () => {
  it('liveness never runs a check; readiness turns 503 while shutting down', async () => {
    let runs = 0;
    const h = make({ checks: { db: () => void runs++ } });
    const live = await get(h, '/health/live');
    expect(live.statusCode).toBe(200);
    expect(runs).toBe(0);
    expect((await get(h, '/health/ready')).statusCode).toBe(200);
    h.setShuttingDown();
    expect(h.shuttingDown).toBe(true);
    const ready = await get(h, '/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'not_ready', reason: 'shutting down' });
    expect((await get(h, '/health/live')).statusCode).toBe(200);
  });

  it('serves only its paths (undefined otherwise), GET/HEAD only, query strings ignored', async () => {
    const h = make({ checks: { a: pass } });
    expect(h.paths).toEqual(['/health', '/health/detailed', '/health/live', '/health/ready']);
    expect(h.handle({ method: 'GET', path: '/api/bots', headers: {} })).toBeUndefined();
    expect(h.handle({ method: 'GET', path: '/health/db', headers: {} })).toBeUndefined();
    expect((await get(h, '/health?probe=1')).statusCode).toBe(200);
    expect((await get(h, '/health/')).statusCode).toBe(200);
    const head = await h.handle({ method: 'HEAD', path: '/health', headers: {} })!;
    expect(head).toMatchObject({ statusCode: 200, body: '' });
    const post = await h.handle({ method: 'POST', path: '/health', headers: {} })!;
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('paths can be moved or disabled', async () => {
    const h = make({ checks: { a: pass }, paths: { health: '/healthz', detailed: false } });
    expect(h.paths).toEqual(['/healthz', '/health/live', '/health/ready']);
    expect(() => createHealth({ checks: {}, paths: { live: '/x', ready: '/x' } })).toThrow(/used twice/);
  });

  it('detail level: status by default, full on request, a function per request', async () => {
    const checks = { db: (): CheckOutcome => ({ status: 'pass', details: { database: 'app' } }) };
    const plain = JSON.parse((await get(make({ checks }), '/health/detailed')).body);
    expect(plain.services).toEqual({ db: 'healthy' });
    expect(plain.checks).toBeUndefined();

    const byReq = make({ checks, detail: (req) => req.headers.authorization === 'Bearer ok' });
    expect(JSON.parse((await get(byReq, '/health/detailed')).body).checks).toBeUndefined();
    const full = JSON.parse((await get(byReq, '/health/detailed', { authorization: 'Bearer ok' })).body);
    expect(full.checks.db).toMatchObject({ status: 'healthy', critical: true, database: 'app' });
    expect(typeof full.checks.db.latency_ms).toBe('number');
  });

  it('application/health+json when Accept asks for it (pass/warn/fail)', async () => {
    let state: CheckOutcome['status'] = 'pass';
    const h = make({
      version: '2.1.0',
      cacheTtlMs: 0,
      detail: 'full',
      checks: {
        db: { run: () => ({ status: 'pass' }), kind: 'database' },
        llm: { run: () => ({ status: state }), critical: false },
      },
    });
    const accept = { accept: 'application/health+json, application/json;q=0.9' };
    const res = await get(h, '/health/detailed', accept);
    expect(res.headers['content-type']).toBe('application/health+json');
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status: 'pass', version: '2.1.0', releaseId: '2.1.0' });
    expect(body.checks['db:responseTime'][0]).toMatchObject({
      componentType: 'datastore',
      status: 'pass',
      observedUnit: 'ms',
    });
    state = 'fail';
    const warn = await get(h, '/health', accept);
    expect(warn.statusCode).toBe(200);
    expect(JSON.parse(warn.body).status).toBe('warn');
    expect(JSON.parse((await get(h, '/health/live', accept)).body).status).toBe('pass');
    h.setShuttingDown();
    const ready = await get(h, '/health/ready', accept);
    expect(ready.statusCode).toBe(503);
    expect(JSON.parse(ready.body).status).toBe('fail');
    // plain JSON otherwise
    expect((await get(h, '/health')).headers['content-type']).toBe('application/json; charset=utf-8');
    expect(
      (await get(h, '/health', { accept: 'application/health+json;q=0' })).headers['content-type'],
    ).toMatch(/^application\/json/);
  });
});

describe('metrics and options', () => {
  it('feeds health_check_up and health_check_duration_seconds for every real run', async () => {
    const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
    const h = make({
      metrics,
      cacheTtlMs: 0,
      checks: {
        database: pass,
        cache: { run: failing, critical: false },
        ollama: () => ({ status: 'not_configured' }),
      },
    });
    await h.run();
    await h.run();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/health_check_up\{check="database"\} 1/);
    expect(text).toMatch(/health_check_up\{check="cache"\} 0/);
    expect(text).toMatch(/health_check_duration_seconds_count\{check="database"\} 2/);
    expect(text).not.toMatch(/check="ollama"/);
  });

  it('bad options throw coded errors that say what to change', () => {
    const bad = (o: unknown) => () => createHealth(o as Parameters<typeof createHealth>[0]);
    expect(bad(undefined)).toThrow(DeiaHealthError);
    expect(bad({})).toThrow(/checks must be an object/);
    expect(bad({ checks: { 'bad name!': pass } })).toThrow(/not allowed/);
    expect(bad({ checks: { a: 42 } })).toThrow(/checks\.a must be a function/);
    expect(bad({ checks: { a: { run: pass, timeoutMs: 0 } } })).toThrow(
      /timeoutMs must be a positive number/,
    );
    expect(bad({ checks: { a: { run: pass, failureThreshold: 1.5 } } })).toThrow(/positive integer/);
    expect(bad({ checks: {}, metrics: {} })).toThrow(/recordHealthCheck/);
    expect(bad({ checks: {}, detail: 'everything' })).toThrow(/detail must be/);
    // typos are rejected with the closest known name, everywhere a factory takes options
    expect(bad({ checks: {}, cacheTTLMs: 10 })).toThrow(
      /unknown option "cacheTTLMs" \(did you mean "cacheTtlMs"\?\)/,
    );
    expect(bad({ checks: {}, defaults: { timeout: 5 } })).toThrow(/did you mean "timeoutMs"/);
    expect(bad({ checks: { a: { run: pass, critcal: false } } })).toThrow(
      /checks\.a: .*did you mean "critical"/,
    );
    expect(bad({ checks: {}, paths: { readiness: '/r' } })).toThrow(/paths: unknown option "readiness"/);
    expect(() => postgresCheck({ connectionString: 'postgres://x/y' }, { shema: 'app' } as never)).toThrow(
      /did you mean "schema"/,
    );
    expect(() => postgresCheck({ connectionString: 'postgres://x/y', sll: true } as never)).toThrow(
      /did you mean "ssl"/,
    );
    expect(() => ollamaCheck({ url: undefined, model: ['llama3'] } as never)).toThrow(
      /did you mean "models"/,
    );
    expect(() => memoryCheck({ warnRatoi: 0.5 } as never)).toThrow(/did you mean "warnRatio"/);
    expect(() => createShutdown({ timeOutMs: 5, signals: false } as never)).toThrow(
      /createShutdown: unknown option "timeOutMs" \(did you mean "timeoutMs"\?\)/,
    );
    try {
      bad({ checks: {}, cacheTtlMs: -1 })();
    } catch (err) {
      expect((err as DeiaHealthError).code).toBe('DEIA_HEALTH_OPTIONS');
    }
  });

  it('close() closes what checks own, once', async () => {
    let closes = 0;
    const def: HealthCheckDefinition = { run: pass, close: () => void closes++ };
    const h = createHealth({ checks: { a: def } });
    await Promise.all([h.close(), h.close()]);
    expect(closes).toBe(1);
  });
});
