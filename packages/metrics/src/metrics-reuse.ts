// A second `createMetrics` call with the same registry and prefix returns the first call's handle
// when the options are the same, so libraries and the app can both call it. Keyed weakly by
// registry: a dropped registry drops its handles.
import { DeiaMetricsError } from './errors.js';
import type { Metrics } from './metrics-types.js';
import type { RegistryLike } from './types.js';

interface Created {
  readonly metrics: Metrics;
  /** The options it was created with, defaults applied, for the comparison on a second call. */
  readonly settings: Record<string, unknown>;
}
const byRegistry = new WeakMap<RegistryLike, Map<string, Created>>();

/** JSON with sorted keys, so two equal option values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Option names whose values differ (defaults applied; functions and modules by identity). */
function differing(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys(a).filter((k) => {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'function' || typeof y === 'function' || k === 'client') return x !== y;
    return canonical(x) !== canonical(y);
  });
}

/**
 * The handle an earlier `createMetrics` call made for this registry and prefix, or `undefined`;
 * throws `DEIA_METRICS_OPTIONS_CONFLICT` naming the options that differ from that call's.
 */
export function existingMetrics(
  registry: RegistryLike,
  prefix: string,
  settings: Record<string, unknown>,
): Metrics | undefined {
  const cached = byRegistry.get(registry)?.get(prefix);
  if (!cached) return undefined;
  const diff = differing(cached.settings, settings);
  if (diff.length === 0) return cached.metrics;
  throw new DeiaMetricsError(
    'DEIA_METRICS_OPTIONS_CONFLICT',
    `createMetrics: this registry already holds the catalog with prefix "${prefix}", created with other ${diff.join(', ')}; ` +
      'pass the same options (or share the first handle), or use another registry or prefix.',
  );
}

/** Records `metrics`, created with `settings`, for later calls with the same registry and prefix. */
export function rememberMetrics(
  registry: RegistryLike,
  prefix: string,
  metrics: Metrics,
  settings: Record<string, unknown>,
): void {
  const perPrefix = byRegistry.get(registry) ?? new Map<string, Created>();
  byRegistry.set(registry, perPrefix);
  perPrefix.set(prefix, { metrics, settings });
}
