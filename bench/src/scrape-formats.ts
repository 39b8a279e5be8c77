/**
 * Scrape cost by format, side by side in one run:
 * `pnpm --filter @deia/bench bench:scrape:formats [--sets=1000,10000] [--rounds=N]`.
 *
 * Three registries in this process, each with the README's configuration (`createMetrics({
 * defaultLabels })`) and `sets` label sets recorded through the HTTP core from real requests:
 * "classic" (classic buckets only), "native" (`nativeHistograms: true`: native histograms beside
 * the classic buckets) and "native-only" (`classicBuckets: false`). Each is scraped through its
 * HTTP observer in text 0.0.4 and in the delimited protobuf format, plain and gzipped. One round
 * scrapes every (registry, format, encoding) once, in an order that rotates per round; a scrape's
 * CPU time is this process's user + system time across it (gzip's thread-pool work included).
 * Ratios are taken within a round (protobuf / text of one registry; native / classic of one
 * format), then their median and IQR reported, with the body sizes.
 */
import { createMetrics } from '@deia/metrics';
import { createHttpObserver, type HttpObserver } from '@deia/metrics/adapter';
import { DEFAULT_LABELS, recordThroughCore } from './scrape-sets.js';
import { type Spread, spread } from './stats.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SETS = (arg('sets') ?? '1000,10000').split(',').filter(Boolean).map(Number);
const roundsFor = (sets: number) => Number(arg('rounds') ?? (sets <= 1000 ? 21 : 9));

const FORMATS = {
  text: 'text/plain;version=0.0.4',
  protobuf: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
} as const;
type Format = keyof typeof FORMATS;
const KINDS = ['classic', 'native', 'native-only'] as const;
type Kind = (typeof KINDS)[number];
const ENCODINGS = ['identity', 'gzip'] as const;
type Encoding = (typeof ENCODINGS)[number];

async function registryOf(kind: Kind, sets: number): Promise<HttpObserver> {
  const metrics = createMetrics({
    defaultLabels: DEFAULT_LABELS,
    warn: () => {},
    ...(kind === 'classic' ? {} : { nativeHistograms: kind === 'native' ? true : { classicBuckets: false } }),
  });
  await recordThroughCore(metrics, sets, 16);
  return createHttpObserver({ metrics }, () => '/x');
}

async function scrapeOnce(o: HttpObserver, format: Format, encoding: Encoding) {
  const before = process.cpuUsage();
  const r = await o.scrape({
    method: 'GET',
    path: '/metrics',
    headers: { accept: FORMATS[format], 'accept-encoding': encoding },
  });
  const used = process.cpuUsage(before);
  if (r.statusCode !== 200) throw new Error(`scrape answered ${r.statusCode}`);
  return {
    cpuMs: (used.user + used.system) / 1000,
    bytes: typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length,
  };
}

const fmt = (s: Spread, digits = 2) =>
  `${s.median.toFixed(digits)} (${s.q1.toFixed(digits)}-${s.q3.toFixed(digits)})`;
const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;

async function run(sets: number): Promise<void> {
  const observers = new Map<Kind, HttpObserver>();
  for (const kind of KINDS) observers.set(kind, await registryOf(kind, sets));
  const cells: Array<{ kind: Kind; format: Format; encoding: Encoding }> = [];
  for (const kind of KINDS)
    for (const format of ['text', 'protobuf'] as const)
      for (const encoding of ENCODINGS) cells.push({ kind, format, encoding });
  const key = (c: { kind: Kind; format: Format; encoding: Encoding }) =>
    `${c.kind}/${c.format}/${c.encoding}`;
  const cpu = new Map<string, number[]>();
  const bytes = new Map<string, number>();
  const rounds = roundsFor(sets);
  // warm-up: one of each (first scrapes compile the renderers and size the buffers)
  for (const c of cells) await scrapeOnce(observers.get(c.kind) as HttpObserver, c.format, c.encoding);
  const perRound: Array<Map<string, number>> = [];
  for (let r = 0; r < rounds; r++) {
    const round = new Map<string, number>();
    for (let i = 0; i < cells.length; i++) {
      const c = cells[(i + r) % cells.length] as (typeof cells)[number];
      const s = await scrapeOnce(observers.get(c.kind) as HttpObserver, c.format, c.encoding);
      round.set(key(c), s.cpuMs);
      bytes.set(key(c), s.bytes);
      const list = cpu.get(key(c)) ?? [];
      list.push(s.cpuMs);
      cpu.set(key(c), list);
    }
    perRound.push(round);
  }
  const ratio = (a: string, b: string) =>
    spread(perRound.map((m) => (m.get(a) as number) / (m.get(b) as number)));

  console.log(`\n${sets} label sets, ${rounds} rounds (median CPU ms per scrape, IQR; body size)`);
  console.log('| registry | encoding | text | protobuf | protobuf / text | text bytes | protobuf bytes |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const kind of KINDS) {
    for (const encoding of ENCODINGS) {
      const t = `${kind}/text/${encoding}`;
      const p = `${kind}/protobuf/${encoding}`;
      console.log(
        `| ${kind} | ${encoding} | ${fmt(spread(cpu.get(t) ?? []))} | ${fmt(spread(cpu.get(p) ?? []))} | ${fmt(ratio(p, t))} | ${kb(bytes.get(t) ?? 0)} | ${kb(bytes.get(p) ?? 0)} |`,
      );
    }
  }
  console.log(
    '\n| format | encoding | native / classic CPU | native-only / classic CPU | native / classic bytes | native-only / classic bytes |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const format of ['text', 'protobuf'] as const) {
    for (const encoding of ENCODINGS) {
      const c = `classic/${format}/${encoding}`;
      const n = `native/${format}/${encoding}`;
      const o = `native-only/${format}/${encoding}`;
      const b = (x: string) => ((bytes.get(x) ?? 0) / (bytes.get(c) ?? 1)).toFixed(2);
      console.log(
        `| ${format} | ${encoding} | ${fmt(ratio(n, c))} | ${fmt(ratio(o, c))} | ${b(n)} | ${b(o)} |`,
      );
    }
  }
  for (const o of observers.values()) await o.close();
}

for (const sets of SETS) await run(sets);
