// Shared by the HTTP core tests and the prom-client matrix: the fast recording path writes the HTTP
// series into the SDK's own store; the only other way a request reaches them is the handles' public
// inc()/observe() (the path taken when a metric is not this store's). Counting those calls is how a
// test notices the fast path silently disengaging.
import type { Metrics } from '../../src/index.js';

// every HTTP series a request records into: all four have a fast path, each one can fall off it alone
const HTTP_RECORDED = [
  'http_requests_total',
  'http_request_duration_seconds',
  'http_request_size_bytes',
  'http_response_size_bytes',
];

/**
 * Wraps the public `inc`/`observe` of the HTTP handles of `metrics` and returns a live count of
 * their calls. Call before any traffic; app code calling `inc()` itself counts too (by design).
 */
export function countPublicCalls(metrics: Metrics): { readonly count: number } {
  const counter = { count: 0 };
  for (const name of HTTP_RECORDED) {
    // get() throws DEIA_METRIC_UNKNOWN when the http group is off
    const h = metrics.get(name) as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const fn of ['inc', 'observe'].filter((f) => typeof h[f] === 'function')) {
      const original = h[fn] as (...a: unknown[]) => unknown;
      h[fn] = (...args: unknown[]) => {
        counter.count++;
        return original(...args);
      };
    }
  }
  return counter;
}
