/**
 * What native histograms cost on the recording path, side by side in one process: every round runs
 * each mode once (order rotated per round), and a mode's ratio is paired with its baseline's time
 * of the same round, so host noise hits both alike. ns per operation, median of rounds; ratios as
 * median [25th-75th percentile] of the per-round ratios.
 *
 * - `observe()` of a catalog histogram (prom-client handle, two labels): classic only (baseline),
 *   classic + native (the default: classic buckets kept), native only (`classicBuckets: false`).
 * - the HTTP core's recording of one request in its own store (what its `'close'` listener does
 *   after resolving the series: the counter and the three histograms' `record()`), and one whole
 *   HTTP request through the core (`track()`, `end()`, `'close'`, on node's own request/response
 *   objects without a socket): native off (baseline), native on for the request duration only,
 *   native on for the three HTTP histograms.
 *
 * Values: 4,096 log-uniform durations from 0.5 ms to 2 s (about 110 native buckets at schema 3).
 *
 *   pnpm --filter @deia/bench bench:native           # full (about 1 min)
 *   pnpm --filter @deia/bench bench:native --quick   # smoke
 *
 * Scrape CPU and bytes, native vs classic, at 1,000 and 10,000 label sets need the protobuf
 * encoder: `scrapeHook` below builds the same registries (`registryWith`) for that comparison.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { createMetrics, type HistogramHandle, type MetricsOptions } from '@deia/metrics';
import { createHttpObserver, PATH_RECORD } from '@deia/metrics/adapter';
import * as client from 'prom-client';
// Internal, for the store-level mode only: the HTTP core's store is not public API.
import { httpStoreOf } from '../../packages/metrics/src/http-store.js';
import { spread } from './stats.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 4 : 15;
const WARMUP = 2;
const OPS = quick ? 20_000 : 100_000;

// deterministic log-uniform values (xorshift)
let seed = 0x2545f491;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const VALUES = Float64Array.from({ length: 4096 }, () => 0.0005 * 4000 ** rand());

const base = (o: MetricsOptions = {}) =>
  createMetrics({ registry: new client.Registry(), client, defaultMetrics: false, warn: () => {}, ...o });

/** Registries for the scrape comparison (the hook for the protobuf encoder): `sets` HTTP label sets. */
export function registryWith(sets: number, native: boolean): ReturnType<typeof createMetrics> {
  const m = base({ groups: ['http'], nativeHistograms: native });
  for (let i = 0; i < sets; i++) {
    const labels = { method: 'GET', route: `/api/r${Math.floor(i / 5)}/:id`, status: String(200 + (i % 5)) };
    for (let j = 0; j < 8; j++)
      m.http.duration.observe(labels, VALUES[(i * 8 + j) % VALUES.length] as number);
    m.http.requestSize.observe(labels, 0);
    m.http.responseSize.observe(labels, 100 + i);
  }
  return m;
}

function observeMode(o: MetricsOptions): () => void {
  const m = base({ groups: ['dependencies'], ...o });
  const h = m.get<HistogramHandle<'dependency' | 'outcome'>>('dependency_request_duration_seconds');
  const labels = { dependency: 'pg', outcome: 'success' };
  return () => {
    for (let i = 0; i < OPS; i++) h.observe(labels, VALUES[i & 4095] as number);
  };
}

function storeMode(o: MetricsOptions): () => void {
  const metrics = base({ groups: ['http'], ...o });
  const store = httpStoreOf(metrics);
  const { requests, duration, requestSize, responseSize } = store ?? {};
  if (!requests || !duration || !requestSize || !responseSize) throw new Error('no HTTP store');
  const labels = { method: 'GET', route: '/api/bots/:id', status: '200' };
  const c = requests.seriesFor(labels);
  const d = duration.seriesFor(labels);
  const rq = requestSize.seriesFor(labels);
  const rs = responseSize.seriesFor(labels);
  return () => {
    for (let i = 0; i < OPS; i++) {
      c.value += 1;
      duration.record(d, VALUES[i & 4095] as number, true);
      requestSize.record(rq, 0, false);
      responseSize.record(rs, 100 + (i & 1023), false);
    }
  };
}

const socket = new Socket();
function httpMode(o: MetricsOptions): () => void {
  const metrics = base({ groups: ['http'], ...o });
  const observer = createHttpObserver({ metrics, metricsPath: false }, (ctx) => ctx as string, 'bench');
  if (observer.match('/api/bots/1') !== PATH_RECORD) throw new Error('bench path not recorded');
  return () => {
    for (let i = 0; i < OPS / 10; i++) {
      const req = new IncomingMessage(socket);
      req.method = 'GET';
      const res = new ServerResponse(req);
      observer.track(req, res, '/api/bots/:id');
      res.end('ok');
      res.emit('close');
    }
  };
}

interface Mode {
  name: string;
  group: string;
  baseline: boolean;
  ops: number;
  run: () => void;
}
const MODES: Mode[] = [
  { name: 'classic only', group: 'observe()', baseline: true, ops: OPS, run: observeMode({}) },
  {
    name: 'classic + native',
    group: 'observe()',
    baseline: false,
    ops: OPS,
    run: observeMode({ nativeHistograms: true }),
  },
  {
    name: 'native only (classicBuckets: false)',
    group: 'observe()',
    baseline: false,
    ops: OPS,
    run: observeMode({ nativeHistograms: { classicBuckets: false } }),
  },
  { name: 'native off', group: 'HTTP core record()', baseline: true, ops: OPS, run: storeMode({}) },
  {
    name: 'native on, duration only',
    group: 'HTTP core record()',
    baseline: false,
    ops: OPS,
    run: storeMode({ nativeHistogramsFor: { http_request_duration_seconds: true } }),
  },
  {
    name: 'native on, all three histograms',
    group: 'HTTP core record()',
    baseline: false,
    ops: OPS,
    run: storeMode({ nativeHistograms: true }),
  },
  { name: 'native off', group: 'HTTP request', baseline: true, ops: OPS / 10, run: httpMode({}) },
  {
    name: 'native on, duration only',
    group: 'HTTP request',
    baseline: false,
    ops: OPS / 10,
    run: httpMode({ nativeHistogramsFor: { http_request_duration_seconds: true } }),
  },
  {
    name: 'native on, all three histograms',
    group: 'HTTP request',
    baseline: false,
    ops: OPS / 10,
    run: httpMode({ nativeHistograms: true }),
  },
];

const ns: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS + WARMUP; round++) {
  const order = MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode);
  for (const mode of order) {
    const t = process.hrtime.bigint();
    mode.run();
    const per = Number(process.hrtime.bigint() - t) / mode.ops;
    if (round < WARMUP) continue;
    const key = `${mode.group}/${mode.name}`;
    const list = ns[key] ?? [];
    list.push(per);
    ns[key] = list;
  }
}

const fmt = (x: number) => x.toFixed(2);
console.log(`Native histogram recording cost (${ROUNDS} rounds, node ${process.version})\n`);
console.log('| what | mode | ns/op (median) | ratio to baseline (median [IQR]) |');
console.log('| --- | --- | ---: | --- |');
for (const mode of MODES) {
  const mine = ns[`${mode.group}/${mode.name}`] ?? [];
  const b = MODES.find((m) => m.group === mode.group && m.baseline) as Mode;
  const theirs = ns[`${b.group}/${b.name}`] ?? [];
  const ratios = mine.map((x, i) => x / (theirs[i] as number));
  const s = spread(ratios);
  const cell = mode.baseline ? '1 (baseline)' : `${fmt(s.median)} [${fmt(s.q1)}-${fmt(s.q3)}]`;
  console.log(`| ${mode.group} | ${mode.name} | ${Math.round(spread(mine).median)} | ${cell} |`);
}
