/**
 * Every `code` a `DeiaMetricsError` can carry. Stable: match on it (`err.code === 'DEIA_HTTP_OPTIONS'`).
 * - `DEIA_METRICS_OPTIONS`: bad `createMetrics` options.
 * - `DEIA_METRICS_OPTIONS_CONFLICT`: `createMetrics` called again on the same registry and prefix
 *   with different options.
 * - `DEIA_HTTP_OPTIONS`: bad options of `@deia/express` / `@deia/fastify`.
 * - `DEIA_METRIC_NAME`, `DEIA_METRIC_TYPE`, `DEIA_METRIC_HELP`, `DEIA_METRIC_LABELS`,
 *   `DEIA_METRIC_BUCKETS`: an invalid metric definition (`extraMetrics`, `buckets`).
 * - `DEIA_METRIC_DUPLICATE`: two definitions with one name.
 * - `DEIA_METRIC_CONFLICT`: the registry holds a metric of that name with another type or labels.
 * - `DEIA_METRIC_UNKNOWN`: `metrics.get(name)` of a metric that is not registered.
 * - `DEIA_NO_PROM_CLIENT`: neither `prom-client` nor `@prometheus-io/client` is installed.
 * - `DEIA_NO_CLUSTER_REGISTRY`: the client has no cluster registry.
 * - `DEIA_NOT_CLUSTER_PRIMARY`: the cluster aggregator was created outside the cluster primary.
 * - `DEIA_METRIC_ALERT`: a bad `alerts` entry of a metric definition.
 */
export type DeiaMetricsErrorCode =
  | 'DEIA_METRICS_OPTIONS'
  | 'DEIA_METRICS_OPTIONS_CONFLICT'
  | 'DEIA_HTTP_OPTIONS'
  | 'DEIA_METRIC_NAME'
  | 'DEIA_METRIC_TYPE'
  | 'DEIA_METRIC_HELP'
  | 'DEIA_METRIC_LABELS'
  | 'DEIA_METRIC_BUCKETS'
  | 'DEIA_METRIC_DUPLICATE'
  | 'DEIA_METRIC_CONFLICT'
  | 'DEIA_METRIC_UNKNOWN'
  | 'DEIA_NO_PROM_CLIENT'
  | 'DEIA_NO_CLUSTER_REGISTRY'
  | 'DEIA_NOT_CLUSTER_PRIMARY'
  | 'DEIA_METRIC_ALERT';

/** Error thrown on bad set-up (bad options, bad definitions). `code` is stable; match on it. */
export class DeiaMetricsError extends Error {
  /** What went wrong, stable across versions; the message repeats it as `[code]`. */
  readonly code: DeiaMetricsErrorCode;
  constructor(code: DeiaMetricsErrorCode, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaMetricsError';
    this.code = code;
  }
}
