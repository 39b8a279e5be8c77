// One suite, five stacks: the same traffic must produce the same series and values.
import { request } from 'node:http';
import { connect } from 'node:net';
import { UNMATCHED_ROUTE } from '@deia/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpSeries, type RunningApp, startApp, VARIANTS, waitForRequests } from './apps.js';

const MiB = 1024 * 1024;

/** Reads the first chunk of a streamed response, then drops the connection. */
function abortMidResponse(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

/** Sends the headers and part of a declared 1000-byte body, then drops the connection. */
function abortMidUpload(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\npartial',
      );
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
    socket.on('error', () => {});
  });
}

async function drive(base: string): Promise<void> {
  const ok = async (path: string, init?: RequestInit) => {
    const res = await fetch(base + path, init);
    await res.arrayBuffer();
    return res.status;
  };
  expect(await ok('/api/bots/1')).toBe(200);
  expect(await ok('/api/bots/2?verbose=1')).toBe(200);
  expect(
    await ok('/api/bots/1/start', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    }),
  ).toBe(200);
  expect(await ok('/api/v1/users/5/posts/9')).toBe(200);
  expect(await ok('/api/v1/throw')).toBe(500);
  expect(await ok('/api/throw')).toBe(500);
  expect(await ok('/api/reject')).toBe(500);
  expect(await ok('/nope/123')).toBe(404);
  expect(await ok('/.env')).toBe(404);
  expect(await ok('/api/bots/3', { method: 'HEAD' })).toBe(200);
  expect(await ok('/api/bots/1', { method: 'PROPFIND' })).toBe(404);
  expect(
    await ok('/api/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(MiB, 7),
    }),
  ).toBe(200);
  expect(await ok('/api/large')).toBe(200);
  // excluded: the SDK's endpoints and the `exclude` option
  expect(await ok('/internal/ping')).toBe(200);
  expect(await ok('/metrics')).toBe(200);
  expect(await ok('/health/live')).toBe(200);
  await abortMidResponse(`${base}/api/stream`);
  await abortMidUpload(Number(new URL(base).port));
}

const EXPECTED_REQUESTS = 15;
const U = UNMATCHED_ROUTE;
// Response sizes are the JSON bodies: {"id":"1"} = 10 bytes, {"error":"boom"} = 16, ...
const EXPECTED: Record<string, number> = {
  'http_requests_total{GET /api/bots/:id 200}': 2,
  'http_requests_total{POST /api/bots/:id/start 200}': 1,
  'http_requests_total{GET /api/v1/users/:userId/posts/:postId 200}': 1,
  'http_requests_total{GET /api/v1/throw 500}': 1,
  'http_requests_total{GET /api/throw 500}': 1,
  'http_requests_total{GET /api/reject 500}': 1,
  [`http_requests_total{GET ${U} 404}`]: 2,
  'http_requests_total{HEAD /api/bots/:id 200}': 1,
  [`http_requests_total{other ${U} 404}`]: 1,
  'http_requests_total{POST /api/upload 200}': 1,
  'http_requests_total{GET /api/large 200}': 1,
  'http_requests_total{GET /api/stream 499}': 1,
  'http_requests_total{POST /api/upload 499}': 1,
  http_requests_in_flight: 0,
  'http_request_size_bytes_sum{POST /api/bots/:id/start 200}': 7,
  'http_request_size_bytes_sum{POST /api/upload 200}': MiB,
  'http_request_size_bytes_sum{POST /api/upload 499}': 1000,
  'http_response_size_bytes_sum{POST /api/upload 499}': 0,
  'http_response_size_bytes_sum{GET /api/bots/:id 200}': 20,
  'http_response_size_bytes_sum{POST /api/bots/:id/start 200}': 16,
  'http_response_size_bytes_sum{GET /api/v1/users/:userId/posts/:postId 200}': 12,
  'http_response_size_bytes_sum{GET /api/v1/throw 500}': 16,
  'http_response_size_bytes_sum{GET /api/throw 500}': 16,
  'http_response_size_bytes_sum{GET /api/reject 500}': 16,
  [`http_response_size_bytes_sum{GET ${U} 404}`]: 42,
  'http_response_size_bytes_sum{HEAD /api/bots/:id 200}': 0,
  [`http_response_size_bytes_sum{other ${U} 404}`]: 21,
  'http_response_size_bytes_sum{POST /api/upload 200}': 17,
  'http_response_size_bytes_sum{GET /api/large 200}': 2 * MiB,
};

/**
 * Router 2.2.0 (what Express 5.1 first installed) keeps no mount path on its layers: the adapter
 * recovers the mount part from the URL there, as on Express 4, so with the `mounts` option of
 * apps.ts every variant records the same series.
 */
const expectedFor = (_variant: string): Record<string, number> => EXPECTED;

describe.each(VARIANTS)('conformance: %s', (variant) => {
  const expected = expectedFor(variant);
  let app: RunningApp;
  let series: Record<string, number>;
  beforeAll(async () => {
    app = await startApp(variant);
    await drive(app.url);
    await waitForRequests(app.metrics, EXPECTED_REQUESTS);
    series = await httpSeries(app.metrics);
  });
  afterAll(() => app?.close());

  it('records the same request counts and sizes', () => {
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, series[k]]));
    expect(picked).toEqual(expected);
  });

  it('records nothing else: every series is one of the expected label sets', () => {
    const labelSets = new Set(
      Object.keys(expected)
        .filter((k) => k.startsWith('http_requests_total{'))
        .map((k) => k.slice(k.indexOf('{'))),
    );
    // no route template went to __overflow__
    expect(series.http_routes_overflowed).toBe(0);
    for (const key of Object.keys(series)) {
      if (key === 'http_requests_in_flight' || key === 'http_routes_overflowed') continue;
      expect(labelSets, key).toContain(key.slice(key.indexOf('{')));
    }
  });

  it('observes one duration, request size and response size per request', () => {
    for (const [key, value] of Object.entries(expected)) {
      if (!key.startsWith('http_requests_total{')) continue;
      const labels = key.slice(key.indexOf('{'));
      expect(series[`http_request_duration_seconds_count${labels}`], labels).toBe(value);
      expect(series[`http_request_size_bytes_count${labels}`], labels).toBe(value);
      expect(series[`http_response_size_bytes_count${labels}`], labels).toBe(value);
    }
  });

  it('never uses a raw URL as route', () => {
    for (const key of Object.keys(series)) {
      expect(key).not.toMatch(/\/(1|2|3|5|9|123)\b|nope|\.env|verbose/);
    }
  });
});
