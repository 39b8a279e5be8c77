import { CATALOG } from './catalog.js';
import { DeiaMetricsError } from './errors.js';
import { validateNativeOptions } from './native-store.js';
import type { MetricDefinition, MetricGroup, MetricsOptions } from './types.js';
import { validateBuckets, validateDefinition } from './validate.js';

/**
 * Option resolution for the catalog: which metric definitions one `createMetrics()` call
 * registers, with the bucket overrides applied and every per-metric option checked.
 */

/**
 * The definitions to register: the catalog's metrics of the enabled `groups`, then
 * `options.extraMetrics`, each with its `options.buckets` override. Throws `DeiaMetricsError`
 * (`DEIA_METRICS_OPTIONS`) for bad buckets, native-histogram options, or a `buckets` /
 * `nativeHistogramsFor` key that names no registered histogram; `DEIA_METRIC_DUPLICATE` for a name
 * defined twice; and what `validateDefinition` throws for a bad definition under `prefix`.
 */
export function resolveDefinitions(
  options: MetricsOptions,
  groups: ReadonlySet<MetricGroup>,
  prefix: string,
): MetricDefinition[] {
  const extra = options.extraMetrics ?? [];
  const definitions = [...CATALOG.filter((d) => groups.has(d.group as MetricGroup)), ...extra].map((d) => {
    const override = options.buckets?.[d.name];
    if (override === undefined) return d;
    validateBuckets(d.name, override);
    return { ...d, buckets: [...override] };
  });
  for (const name of Object.keys(options.buckets ?? {})) {
    if (!definitions.some((d) => d.name === name && d.type === 'histogram')) {
      throw new DeiaMetricsError(
        'DEIA_METRICS_OPTIONS',
        `buckets.${name}: no histogram of that name is registered.`,
      );
    }
  }
  validateNativeOptions('nativeHistograms', options.nativeHistograms);
  for (const [name, o] of Object.entries(options.nativeHistogramsFor ?? {})) {
    validateNativeOptions(`nativeHistogramsFor.${name}`, o);
    if (!definitions.some((d) => d.name === name && d.type === 'histogram')) {
      throw new DeiaMetricsError(
        'DEIA_METRICS_OPTIONS',
        `nativeHistogramsFor.${name}: no histogram of that name is registered.`,
      );
    }
  }
  const names = new Set<string>();
  for (const def of definitions) {
    validateDefinition(def, prefix);
    if (names.has(def.name)) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_DUPLICATE',
        `metric "${def.name}" is defined twice; rename the extra one.`,
      );
    }
    names.add(def.name);
  }
  return definitions;
}
