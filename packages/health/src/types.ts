/**
 * Outcome of one check run, as the check reports it.
 * - `pass`: the dependency works.
 * - `warn`: it works but something is off (slow, memory high): makes the service `degraded`.
 * - `fail`: it does not work.
 * - `not_configured`: the check has nothing to check (e.g. `ollamaCheck({ url: undefined })`); it is
 *   reported as such and never counts as failing.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'not_configured';

/** What a check function returns. Every field is optional except `status`. */
export interface CheckOutcome {
  /** The run's status; `fail` counts toward the check's `failureThreshold`. */
  status: CheckStatus;
  /**
   * Safe, public details shown by `/health/detailed` at detail level `full` and by the
   * `/health/db` and `/health/cache` endpoints (e.g. `{ database, tables_accessible }`).
   * Never put credentials or connection strings here.
   */
  details?: Record<string, unknown>;
  /** A short public reason (e.g. `"connection refused"`). Credentials and URLs are scrubbed from it. */
  message?: string;
  /** The full error, sent to the logger only, never to a response. */
  error?: unknown;
  /** Latency of the dependency in milliseconds, if the check measured it itself (else: the run time). */
  latencyMs?: number;
  /**
   * A cache server's own memory and eviction counters, as read by the check (`redisCheck`: from
   * `INFO`); passed to the metrics sink's `recordCacheStats` after the run. Never shown in responses.
   */
  cacheStats?: CacheStats;
}

/** What a cache check read from the server (Redis `INFO`: used_memory, maxmemory, evicted_keys). */
export interface CacheStats {
  /** Memory in use, in bytes. */
  usedMemoryBytes?: number;
  /** Memory limit in bytes; 0 means no limit. */
  maxMemoryBytes?: number;
  /** Keys evicted for the memory limit since the server started (or its stats were reset). */
  evictedKeys?: number;
}

/**
 * A custom check: gets an `AbortSignal` that aborts when the check's timeout elapses (stop work
 * then), and returns an outcome. Returning `true`/nothing means `pass`, `false` means `fail`, a
 * thrown error or rejected promise means `fail` (the error goes to the logger).
 */
export type CheckFunction = (
  signal: AbortSignal,
  context: CheckContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a check may return nothing (async () => { await ping(); })
) => CheckOutcome | boolean | void | Promise<CheckOutcome | boolean | void>;

/** Passed to every check run. */
export interface CheckContext {
  /** The check's name in `createHealth({ checks })`. */
  name: string;
  /** `createHealth`'s `exposeHostnames`: include hosts/URLs in details only when true. */
  exposeHostnames: boolean;
  /**
   * The check's resolved timeout (its own `timeoutMs`, else `createHealth`'s `defaults.timeoutMs`,
   * else `DEFAULT_HEALTH_OPTIONS.timeoutMs`): bound any timeout of your own by it rather than by a
   * constant, so that one setting governs the check (`postgresCheck` sizes its pool's connection
   * timeout with it).
   */
  timeoutMs: number;
}

/**
 * What a dependency is, used to route `/health/db` and `/health/cache` and to pick the
 * `componentType` of `application/health+json`.
 */
export type CheckKind = 'database' | 'cache' | 'llm' | 'http' | 'system' | 'custom';

/** Options every check factory accepts (and a check definition may carry). */
export interface CheckOptions {
  /**
   * A failing critical check makes the service `unhealthy` (503); a failing non-critical one makes
   * it `degraded` (200).
   * @default true (redisCheck, ollamaCheck, httpCheck, memoryCheck, diskCheck, eventLoopCheck: false)
   */
  critical?: boolean;
  /**
   * Time after which a run counts as failed (`timed out`) and its `AbortSignal` aborts.
   * @default 5000 (redisCheck: 3000), the guides' endpoint timeouts
   */
  timeoutMs?: number;
  /**
   * Consecutive failed runs before a check that has passed before is reported as `fail`;
   * earlier failures are reported as `warn` (degraded) with `consecutive_failures`. A check that
   * has never passed fails at once, so a service that starts without its database is never ready.
   * The `health_check_up` metric always records the raw result.
   * @default 2, the guides' "failure threshold: 2 consecutive failures"
   */
  failureThreshold?: number;
}

/** A check with its settings; what the check factories return. */
export interface HealthCheckDefinition extends CheckOptions {
  /** Runs the check once. */
  run: CheckFunction;
  /** @default 'custom' */
  kind?: CheckKind;
  /** Releases what the check owns (e.g. the pool of `postgresCheck({ connectionString })`). */
  close?: () => void | Promise<void>;
}

/** A check: a function, or a definition with settings. */
export type HealthCheck = CheckFunction | HealthCheckDefinition;

/** Overall status of the service. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** The result of one check, after timeout, threshold and caching. */
export interface CheckResult {
  /** The check's name in `createHealth({ checks })`. */
  name: string;
  /** The check's kind (`'custom'` when its definition sets none). */
  kind: CheckKind;
  /** Whether a `fail` makes the service `unhealthy` (else `degraded`), as resolved from its options. */
  critical: boolean;
  /** Reported status (after the failure threshold). */
  status: CheckStatus;
  /** Status of the last run itself, before the failure threshold. */
  rawStatus: CheckStatus;
  /** Dependency latency in ms (or the run time), rounded to 0.1 ms. */
  latencyMs: number;
  /** Consecutive failed runs so far (0 after a pass). */
  consecutiveFailures: number;
  /** Scrubbed public details. */
  details: Record<string, unknown>;
  /** Scrubbed public reason for warn/fail/not_configured. */
  message?: string;
  /** ISO time of the run that produced this result. */
  time: string;
  /** True when served from cache (or background refresh) rather than run for this call. */
  cached: boolean;
}

/** The result of running (or reading the cached results of) a set of checks. */
export interface HealthReport {
  /** `unhealthy` when a critical check fails, `degraded` on any other `fail` or `warn`, else `healthy`. */
  status: HealthStatus;
  /** ISO time the report was made. */
  timestamp: string;
  /** `createHealth`'s `version`; absent when it was not set. */
  version?: string;
  /** Process uptime as `HH:MM:SS` (hours may exceed 24). */
  uptime: string;
  /** True after `setShuttingDown()` (readiness then answers 503). */
  shuttingDown: boolean;
  /** Check name -> its result, for the checks that were run (all, or the `names` given to `run`). */
  checks: Record<string, CheckResult>;
}

/** Minimal request the handler needs; adapters translate theirs into it. */
export interface HealthRequest {
  /** HTTP method, any case; only `GET` and `HEAD` are answered (others get 405). */
  method: string;
  /** Path, with or without a query string. */
  path: string;
  /** Request headers as node has them (lower-case names); `accept` and `authorization` are read. */
  headers: Record<string, string | string[] | undefined>;
}

/** What the handler answers; adapters copy it onto their response. */
export interface HealthResponse {
  /** HTTP status: 200 (healthy, degraded, live, ready), 503 (unhealthy, not ready) or 405 (not GET/HEAD). */
  statusCode: number;
  /** Response headers to set (lower-case names: `content-type`, `cache-control`, ...). */
  headers: Record<string, string>;
  /** The JSON body; empty for `HEAD`. */
  body: string;
}

/** Detail level of the per-check endpoints (`/health/db`, `/health/cache`, `/health/detailed`). */
export type DetailLevel = 'full' | 'status';

/** Structural logger; pino fits. */
export interface HealthLogger {
  /**
   * Gets contained problems: check failures that do not make the service unhealthy (non-critical,
   * or under the threshold), a throwing metrics sink, a failed poll.
   */
  warn(obj: object, msg?: string): void;
  /** Gets failed critical checks and shutdown steps that failed or timed out. */
  error(obj: object, msg?: string): void;
  /** Gets progress (shutdown steps done, a poll that works again); skipped when absent. */
  info?(obj: object, msg?: string): void;
}

/**
 * One model Ollama holds in memory, as read from `GET /api/ps` (the shape `@deia/metrics`'
 * `metrics.llm.recordResidentModels` takes).
 */
export interface ResidentModelInfo {
  /** The model's name (`llama3.2:latest`). */
  model: string;
  /** Memory it takes, in bytes (`size`). */
  sizeBytes?: number;
  /** Of which in GPU memory, in bytes (`size_vram`). */
  vramBytes?: number;
  /** Seconds until Ollama unloads it if idle (`expires_at` minus now). */
  expiresInSeconds?: number;
}

/** Structural metrics sink; a `Metrics` from `@deia/metrics` fits. */
export interface HealthMetricsSink {
  /**
   * Called after every real run (not a cached read) of a check whose status is not `not_configured`:
   * `up` is false only for a raw `fail`; `seconds` is the run time. A throw is logged and ignored.
   */
  recordHealthCheck(check: string, up: boolean, seconds: number): void;
  /** Receives a cache check's `cacheStats` under the check's name (`Metrics` has it). */
  recordCacheStats?(check: string, stats: CacheStats): void;
}

/** Paths the handler serves; set one to `false` to not serve it. */
export interface HealthPaths {
  /** @default '/health' */
  health?: string | false;
  /** @default '/health/db' (served only when a `database` check exists) */
  db?: string | false;
  /** @default '/health/cache' (served only when a `cache` check exists) */
  cache?: string | false;
  /** @default '/health/detailed' */
  detailed?: string | false;
  /** @default '/health/live' */
  live?: string | false;
  /** @default '/health/ready' */
  ready?: string | false;
}

/** Options of `createHealth`. */
export interface HealthOptions {
  /** Name -> check. Names are metric label values: letters, digits, `_`, `-`, `.`. */
  checks: Record<string, HealthCheck>;
  /** Service version shown in `/health` (and `releaseId` in health+json). */
  version?: string;
  /** Receives `recordHealthCheck(name, up, seconds)` after every real run of a check. */
  metrics?: HealthMetricsSink;
  /** Receives failed runs with the full error. @default none (errors are dropped) */
  logger?: HealthLogger;
  /**
   * How long a check's result is re-used. Concurrent callers always share one in-flight run
   * (single-flight), so a storm of health requests causes at most one run per check per TTL.
   * @default 2000
   */
  cacheTtlMs?: number;
  /**
   * When > 0, every check runs in the background at this interval (timer `unref`ed, stopped by
   * `close()`), and requests are answered from the last result. @default 0 (off: on demand)
   */
  refreshIntervalMs?: number;
  /**
   * Who sees per-check details (latency, failure messages, database name, tables, pool counts,
   * Redis memory, versions) on every endpoint that has them: `/health/db`, `/health/cache` and
   * `/health/detailed`. `'status'`: nobody (statuses only); `'full'`: everyone; `{ token }`: callers
   * sending `Authorization: Bearer <token>` (compared in constant time: SHA-256 of both sides,
   * then `timingSafeEqual`; a token that is not a non-empty string throws); or a function of the
   * request returning a level (or a boolean: `true` = full; a throw counts as `'status'`).
   * @default 'status'
   */
  detail?: DetailLevel | { token: string } | ((req: HealthRequest) => DetailLevel | boolean);
  /** Show hostnames/URLs of dependencies in details. @default false */
  exposeHostnames?: boolean;
  /** Override or disable paths. */
  paths?: HealthPaths;
  /** Defaults for every check that does not set its own. */
  defaults?: CheckOptions;
}

/** The handle `createHealth` returns. */
export interface Health {
  /** Every path the handler serves (adapters exclude them from HTTP metrics). */
  readonly paths: readonly string[];
  /**
   * Answers a health request, or returns `undefined` (synchronously) when the path is not a health
   * path, so adapters can pass the request on.
   */
  handle(req: HealthRequest): Promise<HealthResponse> | undefined;
  /** Runs (or reads cached results of) the checks; `names` limits it to some checks. */
  run(names?: readonly string[]): Promise<HealthReport>;
  /** Readiness answers 503 from now on (called by `createShutdown`). */
  setShuttingDown(): void;
  /** True after `setShuttingDown()`. */
  readonly shuttingDown: boolean;
  /**
   * Stops background refresh and releases what checks own (e.g. pools they created). Returns a
   * promise you may await; calling it more than once is harmless.
   */
  close(): Promise<void>;
}

/** Something to close at shutdown, in order. */
export interface Closer {
  /** Names the closer in log lines (`shutdown: closed <name>`). */
  name: string;
  /**
   * Closes it; may return a promise, awaited up to `timeoutMs`. A throw or timeout is logged, not
   * rethrown, and makes the exit code 1.
   */
  close: () => unknown;
}

/** Options of `createShutdown`. */
export interface ShutdownOptions {
  /** Readiness turns 503 first; `health.close()` runs after the closers. */
  health?: Pick<Health, 'setShuttingDown' | 'close'>;
  /**
   * A node HTTP server to drain without resetting a request: after `delayMs` it stops accepting
   * once the kernel's accept queue is empty (what Node accepts one event-loop turn at a time),
   * from then on every response carries `Connection: close` (so each keep-alive socket closes
   * after its in-flight response, never during one), and a socket with no request in flight is
   * closed after 1 s idle with no byte received. After `timeoutMs` what is left is destroyed.
   * During the delay it serves as before (keep-alive). Tracks connections from `createShutdown` on.
   */
  server?: import('node:http').Server;
  /**
   * Stops the app (e.g. Fastify's `app.close`, which runs its `onClose` hooks). With `server`
   * too, it runs once `server` is drained; alone, it replaces the draining.
   */
  stop?: () => Promise<void> | void;
  /** Closed in order after the server; an error or timeout in one does not stop the others. */
  closers?: Closer[];
  /**
   * Time to wait for in-flight requests (after `delayMs`) before the remaining sockets are
   * destroyed; also the limit for `stop()` and for each closer. @default 10000 (fits Kubernetes' 30 s grace period)
   */
  timeoutMs?: number;
  /**
   * Time between readiness turning 503 and the server refusing new connections, so load
   * balancers stop routing first (a pre-stop delay; requests are served as before). @default 0
   */
  delayMs?: number;
  /** Signals that start the shutdown; `false` for none. @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[] | false;
  /**
   * After shutdown: `true` calls `process.exit(code)` (0 when everything closed cleanly, 1 otherwise),
   * a function is called with the code instead, `false` does nothing.
   * @default true when `signals` are handled, else false
   */
  exit?: boolean | ((code: number) => void);
  /** Receives progress (`info`, when present) and errors. */
  logger?: HealthLogger;
}

/**
 * The graceful-shutdown settings a framework adapter takes (`deiaExpress({ shutdown })`,
 * `deiaFastify`'s `shutdown`): `createShutdown`'s options without what the adapter fills in itself
 * (`health`, `server`, `stop`). Defaults: `DEFAULT_SHUTDOWN_OPTIONS`.
 */
export type ShutdownSettings = Pick<
  ShutdownOptions,
  'closers' | 'timeoutMs' | 'delayMs' | 'signals' | 'exit' | 'logger'
>;

/** The handle `createShutdown` returns. */
export interface Shutdown {
  /** Shuts down once; later calls return the same promise. */
  run(reason?: string): Promise<void>;
  /** Adds a closer (run after the ones given in options, in order of addition). */
  addCloser(name: string, close: () => unknown): void;
  /** Removes the signal listeners. */
  dispose(): void;
}
