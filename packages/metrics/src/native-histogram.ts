import type { BucketSpan, NativeExemplar, NativeHistogramSnapshot } from './native-contract.js';
import { keyOf, MIN_SCHEMA, reduceKey, upperBound } from './native-math.js';

/**
 * The native (sparse, exponential) histogram of one label set, with client_golang's semantics:
 * - an observation `v` with `|v| <= zeroThreshold` is counted in the zero bucket, others in the
 *   positive or negative bucket of index `keyOf(v, schema)`; ±Inf in the bucket after the largest
 *   finite value's; NaN only in `count` and `sum` (which then is NaN);
 * - past `maxBuckets` populated buckets (positive and negative together, not the zero bucket), one
 *   step of reduction per observation that creates a bucket: reset the series when the last reset
 *   is at least `minResetMs` old, else widen the zero bucket to swallow the buckets nearest zero
 *   (while the new threshold stays <= `maxZeroThreshold`), else halve the resolution (schema - 1,
 *   down to -4). After a widening or halving, the series is reset at the first observation once
 *   `minResetMs` has passed since the last reset, restoring the configured resolution
 *   (client_golang schedules a timer; here the next observation does it, no timer per series);
 * - exemplars: at most `maxExemplars`, ordered by value; a new one replaces the oldest when it is
 *   older than `exemplarTtlMs`, else the one closest in value (log scale), so the latest exemplar
 *   of each region of the distribution is kept.
 */

/** The resolved settings of one histogram's native part (see `NativeHistogramOptions`). */
export interface NativeSettings {
  readonly schema: number;
  readonly zeroThreshold: number;
  /** 0: no limit. */
  readonly maxBuckets: number;
  /** 0: never reset. */
  readonly minResetMs: number;
  readonly maxZeroThreshold: number;
  /** 0: no exemplars. */
  readonly maxExemplars: number;
  readonly exemplarTtlMs: number;
  /** Milliseconds since the epoch (a test may pass its own clock). */
  readonly now: () => number;
}

export class NativeSeries {
  schema: number;
  zeroThreshold: number;
  zeroCount = 0;
  count = 0;
  sum = 0;
  positive = new Map<number, number>();
  negative = new Map<number, number>();
  createdMs: number;
  private lastResetMs: number;
  /** A widening or halving happened: reset once `minResetMs` has passed. */
  private resetDue = false;
  exemplars: NativeExemplar[] | undefined;

  constructor(readonly settings: NativeSettings) {
    this.schema = settings.schema;
    this.zeroThreshold = settings.zeroThreshold;
    this.createdMs = settings.now();
    this.lastResetMs = this.createdMs;
  }

  /**
   * Records one observation. Returns true when the series was reset first (a bucket-limit reset):
   * the caller resets its classic buckets, count and sum too, then records `v` there.
   */
  observe(v: number, exemplar?: Readonly<Record<string, string>>): boolean {
    let reset = false;
    if (this.resetDue && this.settings.now() - this.lastResetMs >= this.settings.minResetMs) {
      this.reset();
      reset = true;
    }
    if (this.record(v) && this.settings.maxBuckets > 0) {
      if (this.positive.size + this.negative.size > this.settings.maxBuckets && this.limit(v)) reset = true;
    }
    if (exemplar !== undefined && this.settings.maxExemplars > 0) this.addExemplar(v, exemplar);
    return reset;
  }

  /** Counts `v`; returns true when it populated a new bucket. */
  private record(v: number): boolean {
    this.count += 1;
    this.sum += v;
    if (Number.isNaN(v)) return false; // NaN: count and sum only, as client_golang
    const t = this.zeroThreshold;
    if (v > t) return add(this.positive, keyOf(v, this.schema), 1);
    if (v < -t) return add(this.negative, keyOf(v, this.schema), 1);
    this.zeroCount += 1;
    return false;
  }

  /** Back to the configured schema and zero threshold, every count at 0 (a counter reset). */
  reset(): void {
    this.schema = this.settings.schema;
    this.zeroThreshold = this.settings.zeroThreshold;
    this.zeroCount = 0;
    this.count = 0;
    this.sum = 0;
    this.positive = new Map();
    this.negative = new Map();
    this.exemplars = undefined;
    this.createdMs = this.settings.now();
    this.lastResetMs = this.createdMs;
    this.resetDue = false;
  }

  /** One step of the bucket-limit strategy; true when it reset the series (and re-recorded `v`). */
  private limit(v: number): boolean {
    const s = this.settings;
    if (s.minResetMs > 0 && !this.resetDue && s.now() - this.lastResetMs >= s.minResetMs) {
      this.reset();
      this.record(v); // keep the latest observation, as client_golang does
      return true;
    }
    if (s.minResetMs > 0) this.resetDue = true;
    if (this.widenZeroBucket()) return false;
    this.halveResolution();
    return false;
  }

  /** Moves the buckets nearest zero into the zero bucket, if the new threshold stays within the max. */
  widenZeroBucket(): boolean {
    if (this.zeroThreshold >= this.settings.maxZeroThreshold) return false;
    let smallest = Number.POSITIVE_INFINITY;
    for (const k of this.positive.keys()) if (k < smallest) smallest = k;
    for (const k of this.negative.keys()) if (k < smallest) smallest = k;
    if (smallest === Number.POSITIVE_INFINITY) return false;
    const threshold = upperBound(smallest, this.schema);
    if (threshold > this.settings.maxZeroThreshold) return false;
    this.zeroThreshold = threshold;
    for (const side of [this.positive, this.negative]) {
      const c = side.get(smallest);
      if (c !== undefined) {
        this.zeroCount += c;
        side.delete(smallest);
      }
    }
    return true;
  }

  /** Schema - 1: every pair of neighbouring buckets becomes one (nothing below -4). */
  halveResolution(): void {
    if (this.schema <= MIN_SCHEMA) return;
    this.schema -= 1;
    this.positive = reduceBuckets(this.positive, 1);
    this.negative = reduceBuckets(this.negative, 1);
  }

  private addExemplar(v: number, labels: Readonly<Record<string, string>>): void {
    const now = this.settings.now();
    const e: NativeExemplar = { labels, value: v, timestampMs: now };
    this.exemplars ??= [];
    const list = this.exemplars;
    if (list.length >= this.settings.maxExemplars) {
      let oldest = 0;
      for (let i = 1; i < list.length; i++) {
        if ((list[i] as NativeExemplar).timestampMs < (list[oldest] as NativeExemplar).timestampMs)
          oldest = i;
      }
      let drop = oldest;
      if (now - (list[oldest] as NativeExemplar).timestampMs < this.settings.exemplarTtlMs) {
        let best = Number.POSITIVE_INFINITY;
        for (let i = 0; i < list.length; i++) {
          const d = distance((list[i] as NativeExemplar).value, v);
          if (d < best) {
            best = d;
            drop = i;
          }
        }
      }
      list.splice(drop, 1);
    }
    let at = list.length;
    while (at > 0 && (list[at - 1] as NativeExemplar).value > v) at--;
    list.splice(at, 0, e);
  }

  /** The series now, values copied. */
  snapshot(): NativeHistogramSnapshot {
    const pos = encodeBuckets(this.positive);
    const neg = encodeBuckets(this.negative);
    const snap: {
      -readonly [K in keyof NativeHistogramSnapshot]: NativeHistogramSnapshot[K];
    } = {
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: this.zeroCount,
      count: this.count,
      sum: this.sum,
      positiveSpans: pos.spans,
      positiveDeltas: pos.deltas,
      negativeSpans: neg.spans,
      negativeDeltas: neg.deltas,
      createdTimestampMs: this.createdMs,
    };
    if (this.exemplars !== undefined && this.exemplars.length > 0) snap.exemplars = this.exemplars.slice();
    return snap;
  }
}

/** Distance of two values on a log scale (absolute difference when either is not positive). */
function distance(a: number, b: number): number {
  if (a > 0 && b > 0) return Math.abs(Math.log(a) - Math.log(b));
  return Math.abs(a - b);
}

/** Adds `n` to bucket `key`; true when the bucket was not populated before. */
function add(m: Map<number, number>, key: number, n: number): boolean {
  const c = m.get(key);
  m.set(key, c === undefined ? n : c + n);
  return c === undefined;
}

/** The buckets at `by` schemas lower resolution (each new bucket sums the old ones it contains). */
export function reduceBuckets(m: ReadonlyMap<number, number>, by: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, c] of m) add(out, reduceKey(k, by), c);
  return out;
}

/**
 * Spans and delta-encoded counts of a bucket map, as client_golang writes them: gaps of one or two
 * empty buckets are written as zero counts inside a span, longer gaps start a new span.
 */
export function encodeBuckets(m: ReadonlyMap<number, number>): { spans: BucketSpan[]; deltas: number[] } {
  const spans: BucketSpan[] = [];
  const deltas: number[] = [];
  if (m.size === 0) return { spans, deltas };
  const keys = [...m.keys()].sort((a, b) => a - b);
  let prevCount = 0;
  let next = 0; // the index after the last written bucket
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as number;
    const gap = k - next;
    const span = spans[spans.length - 1];
    if (span === undefined || gap > 2) {
      spans.push({ offset: span === undefined ? k : gap, length: 1 });
    } else {
      for (let j = 0; j < gap; j++) {
        deltas.push(prevCount === 0 ? 0 : -prevCount);
        prevCount = 0;
      }
      span.length += gap + 1;
    }
    const c = m.get(k) as number;
    deltas.push(c - prevCount);
    prevCount = c;
    next = k + 1;
  }
  return { spans, deltas };
}

/** The bucket map of spans and delta-encoded counts (the inverse of `encodeBuckets`). */
export function decodeBuckets(spans: readonly BucketSpan[], deltas: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  let key = 0;
  let count = 0;
  let d = 0;
  for (let s = 0; s < spans.length; s++) {
    const span = spans[s] as BucketSpan;
    key += span.offset;
    for (let j = 0; j < span.length; j++) {
      count += deltas[d++] ?? 0;
      if (count !== 0) out.set(key, count);
      key++;
    }
  }
  return out;
}
