import type {
  NativeExemplar,
  NativeFamily,
  NativeHistogramSnapshot,
  NativeSource,
} from './native-contract.js';
import { decodeBuckets, encodeBuckets, reduceBuckets } from './native-histogram.js';
import { lowerBound, upperBound } from './native-math.js';

/**
 * Sums of native histograms (the cluster primary adds its workers' series), as Prometheus adds
 * two histograms (`FloatHistogram.Add`): the zero buckets are reconciled first (the wider threshold
 * wins; buckets of the other histogram below it move into the zero bucket, and a populated bucket
 * the threshold falls inside widens it to that bucket's upper bound), then both are reduced to the
 * lower of their schemas and their buckets, counts and sums added.
 */

interface Open {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positive: Map<number, number>;
  negative: Map<number, number>;
  createdTimestampMs: number | undefined;
  exemplars: NativeExemplar[];
}

const open = (s: NativeHistogramSnapshot): Open => ({
  schema: s.schema,
  zeroThreshold: s.zeroThreshold,
  zeroCount: s.zeroCount,
  count: s.count,
  sum: s.sum,
  positive: decodeBuckets(s.positiveSpans, s.positiveDeltas),
  negative: decodeBuckets(s.negativeSpans, s.negativeDeltas),
  createdTimestampMs: s.createdTimestampMs,
  exemplars: s.exemplars ? [...s.exemplars] : [],
});

/** The threshold `t` (>= h's) raised to the upper bound of any populated bucket of `h` it falls inside. */
function widened(h: Open, t: number): number {
  let out = t;
  for (const side of [h.positive, h.negative]) {
    for (const k of side.keys()) {
      if (lowerBound(k, h.schema) < out && upperBound(k, h.schema) > out) out = upperBound(k, h.schema);
    }
  }
  return out;
}

/** Moves every bucket of `h` below threshold `t` into its zero bucket. */
function absorb(h: Open, t: number): void {
  for (const side of [h.positive, h.negative]) {
    for (const [k, c] of side) {
      if (lowerBound(k, h.schema) < t) {
        h.zeroCount += c;
        side.delete(k);
      }
    }
  }
  h.zeroThreshold = t;
}

const MAX_MERGED_EXEMPLARS = 10;

/** `a + b` (neither is changed). */
export function addNative(a: NativeHistogramSnapshot, b: NativeHistogramSnapshot): NativeHistogramSnapshot {
  const x = open(a);
  const y = open(b);
  let t = Math.max(x.zeroThreshold, y.zeroThreshold);
  if (x.zeroThreshold !== y.zeroThreshold) {
    // a threshold inside a populated bucket of either side moves up to its end; repeat until stable
    for (let prev = Number.NaN; prev !== t; ) {
      prev = t;
      t = widened(y, widened(x, t));
    }
  }
  if (t > x.zeroThreshold) absorb(x, t);
  if (t > y.zeroThreshold) absorb(y, t);
  const schema = Math.min(x.schema, y.schema);
  const pos = reduceBuckets(x.positive, x.schema - schema);
  const neg = reduceBuckets(x.negative, x.schema - schema);
  for (const [k, c] of reduceBuckets(y.positive, y.schema - schema)) pos.set(k, (pos.get(k) ?? 0) + c);
  for (const [k, c] of reduceBuckets(y.negative, y.schema - schema)) neg.set(k, (neg.get(k) ?? 0) + c);
  const p = encodeBuckets(pos);
  const n = encodeBuckets(neg);
  const created =
    x.createdTimestampMs === undefined
      ? y.createdTimestampMs
      : y.createdTimestampMs === undefined
        ? x.createdTimestampMs
        : Math.min(x.createdTimestampMs, y.createdTimestampMs);
  const out: { -readonly [K in keyof NativeHistogramSnapshot]: NativeHistogramSnapshot[K] } = {
    schema,
    zeroThreshold: t,
    zeroCount: x.zeroCount + y.zeroCount,
    count: x.count + y.count,
    sum: x.sum + y.sum,
    positiveSpans: p.spans,
    positiveDeltas: p.deltas,
    negativeSpans: n.spans,
    negativeDeltas: n.deltas,
  };
  if (created !== undefined) out.createdTimestampMs = created;
  const exemplars = [...x.exemplars, ...y.exemplars];
  if (exemplars.length > 0) {
    // the newest ones, in value order (each is still true of the sum: an observation in its bucket)
    exemplars.sort((e1, e2) => e2.timestampMs - e1.timestampMs);
    out.exemplars = exemplars.slice(0, MAX_MERGED_EXEMPLARS).sort((e1, e2) => e1.value - e2.value);
  }
  return out;
}

const labelKey = (labels: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * A `NativeSource` of the sum of several processes' native families (the cluster primary's view),
 * merged per family on first request. `families` holds each process's families.
 */
export function mergedNativeSource(families: ReadonlyArray<readonly NativeFamily[]>): NativeSource {
  const byName = new Map<string, NativeFamily[]>();
  for (const list of families) {
    for (const f of list) {
      const all = byName.get(f.name) ?? [];
      all.push(f);
      byName.set(f.name, all);
    }
  }
  const merged = new Map<string, NativeFamily>();
  return {
    nativeFamily(name) {
      const done = merged.get(name);
      if (done !== undefined) return done;
      const parts = byName.get(name);
      if (parts === undefined) return undefined;
      const series = new Map<string, { labels: Record<string, string>; native: NativeHistogramSnapshot }>();
      for (const f of parts) {
        for (const s of f.series) {
          const k = labelKey(s.labels);
          const seen = series.get(k);
          series.set(k, {
            labels: { ...s.labels },
            native: seen === undefined ? s.native : addNative(seen.native, s.native),
          });
        }
      }
      const out: NativeFamily = { name, series: [...series.values()] };
      merged.set(name, out);
      return out;
    },
  };
}
