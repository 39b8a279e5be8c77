import type { HttpObservabilityOptions } from './http-options.js';

/**
 * Path classification: which request paths the HTTP core records, which it leaves out (the
 * `exclude` option, the metrics path) and which the SDK serves itself (metrics, health).
 */

/** How the adapter treats a request path: the result of `HttpObserver.match`. */
export type PathKind = 'record' | 'excluded' | 'served';
/** Recorded in the HTTP metrics. */
export const PATH_RECORD = 'record' satisfies PathKind;
/** Not recorded (excluded by option). */
export const PATH_EXCLUDED = 'excluded' satisfies PathKind;
/** Served by the SDK (metrics or health) and not recorded. */
export const PATH_SERVED = 'served' satisfies PathKind;

/** Logs an error the HTTP core caught (it never throws into the app). */
export type ErrorLog = (err: unknown, msg: string) => void;

/**
 * Builds `match` for one observer: `metricsPath` is where metrics are served on the app (`false`
 * when not), `metricsOption` the configured metrics path (never recorded, even when served on its
 * own port); health paths are served; `exclude` (paths, RegExps or a predicate) is excluded. A
 * trailing slash is ignored on the SDK's own paths; a throwing predicate is logged and the path
 * recorded. `servedPaths` lists the paths served on the app.
 */
export function createPathMatcher(
  options: Pick<HttpObservabilityOptions, 'exclude' | 'health'>,
  metricsPath: string | false,
  metricsOption: string | false,
  logError: ErrorLog,
): { match: (path: string) => PathKind; servedPaths: string[] } {
  const kinds = new Map<string, PathKind>();
  for (const p of options.health?.paths ?? []) kinds.set(p, PATH_SERVED);
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
  return { match, servedPaths };
}
