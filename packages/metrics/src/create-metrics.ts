import { CATALOG } from './catalog.js';
import { loadPromClient, noteClient } from './client.js';
import { DeiaMetricsError } from './errors.js';
import { type AnyHandle, createHandle, type HandleContext } from './handles.js';
import { createHttpStore, setHttpStore } from './http-series.js';
import { knownSeries } from './known.js';
import { checkOptions, describeValue, type OptionRule, type OptionsSchema, rules } from './options.js';
import type {
  CounterHandle,
  GaugeHandle,
  GaugeLike,
  HistogramHandle,
  MetricDefinition,
  MetricGroup,
  MetricsOptions,
  PgPoolLike,
  RegistryLike,
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
  readonly registry: RegistryLike;
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
    /**
     * Declares a bot (call it when the bot is configured, before its first start): creates its
     * `bot_start_errors_total` and `bot_restarts_total` at 0, so a first start that fails before
     * the next scrape is still an increase. `trackStartup` does it too, but in the same scrape
     * interval as a failure it cannot be seen.
     */
    register(botId: string): void;
    /** Observes the time between accepting a message and handing it to a bot. */
    recordDispatchLatency(seconds: number): void;
    /** Samples bot counts at scrape time. */
    observeInstances(read: () => { running: number; stopped: number; error: number; max?: number }): void;
    setResources(botId: string, usage: { cpuRatio?: number; memoryBytes?: number }): void;
  };
  readonly tasks: {
    /** Creates the queue's enqueued/completed/failed counters at 0 (also done by `observeQueue` and the first `enqueued`). */
    registerQueue(queue?: string): void;
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
  readonly auth: {
    /** Creates `auth_failures_total` at 0 for each reason, so the first failure of a reason is counted by `increase()`. */
    declareReasons(...reasons: string[]): void;
    /** Counts one failed authentication attempt. */
    recordFailure(reason: string): void;
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
  /** Samples the queue depth at scrape time; registers the queue (its counters at 0, see `tasks.registerQueue`). */
  observeQueue(read: () => number, queue?: string): void;
  /** Removes the scrape-time samplers added by `observe*` (metrics stay registered). */
  shutdown(): void;
}

interface Created {
  readonly metrics: Metrics;
  /** The options it was created with, defaults applied, for the comparison on a second call. */
  readonly settings: Record<string, unknown>;
}
const byRegistry = new WeakMap<RegistryLike, Map<string, Created>>();

const fail = (message: string): never => {
  throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', message);
};
const GROUPS: readonly string[] = DEFAULT_METRICS_OPTIONS.groups;

/** The options of `createMetrics`, declared once (see `checkOptions`). */
const METRICS_OPTIONS_SCHEMA = {
  registry: rules.methods(['getSingleMetric', 'metrics', 'registerMetric'], 'a prom-client Registry'),
  client: rules.methods(
    ['Registry', 'Counter', 'Gauge', 'Histogram'],
    "the prom-client module (import * as client from 'prom-client') or @prometheus-io/client",
  ),
  prefix: {
    must: 'a metric name prefix',
    ok: (p) =>
      (typeof p === 'string' && PREFIX_RE.test(p)) ||
      `prefix ${describeValue(p)} is not a valid metric name prefix; use letters, digits and '_' (e.g. "deia_").`,
  },
  defaultLabels: rules.recordOf(
    (v, k) => LABEL_RE.test(k) && typeof v === 'string',
    `an object of label name -> string value (names match ${LABEL_RE})`,
  ),
  groups: {
    must: `a list of groups (${GROUPS.join(', ')})`,
    ok: (g) => {
      if (!Array.isArray(g)) return false;
      const bad = g.find((x) => !GROUPS.includes(x));
      return bad === undefined || `unknown group "${String(bad)}"; use some of: ${GROUPS.join(', ')}.`;
    },
  },
  buckets: rules.recordOf(Array.isArray, 'an object of histogram name -> bucket list'),
  extraMetrics: rules.arrayOf(
    (d) => d !== null && typeof d === 'object',
    'an array of metric definitions (the catalog format)',
  ),
  defaultMetrics: rules.boolean(),
  buildInfo: {
    must: 'an object { version?: string, commit?: string }',
    ok: (b) =>
      b !== null &&
      typeof b === 'object' &&
      Object.entries(b).every(([k, v]) => (k === 'version' || k === 'commit') && typeof v === 'string'),
  },
  maxLabelValues: rules.number('a positive integer', { min: 1, integer: true }),
  exemplars: rules.function('a function returning exemplar labels'),
  warn: rules.function('a function (message: string) => void'),
} as const satisfies OptionsSchema & Record<keyof MetricsOptions, OptionRule>;

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
 * Creates the metric catalog in a registry. Calling it again with the same registry and prefix
 * and the same options (defaults applied; functions and the client module by identity) returns
 * the same handle (no "already registered" error), so libraries and the app can both call it;
 * different options throw `DEIA_METRICS_OPTIONS_CONFLICT` naming them. `warn` is not compared:
 * the first handle keeps the first call's.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  checkOptions('createMetrics', options, METRICS_OPTIONS_SCHEMA, fail);
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, 'DeiaMetricsWarning'));
  const prefix = options.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  const client = options.client ?? loadPromClient(warn);
  if (options.client) noteClient(options.client, 'client option', warn);
  const openMetrics = client.Registry.OPENMETRICS_CONTENT_TYPE;
  const RegistryCtor = client.Registry as unknown as new (contentType?: string) => RegistryLike;
  const registry = options.registry ?? new RegistryCtor(options.exemplars ? openMetrics : undefined);
  if (options.exemplars && (registry.contentType as string) !== openMetrics) {
    fail(
      `exemplars need an OpenMetrics registry: create it with new Registry(Registry.OPENMETRICS_CONTENT_TYPE), or omit registry.`,
    );
  }
  const groups = new Set(options.groups ?? DEFAULT_METRICS_OPTIONS.groups);
  const defaultLabels = options.defaultLabels ?? {};
  const maxLabelValues = options.maxLabelValues ?? DEFAULT_METRICS_OPTIONS.maxLabelValues;
  const settings: Record<string, unknown> = {
    client,
    defaultLabels,
    groups: [...groups].sort(),
    buckets: options.buckets ?? {},
    extraMetrics: options.extraMetrics ?? [],
    defaultMetrics: options.defaultMetrics ?? DEFAULT_METRICS_OPTIONS.defaultMetrics,
    buildInfo: options.buildInfo ?? {},
    maxLabelValues,
    exemplars: options.exemplars,
  };
  const cached = byRegistry.get(registry)?.get(prefix);
  if (cached) {
    const diff = differing(cached.settings, settings);
    if (diff.length === 0) return cached.metrics;
    throw new DeiaMetricsError(
      'DEIA_METRICS_OPTIONS_CONFLICT',
      `createMetrics: this registry already holds the catalog with prefix "${prefix}", created with other ${diff.join(', ')}; ` +
        'pass the same options (or share the first handle), or use another registry or prefix.',
    );
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
    function collect(this: GaugeLike) {
      if (sources.size === 0) return;
      let n = 0;
      for (const s of sources) n += s.count;
      this.set({}, n);
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
  const known = knownSeries((name) => opt<CounterHandle>(name));

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
        // The bot's counters exist at 0 from its first start (earlier with `register`), so
        // increase() sees the first error or restart (a series born at 1 has no increase).
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
    shutdown: () => samplers.clear(),
  };
  const perPrefix = byRegistry.get(registry) ?? new Map<string, Created>();
  byRegistry.set(registry, perPrefix);
  perPrefix.set(prefix, { metrics, settings });
  setHttpStore(metrics, httpStore);
  return metrics;
}
