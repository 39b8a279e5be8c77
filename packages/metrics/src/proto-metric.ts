import type { Exemplar, MetricJson, NameWriter } from './exposition.js';
import { type DefaultLabels, labelKey, num } from './exposition.js';
import type {
  NativeExemplar,
  NativeFamily,
  NativeHistogramSnapshot,
  NativeSource,
} from './native-contract.js';
import type { ProtoWriter } from './proto-encoder.js';
import type { SlicedWriter } from './render-writer.js';

/**
 * The messages of one protobuf scrape below the family (`Metric`, `LabelPair`, `Exemplar`,
 * `Histogram` with its classic buckets and native fields), with the field numbers of the upstream
 * `metrics.proto`, and how a classic series finds its native histogram. `render-proto.ts` walks
 * the families.
 */

/** What the protobuf renderer writes beyond the samples. */
export interface ProtoRenderOptions {
  /** Write `created_timestamp` where the SDK knows when a series was created. */
  readonly created: boolean;
}

export const COUNTER = 0;
export const GAUGE = 1;
export const SUMMARY = 2;
export const UNTYPED = 3;
export const HISTOGRAM = 4;

export type Labels = Readonly<Record<string, string | number | undefined>>;

/** One label set of a classic histogram: cumulative counts per finite bound, then +Inf. */
export interface Classic {
  labels: Labels;
  bounds: number[];
  /** Cumulative counts, one per bound, then the +Inf bucket. */
  cum: number[];
  exemplars: Array<Exemplar | null | undefined>;
  sum: number;
  count: number;
}

/** One scrape's encoding context. */
export interface Ctx {
  readonly pb: ProtoWriter;
  readonly w: SlicedWriter;
  readonly d: DefaultLabels;
  readonly names: NameWriter;
  readonly opts: ProtoRenderOptions;
}

function pair(pb: ProtoWriter, names: NameWriter, k: string, v: string): void {
  pb.begin(1);
  pb.string(1, names.plain(k));
  pb.string(2, v);
  pb.end();
}

/** The labels of a metric with the default labels applied, as `labelBody` applies them. */
export function writeLabels(c: Ctx, labels: Labels | undefined, skip?: string): void {
  const { pb, d, names } = c;
  const defaults = d.pairs.size > 0;
  if (labels !== undefined) {
    for (const k in labels) {
      if (k === skip) continue;
      const v = labels[k];
      if (defaults && (v === undefined || v === '' || v === 0) && Object.hasOwn(d.values, k)) {
        pair(pb, names, k, d.values[k] as string);
        continue;
      }
      if (v === undefined) continue;
      pair(pb, names, k, typeof v === 'string' ? v : num(v));
    }
  }
  if (defaults) {
    for (const k in d.values) {
      if (labels === undefined || !Object.hasOwn(labels, k)) pair(pb, names, k, d.values[k] as string);
    }
  }
}

export function writeExemplar(c: Ctx, field: number, e: Exemplar | null | undefined): void {
  if (!e || e.timestamp === undefined || !e.labelSet) return;
  const { pb, names } = c;
  pb.begin(field);
  for (const k in e.labelSet) pair(pb, names, k, String(e.labelSet[k]));
  pb.double(2, e.value);
  pb.timestamp(3, e.timestamp * 1000);
  pb.end();
}

function writeNativeExemplar(c: Ctx, e: NativeExemplar): void {
  const { pb, names } = c;
  pb.begin(16);
  for (const k in e.labels) pair(pb, names, k, e.labels[k] as string);
  pb.double(2, e.value);
  pb.timestamp(3, e.timestampMs);
  pb.end();
}

/** A count: uint64 when it is an integer, else the `_float` field. */
export function count(pb: ProtoWriter, field: number, floatField: number, v: number): void {
  if (Number.isInteger(v) && v >= 0) pb.uint(field, v);
  else pb.double(floatField, v);
}

function writeSpans(pb: ProtoWriter, field: number, spans: NativeHistogramSnapshot['positiveSpans']): void {
  for (const s of spans) {
    pb.begin(field);
    pb.sint(1, s.offset);
    pb.uint(2, s.length);
    pb.end();
  }
}

/** The native fields of a `Histogram` message (schema, zero bucket, spans, deltas, exemplars). */
function writeNative(c: Ctx, h: NativeHistogramSnapshot): void {
  const pb = c.pb;
  pb.sint(5, h.schema);
  pb.double(6, h.zeroThreshold);
  count(pb, 7, 8, h.zeroCount);
  writeSpans(pb, 9, h.negativeSpans);
  for (const d of h.negativeDeltas) pb.sint(10, d);
  if (
    h.positiveSpans.length === 0 &&
    h.negativeSpans.length === 0 &&
    h.zeroThreshold === 0 &&
    h.zeroCount === 0
  ) {
    // an empty native histogram is told apart from a classic one by a span of no buckets (client_golang)
    writeSpans(pb, 12, [{ offset: 0, length: 0 }]);
  } else writeSpans(pb, 12, h.positiveSpans);
  for (const d of h.positiveDeltas) pb.sint(13, d);
  for (const e of h.exemplars ?? []) writeNativeExemplar(c, e);
}

/**
 * One `Metric` with a `Histogram`: classic buckets (the +Inf one only when it has an exemplar:
 * its count is `sample_count`), and the native histogram when there is one (whose count and sum
 * are then the message's).
 */
export function writeHistogram(
  c: Ctx,
  labels: Labels | undefined,
  h: Classic | undefined,
  native?: NativeHistogramSnapshot,
) {
  const pb = c.pb;
  pb.begin(4);
  writeLabels(c, labels, 'le');
  pb.begin(7);
  count(pb, 1, 4, native?.count ?? h?.count ?? 0);
  pb.double(2, native?.sum ?? h?.sum ?? 0);
  if (h !== undefined) {
    const n = h.bounds.length;
    for (let b = 0; b < n; b++) {
      pb.begin(3);
      count(pb, 1, 4, h.cum[b] as number);
      pb.double(2, h.bounds[b] as number);
      writeExemplar(c, 3, h.exemplars[b]);
      pb.end();
    }
    const inf = h.exemplars[n];
    if (inf) {
      pb.begin(3);
      count(pb, 1, 4, h.cum[n] as number);
      pb.double(2, Number.POSITIVE_INFINITY);
      writeExemplar(c, 3, inf);
      pb.end();
    }
  }
  if (native !== undefined) {
    writeNative(c, native);
    if (c.opts.created && native.createdTimestampMs !== undefined)
      pb.timestamp(15, native.createdTimestampMs);
  }
  pb.end();
  pb.end();
}

/** The samples of a histogram in `get()` form, grouped by label set (without `le`). */
export function classicOf(
  name: string,
  values: readonly MetricJson['values'][number][],
  live?: Float64Array,
) {
  const out = new Map<string, Classic>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as MetricJson['values'][number];
    const labels = v.labels ?? {};
    const key = labelKey(labels, 'le');
    let h = out.get(key);
    if (h === undefined) {
      const { le: _le, ...rest } = labels;
      h = { labels: rest, bounds: [], cum: [], exemplars: [], sum: 0, count: 0 };
      out.set(key, h);
    }
    const value = live === undefined ? v.value : (live[i] as number);
    const sample = v.metricName ?? name;
    if (sample.endsWith('_bucket')) {
      const le = labels.le;
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      if (bound === Number.POSITIVE_INFINITY) {
        h.cum.push(value);
        h.exemplars.push(v.exemplar);
      } else if (!Number.isNaN(bound)) {
        h.bounds.push(bound);
        h.cum.push(value);
        h.exemplars.push(v.exemplar);
      }
    } else if (sample.endsWith('_sum')) h.sum = value;
    else if (sample.endsWith('_count')) h.count = value;
  }
  return out;
}

/** A family's native series (taken in the snapshot's synchronous stretch) and which are written. */
export interface Natives {
  readonly family: NativeFamily;
  /** Per series: written beside a classic series already. */
  readonly taken: Uint8Array;
  /** Where the next classic series' native is expected (both list the label sets in one order). */
  cursor: number;
  /** By canonical label key, built on the first lookup the cursor does not answer. */
  byKey: Map<string, number> | undefined;
}

export function nativesOf(source: NativeSource | undefined, name: string): Natives | undefined {
  const family = source?.nativeFamily(name);
  if (family === undefined || family.series.length === 0) return undefined;
  return { family, taken: new Uint8Array(family.series.length), cursor: 0, byKey: undefined };
}

/** True when `native` (no default labels) names the same label set as `classic` without `skip`. */
function sameLabels(native: Readonly<Record<string, string>>, classic: Labels, skip?: string): boolean {
  let n = 0;
  for (const k in native) {
    const v = classic[k];
    if (v === undefined || String(v) !== native[k]) return false;
    n++;
  }
  for (const k in classic) if (k !== skip && classic[k] !== undefined) n--;
  return n === 0;
}

/** The native histogram of a classic series' label set (written once). */
export function takeNative(
  natives: Natives | undefined,
  labels: Labels,
  skip?: string,
): NativeHistogramSnapshot | undefined {
  if (natives === undefined) return undefined;
  const series = natives.family.series;
  let i = natives.cursor;
  if (
    !(
      i < series.length &&
      natives.taken[i] === 0 &&
      sameLabels((series[i] as (typeof series)[number]).labels, labels, skip)
    )
  ) {
    natives.byKey ??= new Map(series.map((x, j) => [labelKey(x.labels), j]));
    const j = natives.byKey.get(labelKey(labels, skip));
    if (j === undefined || natives.taken[j] === 1) return undefined;
    i = j;
  }
  natives.taken[i] = 1;
  natives.cursor = i + 1;
  return (series[i] as (typeof series)[number]).native;
}

/** The native series without a classic one (a label set recorded only natively). */
export async function writeNativeOnly(c: Ctx, natives: Natives | undefined): Promise<number> {
  if (natives === undefined) return 0;
  let n = 0;
  const series = natives.family.series;
  for (let i = 0; i < series.length; i++) {
    if (natives.taken[i] === 1) continue;
    const s = series[i] as (typeof series)[number];
    writeHistogram(c, s.labels, undefined, s.native);
    n++;
    if (n % 16 === 0 && c.w.due()) await c.w.pause();
  }
  return n;
}

export function header(c: Ctx, name: string, help: string, type: number): void {
  c.pb.begin(0);
  c.pb.string(1, c.names.plain(name));
  c.pb.string(2, help);
  c.pb.uint(3, type);
}

/** Ends a family: its bytes go to the writer (a family with no metric is left out). */
export function flush(c: Ctx, empty: boolean): void {
  c.pb.end();
  if (!empty) c.w.writeBytes(c.pb.bytes());
  c.pb.reset();
}
