import { escapeHelp } from './exposition.js';
import type { Exemplar, HttpLabels, HttpStore } from './http-store.js';
import type { SlicedWriter } from './render-writer.js';

/**
 * What the HTTP metric wrappers share (`http-series.ts` has the counter and the registration,
 * `http-histogram.ts` the histograms): the brand that marks them in a registry, the series key of
 * a label set, the values prom-client's `get()` returns, and the base class that keeps one series
 * object per label set and forwards the public API to the unregistered prom-client metric.
 */

/** Marks the registered wrapper (also across copies of this package sharing one registry). */
const BRAND = Symbol.for('@deia/metrics.httpSeriesMetric');

/** True for an HTTP metric wrapper (of any copy of this package). */
export const isHttpSeriesMetric = (m: unknown): boolean =>
  typeof m === 'object' && m !== null && (m as { [BRAND]?: boolean })[BRAND] === true;

/** The series key of a label set (`method`, `route`, `status`). */
export const keyOf = (l: Partial<Record<string, unknown>>) => `${l.method}\u0000${l.route}\u0000${l.status}`;

/** prom-client's `(labels)` or positional `(...values)` forms, as an object. */
function labelsOf(labelNames: readonly string[], args: unknown[]): Record<string, unknown> {
  if (typeof args[0] === 'object' && args[0] !== null) return args[0] as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  labelNames.forEach((n, i) => {
    out[n] = args[i];
  });
  return out;
}

/** One sample as prom-client's `get()` returns it. */
export interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  exemplar?: Exemplar | null;
}
/** A metric as prom-client's `get()` returns it. */
export interface MetricObject {
  name: string;
  help: string;
  type: string;
  values: MetricValue[];
  aggregator: string;
}

/** The unregistered prom-client metric a wrapper forwards the public API to. */
export type Inner = {
  get(): Promise<{ values: unknown[] }>;
  reset(): void;
  remove(...args: unknown[]): void;
} & Record<string, unknown>;

/**
 * The base of the HTTP metric wrappers: one series object per label set (created on first use by
 * `create`), `reset()`/`remove()` of both the series and the inner metric (bumping the store's
 * epoch so observers look their series up again), and `labels()` forwarded to the inner metric.
 */
export abstract class HttpSeriesMetric<S extends { labels: HttpLabels }> {
  readonly [BRAND] = true;
  name: string;
  readonly help: string;
  readonly labelNames: string[];
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, S>();

  constructor(
    protected readonly inner: Inner,
    protected readonly store: HttpStore,
    config: { name: string; help: string; labelNames: string[] },
  ) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
  }

  protected abstract create(labels: HttpLabels): S;

  /** The values recorded through the public API (the inner prom-client metric), for a scrape. */
  async innerValues(): Promise<MetricValue[]> {
    return (await this.inner.get()).values as MetricValue[];
  }

  /** `# HELP` and `# TYPE` of the family. */
  protected header(w: SlicedWriter, om: boolean, base: string): void {
    w.write(`# HELP ${base} ${escapeHelp(this.help, om)}\n# TYPE ${base} ${this.type}\n`);
  }

  abstract readonly type: string;

  /** The series of one label set, created on first use (the HTTP core caches it). */
  seriesFor(labels: HttpLabels): S {
    const key = keyOf(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = this.create(labels);
      this.series.set(key, s);
    }
    return s;
  }

  reset(): void {
    this.inner.reset();
    this.series.clear();
    this.store.epoch++;
  }

  remove(...args: unknown[]): void {
    this.inner.remove(...args);
    if (this.series.delete(keyOf(labelsOf(this.labelNames, args)))) this.store.epoch++;
  }

  labels(...args: unknown[]): unknown {
    return (this.inner.labels as (...a: unknown[]) => unknown)(...args);
  }
}
