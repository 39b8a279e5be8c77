import { HTTP_METHODS, OTHER_LABEL_VALUE, OVERFLOW_LABEL_VALUE, UNMATCHED_ROUTE } from './catalog.js';
import type { HttpRecorder, Series } from './http-record.js';
import type { HttpLabels } from './http-series.js';

/**
 * Route-label resolution and the series cache of one observer: which `route` label a route
 * template gets (itself, or `__overflow__` past `maxRoutes`), the warnings when templates
 * overflow, and the `Series` of each method, route and status.
 */

/** Index of each of `HTTP_METHODS`; any other method is `OTHER_INDEX`. */
export const METHOD_INDEX = new Map<string, number>(HTTP_METHODS.map((m, i) => [m, i]));
const METHOD_BY_INDEX = [...HTTP_METHODS, OTHER_LABEL_VALUE];
/** The method index of `other`. */
export const OTHER_INDEX = HTTP_METHODS.length;

const MAX_OVERFLOW_COUNTED = 10_000;

/** Where route-overflow warnings go (a pino-like logger's `warn`). */
export type OverflowLog = { warn(obj: object, msg: string): void };

/** The series lookup of one observer, and the overflow count the `http_routes_overflowed` gauge sums. */
export interface SeriesCache {
  /** The series of a method index (`METHOD_INDEX`), route template and status, created on first use. */
  seriesFor(methodIndex: number, route: string, status: number): Series;
  /** Route templates past `maxRoutes` seen so far (bounded at 10,000). */
  readonly overflow: { count: number };
}

/**
 * Creates the cache of one observer. At most `maxRoutes` distinct templates get their own label
 * (`__unmatched__` and `__overflow__` do not count); later ones are recorded as `__overflow__`
 * and warned about through `overflowLog` (else a process warning) at the first, then at 10, 100,
 * 1000 and 10000. New series are filled by `recorder.attach`.
 */
export function createSeriesCache(
  maxRoutes: number,
  overflowLog: OverflowLog | undefined,
  recorder: HttpRecorder,
): SeriesCache {
  const attach = recorder.attach;
  // route -> (methodIndex * 1000 + status) -> series. Bounded: at most maxRoutes + 2 routes
  // (plus `__unmatched__` and `__overflow__`), 8 methods, status codes 100-999.
  const byRoute = new Map<string, Map<number, Series>>();
  let distinctRoutes = 0;
  // Route templates past maxRoutes: counted (up to a bound) for `http_routes_overflowed`.
  const overflowed = new Set<string>();
  const overflow = { count: 0 };
  const warnings = overflowWarnings(maxRoutes, overflowLog);
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
          warnings(route, overflowed.size);
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
  return { seriesFor, overflow };
}

/**
 * The overflow warnings: `(route, overflowed)` is called with each newly overflowed template and
 * the count so far; it warns at the first (through `log`, else a process warning, which
 * NODE_NO_WARNINGS hides) and, through `log` only, when the count reaches 10, 100, 1000 and 10000.
 */
function overflowWarnings(
  maxRoutes: number,
  log: OverflowLog | undefined,
): (route: string, overflowed: number) => void {
  let nextOverflowLog = 10;
  return (route, overflowed) => {
    if (overflowed === 1) {
      const msg = `@deia/metrics: ${maxRoutes + 1} route templates seen, more than maxRoutes (${maxRoutes}); "${route}" and every later new template are recorded as route="${OVERFLOW_LABEL_VALUE}". Raise the maxRoutes option (e.g. maxRoutes: ${maxRoutes * 2}) if these are real routes; the http_routes_overflowed gauge counts them.`;
      if (log) log.warn({ maxRoutes, route }, msg);
      else process.emitWarning(msg, 'DeiaMetricsWarning');
    } else if (log && overflowed === nextOverflowLog) {
      // the growth is logged too, at 10, 100, 1000 and 10000 templates (bounded)
      nextOverflowLog *= 10;
      log.warn(
        { maxRoutes, route, overflowed },
        `@deia/metrics: ${overflowed} route templates are now recorded as route="${OVERFLOW_LABEL_VALUE}" (maxRoutes ${maxRoutes}); raise maxRoutes if these are real routes.`,
      );
    }
  };
}
