import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OptionsSchema } from '@deia/options';
import { HTTP_METHODS, OTHER_LABEL_VALUE, OVERFLOW_LABEL_VALUE, UNMATCHED_ROUTE } from './catalog.js';
import type { AnyHandle } from './handles.js';
import {
  DEFAULT_HTTP_OPTIONS,
  type HttpObservabilityOptions,
  type HttpRequestInfo,
  type HttpResponse,
  type MetricsAuth,
  type MetricsSource,
  validateHttpOptions,
} from './http-options.js';
import { type CounterSeries, type HistogramSeries, type HttpLabels, httpStoreOf } from './http-series.js';
import { metricsLoggerOf } from './metrics-logger.js';
import { createScraper, DEFAULT_SCRAPE_LIMITS } from './scrape.js';
import type { CounterHandle, HistogramHandle } from './types.js';

/**
 * Framework-neutral HTTP instrumentation shared by `@deia/express` and `@deia/fastify`: label rules,
 * timing, exclusions, in-flight count, sizes, aborted requests, access log and the `/metrics`
 * endpoint. Adapters only read the framework's route and hand over node's request/response.
 */

/** How the adapter treats a request path: the result of `HttpObserver.match`. */
export type PathKind = 'record' | 'excluded' | 'served';
/** Recorded in the HTTP metrics. */
export const PATH_RECORD = 'record' satisfies PathKind;
/** Not recorded (excluded by option). */
export const PATH_EXCLUDED = 'excluded' satisfies PathKind;
/** Served by the SDK (metrics or health) and not recorded. */
export const PATH_SERVED = 'served' satisfies PathKind;

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
  /** `'record'`, `'excluded'` or `'served'` (`PATH_*`) for a path (no query string). */
  match(path: string): PathKind;
  /** Starts measuring: one clock read, in-flight +1, one shared 'close' listener on `res`. */
  track(req: IncomingMessage, res: ServerResponse, ctx: unknown): void;
  /**
   * Gives a response already tracked the `ctx` its route is resolved from, and says whether it was
   * tracked: an adapter can start measuring where the server receives the request and hand over
   * the framework's request object once the framework has one.
   */
  setContext(res: ServerResponse, ctx: unknown): boolean;
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
  readonly labels: HttpLabels;
  /** The store's epoch the direct series below belong to. */
  epoch: number;
  c: CounterSeries | undefined;
  d: HistogramSeries | undefined;
  rq: HistogramSeries | undefined;
  rs: HistogramSeries | undefined;
}

const MAX_OVERFLOW_COUNTED = 10_000;
// Per-request state in one object under one symbol: one property added to `res` (Express's
// response objects are costly to extend), plus the write/end wrappers.
const kState = Symbol('deia.request');
interface RequestState {
  start: number;
  ctx: unknown;
  bytes: number;
  write: Write;
  end: Write;
}
type Write = (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) => unknown;
type TrackedResponse = ServerResponse & {
  [kState]?: RequestState;
};

// Response body bytes from node's public response API only: the Content-Length the
// response declares (public `getHeader`), else the bytes handed to `write`/`end` (counted by
// wrapping them on the response object, as compression middleware does; only computed when no
// Content-Length is set).
function count(res: TrackedResponse, chunk: unknown, encoding: unknown): void {
  if (chunk == null || typeof chunk === 'function') return;
  if (typeof chunk === 'string') {
    if (res.hasHeader('content-length')) return;
    (res[kState] as RequestState).bytes += Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
    );
  } else if (typeof (chunk as Uint8Array).byteLength === 'number') {
    (res[kState] as RequestState).bytes += (chunk as Uint8Array).byteLength;
  }
}
function countingWrite(this: TrackedResponse, chunk: unknown, encoding?: unknown, cb?: unknown): unknown {
  count(this, chunk, encoding);
  return (this[kState] as RequestState).write.call(this, chunk, encoding, cb);
}
function countingEnd(this: TrackedResponse, chunk?: unknown, encoding?: unknown, cb?: unknown): unknown {
  count(this, chunk, encoding);
  return (this[kState] as RequestState).end.call(this, chunk, encoding, cb);
}

/**
 * Creates the core for one app. `resolveRoute` reads the framework's matched route template at
 * the end of the request; `where` names the caller in errors (`'deiaExpress'`); `extra` declares
 * the adapter's own options (`{ shutdown: rule }`, see `rules`). Throws `DeiaMetricsError` (code
 * `DEIA_HTTP_OPTIONS`) on bad options.
 */
export function createHttpObserver(
  options: HttpObservabilityOptions,
  resolveRoute: RouteResolver,
  where = 'createHttpObserver',
  extra: OptionsSchema = {},
): HttpObserver {
  validateHttpOptions(options, where, extra);
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
  const scrapeSource = createScraper(
    {
      ...DEFAULT_SCRAPE_LIMITS,
      maxInFlight: options.metricsMaxInFlight ?? DEFAULT_SCRAPE_LIMITS.maxInFlight,
      timeoutMs: options.metricsTimeoutMs ?? DEFAULT_SCRAPE_LIMITS.timeoutMs,
      createdTimestamps: options.metricsCreatedTimestamps === true,
    },
    (err) => logError(err, '@deia/metrics: /metrics answered 503'),
  );

  // --- paths ------------------------------------------------------------------------------
  const kinds = new Map<string, PathKind>();
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

  const match = (path: string): PathKind => {
    // a trailing slash is ignored on the SDK's own paths, as @deia/health's handle() does
    const kind =
      kinds.get(path) ?? (path.length > 1 && path.endsWith('/') ? kinds.get(path.slice(0, -1)) : undefined);
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
  // With the store of this `createMetrics()` handle, requests are recorded straight into its
  // series objects; a metric that is not the store's (registered by another copy of this
  // package, say) is recorded through its public handle instead.
  const store = httpStoreOf(metrics);
  const direct = {
    requests: store?.requests,
    duration: store?.duration,
    requestSize: store?.requestSize,
    responseSize: store?.responseSize,
  };
  const handle = <H extends AnyHandle>(name: string, own: unknown): H | undefined =>
    own === undefined && metrics.has(name) ? metrics.get<H>(name) : undefined;
  const publicApi = {
    requests: handle<CounterHandle<string>>('http_requests_total', direct.requests),
    duration: handle<HistogramHandle<string>>('http_request_duration_seconds', direct.duration),
    requestSize: handle<HistogramHandle<string>>('http_request_size_bytes', direct.requestSize),
    responseSize: handle<HistogramHandle<string>>('http_response_size_bytes', direct.responseSize),
  };
  const attach = (s: Series): void => {
    s.epoch = store?.epoch ?? 0;
    s.c = direct.requests?.seriesFor(s.labels);
    s.d = direct.duration?.seriesFor(s.labels);
    s.rq = direct.requestSize?.seriesFor(s.labels);
    s.rs = direct.responseSize?.seriesFor(s.labels);
  };
  const record = (s: Series, seconds: number, requestBytes: number, responseBytes: number): void => {
    if (store !== undefined && s.epoch !== store.epoch) attach(s); // reset() or remove() dropped them
    if (s.c !== undefined) s.c.value += 1;
    else publicApi.requests?.inc(s.labels);
    if (s.d !== undefined) direct.duration?.record(s.d, seconds, true);
    else publicApi.duration?.observe(s.labels, seconds);
    if (s.rq !== undefined) direct.requestSize?.record(s.rq, requestBytes, false);
    else publicApi.requestSize?.observe(s.labels, requestBytes);
    if (s.rs !== undefined) direct.responseSize?.record(s.rs, responseBytes, false);
    else publicApi.responseSize?.observe(s.labels, responseBytes);
  };

  // route -> (methodIndex * 1000 + status) -> series. Bounded: at most maxRoutes + 2 routes
  // (plus `__unmatched__` and `__overflow__`), 8 methods, status codes 100-999.
  const byRoute = new Map<string, Map<number, Series>>();
  let distinctRoutes = 0;
  // Route templates past maxRoutes: counted (up to a bound) for `http_routes_overflowed`.
  const overflowed = new Set<string>();
  const overflow = { count: 0 };
  // Route overflow goes to the adapter's logger, else to the one given to createMetrics, else to
  // a process warning (which NODE_NO_WARNINGS hides: operators should pass a logger).
  const overflowLog: { warn(obj: object, msg: string): void } | undefined = logger?.warn
    ? (logger as { warn(obj: object, msg: string): void })
    : metricsLoggerOf(metrics);
  let nextOverflowLog = 10;
  store?.overflow.add(overflow);
  const routeMap = (route: string): Map<number, Series> => {
    let m = byRoute.get(route);
    if (m !== undefined) return m;
    let label = route;
    if (route !== UNMATCHED_ROUTE && route !== OVERFLOW_LABEL_VALUE) {
      if (distinctRoutes >= maxRoutes) {
        label = OVERFLOW_LABEL_VALUE;
        if (overflowed.size < MAX_OVERFLOW_COUNTED && !overflowed.has(route)) {
          overflowed.add(route);
          overflow.count = overflowed.size;
          if (overflowed.size === 1) {
            const msg = `@deia/metrics: ${maxRoutes + 1} route templates seen, more than maxRoutes (${maxRoutes}); "${route}" and every later new template are recorded as route="${OVERFLOW_LABEL_VALUE}". Raise the maxRoutes option (e.g. maxRoutes: ${maxRoutes * 2}) if these are real routes; the http_routes_overflowed gauge counts them.`;
            if (overflowLog) overflowLog.warn({ maxRoutes, route }, msg);
            else process.emitWarning(msg, 'DeiaMetricsWarning');
          } else if (overflowLog && overflowed.size === nextOverflowLog) {
            // the growth is logged too, at 10, 100, 1000 and 10000 templates (bounded)
            nextOverflowLog *= 10;
            overflowLog.warn(
              { maxRoutes, route, overflowed: overflowed.size },
              `@deia/metrics: ${overflowed.size} route templates are now recorded as route="${OVERFLOW_LABEL_VALUE}" (maxRoutes ${maxRoutes}); raise maxRoutes if these are real routes.`,
            );
          }
        }
        // Raw route strings that overflowed are not kept as series (the map stays bounded).
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
    const labels: HttpLabels = {
      method: METHOD_BY_INDEX[methodIndex] as string,
      route: byRoute.get(route) === m ? route : OVERFLOW_LABEL_VALUE,
      status: String(status),
    };
    s = { labels, epoch: 0, c: undefined, d: undefined, rq: undefined, rs: undefined };
    attach(s);
    m.set(key, s);
    return s;
  };

  // In-flight: a plain integer per observer that the gauge sums at scrape time; without the
  // store's gauge, the gauge's public inc()/dec().
  const counter = { count: 0 };
  const inFlightGauge =
    store?.inFlightGauge === true || !metrics.has('http_requests_in_flight')
      ? undefined
      : metrics.http.inFlight;
  if (inFlightGauge === undefined) store?.inFlight.add(counter);

  // --- hot path ---------------------------------------------------------------------------
  function onClose(this: TrackedResponse) {
    const end = performance.now();
    counter.count--;
    inFlightGauge?.dec();
    try {
      const state = this[kState] as RequestState;
      const start = state.start;
      const req = this.req;
      // Aborted = the client went away before the app ended the response, or while its request
      // body was still arriving (an error handler's 400 to a dead socket is not what was "sent").
      // A response the app ended whose last bytes were not delivered keeps its status;
      // inject() responses end but never "finish".
      const finished =
        this.writableEnded &&
        !(this.writableFinished === false && (req as { aborted?: boolean }).aborted === true);
      const status = finished ? this.statusCode : abortedStatus;
      const route = resolveRoute(state.ctx, req, this) ?? UNMATCHED_ROUTE;
      state.ctx = undefined;
      const method = req.method as string;
      const series = seriesFor(METHOD_INDEX.get(method) ?? OTHER_INDEX, route, status);
      const seconds = (end - start) / 1000;
      const cl = req.headers['content-length'];
      const requestBytes = cl === undefined ? 0 : Number(cl) || 0;
      const responseBytes = bytesSent(this, method, status, finished);
      record(series, seconds, requestBytes, responseBytes);
      if (accessLog !== undefined) {
        accessLog.info(
          {
            method,
            route: series.labels.route,
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
    if (r[kState] !== undefined) return; // mounted twice: count once
    r[kState] = { start: performance.now(), ctx, bytes: 0, write: res.write as Write, end: res.end as Write };
    res.write = countingWrite as ServerResponse['write'];
    res.end = countingEnd as ServerResponse['end'];
    counter.count++;
    inFlightGauge?.inc();
    res.on('close', onClose);
  };

  const setContext = (res: ServerResponse, ctx: unknown): boolean => {
    const state = (res as TrackedResponse)[kState];
    if (state === undefined) return false;
    state.ctx = ctx;
    return true;
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
      return await scrapeSource(source, req.headers);
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
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
    if (path === metricsPath) return scrape(req);
    if (health === undefined) return undefined;
    try {
      return health.handle(path === req.path ? req : { ...req, path })?.catch((err: unknown) => {
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
      if (p !== path && p !== `${path}/`) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
        return;
      }
      void scrape({ method: req.method ?? 'GET', path: p, headers: req.headers }).then(
        (r) => res.writeHead(r.statusCode, r.headers).end(r.body),
        (err: unknown) => {
          logError(err, 'metrics port: scrape failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end();
        },
      );
    });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.metricsPort, options.metricsHost ?? DEFAULT_HTTP_OPTIONS.metricsHost, () => {
        s.off('error', reject);
        // an error of the listening server later (e.g. EMFILE on accept) is logged, never a crash
        s.on('error', (err) => logError(err, 'metrics port: server error'));
        resolve();
      });
    });
    return s.address() as AddressInfo;
  };
  const close = async (): Promise<void> => {
    store?.inFlight.delete(counter);
    store?.overflow.delete(overflow);
    const s = server;
    server = undefined;
    if (s?.listening) {
      // close() waits for open connections: a scraper's idle keep-alive socket would hold it
      // for the keep-alive timeout, so connections go first
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    }
  };

  return {
    metricsPath,
    servedPaths,
    match,
    track,
    setContext,
    serve,
    scrape,
    listen,
    metricsAddress: () => (server?.listening ? (server.address() as AddressInfo) : undefined),
    close,
  };
}

/**
 * Response body bytes: none for HEAD, 1xx, 204 and 304; else the Content-Length the response
 * declares; else (streamed, chunked, or aborted) the body bytes the app wrote.
 */
function bytesSent(res: TrackedResponse, method: string, status: number, finished: boolean): number {
  if (method === 'HEAD' || status === 204 || status === 304 || (status < 200 && finished)) return 0;
  // aborted before its headers went out, or after the app had ended it but before node could
  // flush it (an error handler answering a client that is gone): none of it was delivered
  if (!finished && (!res.headersSent || res.writableEnded)) return 0;
  if (finished) {
    const header = res.getHeader('content-length');
    if (header !== undefined) {
      const n = Number(header);
      if (n >= 0) return n;
    }
  }
  return res[kState]?.bytes ?? 0;
}
