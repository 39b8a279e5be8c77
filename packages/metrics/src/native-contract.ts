/**
 * The contract between the native-histogram state (recording, reduction, cluster merge) and the
 * renderers (text, OpenMetrics, protobuf): what a native histogram of one label set looks like when
 * it is exposed, and where a renderer finds the native series of a registry.
 *
 * The shape follows the native fields of `io.prometheus.client.Histogram` in the upstream
 * `metrics.proto` (client_golang's exposition), so the protobuf encoder writes it field by field.
 */

/** A run of consecutive buckets: `offset` from the end of the previous span (or from 0), then `length` buckets. */
export interface BucketSpan {
  offset: number;
  length: number;
}

/** An exemplar as the renderers write it (OpenMetrics / protobuf). */
export interface NativeExemplar {
  labels: Readonly<Record<string, string>>;
  value: number;
  /** Milliseconds since the epoch. */
  timestampMs: number;
}

/**
 * One label set's native histogram at one instant (values copied: the renderer may yield while it
 * writes). Bucket index `i` of schema `s` covers `(base^(i-1), base^i]` with `base = 2^(2^-s)`.
 */
export interface NativeHistogramSnapshot {
  /** -4 .. 8. */
  schema: number;
  /** Observations with `|v| <= zeroThreshold` are counted in `zeroCount`. */
  zeroThreshold: number;
  zeroCount: number;
  /** Every observation, in every bucket and the zero bucket. */
  count: number;
  sum: number;
  positiveSpans: readonly BucketSpan[];
  /** Delta-encoded counts of the positive buckets, in span order (first absolute). */
  positiveDeltas: readonly number[];
  negativeSpans: readonly BucketSpan[];
  negativeDeltas: readonly number[];
  /** When the series was created or last reset (ms since the epoch); renderers write it only when asked. */
  createdTimestampMs?: number;
  exemplars?: readonly NativeExemplar[];
}

/** The native series of one histogram family, with their label values (default labels not applied). */
export interface NativeFamily {
  name: string;
  series: ReadonlyArray<{
    labels: Readonly<Record<string, string>>;
    native: NativeHistogramSnapshot;
  }>;
}

/**
 * What a renderer asks of a registry's native histograms. `nativeFamily(name)` is called once per
 * histogram family per scrape and returns undefined when that family records no native histogram.
 */
export interface NativeSource {
  nativeFamily(name: string): NativeFamily | undefined;
}

// Keyed by the registry object the user created and passed in (never copied by the client).
//
// Where a renderer looks (additions of the recording side, no change to the shapes above):
// - a single process: `nativeSourceOf(registry)`, the `metricsSource` / registry being rendered;
//   families with `classicBuckets: false` keep only the `+Inf` bucket, `_sum` and `_count` in the
//   classic form (a renderer writing protobuf writes no classic buckets for them);
// - a cluster primary (`createClusterAggregator`): `nativeSourceOf(json)` of the array that
//   `AggregatedSource.aggregated()` returns (that scrape's sum of the workers), also registered on
//   the `AggregatedSource` object `handle()` renders and on the aggregator object (latest sum).
//   Its series carry no default labels when every worker has the same (apply them as for `json`).
// - a snapshot with no buckets and zero counts is a native histogram nobody observed yet.
const sources = new WeakMap<object, NativeSource>();

/** The native source registered for a registry, if its metrics record native histograms. */
export const nativeSourceOf = (registry: object): NativeSource | undefined => sources.get(registry);

/** Registers the native source of a registry (one per registry; a later call replaces it). */
export const setNativeSource = (registry: object, source: NativeSource): void => {
  sources.set(registry, source);
};
