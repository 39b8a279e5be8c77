import type { Metrics } from './create-metrics.js';
import { DeiaMetricsError } from './errors.js';
import { rejectUnknownKeys } from './options.js';

/** Defaults of the HTTP options (`@deia/express`, `@deia/fastify`). */
export const DEFAULT_HTTP_OPTIONS = {
  /** Path of the Prometheus endpoint. */
  metricsPath: '/metrics',
  /** Interface the separate metrics server (`metricsPort`) binds to. */
  metricsHost: '0.0.0.0',
  /** Status label of requests whose client went away before the response was complete (nginx's 499). */
  abortedStatus: 499,
  /** Distinct route templates recorded; later ones are recorded as `__overflow__`. */
  maxRoutes: 100,
  /** Log one line per request through `logger.info`. */
  accessLog: false,
} as const;

/** A response the SDK serves itself (`/metrics`, health). */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** A string, or the gzipped bytes (with `content-encoding: gzip`). */
  body: string | Uint8Array;
}

/** The request fields the SDK's own endpoints read. */
export interface HttpRequestInfo {
  method: string;
  /** Path without query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * What the adapters need from `@deia/health`'s `createHealth()` (declared structurally so
 * `@deia/metrics` does not depend on `@deia/health`).
 */
export interface HealthLike {
  /** Every path it serves; they are excluded from the HTTP metrics. */
  readonly paths: readonly string[];
  /** Answers a health request; returns `undefined` (synchronously) when `path` is not a health path. */
  handle(req: HttpRequestInfo): Promise<HttpResponse> | undefined;
}

/** A pino-compatible logger (pino, bunyan-like, or `{ info, warn, error }` functions). */
export interface HttpLogger {
  info(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

/** Protects `/metrics`: a bearer token, or HTTP basic credentials. Compared in constant time. */
export type MetricsAuth = { token: string } | { username: string; password: string };

/** Something that renders an exposition: a prom-client `Registry`, or `createClusterAggregator()`. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
  /**
   * The metrics as data (a prom-client `Registry` has it). When present, `/metrics` renders the
   * format the scraper asks for (OpenMetrics 1.0.0 or text 0.0.4); without it, `metrics()` is
   * served with `contentType`.
   */
  getMetricsAsJSON?(): Promise<readonly object[]>;
}

/** Options shared by `deiaExpress(options)` and `deiaFastify` (`app.register(deiaFastify, options)`). */
export interface HttpObservabilityOptions {
  /** The metrics handle from `createMetrics()`. Required. */
  metrics: Metrics;
  /** A `createHealth()` handle: its paths are served and excluded from the HTTP metrics. */
  health?: HealthLike;
  /**
   * Path of the Prometheus endpoint on the app, or `false` to not serve it (e.g. in cluster workers
   * when the primary serves the aggregate). With `metricsPort` it is the path on that port instead.
   * @default '/metrics'
   */
  metricsPath?: string | false;
  /**
   * Protects the metrics endpoint with a bearer token (`Authorization: Bearer <token>`) or basic
   * auth. Unset, the endpoint is open: Prometheus scrapes it on the app port like the guides'
   * scrape config expects; protect it (or use `metricsPort`) when the app port is public.
   * @default undefined (no auth)
   */
  metricsAuth?: MetricsAuth;
  /**
   * Serve the metrics endpoint on its own port (a separate `node:http` server) instead of the app.
   * Use it to keep `/metrics` off a public port. `0` picks a free port (see `metricsAddress()`).
   * @default undefined (served on the app)
   */
  metricsPort?: number;
  /** Interface of the `metricsPort` server. @default '0.0.0.0' */
  metricsHost?: string;
  /**
   * What `/metrics` renders. @default metrics.registry. Pass `createClusterAggregator()` in a
   * cluster primary. A registry is rendered in the format the scraper's `Accept` header prefers:
   * OpenMetrics 1.0.0 (with exemplars) or Prometheus text 0.0.4 (no exemplars; also when no
   * `Accept` is sent), the same series either way; so is the cluster aggregator. A source without
   * `getMetricsAsJSON()` is served in its own format. Bodies of 4 KiB or more are gzipped when the
   * scraper accepts gzip (Prometheus always does).
   */
  metricsSource?: MetricsSource;
  /**
   * More paths not to record (exact paths, or RegExps tested against the path), or a predicate on
   * the path. The SDK's own endpoints (metrics, health) are always excluded.
   * @default []
   */
  exclude?: ReadonlyArray<string | RegExp> | ((path: string) => boolean);
  /** Status label of aborted requests (client closed the connection first). @default 499 */
  abortedStatus?: number;
  /** Distinct route templates recorded before later ones become `__overflow__`. @default 100 */
  maxRoutes?: number;
  /** Where errors of the SDK itself go (and the access log). @default process.emitWarning */
  logger?: HttpLogger;
  /** One `logger.info` line per recorded request (method, route, status, duration, sizes). @default false */
  accessLog?: boolean;
}

const OPTION_KEYS = new Set([
  'metrics',
  'health',
  'metricsPath',
  'metricsAuth',
  'metricsPort',
  'metricsHost',
  'metricsSource',
  'exclude',
  'abortedStatus',
  'maxRoutes',
  'logger',
  'accessLog',
]);

const fail = (message: string): never => {
  throw new DeiaMetricsError('DEIA_HTTP_OPTIONS', message);
};

const isPath = (p: unknown): p is string => typeof p === 'string' && p.startsWith('/') && !/[?#\s]/.test(p);

/**
 * Validates the shared options; throws `DeiaMetricsError` (code `DEIA_HTTP_OPTIONS`) naming the
 * option and what to change. `extraKeys` are adapter-specific options (e.g. `shutdown`).
 */
export function validateHttpOptions(
  options: unknown,
  where: string,
  extraKeys: readonly string[] = [],
): asserts options is HttpObservabilityOptions {
  if (options === null || typeof options !== 'object') {
    fail(`${where}: pass an options object, e.g. { metrics: createMetrics() }.`);
  }
  const o = options as Record<string, unknown>;
  rejectUnknownKeys(where, o, [...OPTION_KEYS, ...extraKeys], 'DEIA_HTTP_OPTIONS');
  const m = o.metrics as Partial<Metrics> | undefined;
  if (!m || typeof m !== 'object' || !m.registry || !m.http) {
    fail(
      `${where}: options.metrics is required: pass the object returned by createMetrics() from @deia/metrics.`,
    );
  }
  const h = o.health as Partial<HealthLike> | undefined;
  if (h !== undefined && (!h || !Array.isArray(h.paths) || typeof h.handle !== 'function')) {
    fail(`${where}: options.health must be the object returned by createHealth() from @deia/health.`);
  }
  const mp = o.metricsPath;
  if (mp !== undefined && mp !== false && !isPath(mp)) {
    fail(
      `${where}: metricsPath must be false or a path starting with "/" (no query), got ${JSON.stringify(mp)}.`,
    );
  }
  const auth = o.metricsAuth as Record<string, unknown> | undefined;
  if (auth !== undefined) {
    const isToken = auth && typeof auth === 'object' && 'token' in auth;
    const isBasic = auth && typeof auth === 'object' && ('username' in auth || 'password' in auth);
    if (!auth || typeof auth !== 'object' || isToken === isBasic) {
      fail(`${where}: metricsAuth must be { token } or { username, password }.`);
    }
    if (isToken && (typeof auth.token !== 'string' || auth.token.length === 0)) {
      fail(`${where}: metricsAuth.token must be a non-empty string (e.g. from an environment variable).`);
    }
    if (
      isBasic &&
      (typeof auth.username !== 'string' ||
        typeof auth.password !== 'string' ||
        auth.username.length === 0 ||
        auth.username.includes(':') ||
        auth.password.length === 0)
    ) {
      fail(
        `${where}: metricsAuth.username and .password must be non-empty strings (no ":" in the username).`,
      );
    }
    if (mp === false) fail(`${where}: metricsAuth is set but metricsPath is false; remove one.`);
  }
  const port = o.metricsPort;
  if (port !== undefined && (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535)) {
    fail(`${where}: metricsPort must be an integer from 0 to 65535, got ${JSON.stringify(port)}.`);
  }
  if (port !== undefined && mp === false)
    fail(`${where}: metricsPort is set but metricsPath is false; remove one.`);
  if (o.metricsHost !== undefined && (typeof o.metricsHost !== 'string' || o.metricsHost === '')) {
    fail(`${where}: metricsHost must be a host name or address such as "127.0.0.1".`);
  }
  const src = o.metricsSource as Partial<MetricsSource> | undefined;
  if (
    src !== undefined &&
    (!src || typeof src.metrics !== 'function' || typeof src.contentType !== 'string')
  ) {
    fail(`${where}: metricsSource must have metrics(): Promise<string> and contentType (a Registry fits).`);
  }
  const ex = o.exclude;
  if (ex !== undefined && typeof ex !== 'function') {
    if (!Array.isArray(ex) || !ex.every((e) => e instanceof RegExp || isPath(e))) {
      fail(
        `${where}: exclude must be a list of paths ("/internal/ping") and RegExps, or a function (path) => boolean.`,
      );
    }
  }
  const st = o.abortedStatus;
  if (st !== undefined && (!Number.isInteger(st) || (st as number) < 100 || (st as number) > 999)) {
    fail(`${where}: abortedStatus must be an integer status code from 100 to 999 (default 499).`);
  }
  const mr = o.maxRoutes;
  if (mr !== undefined && (!Number.isInteger(mr) || (mr as number) < 1)) {
    fail(`${where}: maxRoutes must be a positive integer (default 100).`);
  }
  const log = o.logger as Partial<HttpLogger> | undefined;
  if (log !== undefined && (!log || typeof log.info !== 'function')) {
    fail(`${where}: logger must be pino-compatible: an object with info(obj, msg) (and warn, error).`);
  }
  if (o.accessLog !== undefined && typeof o.accessLog !== 'boolean') {
    fail(`${where}: accessLog must be true or false.`);
  }
  if (o.accessLog === true && log === undefined) fail(`${where}: accessLog needs a logger (e.g. pino()).`);
  const paths = new Set<string>(h?.paths ?? []);
  for (const p of paths) if (!isPath(p)) fail(`${where}: health path ${JSON.stringify(p)} is not a path.`);
  const metricsPath = mp === undefined ? DEFAULT_HTTP_OPTIONS.metricsPath : (mp as string | false);
  if (metricsPath !== false && port === undefined && paths.has(metricsPath)) {
    fail(`${where}: metricsPath "${metricsPath}" is also a health path; choose another.`);
  }
}
