import type { DefaultLabels } from './exposition.js';
import { acceptsGzip, contentTypeOf, type MetricJson, NameWriter, negotiate } from './exposition.js';
import type { HttpRequestInfo, HttpResponse, MetricsSource } from './http-options.js';
import { nativeSourceOf } from './native-contract.js';
import { isRenderableRegistry, renderJson, renderRegistry } from './render.js';
import { renderJsonProto, renderRegistryProto } from './render-proto.js';

/** A source that hands the renderer its metrics and the default labels to apply (the cluster primary). */
export interface AggregatedSource extends MetricsSource {
  aggregated(): Promise<{ json: MetricJson[]; defaults: DefaultLabels }>;
}
const isAggregated = (s: MetricsSource): s is AggregatedSource =>
  typeof (s as Partial<AggregatedSource>).aggregated === 'function';

import { ScrapeTimeoutError, SlicedWriter } from './render-writer.js';

/**
 * One `/metrics` request: the format `Accept` prefers, gzip when accepted, rendered in slices that
 * yield to the event loop, at most `maxInFlight` at once (more are answered 503 at once, like
 * client_golang's `promhttp.HandlerOpts.MaxRequestsInFlight`) and answered 503 after `timeoutMs`
 * (like its `Timeout`).
 */

/** Limits of the `/metrics` endpoint. */
export interface ScrapeLimits {
  /** Scrapes rendered at once; more are answered 503 (`Retry-After: 1`). */
  readonly maxInFlight: number;
  /** A scrape not rendered within this many ms is answered 503. */
  readonly timeoutMs: number;
  /** Longest synchronous stretch of rendering before it yields to the event loop. */
  readonly sliceMs: number;
  /**
   * Write created timestamps where the SDK knows them (`created_timestamp` in protobuf, for the
   * native histograms it records): the option `metricsCreatedTimestamps`.
   */
  readonly createdTimestamps?: boolean;
}

/** Defaults of `ScrapeLimits` (the options `metricsMaxInFlight` and `metricsTimeoutMs`). */
export const DEFAULT_SCRAPE_LIMITS: ScrapeLimits = {
  maxInFlight: 2,
  timeoutMs: 10_000,
  sliceMs: 4,
  createdTimestamps: false,
};

const unavailable = (body: string): HttpResponse => ({
  statusCode: 503,
  headers: { 'content-type': 'text/plain', 'retry-after': '1', 'cache-control': 'no-store' },
  body,
});

/**
 * A scrape handler with these limits. The returned function resolves with the answer (200, or 503
 * when over the limit or late; `onTimeout` is told of the latter) and rejects when the source
 * fails (the caller answers 500).
 */
export function createScraper(
  limits: ScrapeLimits,
  onTimeout: (err: Error) => void,
): (source: MetricsSource, headers: HttpRequestInfo['headers']) => Promise<HttpResponse> {
  let inFlight = 0;
  const last = { bytes: 0 }; // the size of the last plain body, to allocate the next at once
  return async (source, headers) => {
    if (inFlight >= limits.maxInFlight) {
      return unavailable(`too many concurrent scrapes (limit ${limits.maxInFlight}); try again later\n`);
    }
    inFlight++;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), limits.timeoutMs);
      timer.unref();
    });
    const work = scrapeResponse(
      source,
      headers,
      {
        sliceMs: limits.sliceMs,
        deadline: started + limits.timeoutMs,
        timeoutMs: limits.timeoutMs,
      },
      last,
      limits.createdTimestamps === true,
    );
    try {
      const r = await Promise.race([work, late]);
      if (r !== undefined) return r;
      work.catch(() => {}); // stops at its next slice (deadline passed); its error is this one
      throw new ScrapeTimeoutError(limits.timeoutMs);
    } catch (err) {
      if (!(err instanceof ScrapeTimeoutError)) throw err;
      onTimeout(err);
      return unavailable(`${err.message}\n`);
    } finally {
      clearTimeout(timer);
      inFlight--;
    }
  };
}

/**
 * The 200 answer to a scrape of `source`: a registry is rendered from the SDK's own state (see
 * `render.ts`, `render-proto.ts`), another source with `getMetricsAsJSON()` from that, in the
 * format `Accept` prefers (protobuf, OpenMetrics or text, names escaped as it asks); a source with
 * neither is served with its own `metrics()` and `contentType`. Gzipped when `Accept-Encoding`
 * accepts it and the body is at least `GZIP_MIN_BYTES`. Rejects when the source does, and with
 * `ScrapeTimeoutError` past the deadline.
 */
export async function scrapeResponse(
  source: MetricsSource,
  headers: HttpRequestInfo['headers'],
  limits: ConstructorParameters<typeof SlicedWriter>[0],
  last: { bytes: number } = { bytes: 0 },
  created = false,
): Promise<HttpResponse> {
  const w = new SlicedWriter(limits, acceptsGzip(headers['accept-encoding']), last.bytes);
  let contentType: string;
  try {
    if (
      isRenderableRegistry(source) ||
      isAggregated(source) ||
      typeof source.getMetricsAsJSON === 'function'
    ) {
      const n = negotiate(headers.accept);
      const names = new NameWriter(n.escaping);
      const om = n.format === 'openmetrics';
      const opts = { created };
      if (isRenderableRegistry(source)) {
        if (n.format === 'protobuf')
          await renderRegistryProto(source, w, names, opts, nativeSourceOf(source));
        else await renderRegistry(source, om, w, names);
      } else {
        let json: MetricJson[];
        let defaults: DefaultLabels | undefined;
        if (isAggregated(source)) ({ json, defaults } = await source.aggregated());
        else json = (await source.getMetricsAsJSON?.()) as MetricJson[];
        // a cluster primary's natives, when its aggregation registers a source for it
        if (n.format === 'protobuf')
          await renderJsonProto(json, w, names, opts, defaults, nativeSourceOf(source));
        else await renderJson(json, om, w, defaults, names);
      }
      contentType = contentTypeOf(n);
    } else {
      w.write(await source.metrics());
      contentType = source.contentType;
    }
    const { body, gzipped } = await w.finish();
    if (!gzipped) last.bytes = body.length;
    const out: Record<string, string> = {
      'content-type': contentType,
      'cache-control': 'no-store',
      vary: 'Accept, Accept-Encoding',
    };
    if (gzipped) out['content-encoding'] = 'gzip';
    return { statusCode: 200, headers: out, body };
  } catch (err) {
    w.abort();
    throw err;
  }
}
