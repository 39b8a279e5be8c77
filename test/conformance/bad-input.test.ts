// Hostile traffic and wrong set-up, on every stack.
import { randomBytes } from 'node:crypto';
import { Agent, get as httpGet } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { deiaExpress } from '@deia/express';
import { deiaFastify } from '@deia/fastify';
import { createMetrics, DeiaMetricsError } from '@deia/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp, VARIANTS, waitForRequests } from './apps.js';

/** Sends raw bytes on a fresh TCP connection; resolves with whatever came back before close/timeout. */
function raw(port: number, payload: string | Buffer, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d) => {
      data += d.toString('latin1');
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(payload);
  });
}

const seriesCount = async (app: RunningApp) => {
  const json = await app.metrics.registry.getMetricsAsJSON();
  return json.filter((m) => m.name.startsWith('http_')).reduce((n, m) => n + m.values.length, 0);
};

describe.each(VARIANTS)('bad input: %s', (variant) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(variant);
  });
  afterAll(() => app?.close());

  it('10,000 distinct unmatched URLs add no series after the first', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const get = (path: string) =>
      new Promise<void>((resolve, reject) => {
        httpGet(app.url + path, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    await get(`/scan/${randomBytes(8).toString('hex')}`);
    await waitForRequests(app.metrics, 1);
    const before = await seriesCount(app);
    const text = (await app.metrics.registry.metrics()).length;
    const N = 10_000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < N) {
          next++;
          const r = randomBytes(6).toString('hex');
          await get(`/${r}/wp-admin/${r}.php?x=${r}`);
        }
      }),
    );
    await waitForRequests(app.metrics, N + 1, 10_000);
    agent.destroy();
    expect(await seriesCount(app)).toBe(before);
    // same exposition size give or take the digits of the counts
    expect(Math.abs((await app.metrics.registry.metrics()).length - text)).toBeLessThan(200);
  }, 120_000);

  it('counts a URL the router cannot decode as __unmatched__ 400 (Fastify answers it before its hooks)', async () => {
    const series = /http_requests_total\{method="GET",route="__unmatched__",status="400"\} (\d+)/;
    const count = async () => Number(series.exec(await app.metrics.registry.metrics())?.[1] ?? 0);
    const before = await count();
    for (const path of ['/api/bots/%FF', '/api/bots/%E0%A4%A']) {
      expect((await fetch(app.url + path)).status, path).toBe(400);
    }
    await expect.poll(count, { timeout: 5000 }).toBe(before + 2);
  });

  it('survives malformed requests and keeps recording', async () => {
    const replies = [
      // bad percent-encoding in a param and in an unmatched path
      await raw(app.port, 'GET /api/bots/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      await raw(app.port, 'GET /%zz/%%/..%2f..%2fetc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      // huge headers (node answers 431 before the app runs)
      await raw(app.port, `GET /api/bots/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`),
      // bad and conflicting Content-Length
      await raw(app.port, 'POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nhello'),
      await raw(
        app.port,
        'POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      ),
      // Content-Length larger than the body, then the client goes away
      await raw(
        app.port,
        'POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\nshort',
        300,
      ),
      // not HTTP at all
      await raw(app.port, Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10])),
    ];
    expect(replies[2]).toMatch(/^HTTP\/1\.1 431/);
    expect(replies[3]).toMatch(/^HTTP\/1\.1 400/);
    expect(replies[4]).toMatch(/^HTTP\/1\.1 400/);
    // still serving, still recording, /metrics still renders and holds no raw URL
    const res = await fetch(`${app.url}/api/bots/42`);
    expect(res.status).toBe(200);
    // the truncated upload is recorded when the server sees its connection close
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await (await fetch(`${app.url}/metrics`)).text();
      if (/route="\/api\/upload",status="499"/.test(text)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/bots\/:id",status="200"\} 1/);
    expect(text).not.toMatch(/%E0|%zz|etc|route="\/api\/bots\/42"/);
    expect(text).toMatch(/route="\/api\/upload",status="499"/);
  });
});

describe('bad options fail at start with a message that says what to change', () => {
  const metrics = createMetrics({ groups: ['http'] });
  const cases: Array<[string, object, RegExp]> = [
    ['no metrics', {}, /options\.metrics is required/],
    ['metrics is not a Metrics', { metrics: {} }, /createMetrics\(\)/],
    [
      'typo in an option',
      { metrics, metricPath: '/m' },
      /unknown option "metricPath".*did you mean "metricsPath"/,
    ],
    ['metricsPath without slash', { metrics, metricsPath: 'metrics' }, /metricsPath must be false or a path/],
    ['empty token', { metrics, metricsAuth: { token: '' } }, /metricsAuth\.token must be a non-empty string/],
    [
      'token and basic',
      { metrics, metricsAuth: { token: 't', username: 'u', password: 'p' } },
      /metricsAuth must be/,
    ],
    [
      'colon in username',
      { metrics, metricsAuth: { username: 'a:b', password: 'p' } },
      /no ":" in the username/,
    ],
    ['port out of range', { metrics, metricsPort: 70000 }, /metricsPort must be an integer from 0 to 65535/],
    ['exclude not paths', { metrics, exclude: ['internal'] }, /exclude must be a list of paths/],
    ['abortedStatus', { metrics, abortedStatus: 42 }, /abortedStatus must be an integer status code/],
    ['maxRoutes', { metrics, maxRoutes: 0 }, /maxRoutes must be a positive integer/],
    ['logger', { metrics, logger: console.log }, /logger must be pino-compatible/],
    ['accessLog without logger', { metrics, accessLog: true }, /accessLog needs a logger/],
    ['health not a Health', { metrics, health: { check: () => 1 } }, /createHealth\(\)/],
    ['shutdown not an object', { metrics, shutdown: 'yes' }, /shutdown must be/],
  ];

  it.each(cases)('express: %s', (_name, options, message) => {
    let error: unknown;
    try {
      deiaExpress(options as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DeiaMetricsError);
    expect((error as DeiaMetricsError).code).toBe('DEIA_HTTP_OPTIONS');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/deiaExpress/);
  });

  const fastifyRequire = createRequire(new URL('../../packages/fastify/package.json', import.meta.url));
  it.each(cases)('fastify 4 and 5: %s', async (_name, options, message) => {
    for (const name of ['fastify4', 'fastify']) {
      const fastify = fastifyRequire(name);
      const app = fastify();
      let error: unknown;
      try {
        await app.register(deiaFastify, options as never);
        await app.ready();
      } catch (err) {
        error = err;
      } finally {
        await app.close().catch(() => {});
      }
      expect((error as DeiaMetricsError)?.code, name).toBe('DEIA_HTTP_OPTIONS');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/deiaFastify/);
    }
  });
});
