// Who sees per-check details: every endpoint that has them (/health/db, /health/cache,
// /health/detailed), both body formats, gated by the `detail` option.
import { afterEach, describe, expect, it } from 'vitest';
import { type CheckOutcome, createHealth, type Health, type HealthOptions } from '../src/index.js';
import { get } from './helpers.js';

const opened: Health[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((h) => h.close()));
});

// what a check may tell an operator and nobody else (values chosen to be easy to find in a body)
const SECRETS = [
  'orders_prod',
  'tables_accessible',
  'pool_total',
  'memory_used_mb',
  'latency_ms',
  'observedValue',
];
const FAILURE = 'password authentication failed for user admin';

function app(detail?: HealthOptions['detail'], db: 'pass' | 'fail' = 'pass'): Health {
  const h = createHealth({
    ...(detail === undefined ? {} : { detail }),
    cacheTtlMs: 0,
    checks: {
      database: {
        kind: 'database',
        run: (): CheckOutcome => ({
          status: db,
          ...(db === 'fail' ? { message: FAILURE } : {}),
          details: { database: 'orders_prod', tables_accessible: 12, pool_total: 10 },
        }),
      },
      cache: {
        kind: 'cache',
        critical: false,
        run: (): CheckOutcome => ({ status: 'pass', details: { memory_used_mb: 42.5 } }),
      },
    },
  });
  opened.push(h);
  return h;
}

const FORMATS: Array<Record<string, string>> = [{}, { accept: 'application/health+json' }];

/** Every path the endpoints module serves, in both formats, with these headers. */
async function bodies(h: Health, headers: Record<string, string> = {}) {
  const out: Array<{ path: string; body: string }> = [];
  for (const path of h.paths) {
    for (const format of FORMATS) {
      const res = await get(h, path, { ...format, ...headers });
      out.push({ path, body: res.body });
    }
  }
  return out;
}

const leaks = (body: string) => [...SECRETS, 'admin'].filter((s) => body.includes(s));

describe('per-check details are behind the detail option on every health path', () => {
  it.each([
    ['the default', undefined],
    ["'status'", 'status' as const],
    ['a token, none sent', { token: 's3cret-token' }],
  ])('anonymous with %s: statuses only, on every path and format', async (_name, detail) => {
    for (const db of ['pass', 'fail'] as const) {
      const h = app(detail, db);
      expect(h.paths).toEqual(
        expect.arrayContaining(['/health', '/health/db', '/health/cache', '/health/detailed']),
      );
      for (const { path, body } of await bodies(h)) {
        expect({ path, db, leaked: leaks(body) }).toEqual({ path, db, leaked: [] });
      }
      // and the statuses are still there
      expect(JSON.parse((await get(h, '/health/db')).body)).toEqual({
        status: db === 'pass' ? 'connected' : 'disconnected',
      });
      expect(JSON.parse((await get(h, '/health/cache')).body)).toEqual({ status: 'healthy' });
      expect((await get(h, '/health/db')).statusCode).toBe(db === 'pass' ? 200 : 503);
    }
  });

  it('with the token: details on /health/db, /health/cache and /health/detailed', async () => {
    const h = app({ token: 's3cret-token' }, 'fail');
    const auth = { authorization: 'Bearer s3cret-token' };
    const db = JSON.parse((await get(h, '/health/db', auth)).body);
    expect(db).toMatchObject({
      status: 'disconnected',
      database: 'orders_prod',
      tables_accessible: 12,
      pool_total: 10,
      error: FAILURE,
    });
    expect(typeof db.latency_ms).toBe('number');
    const cache = JSON.parse((await get(h, '/health/cache', auth)).body);
    expect(cache).toMatchObject({ status: 'healthy', provider: 'redis', memory_used_mb: 42.5 });
    const detailed = JSON.parse((await get(h, '/health/detailed', auth)).body);
    expect(detailed.checks.database).toMatchObject({ database: 'orders_prod', message: FAILURE });
    const hj = JSON.parse((await get(h, '/health/db', { ...auth, accept: 'application/health+json' })).body);
    expect(hj.checks['database:responseTime'][0]).toMatchObject({ observedUnit: 'ms', output: FAILURE });
    // the scheme is case-insensitive (RFC 9110)
    const lower = JSON.parse((await get(h, '/health/db', { authorization: 'bearer s3cret-token' })).body);
    expect(lower.database).toBe('orders_prod');
  });

  it.each([
    ['a wrong token of the same length', 'Bearer s3cret-tokeN'],
    ['a shorter token', 'Bearer s3cret'],
    ['a longer token', 'Bearer s3cret-token-and-more'],
    ['the token as a prefix of a longer one', 'Bearer s3cret-token '.padEnd(40, 'x')],
    ['another scheme', 'Basic s3cret-token'],
    ['the bare token', 's3cret-token'],
    ['an empty header', ''],
    ['the scheme only', 'Bearer'],
  ])('%s gets statuses only', async (_name, authorization) => {
    const h = app({ token: 's3cret-token' }, 'fail');
    for (const { path, body } of await bodies(h, { authorization })) {
      expect({ path, leaked: leaks(body) }).toEqual({ path, leaked: [] });
    }
  });

  it('a repeated Authorization header never matches', async () => {
    const h = app({ token: 'tok' });
    const res = await h.handle({
      method: 'GET',
      path: '/health/db',
      headers: { authorization: ['Bearer tok', 'Bearer tok'] },
    });
    expect(JSON.parse(res?.body ?? '{}')).toEqual({ status: 'connected' });
  });

  it("'full' shows details to everyone; a function decides per request (a throw means statuses only)", async () => {
    const full = app('full');
    expect(JSON.parse((await get(full, '/health/db')).body).database).toBe('orders_prod');
    const byReq = app((req) => {
      if (req.headers['x-boom']) throw new Error('boom');
      return req.headers['x-ops'] === 'yes';
    });
    expect(JSON.parse((await get(byReq, '/health/cache', { 'x-ops': 'yes' })).body).memory_used_mb).toBe(
      42.5,
    );
    expect(JSON.parse((await get(byReq, '/health/cache')).body)).toEqual({ status: 'healthy' });
    expect(JSON.parse((await get(byReq, '/health/db', { 'x-ops': 'yes', 'x-boom': '1' })).body)).toEqual({
      status: 'connected',
    });
  });

  it('a token that is not a non-empty string is refused at setup', () => {
    for (const token of ['', undefined, 42]) {
      expect(() => createHealth({ checks: {}, detail: { token } as never })).toThrow(
        /DEIA_HEALTH_OPTIONS.*detail must be .*\{ token: string \}/,
      );
    }
  });
});
