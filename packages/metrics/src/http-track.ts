import type { IncomingMessage, ServerResponse } from 'node:http';
import { UNMATCHED_ROUTE } from './catalog.js';
import type { HttpLogger } from './http-options.js';
import type { ErrorLog } from './http-paths.js';
import type { HttpRecorder } from './http-record.js';
import {
  bytesSent,
  countingEnd,
  countingWrite,
  kState,
  type RequestState,
  type TrackedResponse,
  type Write,
} from './http-request-state.js';
import { METHOD_INDEX, OTHER_INDEX, type SeriesCache } from './http-routes.js';

/**
 * The recording fast path: `track` starts measuring a request, and one shared 'close' listener
 * records it when the response closes (status, route, duration, sizes, the access-log line).
 */

/**
 * Returns the route template of a finished request, or `undefined` when no route matched.
 * `ctx` is what the adapter passed to `track` (the framework's request object).
 */
export type RouteResolver = (ctx: unknown, req: IncomingMessage, res: ServerResponse) => string | undefined;

/** What the fast path of one observer reads; each is resolved once, when the observer is created. */
export interface TrackerParts {
  readonly resolveRoute: RouteResolver;
  /** The status recorded for an aborted request. */
  readonly abortedStatus: number;
  /** Gets one line per request when the access log is on. */
  readonly accessLog: HttpLogger | undefined;
  readonly logError: ErrorLog;
  readonly seriesFor: SeriesCache['seriesFor'];
  readonly record: HttpRecorder['record'];
  /** This observer's in-flight count (the store's gauge sums it). */
  readonly counter: { count: number };
  /** The in-flight gauge's public handle, when the store's gauge is not in use. */
  readonly inFlightGauge: { inc(): void; dec(): void } | undefined;
}

/**
 * Creates `track` and `setContext` for one observer. `track` counts a response once (a second
 * call for the same response is ignored); the 'close' listener logs what recording fails on and
 * never throws. `setContext` says whether the response was tracked.
 */
export function createTracker(parts: TrackerParts): {
  track(req: IncomingMessage, res: ServerResponse, ctx: unknown): void;
  setContext(res: ServerResponse, ctx: unknown): boolean;
} {
  const { resolveRoute, abortedStatus, accessLog, logError, seriesFor, record, counter, inFlightGauge } =
    parts;

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
  return { track, setContext };
}
