/**
 * Route templates for Express 4 and 5, from public API only. `req.route.path` is the template
 * relative to the router that owns the route; `req.baseUrl` holds the *matched URL* of the mounts
 * (`/bots/42`, not `/bots/:botId`) and is reset when an error leaves a nested router.
 *
 * - Express 5: `app.router` is public, so the full template of each `Route` object is found once
 *   by walking the router's stack (router >= 2.3 keeps each mount path as `layer.rawPath`). Routes
 *   under a mount it does not keep (router 2.2) take the Express 4 way below.
 * - Express 4 keeps its router in private state, so nothing is walked: the template is the
 *   mount part recovered from the URL plus `req.route.path` (see `createExpress4Templates`).
 */
import UrlValueParser from 'url-value-parser';

interface RouteLike {
  path: unknown;
}
interface LayerLike {
  route?: RouteLike;
  handle?: { stack?: LayerLike[]; mountpath?: unknown };
  rawPath?: unknown; // router >= 2.3
}
interface AppLike {
  router?: { stack?: LayerLike[] };
}

const trimSlash = (p: string) => (p === '/' ? '' : p.endsWith('/') ? p.slice(0, -1) : p);

function asPaths(p: unknown): string[] | undefined {
  if (typeof p === 'string') return [p];
  if (p instanceof RegExp) return [String(p)];
  if (Array.isArray(p)) {
    const out: string[] = [];
    for (const x of p.flat(Infinity as 1)) {
      const xs = asPaths(x);
      if (!xs) return undefined;
      out.push(...xs);
    }
    return out;
  }
  return undefined;
}

function mountPaths(layer: LayerLike): string[] | undefined {
  const handle = layer.handle as { mountpath?: unknown; set?: unknown } | undefined;
  // a mounted sub-app knows its mount path
  if (handle?.mountpath !== undefined && typeof handle.set === 'function') {
    const paths = asPaths(handle.mountpath);
    if (paths) return paths.map(trimSlash);
  }
  if (layer.rawPath !== undefined) return asPaths(layer.rawPath)?.map(trimSlash);
  return undefined;
}

/**
 * The router of an Express 5 app (`app.router`, public since 5.0). Express 4's `app.router` getter
 * throws ("'app.router' is deprecated!"): undefined there, which is how Express 4 is told apart.
 */
export function routerOf(app: object): { stack: LayerLike[] } | undefined {
  try {
    const router = (app as AppLike).router;
    return router && Array.isArray(router.stack) ? (router as { stack: LayerLike[] }) : undefined;
  } catch {
    return undefined;
  }
}

/** Router stack of an app or router function. */
function stackOf(handle: LayerLike['handle'] | AppLike | undefined): LayerLike[] | undefined {
  if (!handle) return undefined;
  const h = handle as LayerLike['handle'] & AppLike;
  if (Array.isArray(h.stack)) return h.stack;
  // an app: Express 5's `router` getter creates the router when there is none, which is harmless
  if (typeof (h as { set?: unknown }).set === 'function') return routerOf(h)?.stack;
  return undefined;
}

/**
 * Mount template of a sub-app (`app.use('/sub/:x', subApp)`), through its parents. Express wraps
 * mounted apps in a closure, so walking the root app does not reach their routes; the request's
 * `req.app` (the sub-app while it handles the request) is walked from its own mount path instead.
 */
export function appPrefix(app: { mountpath?: unknown; parent?: unknown }, depth = 0): string {
  if (!app.parent || depth > 32) return '';
  const own = asPaths(app.mountpath)?.[0] ?? '';
  return appPrefix(app.parent as typeof app, depth + 1) + trimSlash(own);
}

/**
 * Walks an app's router tree: every Route object -> its full template(s). Returns false when a
 * mount path could not be read (the routes under it are left out).
 */
export function collectTemplates(app: AppLike, into: Map<object, string[]>, prefix = ''): boolean {
  let complete = true;
  const seen = new Set<unknown>();
  const walk = (stack: LayerLike[] | undefined, prefix: string, depth: number) => {
    if (!stack || depth > 32 || seen.has(stack)) return;
    seen.add(stack);
    for (const layer of stack) {
      if (layer.route) {
        for (const p of asPaths(layer.route.path) ?? []) {
          const list = into.get(layer.route) ?? [];
          const full = prefix + p || '/';
          if (!list.includes(full)) list.push(full);
          into.set(layer.route, list);
        }
        continue;
      }
      const inner = stackOf(layer.handle);
      if (!inner) continue;
      const mounts = mountPaths(layer);
      if (!mounts) {
        // routes under it stay unknown: the caller recovers their mount from the URL instead
        complete = false;
        continue;
      }
      for (const m of mounts) walk(inner, prefix + m, depth + 1);
      seen.delete(inner);
    }
    seen.delete(stack);
  };
  walk(stackOf(app as LayerLike['handle'] & AppLike), prefix, 0);
  return complete;
}

// ---------------------------------------------------------------------------------------------
// Express 4: public API only (req.route.path, req.baseUrl, req.originalUrl, app.path()).

/** Stands for an id-like segment of an Express 4 mount URL (url-value-parser's own placeholder). */
export const VALUE_SEGMENT = '#val';

/** Non-empty path segments (Express collapses no slashes, but an empty segment never holds an id). */
function split(p: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const end = p.indexOf('/', start);
    const stop = end === -1 ? p.length : end;
    if (stop > start) out.push(p.slice(start, stop));
    if (end === -1) return out;
    start = end + 1;
  }
}
const SIMPLE_SEGMENT = /^(?::[A-Za-z_$][\w$]*|[^:*?()[\]{}+\\]+)$/;

/**
 * Segments of a template made only of literal and `:name` segments, the only kind whose URL
 * segments can be matched back one to one; undefined for anything else (`?`, `*`, RegExp...).
 */
export function simpleSegments(template: unknown): string[] | undefined {
  if (typeof template !== 'string' || !template.startsWith('/')) return undefined;
  const segs = split(template);
  return segs.every((s) => SIMPLE_SEGMENT.test(s)) ? segs : undefined;
}

/** Express matches case-insensitively by default; a `:param` takes any non-empty segment. */
const matches = (templateSegs: readonly string[], urlSegs: readonly string[], at = 0): boolean =>
  templateSegs.every((t, i) => {
    const u = urlSegs[at + i];
    return u !== undefined && (t.startsWith(':') || t.toLowerCase() === u.toLowerCase());
  });

interface Mount {
  template: string;
  segs: string[];
}

/** Checks the `mounts` option: full mount templates such as `/bots/:botId`. */
export function parseMounts(mounts: unknown, where: string): Mount[] {
  if (mounts === undefined) return [];
  if (!Array.isArray(mounts)) {
    throw new TypeError(`${where}: mounts must be an array of mount templates such as ['/bots/:botId'].`);
  }
  return mounts
    .map((m: unknown) => {
      const segs = simpleSegments(m);
      if (!segs || segs.length === 0) {
        throw new TypeError(
          `${where}: mounts entry ${JSON.stringify(m)} is not a mount template; use literal and :name segments from the root, such as '/bots/:botId'.`,
        );
      }
      return { template: `/${segs.join('/')}`, segs };
    })
    .sort((x, y) => y.segs.length - x.segs.length);
}

interface RouteInfo {
  paths: Array<{ path: string; segs: string[] | undefined }>;
}

export interface Express4Request {
  originalUrl?: string;
  url?: string;
  baseUrl?: string;
  route: { path: unknown };
  app?: object;
}

/**
 * Express 4 templates without private state. The route part is `req.route.path`. The mount part
 * is the matched mount URL: the request path minus the segments the route template matched (so an
 * error handler outside the router, where `req.baseUrl` is already reset, still sees it), else
 * `req.baseUrl`. Its template is recovered publicly, longest first, from:
 * 1. the `mounts` option (`['/bots/:botId']`), matched segment by segment against the mount URL;
 * 2. the sub-app's documented `app.path()` (its mount paths, e.g. `/tenants/:tenant`);
 * 3. what remains is normalised with url-value-parser (as express-prom-bundle does): numbers,
 *    UUIDs, hex, dates, JWT/base64 segments become `#val`. A slug id (`/bots/alpha`) is not
 *    recognised: give that mount in `mounts`; `maxRoutes` stays the last guard.
 */
export function createExpress4Templates(mounts: readonly Mount[]): (req: Express4Request) => string {
  const parser = new UrlValueParser();
  const routes = new WeakMap<object, RouteInfo>();
  const appPaths = new WeakMap<object, Mount | null>();
  // Segments url-value-parser found not to be values (the literal parts of mount paths), so each
  // request runs its nine masks only on the id-like segments, which mostly match the first ones.
  // Bounded: slug ids are not values either and would otherwise fill it.
  const literals = new Set<string>();
  const LITERALS_MAX = 1000;
  const isValue = (seg: string): boolean => {
    if (literals.has(seg)) return false;
    if (parser.parsePathValues(seg).valueIndexes.length > 0) return true;
    if (literals.size >= LITERALS_MAX) literals.clear();
    literals.add(seg);
    return false;
  };

  const routeInfo = (route: { path: unknown }): RouteInfo => {
    let info = routes.get(route);
    if (!info) {
      const paths = asPaths(route.path) ?? [String(route.path)];
      info = { paths: paths.map((path) => ({ path, segs: simpleSegments(path) })) };
      routes.set(route, info);
    }
    return info;
  };

  const appMount = (app: object | undefined): Mount | null => {
    if (!app) return null;
    let m = appPaths.get(app);
    if (m === undefined) {
      const path = (app as { path?: () => unknown }).path;
      const p = typeof path === 'function' ? path.call(app) : undefined;
      // `app.path()` joins the mount paths of the app and its parents ('' for the root app); a
      // path array renders with commas and is left to the normaliser
      const segs = typeof p === 'string' && !p.includes(',') ? simpleSegments(p) : undefined;
      m = segs && segs.length > 0 ? { template: `/${segs.join('/')}`, segs } : null;
      appPaths.set(app, m);
    }
    return m;
  };

  const mountTemplate = (mountSegs: string[], sub: Mount | null): string => {
    if (mountSegs.length === 0) return '';
    let best: Mount | undefined;
    for (const m of sub ? [sub, ...mounts] : mounts) {
      if (m.segs.length > mountSegs.length || (best && best.segs.length >= m.segs.length)) continue;
      if (matches(m.segs, mountSegs)) best = m;
    }
    let template = best?.template ?? '';
    for (let i = best?.segs.length ?? 0; i < mountSegs.length; i++) {
      const seg = mountSegs[i] as string;
      template += `/${isValue(seg) ? VALUE_SEGMENT : seg}`;
    }
    return template;
  };

  return (req) => {
    const info = routeInfo(req.route);
    const url = req.originalUrl ?? req.url ?? '/';
    const q = url.indexOf('?');
    const urlSegs = split(q === -1 ? url : url.slice(0, q));
    const baseSegs = split(req.baseUrl ?? '');
    let chosen: string | undefined;
    let mountSegs = baseSegs;
    for (const { path, segs } of info.paths) {
      if (!segs || segs.length > urlSegs.length) continue;
      const at = urlSegs.length - segs.length;
      if (!matches(segs, urlSegs, at)) continue;
      chosen = path;
      const derived = urlSegs.slice(0, at);
      // req.baseUrl is the mount URL, or a prefix of it once an error left a nested router; when
      // it is neither (a middleware rewrote req.url), trust it over the URL
      if (baseSegs.length <= derived.length && matches(baseSegs, derived)) mountSegs = derived;
      break;
    }
    chosen ??= info.paths[0]?.path ?? '/';
    return mountTemplate(mountSegs, appMount(req.app)) + chosen || '/';
  };
}
