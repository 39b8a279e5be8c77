import { CATALOG } from './catalog.js';
import { DeiaMetricsError } from './errors.js';
import { type AnyHandle, createHandle, type HandleContext, type TrackedMetric } from './handles.js';
import { createHttpStore, setHttpStore } from './http-series.js';
import { knownSeries } from './known.js';
import type { DropReason } from './label-sets.js';
import { createLlmRecording } from './llm-calls.js';
import { recordOllamaAnswer, wrapOllamaStream } from './llm-stream.js';
import { setMetricsLogger } from './metrics-logger.js';
import { resolveMetricsOptions } from './metrics-options.js';
import { existingMetrics, rememberMetrics } from './metrics-reuse.js';
import type { Metrics } from './metrics-types.js';
import type {
  CounterHandle,
  GaugeHandle,
  GaugeLike,
  HistogramHandle,
  MetricGroup,
  MetricsOptions,
} from './types.js';
import { validateBuckets, validateDefinition } from './validate.js';

type Sampler = () => void;

/**
 * Creates the metric catalog in a registry. Calling it again with the same registry and prefix
 * and the same options (defaults applied; functions and the client module by identity) returns
 * the same handle (no "already registered" error), so libraries and the app can both call it;
 * different options throw `DEIA_METRICS_OPTIONS_CONFLICT` naming them. `warn` is not compared:
 * the first handle keeps the first call's.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const resolved = resolveMetricsOptions(options);
  const { warn, log, prefix, client, registry, groups, defaultLabels, maxLabelValues, settings } = resolved;
  const existing = existingMetrics(registry, prefix, settings);
  if (existing) return existing;

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

  if (Object.keys(defaultLabels).length > 0) registry.setDefaultLabels(defaultLabels);

  const samplers = new Map<string, Sampler[]>();
  const sampleInto = (metric: string) =>
    function collect() {
      for (const s of samplers.get(metric) ?? []) {
        try {
          s();
        } catch (err) {
          warn(`@deia/metrics: a sampler of ${metric} threw: ${(err as Error).message}`);
        }
      }
    };
  const addSampler = (metric: string, s: Sampler) => {
    if (!handles.has(metric)) return;
    const list = samplers.get(metric) ?? [];
    list.push(s);
    samplers.set(metric, list);
  };

  const httpStore = createHttpStore();
  // The in-flight gauge sums the observers' counters at scrape time (a collect set at construction).
  const summing = (sources: Set<{ count: number }>) =>
    function collect(this: GaugeLike) {
      if (sources.size === 0) return;
      let n = 0;
      for (const s of sources) n += s.count;
      this.set({}, n);
    };
  const inFlightCollect = summing(httpStore.inFlight);
  const overflowCollect = summing(httpStore.overflow);
  const tracked = new Map<string, TrackedMetric>();
  const clock = { tick: 0 };
  const ctx: HandleContext = {
    httpStore,
    client,
    registry,
    prefix,
    exemplars: options.exemplars,
    tracked,
    labelSets: {
      defaultCap: maxLabelValues,
      defaultMaxSeries: resolved.maxSeriesPerMetric,
      clock,
      onOverflow: (metric, label) =>
        label === 'series'
          ? log(
              { metric: prefix + metric, maxSeries: resolved.maxSeriesPerMetric },
              `@deia/metrics: ${prefix}${metric} reached its budget of label sets (maxSeriesPerMetric); further label sets are recorded in its "__overflow__" series and counted in ${prefix}metric_series_dropped_total. Remove the series of deleted objects (metrics.removeSeries), set seriesTtlSeconds, or raise the budget.`,
            )
          : log(
              { metric: prefix + metric, label },
              `@deia/metrics: ${prefix}${metric} label "${label}" reached its cap of distinct values; further values are recorded as "__overflow__".`,
            ),
      onDrop: (metric: string, reason: DropReason, count: number) =>
        opt<CounterHandle>('metric_series_dropped_total').inc({ metric, reason }, count),
    },
  };
  const handles = new Map<string, AnyHandle>();
  const sampled = new Set([
    'process_uptime_seconds',
    'bot_instances',
    'bot_instances_max',
    'task_queue_depth',
    'db_connection_pool_active',
    'db_connection_pool_idle',
    'db_connection_pool_waiting',
    'db_connection_pool_max',
  ]);
  httpStore.inFlightGauge =
    definitions.some((d) => d.name === 'http_requests_in_flight') &&
    !registry.getSingleMetric(`${prefix}http_requests_in_flight`);
  for (const def of definitions) {
    const collect = sampled.has(def.name)
      ? sampleInto(def.name)
      : def.name === 'http_requests_in_flight'
        ? inFlightCollect
        : def.name === 'http_routes_overflowed'
          ? overflowCollect
          : undefined;
    handles.set(def.name, createHandle(ctx, def, collect));
  }

  // Idle expiry: one unref'd timer advances the clock the label sets stamp on every recording;
  // each tick removes the sets not stamped for the TTL (each metric holds at most its budget).
  let sweeper: NodeJS.Timeout | undefined;
  const ttl = resolved.seriesTtlSeconds;
  if (ttl !== undefined && tracked.size > 0) {
    const every = Math.max(1, Math.min(60, ttl / 4));
    const idleTicks = Math.ceil(ttl / every);
    sweeper = setInterval(() => {
      clock.tick++;
      for (const [name, m] of tracked) {
        try {
          m.expire(clock.tick - idleTicks);
        } catch (err) {
          warn(`@deia/metrics: expiring idle series of ${prefix}${name} failed: ${(err as Error).message}`);
        }
      }
    }, every * 1000);
    sweeper.unref();
  }
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
  // Handles of switched-off groups are no-ops, so domain helpers never throw at runtime.
  const noop = {
    inc() {},
    set() {},
    dec() {},
    observe() {},
    remove: () => 0,
    startTimer: () => () => 0,
  } as unknown as AnyHandle;
  const opt = <H extends AnyHandle>(name: string): H => (handles.get(name) ?? noop) as H;
  /** Last `evictedKeys` per cache, to turn the server's running total into counter increases. */
  const evictedSeen = new Map<string, number>();

  if (groups.has('process')) {
    if (resolved.defaultMetrics) {
      // Registering prom-client's default metrics twice throws; skip when already there.
      if (!registry.getSingleMetric(`${prefix}process_cpu_seconds_total`)) {
        client.collectDefaultMetrics({ register: registry, prefix });
      }
    }
    addSampler('process_uptime_seconds', () =>
      opt<GaugeHandle>('process_uptime_seconds').set({}, process.uptime()),
    );
    opt<GaugeHandle>('app_build_info').set(
      {
        version: options.buildInfo?.version ?? process.env.npm_package_version ?? 'unknown',
        commit: options.buildInfo?.commit ?? 'unknown',
        node_version: process.version,
      },
      1,
    );
  }

  const timed = async <T>(
    run: () => T | Promise<T>,
    done: (seconds: number, ok: boolean) => void,
  ): Promise<T> => {
    const start = process.hrtime.bigint();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      return result;
    } finally {
      done(Number(process.hrtime.bigint() - start) / 1e9, ok);
    }
  };
  const outcome = (ok: boolean) => (ok ? 'success' : 'error');
  const known = knownSeries((name) => opt<CounterHandle>(name));
  const llmRecording = createLlmRecording(opt, warn);

  const metrics: Metrics = {
    registry,
    definitions,
    prefix,
    get,
    has: (name) => handles.has(name),
    http: {
      requests: opt('http_requests_total'),
      duration: opt('http_request_duration_seconds'),
      inFlight: opt('http_requests_in_flight'),
      requestSize: opt('http_request_size_bytes'),
      responseSize: opt('http_response_size_bytes'),
    },
    bots: {
      trackStartup: (botId, start) => {
        // The bot's counters exist at 0 from here on. A first start that fails before the next
        // scrape is still first scraped at 1 (no increase() in its window): call `register` when
        // the bot is configured; the shipped rules count a series born above 0 as new events.
        known.bot(botId);
        return timed(start, (s, ok) => {
          opt<HistogramHandle>('bot_startup_duration_seconds').observe({ outcome: outcome(ok) }, s);
          if (!ok) opt<CounterHandle>('bot_start_errors_total').inc({ bot_id: botId });
        });
      },
      trackMessage: (botId, handle) =>
        timed(handle, (s, ok) => {
          opt<HistogramHandle>('bot_message_processing_duration_seconds').observe({}, s);
          opt<CounterHandle>('bot_messages_processed_total').inc({ bot_id: botId, outcome: outcome(ok) });
        }),
      recordRestart: (botId) => opt<CounterHandle>('bot_restarts_total').inc({ bot_id: botId }),
      register: (botId) => known.bot(botId),
      remove: (botId) => removeSeries({ bot_id: botId }),
      recordDispatchLatency: (seconds) =>
        opt<HistogramHandle>('bot_dispatch_latency_seconds').observe({}, seconds),
      observeInstances: (read) => {
        addSampler('bot_instances', () => {
          const c = read();
          const g = opt<GaugeHandle>('bot_instances');
          g.set({ status: 'running' }, c.running);
          g.set({ status: 'stopped' }, c.stopped);
          g.set({ status: 'error' }, c.error);
          if (c.max !== undefined) opt<GaugeHandle>('bot_instances_max').set({}, c.max);
        });
      },
      setResources: (botId, usage) => {
        if (usage.cpuRatio !== undefined)
          opt<GaugeHandle>('bot_cpu_usage_ratio').set({ bot_id: botId }, usage.cpuRatio);
        if (usage.memoryBytes !== undefined)
          opt<GaugeHandle>('bot_memory_bytes').set({ bot_id: botId }, usage.memoryBytes);
      },
    },
    tasks: {
      registerQueue: (queue = 'default') => known.queue(queue),
      enqueued: (queue = 'default') => {
        known.queue(queue);
        opt<CounterHandle>('task_enqueued_total').inc({ queue });
      },
      trackTask: (enqueuedAt, run, queue = 'default') => {
        opt<HistogramHandle>('task_queue_wait_seconds').observe(
          { queue },
          Math.max(0, Date.now() - enqueuedAt) / 1000,
        );
        known.queue(queue);
        return timed(run, (_s, ok) =>
          opt<CounterHandle>(ok ? 'task_completed_total' : 'task_failed_total').inc({ queue }),
        );
      },
    },
    auth: {
      declareReasons: (...reasons) => known.authReasons(reasons),
      recordFailure: (reason) => opt<CounterHandle>('auth_failures_total').inc({ reason }),
    },
    db: {
      trackQuery: (operation, run) => {
        // Created at 0 with the operation, so increase()/rate() see the first error.
        opt<CounterHandle>('db_query_errors_total').inc({ operation }, 0);
        return timed(run, (s, ok) => {
          opt<HistogramHandle>('db_query_duration_seconds').observe({ operation }, s);
          if (!ok) opt<CounterHandle>('db_query_errors_total').inc({ operation });
        });
      },
    },
    cache: {
      // Each creates the other counter at 0 too: the hit ratio exists from the first lookup.
      hit: (cache = 'default') => {
        opt<CounterHandle>('cache_misses_total').inc({ cache }, 0);
        opt<CounterHandle>('cache_hits_total').inc({ cache });
      },
      miss: (cache = 'default') => {
        opt<CounterHandle>('cache_hits_total').inc({ cache }, 0);
        opt<CounterHandle>('cache_misses_total').inc({ cache });
      },
      trackCommand: (command, run) =>
        timed(run, (s) => opt<HistogramHandle>('cache_command_duration_seconds').observe({ command }, s)),
    },
    llm: {
      startCall: llmRecording.startCall,
      wrapStream: wrapOllamaStream,
      recordAnswer: recordOllamaAnswer,
      recordResidentModels: llmRecording.recordResidentModels,
      trackRequest: (labels, run) =>
        timed(run, (s, ok) => {
          opt<HistogramHandle>('llm_request_duration_seconds').observe(labels, s);
          if (!ok) opt<CounterHandle>('llm_request_errors_total').inc(labels);
        }),
      recordTokens: (model, tokens, price) => {
        const t = opt<CounterHandle>('llm_tokens_total');
        let cost = 0;
        for (const type of ['prompt', 'completion'] as const) {
          const n = tokens[type];
          if (n === undefined || !(n >= 0)) continue;
          t.inc({ model, type }, n);
          cost += n * (price?.[type] ?? 0);
        }
        if (price && cost > 0) opt<CounterHandle>('llm_cost_usd_total').inc({ model }, cost);
      },
    },
    dependencies: {
      track: (dependency, run) =>
        timed(run, (s, ok) =>
          opt<HistogramHandle>('dependency_request_duration_seconds').observe(
            { dependency, outcome: outcome(ok) },
            s,
          ),
        ),
    },
    recordHealthCheck: (check, up, seconds) => {
      opt<GaugeHandle>('health_check_up').set({ check }, up ? 1 : 0);
      opt<HistogramHandle>('health_check_duration_seconds').observe({ check }, seconds);
    },
    recordCacheStats: (cache, stats) => {
      const valid = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
      if (valid(stats?.usedMemoryBytes))
        opt<GaugeHandle>('cache_memory_used_bytes').set({ cache }, stats.usedMemoryBytes);
      if (valid(stats?.maxMemoryBytes))
        opt<GaugeHandle>('cache_memory_max_bytes').set({ cache }, stats.maxMemoryBytes);
      if (valid(stats?.evictedKeys)) {
        const previous = evictedSeen.get(cache);
        const increase =
          previous === undefined
            ? 0
            : stats.evictedKeys >= previous
              ? stats.evictedKeys - previous
              : stats.evictedKeys;
        evictedSeen.set(cache, stats.evictedKeys);
        opt<CounterHandle>('cache_evictions_total').inc({ cache }, increase);
      }
    },
    recordDroppedSpans: (count, reason) => {
      if (Number.isFinite(count) && count > 0) {
        opt<CounterHandle>('tracing_spans_dropped_total').inc({ reason }, count);
      }
    },
    observePgPool: (pool, name = 'default') => {
      if (!pool || typeof pool.totalCount !== 'number') {
        throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', 'observePgPool(pool): pass a pg Pool.');
      }
      const set = (kind: string, value: number | undefined) => {
        if (value !== undefined) opt<GaugeHandle>(`db_connection_pool_${kind}`).set({ pool: name }, value);
      };
      addSampler('db_connection_pool_active', () => set('active', pool.totalCount - pool.idleCount));
      addSampler('db_connection_pool_idle', () => set('idle', pool.idleCount));
      addSampler('db_connection_pool_waiting', () => set('waiting', pool.waitingCount));
      addSampler('db_connection_pool_max', () => set('max', pool.options?.max ?? 10));
    },
    observeQueue: (read, queue = 'default') => {
      known.queue(queue);
      addSampler('task_queue_depth', () => opt<GaugeHandle>('task_queue_depth').set({ queue }, read()));
    },
    removeSeries,
    shutdown: () => {
      samplers.clear();
      clearInterval(sweeper);
      sweeper = undefined;
    },
  };
  rememberMetrics(registry, prefix, metrics, settings);
  setHttpStore(metrics, httpStore);
  setMetricsLogger(metrics, resolved.logger);
  return metrics;
}
