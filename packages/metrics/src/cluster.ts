import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadPromClient } from './client.js';
import { DeiaMetricsError } from './errors.js';
import {
  type DefaultLabels,
  defaultLabelsFrom,
  type MetricJson,
  NO_DEFAULT_LABELS,
  renderExposition,
  TEXT_CONTENT_TYPE,
} from './exposition.js';
import { type NativeFamily, nativeSourceOf, setNativeSource } from './native-contract.js';
import { mergedNativeSource } from './native-merge.js';
import { collectForCluster } from './render.js';
import { type AggregatedSource, createScraper, DEFAULT_SCRAPE_LIMITS } from './scrape.js';
import type { ClusterRegistryClass, PromClientModule, RegistryLike as Registry } from './types.js';

const warn = (message: string) => process.emitWarning(message, 'DeiaMetricsWarning');

/** `ClusterRegistry` (@prometheus-io/client) or `AggregatorRegistry` (prom-client), whichever exists. */
export function clusterRegistryClass(client: PromClientModule = loadPromClient(warn)): ClusterRegistryClass {
  const cls = client.ClusterRegistry ?? client.AggregatorRegistry;
  if (!cls) {
    throw new DeiaMetricsError(
      'DEIA_NO_CLUSTER_REGISTRY',
      'this Prometheus client has neither ClusterRegistry nor AggregatorRegistry; upgrade it.',
    );
  }
  return cls;
}

// The primary asks each worker for the metrics of its shared registries over the cluster's IPC
// channel, with these messages (the client's own channel answers only with aggregated text): each
// metric's `get()` and the registry's default labels once (not copied onto every sample).
const REQ = 'deia-metrics:cluster-req';
const RES = 'deia-metrics:cluster-res';
interface MetricsRequest {
  type: typeof REQ;
  id: number;
}
interface MetricsReply {
  type: typeof RES;
  id: number;
  metrics?: MetricJson[][];
  /** Per registry, its default labels when `metrics` do not carry them on every sample. */
  defaults?: Array<Record<string, string> | undefined>;
  /** Per registry, the native histograms of its histogram families (default labels not applied). */
  native?: NativeFamily[][];
  error?: string;
}
const isRequest = (m: unknown): m is MetricsRequest =>
  typeof m === 'object' && m !== null && (m as MetricsRequest).type === REQ;
const isReply = (m: unknown): m is MetricsReply =>
  typeof m === 'object' && m !== null && (m as MetricsReply).type === RES;

let sharedRegistries: Registry[] = [];
let workerListening = false;

/**
 * In a cluster worker: answer the primary's requests with these registries' metrics.
 * Call once per worker, after `createMetrics`.
 */
export function shareWithCluster(registries: Registry | Registry[], client?: PromClientModule): void {
  const Cls = clusterRegistryClass(client);
  Cls.setRegistries(registries);
  // Constructing one installs the client's own worker listener (idempotent in the client), so a
  // primary using the client's AggregatorRegistry directly is answered too.
  new Cls();
  sharedRegistries = Array.isArray(registries) ? [...registries] : [registries];
  if (workerListening || !cluster.isWorker) return;
  workerListening = true;
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const reply = (r: Omit<MetricsReply, 'type' | 'id'>) =>
      // A callback, so a primary gone meanwhile is not an unhandled 'error' event in the worker.
      process.send?.({ type: RES, id: message.id, ...r } satisfies MetricsReply, undefined, {}, () => {});
    Promise.all(sharedRegistries.map((r) => collectForCluster(r)))
      .then((all) =>
        reply({
          metrics: all.map((r) => r.metrics),
          defaults: all.map((r) => r.defaults),
          native: all.map((r, i) => nativeFamilies(sharedRegistries[i] as Registry, r.metrics)),
        }),
      )
      .catch((err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }));
  });
}

/** The native families of a registry's histograms, read through the renderers' contract. */
function nativeFamilies(registry: Registry, metrics: MetricJson[]): NativeFamily[] {
  const source = nativeSourceOf(registry);
  if (source === undefined) return [];
  const out: NativeFamily[] = [];
  for (const m of metrics) {
    if (String(m.type) !== 'histogram') continue;
    const f = source.nativeFamily(m.name);
    if (f !== undefined && f.series.length > 0) out.push(f);
  }
  return out;
}

/** A process's native families with its default labels applied (when they differ between processes). */
function withDefaults(
  families: NativeFamily[],
  defaults: Record<string, string> | undefined,
): NativeFamily[] {
  const names = defaults === undefined ? [] : Object.keys(defaults);
  if (names.length === 0) return families;
  return families.map((f) => ({
    name: f.name,
    series: f.series.map((s) => {
      const labels: Record<string, string> = { ...s.labels };
      for (const k of names) labels[k] = labels[k] || (defaults?.[k] as string);
      return { labels, native: s.native };
    }),
  }));
}

interface Pending {
  waiting: Set<number>;
  responses: MetricJson[][];
  defaults: Array<Record<string, string> | undefined>;
  native: NativeFamily[][];
  settle(err: Error | undefined): void;
}
const pending = new Map<number, Pending>();
let nextId = 1;
let primaryListening = false;

function listenAsPrimary(): void {
  if (primaryListening) return;
  primaryListening = true;
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isReply(message)) return;
    const p = pending.get(message.id);
    if (!p?.waiting.has(worker.id)) return;
    if (message.error !== undefined) {
      p.settle(new Error(`worker ${worker.id} failed to collect its metrics: ${message.error}`));
      return;
    }
    const metrics = message.metrics ?? [];
    p.responses.push(...metrics);
    p.defaults.push(...metrics.map((_, i) => message.defaults?.[i]));
    p.native.push(...metrics.map((_, i) => message.native?.[i] ?? []));
    p.waiting.delete(worker.id);
    if (p.waiting.size === 0) p.settle(undefined);
  });
  cluster.on('exit', (worker: Worker) => {
    for (const p of pending.values()) {
      if (p.waiting.has(worker.id)) {
        p.settle(new Error(`worker ${worker.id} exited before it sent its metrics`));
      }
    }
  });
}

const labelKey = (labels: object | undefined) =>
  labels ? JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : '';

/**
 * The client's aggregation drops exemplars; an exemplar stays true of the summed series (a request
 * that landed in that bucket), so the newest one any worker has for a sample is kept.
 */
type Exemplar = NonNullable<MetricJson['values'][number]['exemplar']>;
function newestExemplars(responses: MetricJson[][]): Map<string, Exemplar> {
  const out = new Map<string, Exemplar>();
  for (const metrics of responses) {
    for (const m of metrics) {
      for (const v of m.values) {
        const e = v.exemplar;
        if (!e || e.timestamp === undefined) continue;
        const k = `${m.name}\0${v.metricName ?? ''}\0${labelKey(v.labels)}`;
        const seen = out.get(k);
        if (!seen || (seen.timestamp ?? 0) < e.timestamp) out.set(k, e);
      }
    }
  }
  return out;
}

const sameValues = (a: Record<string, string>, b: Record<string, string>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k, i) => Object.keys(b)[i] === k && a[k] === b[k]);
};

/** Adds default labels to every sample's labels (a copy), as the client's `getMetricsAsJSON()` does. */
function applyDefaults(metrics: MetricJson[], defaults: Record<string, string> | undefined): void {
  const names = defaults === undefined ? [] : Object.keys(defaults);
  if (names.length === 0) return;
  for (const m of metrics) {
    for (const v of m.values) {
      const labels: Record<string, string | number | undefined> = { ...v.labels };
      for (const k of names) labels[k] = labels[k] || defaults?.[k];
      v.labels = labels;
    }
  }
}

/** Options of `createClusterAggregator`. */
export interface ClusterAggregatorOptions {
  /** The Prometheus client (`prom-client` or `@prometheus-io/client`). @default the one installed */
  client?: PromClientModule;
  /** How long to wait for every worker's answer before the scrape fails. @default 5000 */
  timeoutMs?: number;
  /**
   * Scrapes `handle` renders at once; more are answered 503 with `Retry-After: 1`.
   * @default 2
   */
  maxInFlight?: number;
}

/** What `createClusterAggregator()` returns: a `metricsSource`, and a ready request handler. */
export interface ClusterAggregator {
  /** Every worker's metrics aggregated, as data (counters and histograms summed, exemplars kept). */
  getMetricsAsJSON(): Promise<MetricJson[]>;
  /** The same, rendered as Prometheus text 0.0.4. */
  metrics(): Promise<string>;
  /** The content type of `metrics()`. */
  readonly contentType: string;
  /**
   * A `node:http` request handler for `/metrics`: OpenMetrics 1.0.0 or text 0.0.4 as `Accept`
   * prefers, gzipped when accepted and at least 4 KiB, rendered in slices that yield to the event
   * loop; 405 for methods other than GET/HEAD, 500 (and a `DeiaMetricsWarning`) when a worker fails
   * or does not answer within `timeoutMs`, 503 beyond `maxInFlight` scrapes at once or when
   * rendering takes longer than `timeoutMs` again.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** `createClusterAggregator`'s options resolved and checked (throws on bad ones, as documented). */
function resolveAggregatorOptions(clientOrOptions: PromClientModule | ClusterAggregatorOptions | undefined) {
  const options: ClusterAggregatorOptions =
    clientOrOptions && 'Registry' in clientOrOptions
      ? { client: clientOrOptions }
      : ((clientOrOptions as ClusterAggregatorOptions | undefined) ?? {});
  const Cls = clusterRegistryClass(options.client);
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new DeiaMetricsError(
      'DEIA_METRICS_OPTIONS',
      'createClusterAggregator: timeoutMs must be a number > 0.',
    );
  }
  const maxInFlight = options.maxInFlight ?? DEFAULT_SCRAPE_LIMITS.maxInFlight;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) {
    throw new DeiaMetricsError(
      'DEIA_METRICS_OPTIONS',
      'createClusterAggregator: maxInFlight must be an integer >= 1.',
    );
  }
  return { Cls, timeoutMs, maxInFlight };
}

/** Asks every connected worker for its metrics; settles when all answered, one failed or `timeoutMs` passed. */
function collectFromWorkers(timeoutMs: number): Promise<Pending> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w?.isConnected());
    const p: Pending = {
      waiting: new Set(workers.map((w) => w.id)),
      responses: [],
      defaults: [],
      native: [],
      settle(err) {
        if (!pending.delete(id)) return;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(p);
      },
    };
    const timer = setTimeout(() => {
      p.settle(
        new Error(
          `worker(s) ${[...p.waiting].join(', ')} did not send their metrics within ${timeoutMs} ms (does every worker call shareWithCluster()?)`,
        ),
      );
    }, timeoutMs);
    pending.set(id, p);
    if (workers.length === 0) {
      p.settle(undefined);
      return;
    }
    for (const w of workers) {
      // A channel closed since isConnected() fails this scrape (callback), not the primary ('error').
      w.send({ type: REQ, id } satisfies MetricsRequest, undefined, {}, (err) => {
        if (err) p.settle(new Error(`cannot ask worker ${w.id} for its metrics: ${err.message}`));
      });
    }
  });
}

/** Puts back on the aggregated samples the newest exemplar any worker has for each. */
function restoreExemplars(json: MetricJson[], responses: MetricJson[][]): void {
  const exemplars = newestExemplars(responses);
  if (exemplars.size === 0) return;
  for (const m of json) {
    for (const v of m.values) {
      const e = exemplars.get(`${m.name}\0${v.metricName ?? ''}\0${labelKey(v.labels)}`);
      if (e) v.exemplar = e;
    }
  }
}

/**
 * In the cluster primary: asks every connected worker (those that called `shareWithCluster`) for its
 * metrics and aggregates them with the client's `aggregate` (counters and histograms summed, gauges
 * by each metric's `aggregator`). Serve it with `handle`, or pass it as `metricsSource` to an adapter:
 * both negotiate the format and gzip like a single process's `/metrics`.
 */
export function createClusterAggregator(
  clientOrOptions?: PromClientModule | ClusterAggregatorOptions,
): ClusterAggregator {
  const { Cls, timeoutMs, maxInFlight } = resolveAggregatorOptions(clientOrOptions);
  if (!cluster.isPrimary) {
    throw new DeiaMetricsError(
      'DEIA_NOT_CLUSTER_PRIMARY',
      'createClusterAggregator() belongs in the cluster primary; call shareWithCluster() in the workers.',
    );
  }
  listenAsPrimary();

  // When every registry of every worker has the same default labels (or none), they are not on
  // the samples the workers send: aggregated without them, applied once when rendered.
  // The workers' native histograms, summed (see native-merge.ts), are found through the renderers'
  // contract: `nativeSourceOf()` of the `json` array `aggregated()` returns (one scrape's view), of
  // the `AggregatedSource` `handle` renders, and of this aggregator (the latest aggregation).
  const aggregated = async (): Promise<{ json: MetricJson[]; defaults: DefaultLabels }> => {
    const { responses, defaults, native } = await collectFromWorkers(timeoutMs);
    const first = defaults[0];
    const same = first !== undefined && defaults.every((d) => d !== undefined && sameValues(d, first));
    if (!same) {
      for (const [i, metrics] of responses.entries()) applyDefaults(metrics, defaults[i]);
    }
    const nativeSource = mergedNativeSource(
      same ? native : native.map((f, i) => withDefaults(f, defaults[i])),
    );
    const json = (await Cls.aggregate(responses).getMetricsAsJSON()) as unknown as MetricJson[];
    restoreExemplars(json, responses);
    setNativeSource(json, nativeSource);
    setNativeSource(aggregator, nativeSource);
    return { json, defaults: same ? defaultLabelsFrom(first) : NO_DEFAULT_LABELS };
  };

  const getMetricsAsJSON = async (): Promise<MetricJson[]> => {
    const { json, defaults } = await aggregated();
    applyDefaults(json, defaults.values);
    return json;
  };

  // The workers have `timeoutMs` to answer; rendering the aggregate gets as long again.
  const scrape = createScraper({ ...DEFAULT_SCRAPE_LIMITS, maxInFlight, timeoutMs: 2 * timeoutMs }, (err) =>
    warn(`@deia/metrics: the cluster's /metrics answered 503: ${err.message}`),
  );
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed\n');
      return;
    }
    try {
      const source: AggregatedSource = {
        metrics,
        contentType: TEXT_CONTENT_TYPE,
        aggregated: async () => {
          const r = await aggregated();
          const n = nativeSourceOf(r.json);
          if (n !== undefined) setNativeSource(source, n);
          return r;
        },
      };
      const r = await scrape(source, req.headers);
      res.writeHead(r.statusCode, r.headers).end(req.method === 'HEAD' ? undefined : r.body);
    } catch (err) {
      warn(
        `@deia/metrics: aggregating the cluster's metrics failed: ${(err as Error)?.message ?? String(err)}`,
      );
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('metrics collection failed\n');
    }
  };

  const metrics = async () => renderExposition(await getMetricsAsJSON(), 'text');
  const aggregator: ClusterAggregator = { getMetricsAsJSON, metrics, contentType: TEXT_CONTENT_TYPE, handle };
  return aggregator;
}
