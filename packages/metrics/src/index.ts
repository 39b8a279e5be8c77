export {
  CATALOG,
  HTTP_LATENCY_BUCKETS,
  HTTP_METHODS,
  OTHER_LABEL_VALUE,
  OVERFLOW_LABEL_VALUE,
  SIZE_BUCKETS,
  UNMATCHED_ROUTE,
} from './catalog.js';
export { CLIENT_PACKAGES, loadPromClient } from './client.js';
export {
  type ClusterAggregator,
  type ClusterAggregatorOptions,
  clusterRegistryClass,
  createClusterAggregator,
  shareWithCluster,
} from './cluster.js';
export { createMetrics, DEFAULT_METRICS_OPTIONS, type Metrics } from './create-metrics.js';
export { renderMetricsMarkdown } from './docs.js';
export { DeiaMetricsError } from './errors.js';
export {
  createHttpObserver,
  foldMethod,
  type HttpObserver,
  PATH_EXCLUDED,
  PATH_RECORD,
  PATH_SERVED,
  type RouteResolver,
} from './http.js';
export {
  DEFAULT_HTTP_OPTIONS,
  type HealthLike,
  type HttpLogger,
  type HttpObservabilityOptions,
  type HttpRequestInfo,
  type HttpResponse,
  type MetricsAuth,
  type MetricsSource,
  validateHttpOptions,
} from './http-options.js';
export type {
  ClusterRegistryClass,
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  Labels,
  MetricDefinition,
  MetricGroup,
  MetricsOptions,
  MetricType,
  PgPoolLike,
  PromClientModule,
} from './types.js';
export { validateBuckets, validateDefinition } from './validate.js';
