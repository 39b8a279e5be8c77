import type { Gauge, Registry } from 'prom-client';
import { CATALOG } from './catalog.js';
import { loadPromClient, noteClient } from './client.js';
import { DeiaMetricsError } from './errors.js';
import { type AnyHandle, createHandle, type HandleContext } from './handles.js';
import { createHttpStore, setHttpStore } from './http-series.js';
import { rejectUnknownKeys } from './options.js';
import type {
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  MetricDefinition,
  MetricGroup,
  MetricsOptions,
  PgPoolLike,
} from './types.js';
import { validateBuckets, validateDefinition } from './validate.js';

/** Defaults of `createMetrics`. */
export const DEFAULT_METRICS_OPTIONS = {
  prefix: '',
  defaultLabels: {},
  groups: [
    'http',
    'process',
    'bots',
    'tasks',
    'database',
    'cache',
    'llm',
    'dependencies',
    'connections',
    'health',
    'tracing',
  ] as readonly MetricGroup[],
  defaultMetrics: true,
  maxLabelValues: 100,
} as const;

const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Sampler = () => void;

/** Everything `createMetrics` returns. */
export interface Metrics {
  /** The registry every catalog metric is registered in. */
  readonly registry: Registry;
  /** The definitions in use (prefix not applied), catalog first, then `extraMetrics`. */
  readonly definitions: readonly MetricDefinition[];
  /** The prefix in use. */
  readonly prefix: string;
  /** A handle by unprefixed name; throws when the metric is not registered (e.g. its group is off). */
  get<H extends AnyHandle = AnyHandle>(name: string): H;
  /** True when the metric is registered. */
  has(name: string): boolean;
  readonly http: {
    requests: CounterHandle<'method' | 'route' | 'status'>;
    duration: HistogramHandle<'method' | 'route' | 'status'>;
    inFlight: GaugeHandle<never>;
    requestSize: HistogramHandle<'method' | 'route' | 'status'>;
    responseSize: HistogramHandle<'method' | 'route' | 'status'>;
  };
  readonly bots: {
    /** Runs `start`, observes its duration, counts a failure in `bot_start_errors_total`, rethrows. */
    trackStartup<T>(botId: string, start: () => T | Promise<T>): Promise<T>;
    /** Runs `handle` for one message: duration, processed count by outcome; rethrows. */
    trackMessage<T>(botId: string, handle: () => T | Promise<T>): Promise<T>;
    recordRestart(botId: string): void;
    /** Observes the time between accepting a message and handing it to a bot. */
    recordDispatchLatency(seconds: number): void;
    /** Samples bot counts at scrape time. */
    observeInstances(read: () => { running: number; stopped: number; error: number; max?: number }): void;
    setResources(botId: string, usage: { cpuRatio?: number; memoryBytes?: number }): void;
  };
  readonly tasks: {
    enqueued(queue?: string): void;
    /** Runs a task that was enqueued at `enqueuedAt` (ms epoch): wait time, completed or failed; rethrows. */
    trackTask<T>(enqueuedAt: number, run: () => T | Promise<T>, queue?: string): Promise<T>;
  };
  readonly db: {
    trackQuery<T>(operation: string, run: () => T | Promise<T>): Promise<T>;
  };
  readonly cache: {
    hit(cache?: string): void;
    miss(cache?: string): void;
    trackCommand<T>(command: string, run: () => T | Promise<T>): Promise<T>;
  };
  readonly llm: {
    /** Times one LLM call and counts errors; rethrows. */
    trackRequest<T>(labels: { model: string; operation: string }, run: () => T | Promise<T>): Promise<T>;
    /** Adds token counts and, with `pricePerToken` (USD), the cost. */
    recordTokens(
      model: string,
      tokens: { prompt?: number; completion?: number },
      pricePerToken?: { prompt?: number; completion?: number },
    ): void;
  };
  readonly dependencies: {
    track<T>(dependency: string, run: () => T | Promise<T>): Promise<T>;
  };
  /** Feeds `health_check_up` and `health_check_duration_seconds` (the sink `@deia/health` calls). */
  recordHealthCheck(check: string, up: boolean, durationSeconds: number): void;
  /**
   * Feeds `cache_memory_used_bytes`, `cache_memory_max_bytes` and `cache_evictions_total` from the
   * cache server's own counters (what `@deia/health`'s `redisCheck` reads from `INFO`), under
   * `cache=<name>`. `evictedKeys` is the server's running total: the counter grows by its increase
   * since the previous call (starting at 0 on the first), and a smaller value (server restart,
   * `CONFIG RESETSTAT`) counts as a reset. Missing or invalid fields are skipped.
   */
  recordCacheStats(
    cache: string,
    stats: { usedMemoryBytes?: number; maxMemoryBytes?: number; evictedKeys?: number },
  ): void;
  /**
   * Counts spans that never reached the trace collector into `tracing_spans_dropped_total{reason}`;
   * fits `@deia/tracing`'s `onDroppedSpans` as is: `startTracing({ onDroppedSpans: metrics.recordDroppedSpans })`.
   */
  recordDroppedSpans(count: number, reason: string): void;
  /** Samples a `pg` Pool's counts into the `db_connection_pool_*` gauges at scrape time (no timers). */
  observePgPool(pool: PgPoolLike, name?: string): void;
  /** Samples the queue depth at scrape time. */
  observeQueue(read: () => number, queue?: string): void;
  /** Removes the scrape-time samplers added by `observe*` (metrics stay registered). */
  shutdown(): void;
}

const byRegistry = new WeakMap<Registry, Map<string, Metrics>>();

/**
 * Creates the metric catalog in a registry. Calling it again with the same registry and prefix
 * returns the same handle (no "already registered" error), so libraries and the app can both call it.
 */
const METRICS_OPTION_KEYS = [
  'registry',
  'client',
  'prefix',
  'defaultLabels',
  'groups',
  'buckets',
  'extraMetrics',
  'defaultMetrics',
  'buildInfo',
  'maxLabelValues',
  'exemplars',
  'warn',
] as const satisfies ReadonlyArray<keyof MetricsOptions>;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  if (options === null || typeof options !== 'object') {
    throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', 'createMetrics(options): options must be an object.');
  }
  rejectUnknownKeys('createMetrics', options, METRICS_OPTION_KEYS);
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, 'DeiaMetricsWarning'));
  const prefix = options.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new DeiaMetricsError(
      'DEIA_METRICS_OPTIONS',
      `prefix "${String(prefix)}" is not a valid metric name prefix; use letters, digits and '_' (e.g. "deia_").`,
    );
  }
  const client = options.client ?? loadPromClient(warn);
  if (options.client) noteClient(options.client, 'client option', warn);
  if (options.registry && typeof (options.registry as Registry).getSingleMetric !== 'function') {
    throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', 'registry must be a prom-client Registry.');
  }
  if (options.exemplars !== undefined && typeof options.exemplars !== 'function') {
    throw new DeiaMetricsError(
      'DEIA_METRICS_OPTIONS',
      'exemplars must be a function returning exemplar labels.',
    );
  }
  const openMetrics = client.Registry.OPENMETRICS_CONTENT_TYPE;
  const RegistryCtor = client.Registry as unknown as new (contentType?: string) => Registry;
  const registry = options.registry ?? new RegistryCtor(options.exemplars ? openMetrics : undefined);
  if (options.exemplars && (registry.contentType as string) !== openMetrics) {
    throw new DeiaMetricsError(
      'DEIA_METRICS_OPTIONS',
      `exemplars need an OpenMetrics registry: create it with new Registry(Registry.OPENMETRICS_CONTENT_TYPE), or omit registry.`,
    );
  }
  const cached = byRegistry.get(registry)?.get(prefix);
  if (cached) return cached;

  const groups = new Set(options.groups ?? DEFAULT_METRICS_OPTIONS.groups);
  for (const g of groups) {
    if (!DEFAULT_METRICS_OPTIONS.groups.includes(g)) {
      throw new DeiaMetricsError(
        'DEIA_METRICS_OPTIONS',
        `unknown group "${String(g)}"; use some of: ${DEFAULT_METRICS_OPTIONS.groups.join(', ')}.`,
      );
    }
  }
  const defaultLabels = options.defaultLabels ?? {};
  for (const [k, v] of Object.entries(defaultLabels)) {
    if (!LABEL_RE.test(k) || typeof v !== 'string') {
      throw new DeiaMetricsError(
        'DEIA_METRICS_OPTIONS',
        `defaultLabels.${k}: label names match ${LABEL_RE} and values are strings.`,
      );
    }
  }
  const maxLabelValues = options.maxLabelValues ?? DEFAULT_METRICS_OPTIONS.maxLabelValues;
  if (!Number.isInteger(maxLabelValues) || maxLabelValues < 1) {
    throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', 'maxLabelValues must be a positive integer.');
  }

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
    function collect(this: Gauge) {
      if (sources.size === 0) return;
      let n = 0;
      for (const s of sources) n += s.count;
      this.set(n);
    };
  const inFlightCollect = summing(httpStore.inFlight);
  const overflowCollect = summing(httpStore.overflow);
  const ctx: HandleContext = {
    httpStore,
    client,
    registry,
    prefix,
    maxLabelValues,
    exemplars: options.exemplars,
    onOverflow: (metric, label) =>
      warn(
        `@deia/metrics: ${prefix}${metric} label "${label}" reached its cap of distinct values; further values are recorded as "__overflow__".`,
      ),
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
    startTimer: () => () => 0,
  } as unknown as AnyHandle;
  const opt = <H extends AnyHandle>(name: string): H => (handles.get(name) ?? noop) as H;
  /** Last `evictedKeys` per cache, to turn the server's running total into counter increases. */
  const evictedSeen = new Map<string, number>();

  if (groups.has('process')) {
    if (options.defaultMetrics ?? DEFAULT_METRICS_OPTIONS.defaultMetrics) {
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
        // The bot's counters exist at 0 from its first start, so increase() sees the first error
        // or restart (a series born at 1 has no increase in its first window).
        opt<CounterHandle>('bot_start_errors_total').inc({ bot_id: botId }, 0);
        opt<CounterHandle>('bot_restarts_total').inc({ bot_id: botId }, 0);
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
      enqueued: (queue = 'default') => opt<CounterHandle>('task_enqueued_total').inc({ queue }),
      trackTask: (enqueuedAt, run, queue = 'default') => {
        opt<HistogramHandle>('task_queue_wait_seconds').observe(
          { queue },
          Math.max(0, Date.now() - enqueuedAt) / 1000,
        );
        return timed(run, (_s, ok) =>
          opt<CounterHandle>(ok ? 'task_completed_total' : 'task_failed_total').inc({ queue }),
        );
      },
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
      addSampler('task_queue_depth', () => opt<GaugeHandle>('task_queue_depth').set({ queue }, read()));
    },
    shutdown: () => samplers.clear(),
  };
  const perPrefix = byRegistry.get(registry) ?? new Map<string, Metrics>();
  byRegistry.set(registry, perPrefix);
  perPrefix.set(prefix, metrics);
  setHttpStore(metrics, httpStore);
  return metrics;
}
