import { DeiaMetricsError } from './errors.js';
import type { AnyHandle } from './handles.js';
import { setHttpStore } from './http-series.js';
import { knownSeries } from './known.js';
import { createLlmRecording } from './llm-calls.js';
import { resolveDefinitions } from './metrics-definitions.js';
import {
  authHelpers,
  botHelpers,
  cacheHelpers,
  cacheStatsRecorder,
  dbHelpers,
  dependencyHelpers,
  type HelperDeps,
  httpHandles,
  llmHelpers,
  pgPoolObserver,
  taskHelpers,
} from './metrics-helpers.js';
import { setMetricsLogger } from './metrics-logger.js';
import { resolveMetricsOptions } from './metrics-options.js';
import { registerCatalog, registerProcessMetrics, startSweeper } from './metrics-registration.js';
import { existingMetrics, rememberMetrics } from './metrics-reuse.js';
import type { Metrics } from './metrics-types.js';
import type { CounterHandle, GaugeHandle, HistogramHandle, MetricsOptions } from './types.js';

/**
 * Creates the metric catalog in a registry. Calling it again with the same registry and prefix
 * and the same options (defaults applied; functions and the client module by identity) returns
 * the same handle (no "already registered" error), so libraries and the app can both call it;
 * different options throw `DEIA_METRICS_OPTIONS_CONFLICT` naming them. `warn` is not compared:
 * the first handle keeps the first call's.
 *
 * The steps have their own modules: option resolution (`metrics-options.ts`,
 * `metrics-definitions.ts`), metric registration and the idle sweep (`metrics-registration.ts`),
 * the domain helpers (`metrics-helpers.ts`); the scrape/render hookup is the HTTP store and logger
 * kept for the handle at the end (`http-series.ts`, `metrics-logger.ts`).
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const resolved = resolveMetricsOptions(options);
  const { warn, prefix, registry, defaultLabels, settings } = resolved;
  const existing = existingMetrics(registry, prefix, settings);
  if (existing) return existing;

  const definitions = resolveDefinitions(options, resolved.groups, prefix);
  if (Object.keys(defaultLabels).length > 0) registry.setDefaultLabels(defaultLabels);
  const registered = registerCatalog(resolved, options, definitions);
  const { handles, opt, tracked, addSampler } = registered;
  let sweeper = startSweeper(resolved.seriesTtlSeconds, registered, prefix, warn);
  const removeSeries = (labels: Record<string, string | number>): number => {
    let n = 0;
    for (const m of tracked.values()) n += m.remove(labels);
    if (labels.queue !== undefined) known.forgetQueue(String(labels.queue));
    if (labels.cache !== undefined) evictedSeen.delete(String(labels.cache));
    return n;
  };
  const get = <H extends AnyHandle = AnyHandle>(name: string): H => {
    const h = handles.get(name);
    if (!h) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_UNKNOWN',
        `metric "${name}" is not registered; is its group switched off, or is it missing from extraMetrics?`,
      );
    }
    return h as H;
  };
  /** Last `evictedKeys` per cache, to turn the server's running total into counter increases. */
  const evictedSeen = new Map<string, number>();
  registerProcessMetrics(resolved, options, registered);
  const known = knownSeries((name) => opt<CounterHandle>(name));
  const llmRecording = createLlmRecording(opt, warn);
  const deps: HelperDeps = { opt, known, addSampler, removeSeries };

  const metrics: Metrics = {
    registry,
    definitions,
    prefix,
    get,
    has: (name) => handles.has(name),
    http: httpHandles(opt),
    bots: botHelpers(deps),
    tasks: taskHelpers(deps),
    auth: authHelpers(deps),
    db: dbHelpers(deps),
    cache: cacheHelpers(deps),
    llm: llmHelpers(deps, llmRecording),
    dependencies: dependencyHelpers(deps),
    recordHealthCheck: (check, up, seconds) => {
      opt<GaugeHandle>('health_check_up').set({ check }, up ? 1 : 0);
      opt<HistogramHandle>('health_check_duration_seconds').observe({ check }, seconds);
    },
    recordCacheStats: cacheStatsRecorder(deps, evictedSeen),
    recordDroppedSpans: (count, reason) => {
      if (Number.isFinite(count) && count > 0) {
        opt<CounterHandle>('tracing_spans_dropped_total').inc({ reason }, count);
      }
    },
    observePgPool: pgPoolObserver(deps),
    observeQueue: (read, queue = 'default') => {
      known.queue(queue);
      addSampler('task_queue_depth', () => opt<GaugeHandle>('task_queue_depth').set({ queue }, read()));
    },
    removeSeries,
    shutdown: () => {
      registered.clearSamplers();
      clearInterval(sweeper);
      sweeper = undefined;
    },
  };
  rememberMetrics(registry, prefix, metrics, settings);
  setHttpStore(metrics, registered.httpStore);
  setMetricsLogger(metrics, resolved.logger);
  return metrics;
}
