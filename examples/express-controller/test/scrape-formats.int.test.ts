// A real Prometheus scrapes one @deia/express service (exemplars on) in both exposition formats:
// job "om" as Prometheus asks by default (OpenMetrics preferred), job "text" as a Prometheus limited
// to text 0.0.4. The same series with the same values must land in the TSDB for both jobs, the
// exemplars only through OpenMetrics, and every scrape is gzipped (Prometheus sends
// Accept-Encoding: gzip).
//
// `scrape_protocols` (which pins a job to one format) exists from Prometheus 2.49 on; with an older
// Prometheus (Debian 12 ships 2.42) the "text" job scrapes through a loopback proxy that replaces
// the Accept header with a text-0.0.4-only one and leaves everything else as Prometheus sent it.
// Both jobs go through a recording proxy, so the test sees what Prometheus asked for and got.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deiaExpress } from '@deia/express';
import { createMetrics } from '@deia/metrics';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinary, freePort, stopAll } from './e2e/processes.js';
import { startPrometheus, type VectorSample } from './e2e/prometheus.js';
import { http, waitFor } from './e2e/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-formats-'));
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

interface Scrape {
  accept: string;
  acceptEncoding: string;
  contentType: string;
  contentEncoding: string;
  bytes: number;
}

/** Forwards to `upstream`, records each exchange; with `accept`, replaces the Accept header. */
function recordingProxy(upstream: number, accept?: string): { server: Server; scrapes: Scrape[] } {
  const scrapes: Scrape[] = [];
  const server = createServer((req, res) => {
    const headers = { ...req.headers, ...(accept ? { accept } : {}) };
    const up = request(
      { host: '127.0.0.1', port: upstream, path: req.url, method: req.method, headers },
      (answer: IncomingMessage) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          scrapes.push({
            accept: String(headers.accept ?? ''),
            acceptEncoding: String(req.headers['accept-encoding'] ?? ''),
            contentType: String(answer.headers['content-type'] ?? ''),
            contentEncoding: String(answer.headers['content-encoding'] ?? ''),
            bytes: body.length,
          });
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
        });
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return { server, scrapes };
}

/** True when this Prometheus knows `scrape_protocols` (2.49.0 and later). */
function hasScrapeProtocols(binary: string): boolean {
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8' });
  const m = /version (\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the Prometheus version from: ${out.slice(0, 200)}`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 49);
}

const key = (s: VectorSample) => {
  const { job: _job, instance: _instance, ...labels } = s.metric;
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
};
// What an idle process may change between two scrapes, so between the two jobs' latest scrapes:
// its own CPU/memory/event-loop values, its series (a GC kind that runs for the first time adds
// nodejs_gc_duration_seconds{kind=...}; nodejs_active_handles{type=...} lists what is active at
// that collect), and so Prometheus's per-scrape meta values (duration, samples scraped, series
// seen first: 9 on whichever job first scraped a new GC kind, 0 on the other). `up` and the SDK's
// own series are compared exactly, names, labels and values.
const VOLATILE = /^(process_|nodejs_|scrape_)/;
const stable = (m: Map<string, VectorSample>) =>
  new Map([...m].filter(([, s]) => !VOLATILE.test(s.metric.__name__ ?? '')));

describe('a real Prometheus scraping OpenMetrics and text 0.0.4 from the same service', () => {
  it('stores the same series and values either way, exemplars only from OpenMetrics, gzipped', async () => {
    const traces = new Set<string>();
    let trace = '';
    const metrics = createMetrics({ exemplars: () => (trace ? { trace_id: trace } : undefined) });
    const app = express();
    app.use(deiaExpress({ metrics }));
    app.get('/api/bots', (_req, res) => res.json({ bots: [] }));
    app.get('/api/bots/:id', (_req, res) => res.status(404).json({ error: 'no such bot' }));
    app.get('/boom', (_req, res) => res.status(500).json({ error: 'boom' }));
    const appPort = await listen(createServer(app));
    // Traffic first, then none while Prometheus scrapes: both jobs see the same values.
    for (let i = 0; i < 30; i++) {
      trace = `${i.toString(16).padStart(2, '0')}${'ab'.repeat(15)}`;
      traces.add(trace);
      const path = ['/api/bots', '/api/bots/7', '/boom'][i % 3] as string;
      await http(`http://127.0.0.1:${appPort}${path}`);
    }
    trace = '';

    const binary = findBinary(['prometheus'], 'prometheus');
    const pinned = hasScrapeProtocols(binary);
    const om = recordingProxy(appPort);
    const text = recordingProxy(appPort, pinned ? undefined : 'text/plain;version=0.0.4,*/*;q=0.1');
    const [omPort, textPort] = [await listen(om.server), await listen(text.server)];
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        `  - { job_name: om, static_configs: [{ targets: ['127.0.0.1:${omPort}'] }] }`,
        `  - job_name: text`,
        `    static_configs: [{ targets: ['127.0.0.1:${textPort}'] }]`,
        ...(pinned ? ['    scrape_protocols: [PrometheusText0.0.4]'] : []),
        '',
      ].join('\n'),
    );
    const start = Date.now() / 1000 - 60;
    const prom = await startPrometheus({
      configFile: config,
      dataDir: dir,
      port: await freePort(),
      extraArgs: ['--enable-feature=exemplar-storage'],
    });
    await waitFor(
      'both jobs scraped successfully at least twice',
      async () =>
        om.scrapes.length >= 2 && text.scrapes.length >= 2 && (await prom.query('up == 1')).length === 2,
      { timeoutMs: 20_000, diagnose: async () => JSON.stringify(await prom.targets()) },
    );
    for (const t of await prom.targets()) expect(t.lastError, t.labels.job).toBe('');

    // What each job asked for and got: OpenMetrics vs text 0.0.4, gzipped both times.
    for (const s of om.scrapes) {
      expect(s.accept).toMatch(/^application\/openmetrics-text/);
      expect(s.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    }
    for (const s of text.scrapes) expect(s.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const s of [...om.scrapes, ...text.scrapes]) {
      expect(s.acceptEncoding).toContain('gzip');
      expect(s.contentEncoding).toBe('gzip');
    }

    // The same series (job/instance aside) in the TSDB, with the same values.
    const series = async (job: string) =>
      new Map((await prom.query(`{job="${job}"}`)).map((s) => [key(s), s] as const));
    const [allOm, allText] = [await series('om'), await series('text')];
    expect(allOm.size).toBeGreaterThan(100);
    // The process metrics arrive through both jobs (their values and GC kinds may differ).
    const names = (m: Map<string, VectorSample>) => new Set([...m.values()].map((s) => s.metric.__name__));
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'scrape_series_added',
    ]) {
      expect(names(allOm).has(name), name).toBe(true);
      expect(names(allText).has(name), name).toBe(true);
    }
    const [fromOm, fromText] = [stable(allOm), stable(allText)];
    expect([...fromOm.keys()].sort()).toEqual([...fromText.keys()].sort());
    let compared = 0;
    for (const [k, s] of fromOm) {
      expect(fromText.get(k)?.value[1], k).toBe(s.value[1]);
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
    expect(fromText.get(key({ metric: { __name__: 'up' }, value: [0, ''] }))?.value[1]).toBe('1');
    expect(
      fromOm.get(
        key({
          metric: { __name__: 'http_requests_total', method: 'GET', route: '/boom', status: '500' },
          value: [0, ''],
        }),
      )?.value[1],
    ).toBe('10');

    // Exemplars: stored from the OpenMetrics job, carrying the trace ids the requests had; none from text.
    const exemplars = async (job: string) => {
      const { body } = await http(
        `${prom.url}/api/v1/query_exemplars?query=${encodeURIComponent(`http_request_duration_seconds_bucket{job="${job}"}`)}&start=${start}&end=${Date.now() / 1000 + 60}`,
      );
      const parsed = JSON.parse(body) as {
        status: string;
        data: Array<{ exemplars: Array<{ labels: Record<string, string>; value: string }> }>;
      };
      expect(parsed.status).toBe('success');
      return parsed.data.flatMap((d) => d.exemplars);
    };
    const omExemplars = await exemplars('om');
    expect(omExemplars.length).toBeGreaterThan(0);
    for (const e of omExemplars) expect(traces.has(e.labels.trace_id ?? '')).toBe(true);
    expect(await exemplars('text')).toEqual([]);
  }, 60_000);
});
