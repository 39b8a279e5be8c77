import { LLM_DEFINITIONS } from './catalog-llm.js';
import type { MetricDefinition } from './types.js';

export {
  GENAI_DURATION_BUCKETS,
  GENAI_ERROR_TYPES,
  GENAI_HTTP_ERROR_STATUSES,
  GENAI_OPERATIONS,
  GENAI_TOKEN_BUCKETS,
} from './catalog-llm.js';

/** HTTP methods recorded as themselves; anything else is recorded as `other`. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Route label for requests that matched no route (404s, scanners). */
export const UNMATCHED_ROUTE = '__unmatched__';

/** Value a label takes when its value is not in the declared list. */
export const OTHER_LABEL_VALUE = 'other';

/** Value a label takes once it has reached its cap of distinct values. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';

/** Latency buckets: include the guides' thresholds (200 ms, 300 ms, 500 ms, 1 s, 2 s) as bounds. */
export const HTTP_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10] as const;
/** Request/response size buckets in bytes: 100 B to 10 MB, one bound per decade. */
export const SIZE_BUCKETS = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] as const;
const DEPENDENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5] as const;

const httpLabels = ['method', 'route', 'status'] as const;
const methodValues = { method: [...HTTP_METHODS] };

/**
 * The standard catalog. Names follow the operations guides where they are conventional; where a
 * guide's name breaks Prometheus naming (non-base units, ratios stored as gauges) the base-unit
 * name is used and `guideName` records the mapping (rendered into docs/metrics.md).
 */
export const CATALOG: readonly MetricDefinition[] = [
  // --- http ---------------------------------------------------------------------------------
  {
    name: 'http_requests_total',
    type: 'counter',
    help: 'HTTP requests completed, by method, matched route template and status code.',
    unit: '1',
    labelNames: httpLabels,
    labelValues: methodValues,
    group: 'http',
  },
  {
    name: 'http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request duration from arrival to the last byte of the response, in seconds.',
    unit: 'seconds',
    labelNames: httpLabels,
    labelValues: methodValues,
    buckets: HTTP_LATENCY_BUCKETS,
    group: 'http',
  },
  {
    name: 'http_requests_in_flight',
    type: 'gauge',
    help: 'HTTP requests being served right now.',
    unit: '1',
    labelNames: [],
    group: 'http',
  },
  {
    name: 'http_routes_overflowed',
    type: 'gauge',
    help: 'Distinct route templates recorded as route="__overflow__" because maxRoutes templates were already recorded (counted up to 10000). Above 0: raise maxRoutes.',
    unit: '1',
    labelNames: [],
    group: 'http',
  },
  {
    name: 'http_request_size_bytes',
    type: 'histogram',
    help: 'HTTP request body size in bytes (Content-Length, or bytes read).',
    unit: 'bytes',
    labelNames: httpLabels,
    labelValues: methodValues,
    buckets: SIZE_BUCKETS,
    group: 'http',
  },
  {
    name: 'http_response_size_bytes',
    type: 'histogram',
    help: 'HTTP response body size in bytes.',
    unit: 'bytes',
    labelNames: httpLabels,
    labelValues: methodValues,
    buckets: SIZE_BUCKETS,
    group: 'http',
  },
  // --- process ------------------------------------------------------------------------------
  {
    name: 'process_uptime_seconds',
    type: 'gauge',
    help: 'Seconds since the process started.',
    unit: 'seconds',
    labelNames: [],
    aggregator: 'max',
    group: 'process',
  },
  {
    name: 'app_build_info',
    type: 'gauge',
    help: 'Always 1; labels carry the running build (version, commit, Node.js version).',
    unit: '1',
    labelNames: ['version', 'commit', 'node_version'],
    aggregator: 'first',
    group: 'process',
  },
  {
    name: 'metric_series_dropped_total',
    type: 'counter',
    help: 'Label sets a metric did not keep as series of their own: reason="label_cap" or "budget" counts recordings folded into the metric\'s __overflow__ series (a label past maxLabelValues distinct values, or a label set past maxSeriesPerMetric), reason="expired" counts series removed after seriesTtlSeconds without a recording.',
    unit: '1',
    labelNames: ['metric', 'reason'],
    labelValues: { reason: ['label_cap', 'budget', 'expired'] },
    // one value per metric with a free label: the catalog's ~35 plus extraMetrics
    maxLabelValues: 200,
    group: 'process',
  },
  // --- bots ---------------------------------------------------------------------------------
  {
    name: 'bot_instances',
    type: 'gauge',
    help: 'Bot instances by status.',
    unit: '1',
    labelNames: ['status'],
    labelValues: { status: ['running', 'stopped', 'error'] },
    group: 'bots',
  },
  {
    name: 'bot_instances_max',
    type: 'gauge',
    help: 'Configured maximum of running bot instances (MAX_BOTS).',
    unit: '1',
    labelNames: [],
    aggregator: 'first',
    group: 'bots',
  },
  {
    name: 'bot_startup_duration_seconds',
    type: 'histogram',
    help: 'Time to start a bot, successful or not, in seconds.',
    unit: 'seconds',
    labelNames: ['outcome'],
    labelValues: { outcome: ['success', 'error'] },
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    group: 'bots',
  },
  {
    name: 'bot_start_errors_total',
    type: 'counter',
    help: 'Bot start attempts that failed.',
    unit: '1',
    labelNames: ['bot_id'],
    group: 'bots',
  },
  {
    name: 'bot_restarts_total',
    type: 'counter',
    help: 'Bot restarts after a crash.',
    unit: '1',
    labelNames: ['bot_id'],
    group: 'bots',
  },
  {
    name: 'bot_messages_processed_total',
    type: 'counter',
    help: 'Messages processed by bots, by outcome.',
    unit: '1',
    labelNames: ['bot_id', 'outcome'],
    labelValues: { outcome: ['success', 'error'] },
    group: 'bots',
    guideName: 'message_count',
  },
  {
    name: 'bot_message_processing_duration_seconds',
    type: 'histogram',
    help: 'Time a bot takes to process one message, in seconds.',
    unit: 'seconds',
    labelNames: [],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    group: 'bots',
  },
  {
    name: 'bot_dispatch_latency_seconds',
    type: 'histogram',
    help: 'Time from accepting a message to handing it to a bot, in seconds.',
    unit: 'seconds',
    labelNames: [],
    // 2: the operations guide's threshold (median dispatch above 2 s), a bound so it is exact.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5],
    group: 'bots',
  },
  {
    name: 'bot_cpu_usage_ratio',
    type: 'gauge',
    help: 'CPU used by a bot as a ratio of one core (0.5 = half a core).',
    unit: 'ratio',
    labelNames: ['bot_id'],
    group: 'bots',
    guideName: 'bot_cpu_percent',
    guideNote: 'ratio instead of percent (Prometheus base unit)',
  },
  {
    name: 'bot_memory_bytes',
    type: 'gauge',
    help: 'Resident memory of a bot in bytes.',
    unit: 'bytes',
    labelNames: ['bot_id'],
    group: 'bots',
    guideName: 'bot_memory_mb',
    guideNote: 'bytes instead of megabytes (Prometheus base unit)',
  },
  // --- tasks --------------------------------------------------------------------------------
  {
    name: 'task_queue_depth',
    type: 'gauge',
    help: 'Tasks waiting in the queue.',
    unit: '1',
    labelNames: ['queue'],
    maxLabelValues: 20,
    group: 'tasks',
  },
  {
    name: 'task_enqueued_total',
    type: 'counter',
    help: 'Tasks added to the queue.',
    unit: '1',
    labelNames: ['queue'],
    maxLabelValues: 20,
    group: 'tasks',
  },
  {
    name: 'task_completed_total',
    type: 'counter',
    help: 'Tasks that finished successfully.',
    unit: '1',
    labelNames: ['queue'],
    maxLabelValues: 20,
    group: 'tasks',
  },
  {
    name: 'task_failed_total',
    type: 'counter',
    help: 'Tasks that failed.',
    unit: '1',
    labelNames: ['queue'],
    maxLabelValues: 20,
    group: 'tasks',
  },
  {
    name: 'task_queue_wait_seconds',
    type: 'histogram',
    help: 'Time a task waited in the queue before it started, in seconds.',
    unit: 'seconds',
    labelNames: ['queue'],
    maxLabelValues: 20,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    group: 'tasks',
  },
  // --- database -----------------------------------------------------------------------------
  ...(['active', 'idle', 'waiting', 'max'] as const).map(
    (kind): MetricDefinition => ({
      name: `db_connection_pool_${kind}`,
      type: 'gauge',
      help: {
        active: 'Connections checked out of the pool and in use.',
        idle: 'Open connections idle in the pool.',
        waiting: 'Callers waiting for a connection from the pool.',
        max: 'Maximum size of the pool.',
      }[kind],
      unit: '1',
      labelNames: ['pool'],
      maxLabelValues: 20,
      group: 'database',
    }),
  ),
  {
    name: 'db_query_duration_seconds',
    type: 'histogram',
    help: 'Database query duration in seconds, by operation.',
    unit: 'seconds',
    labelNames: ['operation'],
    maxLabelValues: 50,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    group: 'database',
  },
  {
    name: 'db_query_errors_total',
    type: 'counter',
    help: 'Database queries that failed, by operation.',
    unit: '1',
    labelNames: ['operation'],
    maxLabelValues: 50,
    group: 'database',
  },
  // --- cache --------------------------------------------------------------------------------
  {
    name: 'cache_hits_total',
    type: 'counter',
    help: 'Cache lookups that found a value.',
    unit: '1',
    labelNames: ['cache'],
    maxLabelValues: 20,
    group: 'cache',
    guideName: 'cache_hit_ratio',
    guideNote: 'the ratio is a recording rule over hits and misses, not a stored gauge',
  },
  {
    name: 'cache_misses_total',
    type: 'counter',
    help: 'Cache lookups that found nothing.',
    unit: '1',
    labelNames: ['cache'],
    maxLabelValues: 20,
    group: 'cache',
  },
  {
    name: 'cache_command_duration_seconds',
    type: 'histogram',
    help: 'Cache command duration in seconds, by command.',
    unit: 'seconds',
    labelNames: ['command'],
    maxLabelValues: 50,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    group: 'cache',
  },
  {
    name: 'cache_memory_used_bytes',
    type: 'gauge',
    help: 'Memory the cache server uses (Redis INFO used_memory), in bytes, as the cache health check last read it.',
    unit: 'bytes',
    labelNames: ['cache'],
    maxLabelValues: 20,
    aggregator: 'max',
    group: 'cache',
  },
  {
    name: 'cache_memory_max_bytes',
    type: 'gauge',
    help: 'Memory limit of the cache server (Redis INFO maxmemory) in bytes; 0 means no limit.',
    unit: 'bytes',
    labelNames: ['cache'],
    maxLabelValues: 20,
    aggregator: 'max',
    group: 'cache',
  },
  {
    name: 'cache_evictions_total',
    type: 'counter',
    help: 'Keys the cache server evicted for its memory limit (increase of Redis INFO evicted_keys) since this process first read it.',
    unit: '1',
    labelNames: ['cache'],
    maxLabelValues: 20,
    group: 'cache',
  },
  // --- llm: model calls (GenAI conventions), Ollama's counters, model residency; deprecated llm_* ---
  ...LLM_DEFINITIONS,
  // --- dependencies -------------------------------------------------------------------------
  {
    name: 'dependency_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of calls to downstream dependencies in seconds, by dependency and outcome.',
    unit: 'seconds',
    labelNames: ['dependency', 'outcome'],
    labelValues: { outcome: ['success', 'error'] },
    maxLabelValues: 30,
    buckets: DEPENDENCY_BUCKETS,
    group: 'dependencies',
  },
  // --- connections / security ---------------------------------------------------------------
  {
    name: 'websocket_connections',
    type: 'gauge',
    help: 'Open WebSocket connections.',
    unit: '1',
    labelNames: [],
    group: 'connections',
  },
  {
    name: 'websocket_disconnect_total',
    type: 'counter',
    help: 'WebSocket disconnects, by reason.',
    unit: '1',
    labelNames: ['reason'],
    maxLabelValues: 20,
    group: 'connections',
  },
  {
    name: 'auth_failures_total',
    type: 'counter',
    help: 'Failed authentication attempts, by reason.',
    unit: '1',
    labelNames: ['reason'],
    maxLabelValues: 20,
    group: 'connections',
  },
  {
    name: 'rate_limited_requests_total',
    type: 'counter',
    help: 'Requests rejected by rate limiting.',
    unit: '1',
    labelNames: [],
    group: 'connections',
  },
  {
    name: 'file_upload_rejected_total',
    type: 'counter',
    help: 'File uploads rejected, by reason.',
    unit: '1',
    labelNames: ['reason'],
    maxLabelValues: 20,
    group: 'connections',
  },
  // --- health -------------------------------------------------------------------------------
  {
    name: 'health_check_up',
    type: 'gauge',
    help: '1 when the named health check last passed, 0 when it failed or timed out.',
    unit: '1',
    labelNames: ['check'],
    maxLabelValues: 50,
    group: 'health',
    guideName: 'postgres_up',
    guideNote: 'one gauge for every check: postgres_up is health_check_up{check="database"}',
  },
  {
    name: 'health_check_duration_seconds',
    type: 'histogram',
    help: 'Health check duration in seconds, by check.',
    unit: 'seconds',
    labelNames: ['check'],
    maxLabelValues: 50,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.3, 0.5, 1, 3, 5, 10],
    group: 'health',
  },
  // --- tracing ------------------------------------------------------------------------------
  {
    name: 'tracing_spans_dropped_total',
    type: 'counter',
    help: 'Spans that never reached the trace collector, by reason (export_failed: in an export that failed; queue_full: the batch queue was full).',
    unit: '1',
    labelNames: ['reason'],
    labelValues: { reason: ['export_failed', 'queue_full'] },
    group: 'tracing',
  },
];
