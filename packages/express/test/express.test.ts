import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHealth } from '@deia/health';
import { createMetrics, DeiaMetricsError, UNMATCHED_ROUTE } from '@deia/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { deiaExpress } from '../src/index.js';

const require = createRequire(import.meta.url);
const MAJORS = [
  ['express 4', 'express4'],
  ['express 5', 'express'],
] as const;
// biome-ignore lint/suspicious/noExplicitAny: one test app for two Express majors
type Any = any;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(app: Any): Promise<string> {
  const server: Server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function settle(metrics: ReturnType<typeof createMetrics>, n: number) {
  for (let i = 0; i < 200; i++) {
    const values = (await metrics.http.requests.metric.get()).values;
    if (values.reduce((s, v) => s + v.value, 0) === n) {
      return Object.fromEntries(
        values.map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]),
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${n} requests not recorded`);
}

describe.each(MAJORS)('deiaExpress on %s', (_name, pkg) => {
  const express = require(pkg);

  it('finds full templates: param mounts, nested routers, sub-apps, arrays, errors in nested routers', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const app = express();
    // Express 4 recovers mount templates from the URL: the param mount is named (Express 5 ignores it)
    app.use(deiaExpress({ metrics, mounts: ['/bots/:botId'] }));
    const bots = express.Router();
    bots.get('/logs/:line', (_q: Any, r: Any) => r.send('ok'));
    bots.get('/fail', () => {
      throw Object.assign(new Error('no'), { status: 503 });
    });
    app.use('/bots/:botId', bots);
    app.get(['/one', '/two'], (_q: Any, r: Any) => r.send('ok'));
    const sub = express();
    sub.get('/s/:q', (_q: Any, r: Any) => r.send('ok'));
    app.use('/sub/:x', sub);
    // a route added after the first request is found too
    const url = await listen(app);
    await fetch(`${url}/bots/42/logs/7`).then((r) => r.text());
    app.get('/late/:id', (_q: Any, r: Any) => r.send('ok'));
    // error handler at the app level: the nested router's baseUrl is gone by then
    app.use((err: Any, _q: Any, r: Any, _n: Any) => r.status(err.status ?? 500).send('err'));
    for (const p of [
      '/bots/43/logs/8',
      '/bots/44/fail',
      '/one',
      '/two',
      '/sub/9/s/1',
      '/late/5',
      '/nowhere',
    ]) {
      await fetch(url + p).then((r) => r.text());
    }
    expect(await settle(metrics, 8)).toEqual({
      'GET /bots/:botId/logs/:line 200': 2,
      'GET /bots/:botId/fail 503': 1,
      'GET /one 200': 1,
      'GET /two 200': 1,
      'GET /sub/:x/s/:q 200': 1,
      'GET /late/:id 200': 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 1,
    });
  });

  it('attached: measures from the server, the same templates, and counts what is answered before it', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const deia = deiaExpress({ metrics, mounts: ['/bots/:botId'] });
    const app = express();
    // answered before the middleware runs: counted once attached (no route matched it)
    app.use((req: Any, res: Any, next: Any) => (req.url === '/early' ? res.status(204).end() : next()));
    app.use(deia);
    const bots = express.Router();
    bots.get('/logs/:line', (_q: Any, r: Any) => r.send('ok'));
    app.use('/bots/:botId', bots);
    app.get('/metrics-free/:id', (_q: Any, r: Any) => r.send('ok'));
    const server: Server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    deia.attach(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const p of ['/bots/4/logs/2', '/metrics-free/1?x=2', '/early', '/nowhere', '/metrics']) {
      await fetch(url + p).then((r) => r.text());
    }
    expect(await settle(metrics, 4)).toEqual({
      'GET /bots/:botId/logs/:line 200': 1,
      'GET /metrics-free/:id 200': 1,
      [`GET ${UNMATCHED_ROUTE} 204`]: 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 1,
    });
  });

  it('serves /metrics and health, excludes them, counts a request once when mounted twice', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const health = createHealth({ checks: {} });
    const deia = deiaExpress({ metrics, health });
    const app = express();
    app.use(deia);
    app.use(deia);
    app.get('/x', (_q: Any, r: Any) => r.json({ ok: true }));
    const url = await listen(app);
    const m = await fetch(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toBe(
      'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    );
    await m.text();
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    await fetch(`${url}/x`).then((r) => r.text());
    expect(await settle(metrics, 1)).toEqual({ 'GET /x 200': 1 });
    health.close();
  });

  it('attach(server) returns one shutdown handle and rejects what is not a server', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const deia = deiaExpress({ metrics, shutdown: { signals: false, exit: false } });
    expect(() => deia.attach({} as never)).toThrow(DeiaMetricsError);
    const app = express();
    app.use(deia);
    await listen(app);
    const server = servers[0] as Server;
    const first = deia.attach(server);
    expect(first).toBeDefined();
    expect(deia.attach(server)).toBe(first);
    expect(deia.shutdown).toBe(first);
    await first?.run('test');
    expect(server.listening).toBe(false);
  });

  it('serves /metrics on metricsPort once attached to a listening server', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const deia = deiaExpress({ metrics, metricsPort: 0, metricsHost: '127.0.0.1' });
    const app = express();
    app.use(deia);
    const url = await listen(app);
    deia.attach(servers[0] as Server);
    const address = await deia.ready;
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    const res = await fetch(`http://127.0.0.1:${address?.port}/metrics`);
    expect(res.status).toBe(200);
    await res.text();
    await deia.close();
  });
});

describe('route templates', () => {
  it('reads no underscore (private) property of Express or Node, in the sources and the build', () => {
    // `._router`, `['_header']`, `._contentLength`...; `__esModule` is the bundler's CJS interop
    const PRIVATE = /\.\s*_\w+|\[\s*['"`]_\w*['"`]\s*\]/g;
    const dir = (d: string) => fileURLToPath(new URL(`../${d}/`, import.meta.url));
    const files = readdirSync(dir('src')).map((f) => join(dir('src'), f));
    // the build exists in `pnpm test` (build runs first) and in check-publish
    if (existsSync(dir('dist')))
      files.push(
        ...readdirSync(dir('dist'))
          .filter((f) => /\.c?js$/.test(f))
          .map((f) => join(dir('dist'), f)),
      );
    const hits = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(PRIVATE)]
        .map((m) => m[0])
        .filter((m) => !/^\.\s*__esModule$/.test(m))
        .map((m) => `${f}: ${m}`),
    );
    expect(files.length).toBeGreaterThan(3);
    expect(hits).toEqual([]);
    // and the pattern does catch what it is for
    expect('app._router.stack res["_header"]'.match(PRIVATE)).toEqual(['._router', '["_header"]']);
  });

  it('Express 4: root routes, trailing slashes, optional and RegExp routes under param mounts carry no id', async () => {
    const express = require('express4');
    const metrics = createMetrics({ groups: ['http'] });
    const app = express();
    app.use(deiaExpress({ metrics }));
    const bots = express.Router();
    const ok = (_q: Any, r: Any) => r.send('ok');
    bots.get('/', ok);
    bots.get('/opt/:o?', ok);
    bots.get(/^\/re(gex)?$/, ok);
    bots.get('/Logs/:line', ok);
    app.use('/bots/:botId', bots);
    const url = await listen(app);
    for (const p of [
      '/bots/11',
      '/bots/12/',
      '/bots/13/opt',
      '/bots/14/opt/x',
      '/bots/15/regex',
      '/bots/16/logs/1/',
    ])
      await fetch(url + p).then((r) => r.text());
    expect(await settle(metrics, 6)).toEqual({
      'GET /bots/#val/ 200': 2,
      'GET /bots/#val/opt/:o? 200': 2,
      'GET /bots/#val/^\\/re(gex)?$/ 200': 1,
      'GET /bots/#val/Logs/:line 200': 1,
    });
  });

  it('Express 5 with router 2.2 (no mount paths kept): the mount part comes from the URL, never a concrete id', async () => {
    const express = require('express');
    const Router22 = require('router22');
    const metrics = createMetrics({ groups: ['http'] });
    const warnings: string[] = [];
    const app = express();
    app.use(deiaExpress({ metrics, logger: { info() {}, warn: (_o, m) => warnings.push(String(m)) } }));
    const bots = Router22();
    const logs = Router22({ mergeParams: true });
    logs.get('/:line', (_q: Any, r: Any) => r.end('ok'));
    bots.use('/:botId/logs', logs);
    bots.get('/:botId', (_q: Any, r: Any) => r.end('ok'));
    app.use('/bots', bots);
    const url = await listen(app);
    for (const p of ['/bots/1/logs/5', '/bots/2/logs/6', '/bots/3'])
      await fetch(url + p).then((r) => r.text());
    expect(await settle(metrics, 3)).toEqual({
      'GET /bots/#val/logs/:line 200': 2,
      'GET /bots/:botId 200': 1,
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/router 2\.2/);
  });
});
