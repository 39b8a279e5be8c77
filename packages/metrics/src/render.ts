import {
  type DefaultLabels,
  escapeHelp,
  escapeLabel,
  exemplarText,
  labelBody,
  labelKey,
  type MetricJson,
  NameWriter,
  NO_DEFAULT_LABELS,
  num,
} from './exposition.js';
import {
  type CounterSnapshot,
  type HistogramSnapshot,
  HttpCounterMetric,
  HttpHistogramMetric,
} from './http-series.js';
import type { NativeSource } from './native-contract.js';
import type { SlicedWriter } from './render-writer.js';

/**
 * Renders a registry for `/metrics` from state the SDK owns or copies, through public APIs only:
 * the registry's `getMetricsAsArray()`, each metric's `get()`, and the HTTP core's own series
 * (`http-series.ts`). The registry's default labels are read once per scrape and applied here
 * (prom-client's `getMetricsAsJSON()` would copy every label object of every sample to apply them).
 * Nothing is cached by the identity of an object a dependency returns.
 */

/** The public methods of a prom-client / @prometheus-io/client `Registry` the renderer uses. */
export interface RenderableRegistry {
  getMetricsAsArray(): readonly object[];
  getSingleMetric(name: string): object | undefined;
  getSingleMetricAsString(name: string): Promise<string>;
  registerMetric(metric: object): void;
  removeSingleMetric(name: string): void;
}

const REGISTRY_METHODS = [
  'getMetricsAsArray',
  'getSingleMetric',
  'getSingleMetricAsString',
  'registerMetric',
  'removeSingleMetric',
] as const;

export const isRenderableRegistry = (s: object): s is RenderableRegistry =>
  REGISTRY_METHODS.every((k) => typeof (s as Record<string, unknown>)[k] === 'function');

const PROBE = 'deia_default_labels_probe';
const LABEL_PAIR = /([A-Za-z_:][A-Za-z0-9_:]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * A registry's default labels. The clients keep them private (`setDefaultLabels` has no getter),
 * so the registry renders them itself: a one-sample probe metric is registered, rendered with the
 * public `getSingleMetricAsString()` (which applies the default labels) and removed in the same
 * synchronous stretch (no other code can see it), and its label text is parsed. Default labels
 * set by `createMetrics({ defaultLabels })` and by the user's own `registry.setDefaultLabels()`
 * are both found, whenever they were set. A client that looks the metric up only after an await
 * (prom-client 15 does it first) fails that probe: the probe is then rendered again while it stays
 * registered for the call, and `metricsOf()` keeps it out of concurrent scrapes.
 */
export function defaultLabelsOf(registry: RenderableRegistry): Promise<DefaultLabels> {
  // Concurrent scrapes of one registry share one probe (the fallback below keeps it registered
  // across an await, where a second probe would find the first).
  const running = probing.get(registry);
  if (running) return running;
  const p = probeDefaultLabels(registry).finally(() => probing.delete(registry));
  probing.set(registry, p);
  return p;
}

const probing = new WeakMap<object, Promise<DefaultLabels>>();

const probeMetric = () => {
  const sample = () => ({
    name: PROBE,
    help: 'probe',
    type: 'gauge',
    aggregator: 'omit',
    values: [{ value: 0, labels: {} }],
  });
  return { name: PROBE, help: 'probe', type: 'gauge', aggregator: 'omit', get: sample, reset() {} };
};

const probeLine = (text: string | undefined) =>
  text?.split('\n').find((l) => l.startsWith(`${PROBE}{`) || l.startsWith(`${PROBE} `));

async function probeDefaultLabels(registry: RenderableRegistry): Promise<DefaultLabels> {
  // a metric of the user's own under that name: leave it alone
  if (registry.getSingleMetric(PROBE) !== undefined) return NO_DEFAULT_LABELS;
  let pending: Promise<string>;
  registry.registerMetric(probeMetric());
  try {
    pending = registry.getSingleMetricAsString(PROBE);
  } finally {
    registry.removeSingleMetric(PROBE);
  }
  let line = probeLine(await pending.catch(() => undefined));
  if (line === undefined) {
    // The client looked the probe up after an await (not prom-client 15, which does it first):
    // keep it registered for the whole call; the renderers skip it by name meanwhile.
    registry.registerMetric(probeMetric());
    try {
      line = probeLine(await registry.getSingleMetricAsString(PROBE).catch(() => undefined));
    } finally {
      registry.removeSingleMetric(PROBE);
    }
  }
  if (line === undefined || !line.startsWith(`${PROBE}{`)) return NO_DEFAULT_LABELS;
  const key = line.slice(PROBE.length + 1, line.lastIndexOf('}'));
  const pairs = new Map<string, string>();
  const values: Record<string, string> = {};
  for (const m of key.matchAll(LABEL_PAIR)) {
    pairs.set(m[1] as string, m[0]);
    values[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return pairs.size === 0 ? NO_DEFAULT_LABELS : { key, pairs, values };
}

/** The registry's metrics, without the default-label probe while one is registered. */
export const metricsOf = (registry: RenderableRegistry): readonly object[] =>
  registry.getMetricsAsArray().filter((m) => (m as { name?: unknown }).name !== PROBE);

export type Collected =
  | { kind: 'counter'; m: HttpCounterMetric; inner: Awaited<ReturnType<HttpCounterMetric['innerValues']>> }
  | {
      kind: 'histogram';
      m: HttpHistogramMetric;
      inner: Awaited<ReturnType<HttpCounterMetric['innerValues']>>;
    }
  | { kind: 'json'; json: MetricJson; values: Float64Array };

type Family =
  | { kind: 'counter'; m: HttpCounterMetric; snap: CounterSnapshot }
  | { kind: 'histogram'; m: HttpHistogramMetric; snap: HistogramSnapshot }
  | { kind: 'json'; json: MetricJson; values: Float64Array };

export function collect(metric: object): Promise<Collected> {
  if (metric instanceof HttpCounterMetric) {
    return metric.innerValues().then((inner) => ({ kind: 'counter', m: metric, inner }));
  }
  if (metric instanceof HttpHistogramMetric) {
    return metric.innerValues().then((inner) => ({ kind: 'histogram', m: metric, inner }));
  }
  // Any other metric (prom-client's, @prometheus-io/client's, a custom collector): its public
  // get(). Counters and gauges hand out their live entries: the values are copied as they arrive.
  return Promise.resolve((metric as { get(): Promise<MetricJson> | MetricJson }).get()).then((json) => ({
    kind: 'json',
    json,
    values: Float64Array.from(json.values ?? [], (v) => v.value),
  }));
}

/**
 * Writes the registry's exposition (text 0.0.4 or OpenMetrics) into `w`, yielding between slices.
 * The values are one snapshot: every metric's `get()` is called at once (as `getMetricsAsJSON()`
 * does) and the HTTP core's series of all families are copied in one synchronous stretch, before
 * the first line is written. Rejects when a metric's `get()` does or the writer times out.
 */
export async function renderRegistry(
  registry: RenderableRegistry,
  om: boolean,
  w: SlicedWriter,
  names: NameWriter = new NameWriter('underscores'),
  created?: NativeSource,
): Promise<void> {
  const defaults = await defaultLabelsOf(registry);
  const collected = await Promise.all(metricsOf(registry).map(collect));
  // the collectors ran (prom-client's default metrics read /proc): a turn for the app
  if (w.due()) await w.pause();
  const families: Family[] = collected.map((c) =>
    c.kind === 'counter'
      ? { kind: 'counter', m: c.m, snap: c.m.snapshot(c.inner) }
      : c.kind === 'histogram'
        ? { kind: 'histogram', m: c.m, snap: c.m.snapshot(c.inner, om) }
        : c,
  );
  collected.length = 0;
  // OpenMetrics `_created` of the label sets recording native histograms, in the same stretch
  const createdOf = families.map((f) =>
    om && created !== undefined && f.kind === 'json' && f.json.type === 'histogram'
      ? createdTimes(created, f.json.name)
      : undefined,
  );
  if (w.due()) await w.pause();
  for (let i = 0; i < families.length; i++) {
    if (i > 0 && !om) w.write('\n');
    const f = families[i] as Family;
    families[i] = undefined as unknown as Family; // rendered: its snapshot can go
    if (f.kind === 'counter') await f.m.render(f.snap, w, om, defaults);
    else if (f.kind === 'histogram') await f.m.render(f.snap, w, om, defaults, created !== undefined);
    else await renderFamily(f.json, f.values, om, defaults, w, names, createdOf[i]);
    if (w.due()) await w.pause();
  }
  if (om) w.write('# EOF\n');
}

/** When each native series of a histogram family was created, by label key (none: undefined). */
function createdTimes(source: NativeSource, name: string): Map<string, number> | undefined {
  const f = source.nativeFamily(name);
  if (f === undefined) return undefined;
  const out = new Map<string, number>();
  for (const s of f.series) {
    if (s.native.createdTimestampMs !== undefined) out.set(labelKey(s.labels), s.native.createdTimestampMs);
  }
  return out;
}

/**
 * Writes metrics in `getMetricsAsJSON()` form, e.g. a cluster primary's aggregate, applying
 * `defaults` (none when the labels already carry them), yielding between slices.
 */
export async function renderJson(
  metrics: readonly MetricJson[],
  om: boolean,
  w: SlicedWriter,
  defaults: DefaultLabels = NO_DEFAULT_LABELS,
  names: NameWriter = new NameWriter('underscores'),
): Promise<void> {
  for (let i = 0; i < metrics.length; i++) {
    if (i > 0 && !om) w.write('\n');
    await renderFamily(metrics[i] as MetricJson, undefined, om, defaults, w, names);
    if (w.due()) await w.pause();
  }
  if (om) w.write('# EOF\n');
}

async function renderFamily(
  m: MetricJson,
  values: Float64Array | undefined,
  om: boolean,
  d: DefaultLabels,
  w: SlicedWriter,
  names: NameWriter,
  created?: ReadonlyMap<string, number>,
): Promise<void> {
  const counter = m.type === 'counter';
  const base = om && counter ? m.name.replace(/_total$/, '') : m.name;
  // a UTF-8 name is quoted inside the braces (allow-utf-8) or escaped to a legacy name
  const quoted = names.quoted(m.name);
  const head = quoted ? `"${escapeLabel(base)}"` : names.plain(base);
  w.write(`# HELP ${head} ${escapeHelp(m.help, om)}\n# TYPE ${head} ${m.type}\n`);
  const list = m.values ?? [];
  for (let i = 0; i < list.length; i++) {
    const v = list[i] as MetricJson['values'][number];
    let name = v.metricName ?? m.name;
    if (om && counter && !name.endsWith('_total')) name += '_total';
    const body = labelBody(v.labels, d, names);
    const value = values === undefined ? v.value : (values[i] as number);
    const ex = om ? exemplarText(v.exemplar) : '';
    if (quoted) {
      w.write(`{"${escapeLabel(name)}"${body === '' ? '' : `,${body}`}} ${num(value)}${ex}\n`);
    } else {
      w.write(`${names.plain(name)}${body === '' ? '' : `{${body}}`} ${num(value)}${ex}\n`);
    }
    if (created !== undefined && !quoted && name.endsWith('_count')) {
      const ms = created.get(labelKey(v.labels ?? {}));
      if (ms !== undefined)
        w.write(`${names.plain(m.name)}_created${body === '' ? '' : `{${body}}`} ${ms / 1000}\n`);
    }
    if (i % 64 === 63 && w.due()) await w.pause();
  }
}

/**
 * What a cluster worker sends for one registry: its metrics as each metric's `get()` returns them
 * (no default labels on every sample, no copies) and its default labels once; a registry the
 * renderer cannot read sends `getMetricsAsJSON()` (default labels applied) and no `defaults`.
 */
export async function collectForCluster(
  registry: RenderableRegistry | { getMetricsAsJSON(): Promise<unknown> },
): Promise<{ metrics: MetricJson[]; defaults?: Record<string, string> }> {
  if (!isRenderableRegistry(registry)) {
    return {
      metrics: (await (
        registry as { getMetricsAsJSON(): Promise<unknown> }
      ).getMetricsAsJSON()) as MetricJson[],
    };
  }
  const d = await defaultLabelsOf(registry);
  const metrics = await Promise.all(
    metricsOf(registry).map((m) => (m as { get(): Promise<MetricJson> | MetricJson }).get()),
  );
  return { metrics, defaults: { ...d.values } };
}
