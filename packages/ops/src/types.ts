import type { MetricDefinition, MetricGroup } from '@deia/metrics';

/**
 * Public types of `@deia/ops`: the generator of Prometheus rules, prometheus.yml,
 * Alertmanager config and Grafana dashboards from the metric catalog.
 */

import type { KubernetesOptions, ResolvedKubernetesOptions } from './kubernetes-options.js';

/** Thresholds of the shipped alerts (and of the dashboard panels that show the same series). */
export interface OpsThresholds {
  /** Ratio of 5xx responses to all responses (0.01 = 1%) for the warning. @default 0.01 */
  errorRatioWarning: number;
  /** Ratio of 5xx responses for the critical alert. @default 0.05 */
  errorRatioCritical: number;
  /** p95 HTTP latency in seconds, warning. Use a bucket bound (any value when native). @default 0.5 */
  latencyP95Warning: number;
  /**
   * p95 HTTP latency in seconds, critical. Use a bucket bound (any value when
   * `http_request_duration_seconds` is native).
   * @default 1 (0.75, the operations guide's 750 ms, when `http_request_duration_seconds` is native)
   */
  latencyP95Critical: number;
  /** DB pool utilisation (active / max), warning. @default 0.8 */
  dbPoolWarning: number;
  /** DB pool utilisation (active / max), critical. @default 0.95 */
  dbPoolCritical: number;
  /** p95 database query duration in seconds (the guides' "slow query > 1 s"). @default 1 */
  dbQueryP95: number;
  /** Process resident memory in bytes, warning. @default 1.6e9 */
  memoryWarning: number;
  /** Process resident memory in bytes, critical. @default 1.9e9 */
  memoryCritical: number;
  /** Growth of resident memory over 15 minutes, in bytes, that suggests a leak. @default 500e6 */
  memoryGrowth: number;
  /** Process CPU in cores (0.8 = 80% of one core). @default 0.8 */
  cpu: number;
  /** Open file descriptors as a ratio of `process_max_fds`. @default 0.85 */
  fileDescriptors: number;
  /** Free disk ratio (node_exporter), warning. @default 0.15 */
  diskFreeWarning: number;
  /** Free disk ratio (node_exporter), critical. @default 0.1 */
  diskFreeCritical: number;
  /** Bot start errors in 5 minutes above which to alert. @default 0 */
  botStartErrors: number;
  /** Restarts of one bot in 10 minutes, warning (>=). @default 2 */
  crashLoopWarning: number;
  /** Restarts of one bot in 10 minutes, critical (>=). @default 4 */
  crashLoopCritical: number;
  /** Queued tasks, warning. @default 20 */
  queueBacklogWarning: number;
  /** Queued tasks, critical. @default 40 */
  queueBacklogCritical: number;
  /**
   * Median dispatch latency in seconds, the operations guide's 2 s; must be a bucket bound of
   * `bot_dispatch_latency_seconds` (between two bounds the median is interpolated), any value
   * when that histogram is native. @default 2
   */
  dispatchLatencyP50: number;
  /** p95 message processing duration in seconds. @default 0.5 */
  messageProcessingP95: number;
  /** p95 latency of a dependency / Ollama in seconds, warning. @default 0.3 */
  dependencyLatencyWarning: number;
  /** p95 latency of a dependency / Ollama in seconds, critical. @default 0.5 */
  dependencyLatencyCritical: number;
  /** Ratio of failed calls to a dependency / Ollama over 5 minutes, warning. @default 0.05 */
  dependencyErrorRatioWarning: number;
  /** Ratio of failed calls to a dependency / Ollama over 5 minutes, critical. @default 0.25 */
  dependencyErrorRatioCritical: number;
  /** Cache hit ratio below which to notify. @default 0.7 */
  cacheHitRatio: number;
  /** WebSocket disconnects per minute. @default 20 */
  websocketDisconnectsPerMinute: number;
  /** Authentication failures in 5 minutes. @default 10 */
  authFailures: number;
  /** p99 event-loop lag in seconds. @default 0.2 */
  eventLoopLag: number;
  /**
   * Minimum traffic, in requests (or dependency/LLM calls, cache lookups) per second over the
   * alert's window, below which ratio alerts stay quiet: at 1 request a minute one 5xx is a 100%
   * error ratio. @default 0.1 (30 requests in 5 minutes)
   */
  minRequestRate: number;
  /**
   * p95 time to first chunk of streamed model calls in seconds (ModelTimeToFirstChunkHigh); a bucket
   * bound of `gen_ai_client_operation_time_to_first_chunk_seconds`, below its last finite one (the conventions' buckets double from 0.01 s). @default 2.56
   */
  ttfcP95: number;
  /** Ratio of failed model calls of one `error_type` over 5 minutes, warning (ModelErrorRate). @default 0.05 */
  modelErrorRatioWarning: number;
  /** Ratio of failed model calls of one `error_type` over 5 minutes, critical. @default 0.25 */
  modelErrorRatioCritical: number;
  /**
   * ModelGenerationSlow fires when a model's generation rate (tokens/s from the eval counters, last
   * 10 minutes) falls below this share of its own baseline (the 6 hours before the last 30 minutes).
   * 0 turns the relative check off. Below 1. @default 0.5
   */
  generationRateDrop: number;
  /** ...or below this many tokens per second, whatever the baseline. 0 turns the floor off. @default 0 */
  generationRateFloor: number;
  /** Model loads (cold starts) per minute over 5 minutes, per provider (ModelColdStartStorm). @default 2 */
  coldStartsPerMinute: number;
}

/** Keys of the `for:` durations: one per alert rule (warning and critical rules have their own). */
export type OpsForKey =
  | 'serviceDown'
  | 'targetMissing'
  | 'errorRatioWarning'
  | 'errorRatioCritical'
  | 'latencyP95Warning'
  | 'latencyP95Critical'
  | 'dbPoolWarning'
  | 'dbPoolCritical'
  | 'dbQueryP95'
  | 'databaseDown'
  | 'cacheDown'
  | 'memoryWarning'
  | 'memoryCritical'
  | 'memoryGrowth'
  | 'cpu'
  | 'fileDescriptors'
  | 'diskFreeWarning'
  | 'diskFreeCritical'
  | 'botStartErrors'
  | 'crashLoopWarning'
  | 'crashLoopCritical'
  | 'queueBacklogWarning'
  | 'queueBacklogCritical'
  | 'dispatchLatencyP50'
  | 'messageProcessingP95'
  | 'dependencyLatencyWarning'
  | 'dependencyLatencyCritical'
  | 'dependencyErrorRatioWarning'
  | 'dependencyErrorRatioCritical'
  | 'cacheHitRatio'
  | 'websocketDisconnects'
  | 'authFailures'
  | 'eventLoopLag'
  | 'routesOverflowed'
  | 'sloPage'
  | 'sloTicket'
  | 'llmDown'
  | 'ttfcP95'
  | 'modelErrorRatioWarning'
  | 'modelErrorRatioCritical'
  | 'generationRate'
  | 'coldStarts';

/** Options of `generateOps` / `writeOps` / the CLI `--config` file. Every field is optional. */
export interface OpsOptions {
  /** Prometheus job name of the service (scrape config and rule selectors). @default 'deia-bot-controller' */
  job?: string;
  /** Label matchers every SDK series is selected with. @default `job="<job>"` */
  selector?: string;
  /**
   * Labels kept, next to `job`, by every aggregation and vector matching of the rules: each
   * `sum/max/min by (job, ...)` becomes `by (<aggregateBy>, job, ...)`, each `and on (job, ...)`
   * matches on them too, and the recording rules keep them, so the alerts built on recorded series
   * still match per value. For a ruler that evaluates several clusters at once (Thanos Ruler,
   * Mimir's ruler): `['cluster']` makes HighErrorRate a ratio per cluster instead of one ratio
   * diluted by every healthy cluster. Labels the ruler does not see (a Prometheus' own
   * `external_labels` in that Prometheus) aggregate as an empty value, so the same rules still work
   * in each cluster's Prometheus. Valid label names; not `job`, `instance`, `le`, a `__` label or a
   * label of the metrics (the rules already keep those where they matter). The Alertmanager
   * inhibitions also compare them (a critical in one cluster does not silence another's warning),
   * each alert's summary names them (`... (cluster eu-1)`), and with `grafana.clusterVariable` and
   * `cluster` listed, `dashboard_url` sets `$cluster`.
   * @default []
   */
  aggregateBy?: readonly string[];
  /** The `prefix` passed to `createMetrics` (applies to catalog and default metrics). @default '' */
  prefix?: string;
  /**
   * The `groups` passed to `createMetrics`: a switched-off group gets no rules (its alerts and
   * recording rules are left out), and its dashboards and the panels reading its series are not
   * emitted. @default every group
   */
  groups?: readonly MetricGroup[];
  /** The `buckets` overrides passed to `createMetrics`; latency thresholds must be bounds of these. */
  buckets?: Record<string, readonly number[]>;
  /**
   * Histograms Prometheus stores as native histograms (it runs with
   * `--enable-feature=native-histograms` and the service records them natively): `true` for every
   * registered histogram, or the names of some (catalog or `extraMetrics` names, without the
   * prefix). Their rules and panels read the native series (`http_request_duration_seconds`, no
   * `_bucket`/`_count`/`_sum`): `histogram_quantile(q, sum by (...) (rate(x[5m])))`,
   * `histogram_fraction(0, threshold, ...)` for the latency SLO and `BotDispatchSlow`,
   * `histogram_count`/`histogram_sum` for rates. A latency threshold on a native histogram may be
   * any positive value (no bucket bound to sit on), and `NATIVE_THRESHOLD_DEFAULTS` replace the
   * defaults that were a guide's value rounded to a bound (`latencyP95Critical` 0.75 s). The
   * extra alerts of a native histogram get no promtool tests (promtool cannot feed native series).
   * CLI: `--native-histograms all|<name>,<name>`.
   * @default false (every histogram classic)
   */
  nativeHistograms?: boolean | readonly string[];
  /**
   * The `extraMetrics` passed to `createMetrics`. A definition with `alerts` gets its alert rules,
   * and `prometheus/rules.test.yml` gets their promtool test cases. Each gets a panel on the "Extra
   * metrics" dashboard (`extra-metrics.json`), chosen by type: counter -> per-second rate,
   * histogram -> p50/p95/p99, gauge -> value. @default []
   */
  extraMetrics?: readonly MetricDefinition[];
  /** The `defaultMetrics` passed to `createMetrics`: without them there are no process alerts. @default true */
  defaultMetrics?: boolean;
  /** Base URL of the runbooks; each alert links `<runbookBaseUrl>/<AlertName>.md`. */
  runbookBaseUrl?: string;
  /** Availability SLO target (ratio of non-5xx responses). @default 0.995 */
  sloTarget?: number;
  /** Latency SLO: `target` ratio of requests faster than `thresholdSeconds` (a bucket bound, any value when `http_request_duration_seconds` is native). @default { target: 0.95, thresholdSeconds: 0.2 } */
  latencySlo?: { target?: number; thresholdSeconds?: number };
  /**
   * Time-to-first-chunk SLO of streamed model calls: `target` ratio of calls whose first chunk
   * arrives within `thresholdSeconds` (a bucket bound of
   * `gen_ai_client_operation_time_to_first_chunk_seconds`), per model; ModelTimeToFirstChunkBudgetBurn
   * pages on its multi-window burn rate. @default { target: 0.95, thresholdSeconds: 1.28 }
   */
  ttfcSlo?: { target?: number; thresholdSeconds?: number };
  /** Alert thresholds; see `OpsThresholds`. */
  thresholds?: Partial<OpsThresholds>;
  /** `for:` durations by rule key, as Prometheus durations ('5m', '30s'). */
  for?: Partial<Record<OpsForKey, string>>;
  /** Multiplies every `for:` duration (e.g. 0.1 in tests). 0 removes them. @default 1 */
  forScale?: number;
  /**
   * Multiplies every range selector and `offset` of the rules (`[5m]`, `offset 10m`), never
   * below `windowFloor`; recording-rule names keep their nominal window (`..._rate5m`). For tests
   * that compress time together with `forScale` (e.g. 0.05 with 1 s scrapes). @default 1
   */
  windowScale?: number;
  /** Smallest scaled window, so `rate()` still sees several scrapes; only used when `windowScale` != 1. @default '1m' */
  windowFloor?: string;
  /**
   * Rules and panels for series the SDK has no helper for (the application must record them):
   * `auth` (`auth_failures_total`: AuthFailureSpike), `websocket` (`websocket_connections`,
   * `websocket_disconnect_total`: WebSocketDisconnectSpike), `botResources` (`bot_cpu_usage_ratio`,
   * `bot_memory_bytes` panels) and `uploads` (`file_upload_rejected_total`: the rejected-uploads
   * panel). Off by default so nothing reads a series that is never written.
   * @default { auth: false, websocket: false, botResources: false, uploads: false }
   */
  optional?: { auth?: boolean; websocket?: boolean; botResources?: boolean; uploads?: boolean };
  /**
   * Regular expression of the `dependency` label values that are LLM backends with their own
   * alerts (ModelErrorRate, ModelTimeToFirstChunkHigh on `gen_ai_*`): the generic dependency alerts
   * skip them so one failure is one alert. @default 'ollama'
   */
  llmDependencies?: string;
  /**
   * Price of LLM tokens in US dollars per 1000 tokens (`llm_tokens_total`): one number for every
   * token, or one price for prompt and one for completion tokens. When set, the Dependencies
   * dashboard adds "Estimated LLM cost per hour" (by model). The price is applied at query time,
   * so the whole range shown is priced at today's price. @default unset (the token panel only)
   */
  llmPricePer1kTokens?: number | { prompt: number; completion: number };
  /**
   * Regular expressions matching the `check` label of `health_check_up`: `database` (DatabaseDown),
   * `cache` (CacheDown), `llm` (OllamaDown, the cause that explains every model alert).
   * @default { database: 'database|db|postgres', cache: 'cache|redis', llm: 'ollama|llm' }
   */
  checks?: { database?: string; cache?: string; llm?: string };
  /**
   * Host alerts (disk free) need node_exporter's `node_filesystem_*` series, which the SDK does
   * not emit. Enable to add the node_exporter scrape job and the HostDiskSpaceLow alert.
   * @default { enabled: false, job: 'node', targets: ['127.0.0.1:9100'] }
   */
  nodeExporter?: { enabled?: boolean; job?: string; targets?: string[] };
  /**
   * PostgreSQL panels from prometheus-community/postgres_exporter, which runs beside the database
   * (the SDK cannot read the server's statistics). Enable to add its scrape job (prometheus.yml, or
   * a ServiceMonitor on the Kubernetes target) and the "PostgreSQL (postgres_exporter)" dashboard:
   * replication lag, database size, connections, index use, and the slowest statements (the last
   * need the exporter's `--collector.stat_statements` flag and the pg_stat_statements extension).
   * @default { enabled: false, job: 'postgres', targets: ['127.0.0.1:9187'], kubernetes: { matchLabels: { 'app.kubernetes.io/name': 'postgres-exporter' }, port: 'metrics' } }
   */
  postgresExporter?: ExporterOptions;
  /**
   * Redis panels from oliver006/redis_exporter: key count, connected clients, memory, network I/O,
   * evictions. Enable to add its scrape job (or ServiceMonitor) and the "Redis (redis_exporter)"
   * dashboard.
   * @default { enabled: false, job: 'redis', targets: ['127.0.0.1:9121'], kubernetes: { matchLabels: { 'app.kubernetes.io/name': 'redis-exporter' }, port: 'metrics' } }
   */
  redisExporter?: ExporterOptions;
  /** prometheus.yml settings. */
  prometheus?: {
    /** Addresses of the service's /metrics. @default ['127.0.0.1:8000'] */
    scrapeTargets?: string[];
    /** @default '/metrics' */
    metricsPath?: string;
    /** @default '15s' */
    scrapeInterval?: string;
    /** @default '15s' */
    evaluationInterval?: string;
    /** Alertmanager addresses. @default ['127.0.0.1:9093'] */
    alertmanagers?: string[];
    /** File holding the bearer token of /metrics, when it is protected. */
    bearerTokenFile?: string;
  };
  /** alertmanager.yml settings. Secrets are only ever referenced by file. */
  alertmanager?: {
    /** When set, receivers critical/warning/info all deliver to this webhook (tests, simple set-ups). */
    webhookUrl?: string;
    /** @default '/etc/alertmanager/secrets/slack-webhook-url' */
    slackApiUrlFile?: string;
    /** @default '/etc/alertmanager/secrets/pagerduty-routing-key' */
    pagerdutyRoutingKeyFile?: string;
    /** @default { critical: '#deia-critical', warning: '#deia-warnings', info: '#deia-info' } */
    slackChannels?: { critical?: string; warning?: string; info?: string };
    /** E-mail for warnings. @default to 'ops@example.com', smarthost 'smtp.example.com:587' */
    email?: {
      to?: string;
      from?: string;
      smarthost?: string;
      authUsername?: string;
      authPasswordFile?: string;
    };
    /** @default ['alertname', 'job', 'severity'] */
    groupBy?: string[];
    /** Repeat interval by severity. @default { critical: '1h', warning: '4h', info: '24h' } */
    repeatInterval?: { critical?: string; warning?: string; info?: string };
    /**
     * Wait before the first notification of a new group, by severity, or one duration for all
     * (e.g. '1s' in tests). The root route uses the warning value. @default { critical: '10s', warning: '30s', info: '5m' }
     */
    groupWait?: string | { critical?: string; warning?: string; info?: string };
    /**
     * Wait before notifying about alerts added to (or resolved in) a group already notified, by
     * severity or one for all. The root route uses the warning value. @default { critical: '1m', warning: '5m', info: '30m' }
     */
    groupInterval?: string | { critical?: string; warning?: string; info?: string };
    /**
     * How much longer than the `for:` difference a symptom with a known cause (docs/alerts.md,
     * "One incident, one page") waits before its first notification, so that a cause whose
     * condition starts a little later still fires first and inhibits it. Symptom routes get
     * `group_wait` = max(groupWait, cause's for: - symptom's for: + symptomWait). @default '30s'
     */
    symptomWait?: string;
  };
  /** Grafana dashboards and provisioning. */
  grafana?: {
    /** URL Grafana reaches Prometheus at (provisioned datasource). @default 'http://127.0.0.1:9090' */
    prometheusUrl?: string;
    /** Directory Grafana loads the dashboards from. @default '/var/lib/grafana/dashboards/deia' */
    dashboardsPath?: string;
    /** uid prefix of the dashboards. @default 'deia' */
    uidPrefix?: string;
    /**
     * Adds a `$cluster` template variable (values of the `cluster` label of `up`) and filters every
     * panel query by it; for a Prometheus/Thanos/Mimir that holds several clusters. @default false
     */
    clusterVariable?: boolean;
    /**
     * Public URL of Grafana (`https://grafana.example.com`). When set, every alert carries a
     * `dashboard_url` annotation next to `runbook_url`: its dashboard filtered to the alert's job and
     * instance. @default unset (no dashboard_url)
     */
    url?: string;
  };
  /** Resources of the `kubernetes` target (Prometheus Operator, Grafana sidecar); see `KubernetesOptions`. */
  kubernetes?: KubernetesOptions;
}

/**
 * What `writeOps` / `deia-observability generate --target` writes: `'files'` (rules.yml,
 * prometheus.yml, alertmanager.yml, Grafana provisioning) or `'kubernetes'` (Prometheus Operator
 * resources and dashboard ConfigMaps).
 */
export type OpsTarget = 'files' | 'kubernetes';

/** Options with every default applied (what the generators work from). */
export interface ResolvedOpsOptions {
  job: string;
  selector: string;
  aggregateBy: string[];
  prefix: string;
  groups: MetricGroup[];
  buckets: Record<string, number[]>;
  /** The histogram families read as native histograms (names without the prefix), sorted. */
  nativeHistograms: string[];
  extraMetrics: MetricDefinition[];
  defaultMetrics: boolean;
  runbookBaseUrl: string;
  sloTarget: number;
  latencySlo: { target: number; thresholdSeconds: number };
  ttfcSlo: { target: number; thresholdSeconds: number };
  thresholds: OpsThresholds;
  for: Record<OpsForKey, string>;
  forScale: number;
  windowScale: number;
  windowFloor: string;
  checks: { database: string; cache: string; llm: string };
  optional: { auth: boolean; websocket: boolean; botResources: boolean; uploads: boolean };
  llmDependencies: string;
  llmPricePer1kTokens: { prompt: number; completion: number } | undefined;
  nodeExporter: { enabled: boolean; job: string; targets: string[] };
  postgresExporter: ResolvedExporterOptions;
  redisExporter: ResolvedExporterOptions;
  prometheus: {
    scrapeTargets: string[];
    metricsPath: string;
    scrapeInterval: string;
    evaluationInterval: string;
    alertmanagers: string[];
    bearerTokenFile: string | undefined;
  };
  alertmanager: {
    webhookUrl: string | undefined;
    slackApiUrlFile: string;
    pagerdutyRoutingKeyFile: string;
    slackChannels: { critical: string; warning: string; info: string };
    email: { to: string; from: string; smarthost: string; authUsername: string; authPasswordFile: string };
    groupBy: string[];
    repeatInterval: { critical: string; warning: string; info: string };
    groupWait: { critical: string; warning: string; info: string };
    groupInterval: { critical: string; warning: string; info: string };
    symptomWait: string;
  };
  grafana: {
    prometheusUrl: string;
    dashboardsPath: string;
    uidPrefix: string;
    clusterVariable: boolean;
    url?: string;
  };
  kubernetes: ResolvedKubernetesOptions;
}

/** Severity of an alert; routes to the Alertmanager receiver of the same name. */
export type Severity = 'critical' | 'warning' | 'info';

/** A standard exporter scraped beside the service (postgres_exporter, redis_exporter). */
export interface ExporterOptions {
  /** @default false */
  enabled?: boolean;
  /** Prometheus job of the exporter's series; the dashboard selects it. */
  job?: string;
  /** host:port of each exporter (file target, prometheus.yml). */
  targets?: string[];
  /**
   * Kubernetes target: the exporter's Service, in `kubernetes.namespace`, scraped by a ServiceMonitor
   * of its own (the job is relabelled to `job`). Set the labels and port name your exporter's Service has.
   */
  kubernetes?: { matchLabels?: Record<string, string>; port?: string };
}

/** An exporter's options with every default applied. */
export interface ResolvedExporterOptions {
  enabled: boolean;
  job: string;
  targets: string[];
  kubernetes: { matchLabels: Record<string, string>; port: string };
}

/** One alerting rule as generated (also what tests and docs read). */
export interface AlertRule {
  /** The alert's name (`alertname`), PascalCase; its runbook is `<runbookBaseUrl>/<alert>.md`. */
  alert: string;
  /** The PromQL condition: the alert fires for every series it returns (after `for`). */
  expr: string;
  /** How long `expr` must hold before the alert fires, a Prometheus duration; absent: at once. */
  for?: string;
  /** `severity` (what Alertmanager routes on), plus any label the target adds (e.g. `namespace`). */
  labels: { severity: Severity } & Record<string, string>;
  /** What the notification shows; `dashboard_url` only when `grafana.url` is set. */
  annotations: { summary: string; description: string; runbook_url: string; dashboard_url?: string };
}

/** One recording rule. */
export interface RecordingRule {
  /** The series it writes, `level:metric:operations` (e.g. `job:http_request_errors:ratio_rate5m`). */
  record: string;
  /** The PromQL expression evaluated at every rule evaluation. */
  expr: string;
}

/** A rule group of rules.yml. */
export interface RuleGroup {
  /** The group's name, unique in the rules file. */
  name: string;
  /** Its rules, evaluated in order at each evaluation of the group. */
  rules: Array<AlertRule | RecordingRule>;
}

/** What `generateOps` returns: file contents by path relative to the output directory. */
export interface OpsOutput {
  /** File contents by path relative to the output directory (`prometheus/rules.yml`, ...). */
  files: Record<string, string>;
  /** The rule groups (for inspection and tests). */
  groups: RuleGroup[];
}
