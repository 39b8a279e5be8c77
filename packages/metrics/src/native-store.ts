import { DeiaMetricsError } from './errors.js';
import {
  type NativeFamily,
  type NativeHistogramSnapshot,
  type NativeSource,
  nativeSourceOf,
  setNativeSource,
} from './native-contract.js';
import { NativeSeries, type NativeSettings } from './native-histogram.js';
import { schemaForFactor } from './native-math.js';
import type { MetricDefinition, NativeHistogramOptions } from './types.js';

/** Defaults of `NativeHistogramOptions`. */
export const DEFAULT_NATIVE_HISTOGRAM_OPTIONS = {
  bucketFactor: 1.1,
  zeroThreshold: 2 ** -128,
  maxBucketNumber: 160,
  minResetDurationMs: 0,
  maxZeroThreshold: 0,
  maxExemplars: 10,
  exemplarTtlMs: 300_000,
  classicBuckets: true,
} as const satisfies Required<NativeHistogramOptions>;

/** The native settings of a histogram, and whether it keeps its classic buckets. */
export interface ResolvedNative extends NativeSettings {
  readonly classicBuckets: boolean;
}

const KEYS = Object.keys(DEFAULT_NATIVE_HISTOGRAM_OPTIONS) as Array<keyof NativeHistogramOptions>;

/** Throws `DEIA_METRICS_OPTIONS` naming `where` when `o` is not `boolean | NativeHistogramOptions`. */
export function validateNativeOptions(where: string, o: unknown): void {
  if (o === undefined || typeof o === 'boolean') return;
  const fail = (msg: string): never => {
    throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', `${where}: ${msg}`);
  };
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    fail('must be true, false or an object of settings.');
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (!(KEYS as string[]).includes(k)) fail(`unknown setting "${k}"; use some of: ${KEYS.join(', ')}.`);
    if (k === 'classicBuckets') {
      if (typeof v !== 'boolean') fail('classicBuckets must be a boolean.');
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${k} must be a finite number >= 0.`);
    const n = v as number;
    if (k === 'bucketFactor' && !(n > 1)) fail('bucketFactor must be > 1.');
    if ((k === 'maxBucketNumber' || k === 'maxExemplars') && !Number.isInteger(n))
      fail(`${k} must be an integer.`);
  }
}

/**
 * The native settings of a definition: `perName` (the `nativeHistogramsFor` entry) over the
 * definition's `nativeHistogram` over the global `nativeHistograms` option; undefined when off.
 * Object settings are layered over the global object's and the defaults.
 */
export function resolveNative(
  def: MetricDefinition,
  global: boolean | NativeHistogramOptions | undefined,
  perName?: boolean | NativeHistogramOptions,
  now: () => number = Date.now,
): ResolvedNative | undefined {
  if (def.type !== 'histogram') return undefined;
  const chosen = perName ?? def.nativeHistogram ?? global;
  if (chosen === undefined || chosen === false) return undefined;
  const o = {
    ...DEFAULT_NATIVE_HISTOGRAM_OPTIONS,
    ...(typeof global === 'object' ? global : {}),
    ...(typeof def.nativeHistogram === 'object' ? def.nativeHistogram : {}),
    ...(typeof perName === 'object' ? perName : {}),
  };
  return {
    schema: schemaForFactor(o.bucketFactor),
    zeroThreshold: o.zeroThreshold,
    maxBuckets: o.maxBucketNumber,
    minResetMs: o.minResetDurationMs,
    maxZeroThreshold: o.maxZeroThreshold,
    maxExemplars: o.maxExemplars,
    exemplarTtlMs: o.exemplarTtlMs,
    classicBuckets: o.classicBuckets,
    now,
  };
}

/** A family the registry's native source can snapshot. */
export interface NativeFamilySource {
  snapshotFamily(): NativeFamily;
}

/** The native source the SDK registers for a registry: its native families by full name. */
export class NativeRegistry implements NativeSource {
  readonly families = new Map<string, NativeFamilySource>();
  nativeFamily(name: string): NativeFamily | undefined {
    return this.families.get(name)?.snapshotFamily();
  }
}

/** The SDK's native source of a registry, registered on first use (shared by every `createMetrics` on it). */
export function nativeRegistryFor(registry: object): NativeRegistry {
  const existing = nativeSourceOf(registry);
  if (existing instanceof NativeRegistry) return existing;
  const r = new NativeRegistry();
  setNativeSource(registry, r);
  return r;
}

const keyOf = (
  labelNames: readonly string[],
  labels: Readonly<Record<string, unknown>> | undefined,
): string => {
  let k = '';
  for (let i = 0; i < labelNames.length; i++) k += `${String(labels?.[labelNames[i] as string] ?? '')}\u0000`;
  return k;
};

/**
 * The native series of a catalog histogram recorded through a prom-client handle: SDK-owned state
 * beside the prom-client metric, one `NativeSeries` per label set (the handle's guarded labels,
 * so label caps and the series budget redirect it like the classic series).
 */
export class NativeFamilyState implements NativeFamilySource {
  private readonly series = new Map<string, { labels: Record<string, string>; native: NativeSeries }>();

  constructor(
    readonly name: string,
    readonly labelNames: readonly string[],
    readonly settings: NativeSettings,
  ) {}

  /** Records `v` for `labels`; true when that label set was reset (reset its classic part too). */
  observe(
    labels: Readonly<Record<string, unknown>> | undefined,
    v: number,
    exemplar?: Record<string, string>,
  ): boolean {
    const key = keyOf(this.labelNames, labels);
    let s = this.series.get(key);
    if (s === undefined) {
      const copy: Record<string, string> = {};
      for (const n of this.labelNames) copy[n] = String(labels?.[n] ?? '');
      s = { labels: copy, native: new NativeSeries(this.settings) };
      this.series.set(key, s);
    }
    return s.native.observe(v, exemplar);
  }

  /** Drops the series of exactly these labels (what prom-client's `remove(labels)` removed). */
  remove(labels: Readonly<Record<string, unknown>>): void {
    this.series.delete(keyOf(this.labelNames, labels));
  }

  clear(): void {
    this.series.clear();
  }

  get size(): number {
    return this.series.size;
  }

  snapshotFamily(): NativeFamily {
    const series: Array<{ labels: Record<string, string>; native: NativeHistogramSnapshot }> = [];
    for (const s of this.series.values())
      series.push({ labels: { ...s.labels }, native: s.native.snapshot() });
    return { name: this.name, series };
  }
}
