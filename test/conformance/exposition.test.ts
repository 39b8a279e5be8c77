// What /metrics and the health endpoints answer, the same through every adapter: the format the
// scraper asks for, gzip when it accepts it, and trailing slashes ignored on the SDK's own paths.
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp, VARIANTS } from './apps.js';

// the Content-Type names the escaping of metric and label names used (Prometheus 3), underscores by default
const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores';
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      request(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
        .on('error', reject)
        .end();
    },
  );
}

describe.each(VARIANTS)('exposition: %s', (variant) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(variant);
    // a few label sets, so the exposition passes the gzip threshold
    for (let i = 0; i < 5; i++) await (await fetch(`${app.url}/api/bots/${i}`)).text();
    await (await fetch(`${app.url}/api/bots/1/start`, { method: 'POST' })).text();
    await (await fetch(`${app.url}/nowhere`)).text();
  });
  afterAll(async () => {
    await app.close();
    app.health.close();
  });

  it('answers /health/, /health/ready/ and /metrics/ like the paths without the slash', async () => {
    for (const p of ['/health', '/health/ready', '/health/live', '/metrics']) {
      const a = await get(app.url + p);
      const b = await get(`${app.url}${p}/`);
      expect(b.status, `${p}/`).toBe(a.status);
      expect(a.status, p).toBe(200);
      expect(b.headers['content-type'], `${p}/`).toBe(a.headers['content-type']);
    }
  });

  it('serves OpenMetrics to Prometheus, text 0.0.4 otherwise, gzipped when accepted', async () => {
    const om = await get(`${app.url}/metrics`, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
    expect(om.headers['content-type']).toBe(OM);
    expect(om.headers['content-encoding']).toBe('gzip');
    const omText = gunzipSync(om.body).toString();
    expect(omText.endsWith('# EOF\n')).toBe(true);
    expect(omText.length).toBeGreaterThan(4096);
    expect(om.body.length).toBeLessThan(omText.length / 4);
    const text = await get(`${app.url}/metrics`, { accept: 'text/plain;version=0.0.4' });
    expect(text.headers['content-type']).toBe(TEXT);
    expect(text.headers['content-encoding']).toBeUndefined();
    const samples = (body: string) =>
      body
        .split('\n')
        .filter((l) => l.startsWith('http_requests_total'))
        .sort();
    expect(samples(omText)).toEqual(samples(text.body.toString()));
    expect(samples(omText).length).toBeGreaterThan(0);
  });
});
