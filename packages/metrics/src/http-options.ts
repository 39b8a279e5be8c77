import {
  checkOptions,
  describeValue,
  type OptionRule,
  type OptionsSchema,
  rejectUnknownKeys,
  rules,
} from '@deia/options';
import { DeiaMetricsError } from './errors.js';
import type { Metrics } from './metrics-types.js';

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
  /** Scrapes of `/metrics` rendered at once; more are answered 503. */
  metricsMaxInFlight: 2,
  /** A scrape of `/metrics` not answered within this many ms is answered 503. */
  metricsTimeoutMs: 10_000,
  /** Write created timestamps where the SDK knows them. */
  metricsCreatedTimestamps: false,
} as const;

/** A response the SDK serves itself (`/metrics`, health). */
export interface HttpResponse {
  /** HTTP status to answer with. */
  statusCode: number;
  /** Response headers to set (lower-case names). */
  headers: Record<string, string>;
  /** A string, or the gzipped bytes (with `content-encoding: gzip`). */
  body: string | Uint8Array;
}

/** The request fields the SDK's own endpoints read. */
export interface HttpRequestInfo {
  /** HTTP method as received (`GET`, `HEAD`, ...). */
  method: string;
  /** Path without query string. */
  path: string;
  /** Request headers, lower-case names as node has them (`accept`, `accept-encoding`, `authorization`). */
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
  /** Gets the access log: one line per recorded request, only with `accessLog: true`. */
  info(obj: object, msg?: string): void;
  /** Gets warnings (route overflow); without it, `createMetrics`' logger or a process warning does. */
  warn?(obj: object, msg?: string): void;
  /** Gets the SDK's own errors (a failed scrape or health endpoint); without it, process warnings. */
  error?(obj: object, msg?: string): void;
}

/** Protects `/metrics`: a bearer token, or HTTP basic credentials. Compared in constant time. */
export type MetricsAuth = { token: string } | { username: string; password: string };

/** Something that renders an exposition: a prom-client `Registry`, or `createClusterAggregator()`. */
export interface MetricsSource {
  /** Renders the exposition text, in the format `contentType` names. */
  metrics(): Promise<string>;
  /** The `Content-Type` served with what `metrics()` returns. */
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
   * At most this many scrapes of `/metrics` are rendered at once; another one is answered at once
   * with 503 and `Retry-After: 1` (client_golang's `MaxRequestsInFlight`). Rendering is sliced so
   * the app keeps serving during a scrape; this bounds how much scraping can run at all.
   * @default 2 (two Prometheus servers of an HA pair)
   */
  metricsMaxInFlight?: number;
  /**
   * A scrape not answered within this many ms is answered 503 (and logged), and its rendering
   * stops (client_golang's `Timeout`). Keep it at or below Prometheus's `scrape_timeout`.
   * @default 10000
   */
  metricsTimeoutMs?: number;
  /**
   * Write the time each series was created, so a series first scraped above zero counts as an
   * increase on servers that ingest created timestamps (Prometheus's
   * `created-timestamp-zero-ingestion`): `created_timestamp` in the protobuf format. The SDK knows
   * it only for the series it records itself as native histograms (`nativeHistograms`); prom-client
   * keeps no creation time behind its public API, so its metrics (and classic-only series) have
   * none. Off by default, as in client_golang: it costs bytes on every scrape.
   * @default false
   */
  metricsCreatedTimestamps?: boolean;
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

const isPath = (p: unknown): p is string => typeof p === 'string' && p.startsWith('/') && !/[?#\s]/.test(p);
const fail = (message: string): never => {
  throw new DeiaMetricsError('DEIA_HTTP_OPTIONS', message);
};

function checkAuth(auth: unknown): true | string {
  const a = auth as Record<string, unknown>;
  const isToken = auth !== null && typeof auth === 'object' && 'token' in a;
  const isBasic = auth !== null && typeof auth === 'object' && ('username' in a || 'password' in a);
  if (isToken === isBasic) {
    return `metricsAuth must be { token } or { username, password }, got ${describeValue(auth)}.`;
  }
  if (isToken) {
    return typeof a.token === 'string' && a.token !== ''
      ? true
      : 'metricsAuth.token must be a non-empty string (e.g. from an environment variable).';
  }
  const { username: u, password: p } = a;
  return typeof u === 'string' && typeof p === 'string' && u !== '' && !u.includes(':') && p !== ''
    ? true
    : 'metricsAuth.username and .password must be non-empty strings (no ":" in the username).';
}

/** Settings the adapters' `shutdown` option passes on to `createShutdown` of `@deia/health`. */
export const SHUTDOWN_SETTINGS_KEYS = [
  'closers',
  'timeoutMs',
  'delayMs',
  'signals',
  'exit',
  'logger',
] as const;

/**
 * The adapters' `shutdown` option, one rule for both: `true` or settings turn graceful shutdown on
 * (armed once the adapter knows the app's server), `false`/unset leave it off. The settings' values
 * are checked by `createShutdown`; their names here, so a typo fails at start.
 */
export const SHUTDOWN_OPTION_RULE: OptionRule = {
  must: 'true, false or an object such as { timeoutMs: 10000, closers: [...] }',
  ok: (v) => {
    if (typeof v === 'boolean') return true;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    let problem: string | true = true;
    try {
      rejectUnknownKeys('shutdown', v, SHUTDOWN_SETTINGS_KEYS, (message) => {
        problem = message;
        throw new Error(message);
      });
    } catch {
      // `problem` holds the message
    }
    return problem;
  },
};

/** The shared HTTP options, declared once: `validateHttpOptions` checks every value against it. */
export const HTTP_OPTIONS_SCHEMA = {
  metrics: {
    ...rules.type('object', 'the object returned by createMetrics() from @deia/metrics'),
    ok: (m) => m !== null && typeof m === 'object' && 'registry' in m && 'http' in m,
    required: true,
  },
  health: {
    must: 'the object returned by createHealth() from @deia/health',
    ok: (h) => rules.methods(['handle'], '').ok(h) === true && Array.isArray((h as HealthLike).paths),
  },
  metricsPath: {
    must: 'false or a path starting with "/" (no query)',
    ok: (p) => p === false || isPath(p),
  },
  metricsAuth: { must: '{ token } or { username, password }', ok: checkAuth },
  metricsPort: rules.number('an integer from 0 to 65535', { min: 0, max: 65535, integer: true }),
  metricsHost: rules.nonEmptyString('a host name or address such as "127.0.0.1"'),
  metricsSource: {
    must: 'an object with metrics(): Promise<string> and contentType (a Registry fits)',
    ok: (s) =>
      (s !== null &&
        typeof s === 'object' &&
        typeof (s as MetricsSource).metrics === 'function' &&
        typeof (s as MetricsSource).contentType === 'string') ||
      `metricsSource must have metrics(): Promise<string> and contentType (a Registry fits), got ${describeValue(s)}.`,
  },
  metricsMaxInFlight: rules.number('a positive integer (default 2)', { min: 1, integer: true }),
  metricsTimeoutMs: rules.number('a number of ms from 1 to 2147483647 (default 10000)', {
    min: 1,
    max: 2_147_483_647,
  }),
  metricsCreatedTimestamps: rules.boolean(),
  exclude: rules.either(
    rules.arrayOf((e) => e instanceof RegExp || isPath(e), 'a list of paths ("/internal/ping") and RegExps'),
    rules.function(),
    'a list of paths ("/internal/ping") and RegExps, or a function (path) => boolean',
  ),
  abortedStatus: rules.number('an integer status code from 100 to 999 (default 499)', {
    min: 100,
    max: 999,
    integer: true,
  }),
  maxRoutes: rules.number('a positive integer (default 100)', { min: 1, integer: true }),
  logger: rules.methods(['info'], 'pino-compatible: an object with info(obj, msg) (and warn, error)'),
  accessLog: rules.boolean(),
} as const satisfies OptionsSchema & Record<keyof HttpObservabilityOptions, OptionRule>;

/**
 * Validates the shared options against `HTTP_OPTIONS_SCHEMA` plus the few rules that span two
 * options; throws `DeiaMetricsError` (code `DEIA_HTTP_OPTIONS`) naming the option and what to
 * change. `extra` declares adapter-specific options (e.g. `shutdown`) the same way.
 */
export function validateHttpOptions(
  options: unknown,
  where: string,
  extra: OptionsSchema = {},
): asserts options is HttpObservabilityOptions {
  const o = checkOptions(where, options, { ...HTTP_OPTIONS_SCHEMA, ...extra }, fail);
  const mp = o.metricsPath as string | false | undefined;
  if (o.metricsAuth !== undefined && mp === false) {
    fail(`${where}: metricsAuth is set but metricsPath is false; remove one.`);
  }
  for (const k of ['metricsMaxInFlight', 'metricsTimeoutMs', 'metricsCreatedTimestamps'] as const) {
    if (o[k] !== undefined && mp === false)
      fail(`${where}: ${k} is set but metricsPath is false; remove one.`);
  }
  if (o.metricsPort !== undefined && mp === false) {
    fail(`${where}: metricsPort is set but metricsPath is false; remove one.`);
  }
  if (o.accessLog === true && o.logger === undefined)
    fail(`${where}: accessLog needs a logger (e.g. pino()).`);
  const h = o.health as HealthLike | undefined;
  const paths = new Set<string>(h?.paths ?? []);
  for (const p of paths) if (!isPath(p)) fail(`${where}: health path ${JSON.stringify(p)} is not a path.`);
  const metricsPath = mp ?? DEFAULT_HTTP_OPTIONS.metricsPath;
  if (metricsPath !== false && o.metricsPort === undefined && paths.has(metricsPath)) {
    fail(`${where}: metricsPath "${metricsPath}" is also a health path; choose another.`);
  }
}
