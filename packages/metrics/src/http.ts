import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { HTTP_METHODS, OTHER_LABEL_VALUE, OVERFLOW_LABEL_VALUE, UNMATCHED_ROUTE } from './catalog.js';
import type { Metrics } from './create-metrics.js';
import { DeiaMetricsError } from './errors.js';

/**
 * Framework-neutral HTTP instrumentation shared by `@deia/express` and `@deia/fastify`: label rules,
 * timing, exclusions, in-flight count, sizes, aborted requests, access log and the `/metrics`
 * endpoint. Adapters only read the framework's route and hand over node's request/response.
 */

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
  body: string;
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
   * cluster primary. The response uses the source's own content type: a registry created for
   * OpenMetrics (exemplars) is served as OpenMetrics, any other as Prometheus text 0.0.4.
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

/** How the adapter treats a request path (see `HttpObserver.match`). */
export const PATH_RECORD = 0;
/** Not recorded (excluded by option). */
export const PATH_EXCLUDED = 1;
/** Served by the SDK (metrics or health) and not recorded. */
export const PATH_SERVED = 2;

/**
 * Returns the route template of a finished request, or `undefined` when no route matched.
 * `ctx` is what the adapter passed to `track` (the framework's request object).
 */
export type RouteResolver = (ctx: unknown, req: IncomingMessage, res: ServerResponse) => string | undefined;

/** The neutral core an adapter drives. One per app. */
export interface HttpObserver {
  /** Resolved metrics path on the app (`false` when not served there). */
  readonly metricsPath: string | false;
  /** Paths answered by `serve` on the app (metrics unless on its own port, health). */
  readonly servedPaths: readonly string[];
  /** `PATH_RECORD`, `PATH_EXCLUDED` or `PATH_SERVED` for a path (no query string). */
  match(path: string): number;
  /** Starts measuring: one clock read, in-flight +1, one shared 'close' listener on `res`. */
  track(req: IncomingMessage, res: ServerResponse, ctx: unknown): void;
  /** Answers the SDK's own endpoints; `undefined` when `path` is none of them. */
  serve(req: HttpRequestInfo): Promise<HttpResponse> | undefined;
  /** Renders the metrics endpoint (auth, method and content type checked). */
  scrape(req: HttpRequestInfo): Promise<HttpResponse>;
  /** Starts the `metricsPort` server, if configured. Resolves once listening. */
  listen(): Promise<AddressInfo | undefined>;
  /** Address of the `metricsPort` server once listening. */
  metricsAddress(): AddressInfo | undefined;
  /** Stops the `metricsPort` server and detaches from the in-flight gauge. */
  close(): Promise<void>;
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

/** Edit distance, for "did you mean" on unknown option names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}
const closest = (key: string, known: readonly string[]) => {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
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
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key) && !extraKeys.includes(key)) {
      const known = [...OPTION_KEYS, ...extraKeys];
      const near = closest(key, known);
      fail(
        `${where}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}.`,
      );
    }
  }
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

/** Method label: the HTTP method itself when it is one of `HTTP_METHODS`, else `other`. */
export function foldMethod(method: string | undefined): string {
  return method !== undefined && METHOD_INDEX.has(method) ? method : OTHER_LABEL_VALUE;
}

const METHOD_INDEX = new Map<string, number>(HTTP_METHODS.map((m, i) => [m, i]));
const METHOD_BY_INDEX = [...HTTP_METHODS, OTHER_LABEL_VALUE];
const OTHER_INDEX = HTTP_METHODS.length;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of an `Authorization` header against the configured credentials. */
function authChecker(auth: MetricsAuth | undefined): ((header: string | undefined) => boolean) | undefined {
  if (!auth) return undefined;
  const scheme = 'token' in auth ? 'bearer' : 'basic';
  const secret =
    'token' in auth ? auth.token : Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  const expected = sha256(secret);
  return (header) => {
    if (typeof header !== 'string') return false;
    const space = header.indexOf(' ');
    const given = space < 0 ? '' : header.slice(space + 1).trim();
    const ok = timingSafeEqual(sha256(given), expected);
    return ok && header.slice(0, space).toLowerCase() === scheme;
  };
}

interface Series {
  inc: () => void;
  observeDuration: (seconds: number) => void;
  observeRequestSize: (bytes: number) => void;
  observeResponseSize: (bytes: number) => void;
  method: string;
  route: string;
  status: string;
}

type Child = { observe(value: number): void };

// --- direct series updates ---------------------------------------------------------------------
// prom-client keeps one entry per label set in `metric.hashMap` (`{ value, labels }` for counters,
// `{ labels, sum, count, bucketValues }` for histograms) and re-validates and re-hashes the labels
// on every call (about 1 µs per call). The series cache knows its label set is valid, so it finds
// its entry once and then updates it in place; whenever the entry is not the one it found (the
// metric was reset or the series removed) or the client's internals differ, it goes through the
// public API again. Exemplar histograms always use the public API.
interface CounterEntry {
  value: number;
  labels: object;
}
interface HistogramEntry {
  labels: object;
  sum: number;
  count: number;
  bucketValues: Record<number, number>;
}
type WithHashMap<E> = { hashMap?: Record<string, E> };

function findEntry<E extends { labels: object }>(
  metric: WithHashMap<E>,
  labels: object,
): [string, E] | undefined {
  const map = metric.hashMap;
  if (!map || typeof map !== 'object') return undefined;
  for (const key in map) if (map[key]?.labels === labels) return [key, map[key] as E];
  return undefined;
}

function fastInc(counter: Counter<string>, labels: Record<string, string>): () => void {
  const m = counter as unknown as WithHashMap<CounterEntry>;
  let key = '';
  let entry: CounterEntry | undefined;
  const slow = () => {
    counter.inc(labels);
    const found = findEntry(m, labels);
    entry = found && typeof found[1].value === 'number' ? found[1] : undefined;
    key = found?.[0] ?? '';
  };
  return () => {
    const e = m.hashMap?.[key];
    if (e !== undefined && e === entry) e.value += 1;
    else slow();
  };
}

function fastObserve(h: Histogram<string>, labels: Record<string, string>): (v: number) => void {
  const m = h as unknown as WithHashMap<HistogramEntry> & { upperBounds?: readonly number[] };
  const bounds = m.upperBounds;
  if (!Array.isArray(bounds)) {
    const c = h.labels(labels) as unknown as Child;
    return (v) => c.observe(v);
  }
  const n = bounds.length;
  // prom-client keys bucketValues by the bound; string keys made once avoid a number-to-string
  // conversion per observation (the largest single cost of this path when measured).
  const keys = bounds.map(String);
  let key = '';
  let entry: HistogramEntry | undefined;
  // An exemplar-enabled histogram (createMetrics({ exemplars })) takes prom-client's object form.
  const observe = (h as unknown as { enableExemplars?: boolean }).enableExemplars
    ? (v: number) => h.observe({ labels, value: v } as never)
    : (v: number) => h.observe(labels, v);
  const slow = (v: number) => {
    observe(v);
    const found = findEntry(m, labels);
    const e = found?.[1];
    entry = e && typeof e.sum === 'number' && typeof e.count === 'number' && e.bucketValues ? e : undefined;
    key = found?.[0] ?? '';
  };
  return (v) => {
    const e = m.hashMap?.[key];
    if (e === undefined || e !== entry) {
      slow(v);
      return;
    }
    e.sum += v;
    e.count += 1;
    const buckets = e.bucketValues as unknown as Record<string, number>;
    for (let i = 0; i < n; i++) {
      if (v <= (bounds[i] as number)) {
        const k = keys[i] as string;
        buckets[k] = (buckets[k] as number) + 1;
        return;
      }
    }
  };
}
type InFlightSource = { count: number };

// The in-flight count lives in a plain integer per observer; the gauge reads the sum at scrape
// time (prom-client `collect`), so the hot path does no label hashing for it.
const IN_FLIGHT_SOURCES = Symbol.for('@deia/metrics.inFlightSources');
type CollectingGauge = Gauge & {
  [IN_FLIGHT_SOURCES]?: Set<InFlightSource>;
  collect?: (this: Gauge) => void | Promise<void>;
};

function attachInFlight(metrics: Metrics): { source: InFlightSource; detach(): void } {
  const source = { count: 0 };
  if (!metrics.has('http_requests_in_flight')) return { source, detach() {} };
  const gauge = metrics.http.inFlight.metric as CollectingGauge;
  let sources = gauge[IN_FLIGHT_SOURCES];
  if (!sources) {
    const all = new Set<InFlightSource>();
    sources = all;
    gauge[IN_FLIGHT_SOURCES] = all;
    const previous = gauge.collect;
    gauge.collect = function collect(this: Gauge) {
      let n = 0;
      for (const s of all) n += s.count;
      this.set(n);
      return previous?.call(this);
    };
  }
  sources.add(source);
  const set = sources;
  return { source, detach: () => set.delete(source) };
}

const kStart = Symbol('deia.start');
const kCtx = Symbol('deia.ctx');
const kSocketBase = Symbol('deia.bytesWritten');
type TrackedResponse = ServerResponse & {
  [kStart]?: number;
  [kCtx]?: unknown;
  _contentLength?: number | null;
  _header?: string | null;
};
type TrackedSocket = { bytesWritten?: number; [kSocketBase]?: number };

/**
 * Creates the core for one app. `resolveRoute` reads the framework's matched route template at
 * the end of the request. Throws `DeiaMetricsError` on bad options.
 */
export function createHttpObserver(
  options: HttpObservabilityOptions,
  resolveRoute: RouteResolver,
  where = 'createHttpObserver',
  extraKeys: readonly string[] = [],
): HttpObserver {
  validateHttpOptions(options, where, extraKeys);
  const { metrics, health } = options;
  const metricsOption = options.metricsPath ?? DEFAULT_HTTP_OPTIONS.metricsPath;
  const ownPort = options.metricsPort !== undefined;
  const metricsPath = ownPort ? false : metricsOption;
  const abortedStatus = options.abortedStatus ?? DEFAULT_HTTP_OPTIONS.abortedStatus;
  const maxRoutes = options.maxRoutes ?? DEFAULT_HTTP_OPTIONS.maxRoutes;
  const logger = options.logger;
  const accessLog = options.accessLog === true ? logger : undefined;
  const source: MetricsSource = options.metricsSource ?? metrics.registry;
  const checkAuth = authChecker(options.metricsAuth);
  const authScheme = options.metricsAuth && ('token' in options.metricsAuth ? 'Bearer' : 'Basic');

  const logError = (err: unknown, msg: string) => {
    if (logger?.error) logger.error({ err }, msg);
    else process.emitWarning(`${msg}: ${(err as Error)?.message ?? String(err)}`, 'DeiaMetricsWarning');
  };

  // --- paths ------------------------------------------------------------------------------
  const kinds = new Map<string, number>();
  for (const p of health?.paths ?? []) kinds.set(p, PATH_SERVED);
  if (metricsPath !== false) kinds.set(metricsPath, PATH_SERVED);
  // The metrics path is never recorded, even when served on its own port (a scrape through a proxy).
  if (metricsOption !== false && !kinds.has(metricsOption)) kinds.set(metricsOption, PATH_EXCLUDED);
  const ex = options.exclude;
  const regexps: RegExp[] = [];
  let predicate: ((path: string) => boolean) | undefined;
  if (typeof ex === 'function') predicate = ex;
  else
    for (const e of ex ?? []) {
      if (e instanceof RegExp) regexps.push(e);
      else if (!kinds.has(e)) kinds.set(e, PATH_EXCLUDED);
    }
  const servedPaths = [...kinds].filter(([, k]) => k === PATH_SERVED).map(([p]) => p);

  const match = (path: string): number => {
    const kind = kinds.get(path);
    if (kind !== undefined) return kind;
    if (predicate !== undefined) {
      try {
        return predicate(path) ? PATH_EXCLUDED : PATH_RECORD;
      } catch (err) {
        logError(err, '@deia/metrics: the exclude predicate threw');
        return PATH_RECORD;
      }
    }
    for (let i = 0; i < regexps.length; i++) if ((regexps[i] as RegExp).test(path)) return PATH_EXCLUDED;
    return PATH_RECORD;
  };

  // --- series cache -----------------------------------------------------------------------
  const enabled = metrics.has('http_requests_total');
  const requests = enabled ? (metrics.http.requests.metric as Counter<string>) : undefined;
  const histogram = (name: string) =>
    metrics.has(name) ? (metrics.get(name).metric as Histogram<string>) : undefined;
  const duration = histogram('http_request_duration_seconds');
  const requestSize = histogram('http_request_size_bytes');
  const responseSize = histogram('http_response_size_bytes');
  const noop = () => {};
  const child = (h: Histogram<string> | undefined, labels: Record<string, string>): ((v: number) => void) =>
    h ? fastObserve(h, labels) : noop;

  // route -> (methodIndex * 1000 + status) -> series. Bounded: at most maxRoutes + 2 routes
  // (plus `__unmatched__` and `__overflow__`), 8 methods, status codes 100-999.
  const byRoute = new Map<string, Map<number, Series>>();
  let distinctRoutes = 0;
  let warnedOverflow = false;
  const routeMap = (route: string): Map<number, Series> => {
    let m = byRoute.get(route);
    if (m !== undefined) return m;
    let label = route;
    if (route !== UNMATCHED_ROUTE && route !== OVERFLOW_LABEL_VALUE) {
      if (distinctRoutes >= maxRoutes) {
        label = OVERFLOW_LABEL_VALUE;
        if (!warnedOverflow) {
          warnedOverflow = true;
          const msg = `@deia/metrics: more than ${maxRoutes} route templates; later ones are recorded as "${OVERFLOW_LABEL_VALUE}" (raise maxRoutes).`;
          if (logger?.warn) logger.warn({ maxRoutes }, msg);
          else process.emitWarning(msg, 'DeiaMetricsWarning');
        }
        // Raw route strings that overflowed are not kept (the map stays bounded).
        return routeMap(OVERFLOW_LABEL_VALUE);
      }
      distinctRoutes++;
    }
    m = new Map();
    byRoute.set(label, m);
    return m;
  };
  const seriesFor = (methodIndex: number, route: string, status: number): Series => {
    const m = routeMap(route);
    const key = methodIndex * 1000 + status;
    let s = m.get(key);
    if (s !== undefined) return s;
    const labels = {
      method: METHOD_BY_INDEX[methodIndex] as string,
      route: byRoute.get(route) === m ? route : OVERFLOW_LABEL_VALUE,
      status: String(status),
    };
    const exemplarDuration =
      duration && (duration as unknown as { enableExemplars?: boolean }).enableExemplars;
    s = {
      ...labels,
      inc: requests ? fastInc(requests, labels) : noop,
      // Exemplars (trace ids) are attached by the handle, which asks the exemplar provider.
      observeDuration: exemplarDuration
        ? (v) => metrics.http.duration.observe(labels, v)
        : child(duration, labels),
      observeRequestSize: child(requestSize, labels),
      observeResponseSize: child(responseSize, labels),
    };
    m.set(key, s);
    return s;
  };

  // --- hot path ---------------------------------------------------------------------------
  const inFlight = attachInFlight(metrics);
  const counter = inFlight.source;

  function onClose(this: TrackedResponse) {
    const end = performance.now();
    counter.count--;
    try {
      const start = this[kStart] as number;
      const req = this.req;
      // Aborted = the client went away before the app ended the response, or while its request
      // body was still arriving (an error handler's 400 to a dead socket is not what was "sent").
      // A response the app ended whose last bytes were not delivered keeps its status;
      // inject() responses end but never "finish".
      const finished =
        this.writableEnded &&
        !(this.writableFinished === false && (req as { aborted?: boolean }).aborted === true);
      const status = finished ? this.statusCode : abortedStatus;
      const route = resolveRoute(this[kCtx], req, this) ?? UNMATCHED_ROUTE;
      this[kCtx] = undefined;
      const method = req.method as string;
      const series = seriesFor(METHOD_INDEX.get(method) ?? OTHER_INDEX, route, status);
      const seconds = (end - start) / 1000;
      const cl = req.headers['content-length'];
      const requestBytes = cl === undefined ? 0 : Number(cl) || 0;
      const responseBytes = bytesSent(this, req, method, status, finished);
      series.inc();
      series.observeDuration(seconds);
      series.observeRequestSize(requestBytes);
      series.observeResponseSize(responseBytes);
      if (accessLog !== undefined) {
        accessLog.info(
          {
            method,
            route: series.route,
            status,
            aborted: !finished,
            duration_ms: Math.round((end - start) * 1000) / 1000,
            request_bytes: requestBytes,
            response_bytes: responseBytes,
          },
          'request completed',
        );
      }
    } catch (err) {
      logError(err, '@deia/metrics: recording an HTTP request failed');
    }
  }

  const track = (_req: IncomingMessage, res: ServerResponse, ctx: unknown): void => {
    const r = res as TrackedResponse;
    if (r[kStart] !== undefined) return; // mounted twice: count once
    r[kStart] = performance.now();
    r[kCtx] = ctx;
    counter.count++;
    res.on('close', onClose);
  };

  // --- endpoints --------------------------------------------------------------------------
  const scrape = async (req: HttpRequestInfo): Promise<HttpResponse> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return {
        statusCode: 405,
        headers: { allow: 'GET, HEAD', 'content-type': 'text/plain' },
        body: 'Method Not Allowed\n',
      };
    }
    if (checkAuth) {
      const header = req.headers.authorization;
      if (!checkAuth(Array.isArray(header) ? header[0] : header)) {
        return {
          statusCode: 401,
          headers: { 'www-authenticate': `${authScheme} realm="metrics"`, 'content-type': 'text/plain' },
          body: 'Unauthorized\n',
        };
      }
    }
    try {
      const body = await source.metrics();
      // The registry's own content type: a prom-client registry renders one format only (and
      // rendering OpenMetrics renames counters in place), so it is never rendered in both.
      return {
        statusCode: 200,
        headers: { 'content-type': source.contentType, 'cache-control': 'no-store' },
        body,
      };
    } catch (err) {
      logError(err, '@deia/metrics: rendering /metrics failed');
      return {
        statusCode: 500,
        headers: { 'content-type': 'text/plain' },
        body: 'metrics collection failed\n',
      };
    }
  };

  const serve = (req: HttpRequestInfo): Promise<HttpResponse> | undefined => {
    if (req.path === metricsPath) return scrape(req);
    if (health === undefined) return undefined;
    try {
      return health.handle(req)?.catch((err: unknown) => {
        logError(err, '@deia/metrics: a health endpoint failed');
        return { statusCode: 500, headers: { 'content-type': 'text/plain' }, body: 'health check failed\n' };
      });
    } catch (err) {
      logError(err, '@deia/metrics: a health endpoint failed');
      return Promise.resolve({
        statusCode: 500,
        headers: { 'content-type': 'text/plain' },
        body: 'health check failed\n',
      });
    }
  };

  let server: Server | undefined;
  const listen = async (): Promise<AddressInfo | undefined> => {
    if (!ownPort || metricsOption === false) return undefined;
    if (server?.listening) return server.address() as AddressInfo;
    const path = metricsOption;
    const s = createServer((req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const p = q < 0 ? url : url.slice(0, q);
      if (p !== path) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
        return;
      }
      void scrape({ method: req.method ?? 'GET', path: p, headers: req.headers }).then((r) => {
        res.writeHead(r.statusCode, r.headers).end(r.body);
      });
    });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.metricsPort, options.metricsHost ?? DEFAULT_HTTP_OPTIONS.metricsHost, () => {
        s.off('error', reject);
        resolve();
      });
    });
    return s.address() as AddressInfo;
  };
  const close = async (): Promise<void> => {
    inFlight.detach();
    const s = server;
    server = undefined;
    if (s?.listening) {
      await new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
    }
  };

  return {
    metricsPath,
    servedPaths,
    match,
    track,
    serve,
    scrape,
    listen,
    metricsAddress: () => (server?.listening ? (server.address() as AddressInfo) : undefined),
    close,
  };
}

/**
 * Response body bytes: none for HEAD, 1xx, 204 and 304; else Content-Length (set by the app, or
 * computed by node for `res.end(body)`); else (streamed, chunked, or aborted) the bytes the socket
 * wrote since the previous response on it, minus the header block (approximate: includes chunk
 * framing).
 */
function bytesSent(
  res: TrackedResponse,
  req: IncomingMessage,
  method: string,
  status: number,
  finished: boolean,
): number {
  // res.socket is already detached when the response emits close; the request keeps it
  const socket = req.socket as TrackedSocket | null;
  let written: number | undefined;
  let base = 0;
  if (socket) {
    written = socket.bytesWritten;
    base = socket[kSocketBase] ?? 0;
    if (written !== undefined) socket[kSocketBase] = written;
  }
  if (method === 'HEAD' || status === 204 || status === 304 || (status < 200 && finished)) return 0;
  // aborted: what reached the socket for this response, not what its headers promised (nothing
  // when its headers were never written: bytes on the socket then are someone else's, e.g. a
  // framework's raw 400 to a client error)
  if (!finished && typeof res._header !== 'string') return 0;
  const header = finished ? res.getHeader('content-length') : undefined;
  if (header !== undefined) {
    const n = Number(header);
    if (n >= 0) return n;
  }
  if (finished && typeof res._contentLength === 'number') return res._contentLength;
  if (written === undefined) return 0;
  const headerBytes = typeof res._header === 'string' ? res._header.length : 0;
  return Math.max(0, written - base - headerBytes);
}
