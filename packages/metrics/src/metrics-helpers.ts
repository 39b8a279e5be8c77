import { DeiaMetricsError } from './errors.js';
import type { knownSeries } from './known.js';
import type { createLlmRecording } from './llm-calls.js';
import { recordOllamaAnswer, wrapOllamaStream } from './llm-stream.js';
import type { Opt, Sampler } from './metrics-registration.js';
import type { Metrics } from './metrics-types.js';
import type { CounterHandle, GaugeHandle, HistogramHandle } from './types.js';

/**
 * The domain helpers of a `createMetrics()` handle (`bots`, `tasks`, `db`, `cache`, `llm`, ...):
 * each group built by its own function from the handles (`opt`: a no-op handle for a switched-off
 * metric, so a helper never throws at runtime for a disabled group).
 */

/** What the helpers record through. */
export interface HelperDeps {
  readonly opt: Opt;
  /** Creates the counters of a bot, queue or auth reason at 0 when it becomes known. */
  readonly known: ReturnType<typeof knownSeries>;
  /** Adds a scrape-time sampler to a sampled gauge (ignored when the gauge is not registered). */
  readonly addSampler: (metric: string, s: Sampler) => void;
  /** `Metrics.removeSeries`. */
  readonly removeSeries: (labels: Record<string, string | number>) => number;
}

/**
 * Runs `run` and calls `done` with its duration in seconds and whether it succeeded (resolved),
 * then returns its result or rethrows its error.
 */
async function timed<T>(run: () => T | Promise<T>, done: (seconds: number, ok: boolean) => void): Promise<T> {
  const start = process.hrtime.bigint();
  let ok = false;
  try {
    const result = await run();
    ok = true;
    return result;
  } finally {
    done(Number(process.hrtime.bigint() - start) / 1e9, ok);
  }
}

/** The `outcome` label value. */
const outcome = (ok: boolean) => (ok ? 'success' : 'error');

/** `Metrics.http`: the HTTP handles (no-ops when the `http` group is off). */
export function httpHandles(opt: Opt): Metrics['http'] {
  return {
    requests: opt('http_requests_total'),
    duration: opt('http_request_duration_seconds'),
    inFlight: opt('http_requests_in_flight'),
    requestSize: opt('http_request_size_bytes'),
    responseSize: opt('http_response_size_bytes'),
  };
}

/** `Metrics.bots`: startup and message timing, restarts, instances and resources of bots. */
export function botHelpers({ opt, known, addSampler, removeSeries }: HelperDeps): Metrics['bots'] {
  return {
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
  };
}

/** `Metrics.tasks`: queue registration, enqueues, and the wait and outcome of tasks. */
export function taskHelpers({ opt, known }: HelperDeps): Metrics['tasks'] {
  return {
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
  };
}

/** `Metrics.auth`: failure reasons (declared at 0) and failures. */
export function authHelpers({ opt, known }: HelperDeps): Metrics['auth'] {
  return {
    declareReasons: (...reasons) => known.authReasons(reasons),
    recordFailure: (reason) => opt<CounterHandle>('auth_failures_total').inc({ reason }),
  };
}

/** `Metrics.db`: query duration and errors (the error counter exists at 0 per operation). */
export function dbHelpers({ opt }: HelperDeps): Metrics['db'] {
  return {
    trackQuery: (operation, run) => {
      // Created at 0 with the operation, so increase()/rate() see the first error.
      opt<CounterHandle>('db_query_errors_total').inc({ operation }, 0);
      return timed(run, (s, ok) => {
        opt<HistogramHandle>('db_query_duration_seconds').observe({ operation }, s);
        if (!ok) opt<CounterHandle>('db_query_errors_total').inc({ operation });
      });
    },
  };
}

/** `Metrics.cache`: hits, misses (each creating the other at 0) and command duration. */
export function cacheHelpers({ opt }: HelperDeps): Metrics['cache'] {
  return {
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
  };
}

/** `Metrics.llm`: GenAI calls (`llmRecording`), Ollama streams and answers, and the deprecated `llm_*` feeds. */
export function llmHelpers(
  { opt }: HelperDeps,
  llmRecording: ReturnType<typeof createLlmRecording>,
): Metrics['llm'] {
  return {
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
  };
}

/** `Metrics.dependencies`: the duration and outcome of calls to a dependency. */
export function dependencyHelpers({ opt }: HelperDeps): Metrics['dependencies'] {
  return {
    track: (dependency, run) =>
      timed(run, (s, ok) =>
        opt<HistogramHandle>('dependency_request_duration_seconds').observe(
          { dependency, outcome: outcome(ok) },
          s,
        ),
      ),
  };
}

/**
 * `Metrics.recordCacheStats`: sets the memory gauges and turns the server's running eviction total
 * into counter increases (`evictedSeen` holds the last total per cache: the first report adds 0, a
 * lower total than the last, a restarted server, adds the new total). Invalid values are skipped.
 */
export function cacheStatsRecorder(
  { opt }: HelperDeps,
  evictedSeen: Map<string, number>,
): Metrics['recordCacheStats'] {
  return (cache, stats) => {
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
  };
}

/**
 * `Metrics.observePgPool`: samples a pg Pool's counts into the `db_connection_pool_*` gauges at
 * scrape time under `pool=<name>`. Throws `DEIA_METRICS_OPTIONS` for something that is not a Pool.
 */
export function pgPoolObserver({ opt, addSampler }: HelperDeps): Metrics['observePgPool'] {
  return (pool, name = 'default') => {
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
  };
}
