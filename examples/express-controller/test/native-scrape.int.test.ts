// Two real Prometheus servers scrape one @deia/express service that records the HTTP duration as a
// native histogram beside its classic buckets (exemplars on):
// - "native", started with --enable-feature=native-histograms (it then asks for protobuf first)
//   and exemplar-storage: histogram_count()/histogram_sum() of the native series are the requests
//   sent and their total time, histogram_quantile() on it agrees with the classic one within the
//   width of the classic bucket, and the exemplars arrive;
// - "classic", without the flag: it still gets OpenMetrics with the classic buckets.
// Both go through a recording proxy, so the test sees what each asked for and got.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deiaExpress } from '@deia/express';
import { createMetrics } from '@deia/metrics';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, stopAll } from './e2e/processes.js';
import { startPrometheus, type TestPrometheus } from './e2e/prometheus.js';
import { http, waitFor } from './e2e/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-native-'));
const servers: Server[] = [];
afterAll(async () => {
  await stopAll();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

const listen = async (server: Server): Promise<number> => {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

/** Forwards to `upstream` and records the Accept asked and the Content-Type answered. */
function recordingProxy(upstream: number): { server: Server; seen: Array<{ accept: string; type: string }> } {
  const seen: Array<{ accept: string; type: string }> = [];
  const server = createServer((req, res) => {
    const up = request(
      { host: '127.0.0.1', port: upstream, path: req.url, method: req.method, headers: req.headers },
      (answer: IncomingMessage) => {
        seen.push({
          accept: String(req.headers.accept ?? ''),
          type: String(answer.headers['content-type'] ?? ''),
        });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return { server, seen };
}

const scalar = async (prom: TestPrometheus, expr: string): Promise<number> => {
  const r = await prom.query(expr);
  if (r.length !== 1) throw new Error(`${expr}: ${r.length} samples`);
  return Number(r[0]?.value[1]);
};

/** The classic bucket `(lo, hi]` holding `v`. */
function bucketOf(v: number, bounds: readonly number[]): [number, number] {
  let lo = 0;
  for (const b of bounds) {
    if (v <= b) return [lo, b];
    lo = b;
  }
  return [lo, Number.POSITIVE_INFINITY];
}

async function startScraper(name: string, target: number, extraArgs: string[]) {
  const config = join(dir, `${name}.yml`);
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s }',
      'scrape_configs:',
      `  - { job_name: ${name}, static_configs: [{ targets: ['127.0.0.1:${target}'] }] }`,
      '',
    ].join('\n'),
  );
  const data = join(dir, name);
  return startPrometheus({ configFile: config, dataDir: data, port: await freePort(), extraArgs });
}

describe('a real Prometheus scraping native histograms in protobuf', () => {
  it('stores the native HTTP duration (count, sum, quantiles, exemplars); without the flag, classic buckets', async () => {
    const traces = new Set<string>();
    let trace = '';
    const metrics = createMetrics({
      exemplars: () => (trace ? { trace_id: trace } : undefined),
      nativeHistogramsFor: { http_request_duration_seconds: true },
    });
    const app = express();
    app.use(deiaExpress({ metrics }));
    app.get('/work/:ms', (req, res) => {
      setTimeout(() => res.json({ ok: true }), Number(req.params.ms));
    });
    const appPort = await listen(createServer(app));
    const sent = 40;
    let slept = 0;
    for (let i = 0; i < sent; i++) {
      const ms = 5 + ((i * 37) % 120);
      slept += ms / 1000;
      trace = `${i.toString(16).padStart(2, '0')}${'cd'.repeat(15)}`;
      traces.add(trace);
      expect((await http(`http://127.0.0.1:${appPort}/work/${ms}`)).status).toBe(200);
    }
    trace = '';

    const nativeProxy = recordingProxy(appPort);
    const classicProxy = recordingProxy(appPort);
    const [nativePort, classicPort] = [await listen(nativeProxy.server), await listen(classicProxy.server)];
    const start = Date.now() / 1000 - 60;
    const native = await startScraper('native', nativePort, [
      '--enable-feature=native-histograms',
      '--enable-feature=exemplar-storage',
    ]);
    const classic = await startScraper('classic', classicPort, []);
    const route = 'route="/work/:ms"';
    await waitFor(
      'both servers stored the HTTP duration',
      async () =>
        (await native.query(`histogram_count(http_request_duration_seconds{${route}})`)).length === 1 &&
        (await classic.query(`http_request_duration_seconds_count{${route}}`)).length === 1,
      {
        timeoutMs: 30_000,
        diagnose: async () => JSON.stringify([await native.targets(), await classic.targets()]),
      },
    );
    for (const t of [...(await native.targets()), ...(await classic.targets())]) expect(t.lastError).toBe('');

    // what each asked for and got
    expect(nativeProxy.seen[0]?.accept).toMatch(
      /^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited/,
    );
    for (const s of nativeProxy.seen)
      expect(s.type).toMatch(
        /^application\/vnd\.google\.protobuf; proto=io\.prometheus\.client\.MetricFamily; encoding=delimited; escaping=/,
      );
    for (const s of classicProxy.seen)
      expect(s.type).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);

    // the native histogram: every request, their total time (the classic _sum of the same data)
    expect(await scalar(native, `histogram_count(http_request_duration_seconds{${route}})`)).toBe(sent);
    const sum = await scalar(native, `histogram_sum(http_request_duration_seconds{${route}})`);
    const classicSum = await scalar(classic, `http_request_duration_seconds_sum{${route}}`);
    expect(Math.abs(sum - classicSum)).toBeLessThan(1e-9 * classicSum);
    expect(sum).toBeGreaterThanOrEqual(slept);
    expect(sum).toBeLessThan(slept + sent * 0.1);
    // without the flag: the classic buckets, as before
    expect(await scalar(classic, `http_request_duration_seconds_bucket{${route},le="+Inf"}`)).toBe(sent);
    expect((await classic.query(`http_request_duration_seconds_bucket{${route}}`)).length).toBeGreaterThan(5);

    // quantiles: native within the width of the classic bucket the classic estimate falls in
    const bounds = (await classic.query(`http_request_duration_seconds_bucket{${route}}`))
      .map((s) => Number(s.metric.le))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const n = await scalar(native, `histogram_quantile(${q}, http_request_duration_seconds{${route}})`);
      const c = await scalar(
        classic,
        `histogram_quantile(${q}, http_request_duration_seconds_bucket{${route}})`,
      );
      const [lo, hi] = bucketOf(c, bounds);
      expect(Math.abs(n - c), `q=${q}: native ${n}, classic ${c} in (${lo}, ${hi}]`).toBeLessThanOrEqual(
        hi - lo,
      );
    }

    // exemplars arrive through protobuf, with the trace ids the requests had
    const { body } = await http(
      `${native.url}/api/v1/query_exemplars?query=${encodeURIComponent(`{__name__=~"http_request_duration_seconds.*",${route}}`)}&start=${start}&end=${Date.now() / 1000 + 60}`,
    );
    const parsed = JSON.parse(body) as {
      status: string;
      data: Array<{ exemplars: Array<{ labels: Record<string, string>; value: string }> }>;
    };
    expect(parsed.status).toBe('success');
    const exemplars = parsed.data.flatMap((d) => d.exemplars);
    expect(exemplars.length).toBeGreaterThan(0);
    for (const e of exemplars) expect(traces.has(e.labels.trace_id ?? '')).toBe(true);
  }, 90_000);
});
