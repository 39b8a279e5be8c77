import type { AnyHandle } from './handles.js';
import type { GenAiCall, GenAiCallAttributes, GenAiCallOptions, ResidentModel } from './llm-types.js';
import type {
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  MetricDefinition,
  PgPoolLike,
  RegistryLike,
} from './types.js';

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
  /**
   * The HTTP families the adapters record (`http_requests_total`, `http_request_duration_seconds`,
   * ...), for recording requests they do not see; no-op handles when the `http` group is off.
   */
  readonly http: {
    requests: CounterHandle<'method' | 'route' | 'status'>;
    duration: HistogramHandle<'method' | 'route' | 'status'>;
    inFlight: GaugeHandle<never>;
    requestSize: HistogramHandle<'method' | 'route' | 'status'>;
    responseSize: HistogramHandle<'method' | 'route' | 'status'>;
  };
  /** Bot startups, messages, restarts, instances, resources; records nothing when the `bots` group is off. */
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
    /**
     * Removes the bot's series (`bot_start_errors_total`, `bot_restarts_total`,
     * `bot_messages_processed_total`, `bot_cpu_usage_ratio`, `bot_memory_bytes`, and any extra
     * metric with a `bot_id` label): call it when the bot is deleted, so a controller whose bots
     * come and go keeps only the series of the bots it has. Same as `removeSeries({ bot_id })`;
     * returns how many series were removed.
     */
    remove(botId: string): number;
    /** Observes the time between accepting a message and handing it to a bot. */
    recordDispatchLatency(seconds: number): void;
    /** Samples bot counts at scrape time. */
    observeInstances(read: () => { running: number; stopped: number; error: number; max?: number }): void;
    setResources(botId: string, usage: { cpuRatio?: number; memoryBytes?: number }): void;
  };
  /** Queued tasks: enqueues, wait, completions, failures; records nothing when the `tasks` group is off. */
  readonly tasks: {
    /** Creates the queue's enqueued/completed/failed counters at 0 (also done by `observeQueue` and the first `enqueued`). */
    registerQueue(queue?: string): void;
    enqueued(queue?: string): void;
    /** Runs a task that was enqueued at `enqueuedAt` (ms epoch): wait time, completed or failed; rethrows. */
    trackTask<T>(enqueuedAt: number, run: () => T | Promise<T>, queue?: string): Promise<T>;
  };
  /** Query duration and errors by operation; records nothing when the `database` group is off. */
  readonly db: {
    trackQuery<T>(operation: string, run: () => T | Promise<T>): Promise<T>;
  };
  /** Cache hits, misses and command duration; records nothing when the `cache` group is off. */
  readonly cache: {
    hit(cache?: string): void;
    miss(cache?: string): void;
    trackCommand<T>(command: string, run: () => T | Promise<T>): Promise<T>;
  };
  /**
   * Model calls (GenAI conventions), Ollama streams and answers, resident models; records nothing
   * when the `llm` group is off (streams still pass through).
   */
  readonly llm: {
    /**
     * Starts recording one model call under the GenAI conventions' attributes; returns its recorder
     * (`chunk`, `finish`, `fail`; see `GenAiCall`). Never throws. For an Ollama answer, hand the
     * recorder to `wrapStream` (streamed) or `recordAnswer` (not streamed) and they end it.
     * Until the deprecated `llm_*` series are removed, the call feeds them too.
     */
    startCall(attributes: GenAiCallAttributes, options?: GenAiCallOptions): GenAiCall;
    /**
     * Wraps a streamed Ollama body (NDJSON of `/api/chat` or `/api/generate`): the same bytes pass
     * through, unchanged and unbuffered, while each line is a chunk and the final `done: true` line
     * finishes the call with Ollama's counters. Ends the call once, with `cancelled` when the
     * returned stream is cancelled, `ollama_error` at an error line, `truncated` when the body ends
     * early, or the read error's type. A failure of the metrics side never breaks the stream.
     */
    wrapStream(call: GenAiCall, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
    /**
     * Ends a non-streamed call from Ollama's parsed JSON answer: finished with its counters, or
     * failed with `ollama_error` (an `{"error": ...}` answer) or `invalid_response`. Never throws.
     */
    recordAnswer(call: GenAiCall, answer: unknown): void;
    /**
     * Sets the residency gauges (`llm_model_resident`, `llm_model_memory_bytes`,
     * `llm_model_expires_in_seconds`) to the models a model server holds now (what `@deia/health`'s
     * `watchOllamaModels` reads from `/api/ps`), and removes the series of the models of that
     * provider no longer listed. Invalid entries are skipped; never throws.
     * @param provider `gen_ai_provider_name`; default `'ollama'`.
     */
    recordResidentModels(models: readonly ResidentModel[], provider?: string): void;
    /**
     * Times one LLM call and counts errors; rethrows.
     * @deprecated Feeds the deprecated `llm_request_duration_seconds` and `llm_request_errors_total`
     * only; use `startCall` (removed in the next major).
     */
    trackRequest<T>(labels: { model: string; operation: string }, run: () => T | Promise<T>): Promise<T>;
    /**
     * Adds token counts and, with `pricePerToken` (USD), the cost.
     * @deprecated Feeds the deprecated `llm_tokens_total` and `llm_cost_usd_total` only; use
     * `startCall` with `pricePerToken` (removed in the next major).
     */
    recordTokens(
      model: string,
      tokens: { prompt?: number; completion?: number },
      pricePerToken?: { prompt?: number; completion?: number },
    ): void;
  };
  /** Duration and outcome of calls to dependencies; records nothing when the `dependencies` group is off. */
  readonly dependencies: {
    track<T>(dependency: string, run: () => T | Promise<T>): Promise<T>;
  };
  /** Failed authentication attempts by reason; records nothing when the `connections` group is off. */
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
  /**
   * Removes every series, in every catalog and extra metric with those labels, whose labels include
   * all of `labels` (prom-client's public `remove()`), and frees their values under the label caps
   * and their places in the series budgets: `removeSeries({ model: 'llama3' })` when a model is
   * retired, `removeSeries({ reason: 'expired_token' })`, `removeSeries({ queue: 'q7' })`. A metric
   * without one of the given labels is left alone; the HTTP families (bounded by `maxRoutes`) are
   * not touched. Returns how many series were removed.
   */
  removeSeries(labels: Record<string, string | number>): number;
  /** Removes the scrape-time samplers added by `observe*` and stops the idle-series timer (metrics stay registered). */
  shutdown(): void;
}
