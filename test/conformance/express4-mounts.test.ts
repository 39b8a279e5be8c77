// Express 4 keeps its router in private state, so @deia/express recovers the mount part of a route
// template from the matched URL (see packages/express/src/route-templates.ts). Whatever ids the
// traffic carries, the series stay bounded and no concrete id reaches a label.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { deiaExpress } from '@deia/express';
import { createMetrics, DeiaMetricsError, type Metrics } from '@deia/metrics';
import { afterEach, describe, expect, it } from 'vitest';

const fromExpress = createRequire(new URL('../../packages/express/package.json', import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: Express 4 ships no types of its own
type Any = any;
const express: Any = fromExpress('express4');

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** `/bots/:botId/logs/:line`-style nesting: param mounts two deep, a sub-app, errors outside the routers. */
async function start(options: Record<string, unknown> = {}) {
  const metrics = createMetrics({ groups: ['http'] });
  const app = express();
  app.use(deiaExpress({ metrics, ...options }));
  const ok = (_q: Any, r: Any) => r.send('ok');

  const bots = express.Router();
  const logs = express.Router();
  logs.get('/:line', ok);
  logs.get('/:line/fail', () => {
    throw Object.assign(new Error('no'), { status: 503 });
  });
  bots.use('/:botId/logs', logs);
  app.use('/bots', bots);

  const orgs = express.Router();
  const teams = express.Router();
  teams.get('/members/:memberId', ok);
  orgs.use('/teams/:teamId', teams);
  app.use('/orgs/:orgId', orgs);

  const tenant = express();
  const jobs = express.Router();
  jobs.get('/steps/:step', ok);
  tenant.use('/jobs/:jobId', jobs);
  app.use('/tenants/:tenant', tenant);

  app.use((err: Any, _q: Any, r: Any, _n: Any) => r.status(err.status ?? 500).send('err'));
  const server: Server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return { metrics, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function settle(metrics: Metrics, n: number): Promise<Record<string, number>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const values = (await metrics.http.requests.metric.get()).values;
    if (values.reduce((s, v) => s + v.value, 0) === n) {
      return Object.fromEntries(
        values.map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]),
      );
    }
    if (Date.now() > deadline) throw new Error(`${n} requests not recorded`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ids = [
  () => String(randomInt(1, 1e9)),
  () => randomUUID(),
  () => randomBytes(6).toString('hex'),
  () => `${randomInt(2000, 2030)}-0${randomInt(1, 9)}-1${randomInt(0, 9)}`,
];
const anId = () => (ids[randomInt(0, ids.length)] as () => string)();
const slug = () => `bot-${randomBytes(3).toString('hex')}x`;

/** Sends `rounds` requests of each shape with fresh ids; returns the ids used. */
async function drive(url: string, rounds: number, botId = anId): Promise<string[]> {
  const used: string[] = [];
  const id = (f: () => string = anId) => {
    const v = f();
    used.push(v);
    return v;
  };
  for (let i = 0; i < rounds; i++) {
    for (const path of [
      `/bots/${id(botId)}/logs/${id()}`,
      `/bots/${id(botId)}/logs/${id()}/fail`,
      `/orgs/${id()}/teams/${id()}/members/${id()}`,
      `/tenants/${id(slug)}/jobs/${id()}/steps/${id()}`,
    ]) {
      await fetch(url + path).then((r) => r.text());
    }
  }
  return used;
}

const expectNoIds = (series: Record<string, number>, used: string[]) => {
  for (const key of Object.keys(series)) for (const id of used) expect(key).not.toContain(id);
};

describe('Express 4 route templates from public API only', () => {
  it('nested param mounts with random ids: one series per route, ids as #val, sub-app mounts by app.path()', async () => {
    const { metrics, url } = await start();
    const used = await drive(url, 15);
    const series = await settle(metrics, 60);
    expect(series).toEqual({
      'GET /bots/#val/logs/:line 200': 15,
      'GET /bots/#val/logs/:line/fail 503': 15,
      'GET /orgs/#val/teams/#val/members/:memberId 200': 15,
      'GET /tenants/:tenant/jobs/#val/steps/:step 200': 15,
    });
    expectNoIds(series, used);
  });

  it('names the mounts given in `mounts` (longest match first), also for slug ids', async () => {
    const { metrics, url } = await start({ mounts: ['/bots/:botId', '/orgs/:orgId/teams/:teamId'] });
    const used = await drive(url, 10, slug);
    const series = await settle(metrics, 40);
    expect(series).toEqual({
      'GET /bots/:botId/logs/:line 200': 10,
      'GET /bots/:botId/logs/:line/fail 503': 10,
      'GET /orgs/:orgId/teams/:teamId/members/:memberId 200': 10,
      'GET /tenants/:tenant/jobs/#val/steps/:step 200': 10,
    });
    expectNoIds(series, used);
  });

  it('slug ids not named in `mounts` stay bounded by maxRoutes', async () => {
    const { metrics, url } = await start({ maxRoutes: 8, logger: { info() {}, warn() {} } });
    await drive(url, 10, slug);
    const series = await settle(metrics, 40);
    const routes = new Set(Object.keys(series).map((k) => k.split(' ')[1]));
    expect(routes.size).toBeLessThanOrEqual(9); // 8 templates + __overflow__
    expect(routes).toContain('__overflow__');
    const overflowed = (await metrics.registry.getSingleMetric('http_routes_overflowed')?.get())?.values[0];
    expect(overflowed?.value).toBeGreaterThan(0);
  });

  it('rejects a `mounts` option it cannot match', () => {
    const metrics = createMetrics({ groups: ['http'] });
    for (const mounts of ['/bots/:botId', ['bots/:botId'], ['/bots/*'], ['/a/:b?'], [42], ['/']]) {
      expect(() => deiaExpress({ metrics, mounts } as never), JSON.stringify(mounts)).toThrow(
        DeiaMetricsError,
      );
    }
    expect(() => deiaExpress({ metrics, mounts: ['/bots/:botId'] })).not.toThrow();
  });
});
