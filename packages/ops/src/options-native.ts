import { CATALOG, type MetricDefinition, type MetricGroup } from '@deia/metrics';
import { closest } from '@deia/options';
import { fail } from './options.js';
import type { OpsThresholds } from './types.js';

/**
 * Thresholds whose classic default is a guide's value rounded to a bucket bound, with the guide's
 * own value: used when the histogram they read is native (no bucket bound to round to) and the
 * option is not set. `latencyP95Critical`: the operations guide's (003) 750 ms critical p95; with
 * classic buckets 750 ms lies inside the (0.5, 1] bucket, so the classic default is 1 s.
 */
export const NATIVE_THRESHOLD_DEFAULTS = {
  latencyP95Critical: 0.75,
} as const satisfies Partial<OpsThresholds>;

/** The histogram each of `NATIVE_THRESHOLD_DEFAULTS` is read from. */
const NATIVE_DEFAULT_SOURCE: Record<keyof typeof NATIVE_THRESHOLD_DEFAULTS, string> = {
  latencyP95Critical: 'http_request_duration_seconds',
};

/**
 * `nativeHistograms`: `false` (every histogram classic), `true` (every registered histogram
 * native, except `extraMetrics` whose definition sets `nativeHistogram: false`) or the names of
 * the histogram families read as native histograms (catalog or `extraMetrics` names, without the
 * prefix). Returns the native families, sorted. A list must name every extra histogram whose
 * definition sets `nativeHistogram` (Prometheus stores it native) and none that opts out. Throws
 * `DEIA_OPS_OPTIONS` for another type, an unknown or unregistered name (naming the closest
 * histogram) or a name that is not a histogram.
 */
export function resolveNativeHistograms(
  value: unknown,
  groups: readonly MetricGroup[],
  extraMetrics: readonly MetricDefinition[],
): string[] {
  const histograms = [...CATALOG.filter((d) => groups.includes(d.group as MetricGroup)), ...extraMetrics]
    .filter((d) => d.type === 'histogram')
    .map((d) => d.name);
  if (value === undefined || value === false) return [];
  // An extra histogram that opts out (`nativeHistogram: false`) is recorded classic only.
  const optedOut = new Set(extraMetrics.filter((d) => d.nativeHistogram === false).map((d) => d.name));
  if (value === true) return histograms.filter((h) => !optedOut.has(h)).sort();
  if (!Array.isArray(value))
    return fail(
      'nativeHistograms must be true, false or an array of histogram names (e.g. ["http_request_duration_seconds"]).',
    );
  const out = new Set<string>();
  for (const name of value as unknown[]) {
    if (typeof name !== 'string' || !histograms.includes(name)) {
      const def = [...CATALOG, ...extraMetrics].find((d) => d.name === name);
      const why = !def
        ? 'is not a metric of the catalog or extraMetrics'
        : def.type !== 'histogram'
          ? `is a ${def.type}, not a histogram`
          : `is in group "${def.group}", which is switched off`;
      const near = typeof name === 'string' && !def ? closest(name, histograms) : undefined;
      fail(
        `nativeHistograms: ${JSON.stringify(name)} ${why}${near ? ` (did you mean "${near}"?)` : ''}; registered histograms: ${histograms.join(', ')}.`,
      );
    }
    if (out.has(name as string)) fail(`nativeHistograms lists "${String(name)}" twice.`);
    if (optedOut.has(name as string))
      fail(
        `nativeHistograms: "${String(name)}" sets nativeHistogram: false in its definition, so the service records no native histogram for it.`,
      );
    out.add(name as string);
  }
  // With the feature on, Prometheus stores every histogram the service records natively as native.
  const unlisted = extraMetrics.find((d) => d.nativeHistogram && !out.has(d.name));
  if (unlisted)
    fail(
      `nativeHistograms: extraMetrics "${unlisted.name}" records a native histogram (nativeHistogram in its definition), which Prometheus stores as native once the feature is on: list it too.`,
    );
  return [...out].sort();
}

/** The defaults of `thresholds` with `NATIVE_THRESHOLD_DEFAULTS` applied where their histogram is native. */
export function thresholdDefaults<T extends OpsThresholds>(classic: T, native: readonly string[]): T {
  const out = { ...classic };
  for (const [key, value] of Object.entries(NATIVE_THRESHOLD_DEFAULTS) as Array<
    [keyof typeof NATIVE_THRESHOLD_DEFAULTS, number]
  >) {
    if (native.includes(NATIVE_DEFAULT_SOURCE[key])) out[key] = value as T[typeof key];
  }
  return out;
}

/**
 * The CLI's `--native-histograms` value: `all` (every histogram), `none`, or a comma-separated
 * list of histogram names. Throws `DEIA_OPS_OPTIONS` for an empty value.
 */
export function parseNativeHistogramsFlag(text: string): boolean | string[] {
  if (text === 'all') return true;
  if (text === 'none') return false;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    fail('--native-histograms needs "all", "none" or a comma-separated list of histogram names.');
  return names;
}
