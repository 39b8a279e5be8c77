// SIGTERM-style graceful shutdown: requests in flight when the shutdown starts all complete,
// readiness turns 503 first, new connections are refused afterwards.
import { Agent, get as httpGet } from 'node:http';
import { describe, expect, it } from 'vitest';
import { keepAliveLoad } from '../../packages/health/test/keepalive-load.js';
import { startApp, VARIANTS } from './apps.js';

interface Reply {
  status: number;
  body: string;
}

function get(url: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const cases = VARIANTS.flatMap((variant) => [
  { variant, how: 'shutdown.run()' },
  { variant, how: 'a real signal (SIGUSR2)' },
]);

describe.each(cases)('graceful shutdown: $variant through $how', ({ variant, how }) => {
  const bySignal = how.startsWith('a real signal');
  it('lets every in-flight request complete, then refuses new ones', async () => {
    const app = await startApp(variant, { shutdown: bySignal ? { signals: ['SIGUSR2'] } : true });
    expect(app.shutdown).toBeDefined();
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    expect((await get(`${app.url}/health/ready`)).status).toBe(200);

    // 6 slow requests on keep-alive sockets (idle afterwards: they must be closed, not wait for
    // their timeout) and 4 on their own connections
    const inFlight = [
      ...Array.from({ length: 6 }, () => get(`${app.url}/api/slow`, agent)),
      ...Array.from({ length: 4 }, () => get(`${app.url}/api/slow`)),
    ];
    // in flight = received by the server: wait until all 10 are being served (they answer only
    // after releaseSlow(), so however slow the machine, all 10 are in flight when the shutdown starts)
    const gauge = app.metrics.http.inFlight.metric;
    await expect.poll(async () => (await gauge.get()).values[0]?.value, { timeout: 10_000 }).toBe(10);
    const signalled = process.listenerCount('SIGUSR2');
    if (bySignal) {
      // without the SDK's listener SIGUSR2 would end the test process
      expect(signalled).toBeGreaterThan(0);
      process.kill(process.pid, 'SIGUSR2');
    }
    // run() is idempotent: after the signal it returns the shutdown already under way
    const done = app.shutdown?.run('SIGTERM');

    // readiness turned 503 as the shutdown began (load balancers stop routing here)
    const ready = await app.health.handle({ method: 'GET', path: '/health/ready', headers: {} });
    expect(ready?.statusCode).toBe(503);
    // the shutdown waits for them instead of cutting them off: hold them a while (well inside the
    // 5 s shutdown timeout; a late timer only holds them longer) and nothing may settle meanwhile
    let settled = 0;
    const settle = () => {
      settled++;
    };
    for (const p of inFlight) p.then(settle, settle);
    let finished = false;
    void done?.then(() => {
      finished = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(0);
    expect(finished).toBe(false);
    expect((await gauge.get()).values[0]?.value).toBe(10);

    const released = Date.now();
    app.releaseSlow();
    const replies = await Promise.all(inFlight);
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(replies.every((r) => r.body === '{"slow":true}')).toBe(true);
    await done;
    // drained well before the 5 s shutdown timeout or the 5 s keep-alive timeout: the idle
    // keep-alive sockets were closed, not left to time out
    expect(Date.now() - released).toBeLessThan(4000);
    await expect(get(`${app.url}/api/bots/1`)).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);

    const text = await app.metrics.registry.metrics();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/slow",status="200"\} 10/);
    agent.destroy();
    await app.close().catch(() => {});
  }, 30_000);
});

// 50 keep-alive clients that keep sending through the whole shutdown, as clients do before a load
// balancer has deregistered the instance: a request is answered, or refused before it was sent
// (the listener is closed), never reset after it was sent.
describe.each(VARIANTS)('graceful shutdown under load: %s', (variant) => {
  it('50 keep-alive clients across a shutdown with a pre-stop delay: no request is reset', async () => {
    const app = await startApp(variant, { shutdown: { delayMs: 1000 } });
    const load = keepAliveLoad(`${app.url}/api/bots/1`, { method: 'GET' });
    try {
      await load.warm(500);
      load.mark();
      await app.shutdown?.run('SIGTERM');
      // clients keep trying a while after the server is gone: any late reset is counted too
      const result = await load.finish(performance.now() + 300);
      expect(result.resetLog).toEqual([]);
      expect(result.other).toEqual([]);
      // served during the pre-stop delay, told to leave, then refused once the listener closed
      expect(result.answered).toBeGreaterThan(500);
      expect(result.toldToClose).toBeGreaterThan(0);
      expect(result.refused).toBeGreaterThan(0);
    } finally {
      await load.finish(0);
      await app.close().catch(() => {});
    }
  }, 30_000);
});
