export {
  CATALOG,
  GENAI_DURATION_BUCKETS,
  GENAI_ERROR_TYPES,
  GENAI_HTTP_ERROR_STATUSES,
  GENAI_OPERATIONS,
  GENAI_TOKEN_BUCKETS,
  HTTP_LATENCY_BUCKETS,
  HTTP_METHODS,
  OTHER_LABEL_VALUE,
  OVERFLOW_LABEL_VALUE,
  SIZE_BUCKETS,
  UNMATCHED_ROUTE,
} from './catalog.js';
export {
  type ClusterAggregator,
  type ClusterAggregatorOptions,
  createClusterAggregator,
  shareWithCluster,
} from './cluster.js';
export { createMetrics } from './create-metrics.js';
export { renderMetricsMarkdown } from './docs.js';
export { DeiaMetricsError, type DeiaMetricsErrorCode } from './errors.js';
export {
  DEFAULT_HTTP_OPTIONS,
  type HealthLike,
  type HttpLogger,
  type HttpObservabilityOptions,
  type HttpRequestInfo,
  type HttpResponse,
  type MetricsAuth,
  type MetricsSource,
} from './http-options.js';
export { DEFAULT_GENAI_CALL_OPTIONS, genAiErrorType } from './llm-calls.js';
export { MAX_NDJSON_LINE_BYTES } from './llm-stream.js';
export type {
  GenAiCall,
  GenAiCallAttributes,
  GenAiCallOptions,
  OllamaFinalFields,
  ResidentModel,
} from './llm-types.js';
export { DEFAULT_METRICS_OPTIONS } from './metrics-options.js';
export type { Metrics } from './metrics-types.js';
export { DEFAULT_NATIVE_HISTOGRAM_OPTIONS } from './native-store.js';
export type {
  ClusterRegistryClass,
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  IncArgs,
  Labels,
  MetricAlert,
  MetricDefinition,
  MetricGroup,
  MetricsOptions,
  MetricType,
  NativeHistogramOptions,
  PgPoolLike,
  PromClientModule,
} from './types.js';
