/**
 * Route templates for Express 4 and 5. `req.route.path` is the template relative to the router
 * that owns the route, and `req.baseUrl` holds the *matched URL* of the mounts (`/bots/42`, not
 * `/bots/:botId`) and is reset when an error leaves a nested router. So the full template of each
 * `Route` object is found once, by walking the app's router stack, and looked up by identity.
 *
 * Express has no public hook for this; like OpenTelemetry's express instrumentation, the walk
 * reads the layer properties each version keeps (Express 4: the mount RegExp and its keys;
 * router >= 2.3: `layer.rawPath`). A mount whose path a version does not keep (router 2.2 keeps
 * none) becomes `*` in the template: a coarser label, never a concrete URL.
 */

/** Stands for a mount path that could not be read (see above). */
export const UNKNOWN_MOUNT = '/*';

interface RouteLike {
  path: unknown;
}
interface LayerLike {
  route?: RouteLike;
  handle?: { stack?: LayerLike[]; _router?: { stack?: LayerLike[] }; mountpath?: unknown };
  rawPath?: unknown; // Express 5 (router 2)
  regexp?: RegExp & { fast_slash?: boolean }; // Express 4
  keys?: Array<{ name: string | number; optional?: boolean }>;
}
interface AppLike {
  _router?: { stack?: LayerLike[] };
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

// `(?:\/([^/]+?))` (optionally followed by `?`): one `:param` segment in path-to-regexp 0.1 output.
const GROUP = /\(\?:\\\/\(\[\^\\?\/\]\+\?\)\)(\?)?/g;

/** Express 4: path-to-regexp 0.1 keeps no source path, so the mount template is read back from the RegExp. */
function express4Mount(layer: LayerLike): string[] | undefined {
  const re = layer.regexp;
  if (!re) return undefined;
  if (re.fast_slash) return [''];
  let s = re.source.replace(/^\^/, '');
  s = s.replace(/(\\\/\?)?\(\?=\\\/\|\$\)$/, '').replace(/\(\?:\\\/\(\?=\$\)\)\?$/, '');
  let i = 0;
  const keys = layer.keys ?? [];
  s = s.replace(GROUP, (_m, optional: string | undefined) => `/:${String(keys[i++]?.name)}${optional ?? ''}`);
  const literal = s.replace(/\/:[\w$]+\??/g, '').replace(/\\[/.-]/g, '');
  if (/[()[\]*+?|^$\\{}]/.test(literal)) return undefined;
  return [trimSlash(s.replace(/\\(.)/g, '$1'))];
}

function mountPaths(layer: LayerLike): string[] | undefined {
  const handle = layer.handle as { mountpath?: unknown; set?: unknown } | undefined;
  // a mounted sub-app knows its mount path
  if (handle?.mountpath !== undefined && typeof handle.set === 'function') {
    const paths = asPaths(handle.mountpath);
    if (paths) return paths.map(trimSlash);
  }
  if (layer.rawPath !== undefined) return asPaths(layer.rawPath)?.map(trimSlash);
  return express4Mount(layer);
}

/** Router stack of an app or router function (Express 4 `_router`, Express 5 `router`). */
function stackOf(handle: LayerLike['handle'] | AppLike | undefined): LayerLike[] | undefined {
  if (!handle) return undefined;
  const h = handle as LayerLike['handle'] & AppLike;
  if (Array.isArray(h.stack)) return h.stack;
  if (typeof (h as { set?: unknown }).set === 'function') {
    // an app: `_router` (4) is created lazily; Express 5's `router` getter creates one, which is harmless
    return h._router?.stack ?? h.router?.stack;
  }
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
 * mount path could not be read (it is `*` in the templates then).
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
      let mounts = mountPaths(layer);
      if (!mounts) {
        complete = false;
        mounts = [UNKNOWN_MOUNT];
      }
      for (const m of mounts) walk(inner, prefix + m, depth + 1);
      seen.delete(inner);
    }
    seen.delete(stack);
  };
  walk(stackOf(app as LayerLike['handle'] & AppLike), prefix, 0);
  return complete;
}
