import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OptionsSchema } from '@deia/options';
import { OTHER_LABEL_VALUE } from './catalog.js';
import { createMetricsPort, createScrapeHandler, createServe } from './http-endpoints.js';
import {
  DEFAULT_HTTP_OPTIONS,
  type HttpLogger,
  type HttpObservabilityOptions,
  type HttpRequestInfo,
  type HttpResponse,
  validateHttpOptions,
} from './http-options.js';
import { createPathMatcher, type ErrorLog, type PathKind } from './http-paths.js';
import { createHttpRecorder, inFlightOf } from './http-record.js';
import { createSeriesCache, METHOD_INDEX, type OverflowLog } from './http-routes.js';
import { httpStoreOf } from './http-series.js';
import { createTracker, type RouteResolver } from './http-track.js';
import { metricsLoggerOf } from './metrics-logger.js';

/**
 * Framework-neutral HTTP instrumentation shared by `@deia/express` and `@deia/fastify`: label rules,
 * timing, exclusions, in-flight count, sizes, aborted requests, access log and the `/metrics`
 * endpoint. Adapters only read the framework's route and hand over node's request/response.
 *
 * This module puts the observer together; each part has its own module: path classification
 * (`http-paths.ts`), route labels and the series cache (`http-routes.ts`), status/size recording
 * and the in-flight gauge (`http-record.ts`), the recording fast path (`http-track.ts`), response
 * sizes (`http-request-state.ts`) and the SDK's endpoints (`http-endpoints.ts`).
 */

export { PATH_EXCLUDED, PATH_RECORD, PATH_SERVED, type PathKind } from './http-paths.js';
export type { RouteResolver } from './http-track.js';

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

/** Logs through `logger.error` when the logger has one, else as a process warning. */
function errorLog(logger: HttpLogger | undefined): ErrorLog {
  return (err, msg) => {
    if (logger?.error) logger.error({ err }, msg);
    else process.emitWarning(`${msg}: ${(err as Error)?.message ?? String(err)}`, 'DeiaMetricsWarning');
  };
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
  const logger = options.logger;
  const logError = errorLog(logger);
  const scrape = createScrapeHandler(options, logError);
  const { match, servedPaths } = createPathMatcher(options, metricsPath, metricsOption, logError);

  const store = httpStoreOf(metrics);
  // Route overflow goes to the adapter's logger, else to the one given to createMetrics, else to
  // a process warning (which NODE_NO_WARNINGS hides: operators should pass a logger).
  const overflowLog: OverflowLog | undefined = logger?.warn
    ? (logger as OverflowLog)
    : metricsLoggerOf(metrics);
  const recorder = createHttpRecorder(metrics, store);
  const { seriesFor, overflow } = createSeriesCache(
    options.maxRoutes ?? DEFAULT_HTTP_OPTIONS.maxRoutes,
    overflowLog,
    recorder,
  );
  store?.overflow.add(overflow);
  const { counter, gauge } = inFlightOf(metrics, store);
  const { track, setContext } = createTracker({
    resolveRoute,
    abortedStatus: options.abortedStatus ?? DEFAULT_HTTP_OPTIONS.abortedStatus,
    accessLog: options.accessLog === true ? logger : undefined,
    logError,
    seriesFor,
    record: recorder.record,
    counter,
    inFlightGauge: gauge,
  });

  const port = createMetricsPort(options, ownPort, metricsOption, scrape, logError);
  const close = async (): Promise<void> => {
    store?.inFlight.delete(counter);
    store?.overflow.delete(overflow);
    await port.close();
  };

  return {
    metricsPath,
    servedPaths,
    match,
    track,
    setContext,
    serve: createServe(metricsPath, health, scrape, logError),
    scrape,
    listen: port.listen,
    metricsAddress: port.address,
    close,
  };
}
