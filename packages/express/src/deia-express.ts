import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShutdown, type Shutdown } from '@deia/health';
import { DeiaMetricsError, type HttpResponse } from '@deia/metrics';
import {
  createHttpObserver,
  PATH_RECORD,
  PATH_SERVED,
  type RouteResolver,
  SHUTDOWN_OPTION_RULE,
} from '@deia/metrics/adapter';
import {
  appPrefix,
  collectTemplates,
  createExpress4Templates,
  type Express4Request,
  parseMounts,
  routerOf,
} from './route-templates.js';
import type { DeiaExpressMiddleware, DeiaExpressOptions } from './types.js';

interface ExpressRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
  route?: { path: unknown };
  app?: object & { mountpath?: unknown; parent?: unknown };
}

function send(res: ServerResponse, r: HttpResponse): void {
  if (res.headersSent) return;
  res.statusCode = r.statusCode;
  for (const name in r.headers) res.setHeader(name, r.headers[name] as string);
  res.end(r.body);
}

/** The path of a request URL, without its query string. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function warn(options: DeiaExpressOptions, msg: string): void {
  if (options.logger?.warn) options.logger.warn({}, msg);
  else process.emitWarning(msg, 'DeiaMetricsWarning');
}

/**
 * The route template of a request: Express 4 from the URL and the matched layers, Express 5 from
 * the app's router tree (the URL when the router does not keep the mount path). Throws
 * `DeiaMetricsError` (`DEIA_HTTP_OPTIONS`) on bad `mounts`.
 */
function createRouteResolver(options: DeiaExpressOptions): RouteResolver {
  let mounts: ReturnType<typeof parseMounts>;
  try {
    mounts = parseMounts((options as { mounts?: unknown } | null)?.mounts, 'deiaExpress');
  } catch (err) {
    throw new DeiaMetricsError('DEIA_HTTP_OPTIONS', (err as Error).message);
  }
  const express4 = createExpress4Templates(mounts);
  // app -> true on Express 5 (public `app.router`), false on Express 4
  const hasRouter = new WeakMap<object, boolean>();
  let lastApp: object | undefined;
  let lastIs4 = false;
  const isExpress4 = (app: object): boolean => {
    if (app === lastApp) return lastIs4; // one app serves nearly every request
    let v = hasRouter.get(app);
    if (v === undefined) {
      v = routerOf(app) !== undefined;
      hasRouter.set(app, v);
    }
    lastApp = app;
    lastIs4 = !v;
    return lastIs4;
  };

  // Express 5: Route object -> full template(s); null when it is not in the app's router tree.
  const templates = new Map<object, string[] | null>();
  let warned = false;
  const warnOnce = (what: string) => {
    if (warned) return;
    warned = true;
    warn(
      options,
      `@deia/express: ${what}; the mount part of its routes is recovered from the URL instead (ids as "#val" unless the mount is listed in the mounts option; never a concrete id). Express 5 with router >= 2.3 keeps every mount path.`,
    );
  };
  const discover = (req: ExpressRequest, route: object): string[] | null => {
    const app = req.app;
    if (app) {
      const found = new Map<object, string[]>();
      collectTemplates(app as Parameters<typeof collectTemplates>[0], found, appPrefix(app));
      for (const [r, list] of found) templates.set(r, list);
    }
    const t = templates.get(route) ?? null;
    templates.set(route, t);
    return t;
  };
  return (ctx) => {
    if (ctx === undefined) return undefined;
    const req = ctx as ExpressRequest;
    const route = req.route;
    if (route === undefined || route === null) return undefined;
    if (req.app && isExpress4(req.app)) return express4(req as Express4Request);
    let t = templates.get(route);
    if (t === undefined) t = discover(req, route);
    if (t !== null && t.length === 1) return t[0];
    if (t === null) {
      // Not in the router tree (under a mount path the router does not keep, as on router 2.2, or
      // a router called from a function): the mount part comes from the URL, as on Express 4.
      if (req.baseUrl)
        warnOnce('a route was reached whose mount path the router does not keep (router 2.2?)');
      return express4(req as Express4Request);
    }
    // Several templates (a path array, or a router mounted twice): the one that is the request
    // path itself or the mount URL plus the route path, else the first.
    const path = pathOf(req.originalUrl ?? req.url ?? '');
    if (t.includes(path)) return path;
    const direct = (req.baseUrl ?? '') + String(route.path);
    return t.includes(direct) ? direct : (t[0] as string);
  };
}

/** Throws unless `server` is a node http.Server (what app.listen() returns). */
function assertServer(server: Server): void {
  if (
    !server ||
    typeof (server as Server).close !== 'function' ||
    typeof server.once !== 'function' ||
    typeof server.prependListener !== 'function'
  ) {
    throw new DeiaMetricsError(
      'DEIA_HTTP_OPTIONS',
      'deiaExpress: attach(server) needs the node http.Server returned by app.listen().',
    );
  }
}

/**
 * Express 4/5 middleware: records the HTTP metrics of every request (route = the matched template,
 * nested routers included), serves `/metrics` and the health endpoints, and starts its server side
 * once it knows the app's server (`.attach(server)`): the `metricsPort` server binds when that
 * server listens, and with `shutdown` graceful shutdown is armed, the same lifecycle as
 * `@deia/fastify` has at `ready()`.
 *
 * ```ts
 * const deia = deiaExpress({ metrics, health, shutdown: true });
 * app.use(deia);                       // first, before your routes
 * deia.attach(app.listen(8000));       // metricsPort and graceful shutdown start here
 * ```
 * Throws `DeiaMetricsError` (code `DEIA_HTTP_OPTIONS`) on bad options.
 */
export function deiaExpress(options: DeiaExpressOptions): DeiaExpressMiddleware {
  const resolveRoute = createRouteResolver(options);
  const observer = createHttpObserver(options, resolveRoute, 'deiaExpress', {
    shutdown: SHUTDOWN_OPTION_RULE,
    // checked by parseMounts in createRouteResolver, with the message naming the bad template
    mounts: { must: 'an array of mount templates such as ["/bots/:botId"]', ok: () => true },
  });
  const logError = (err: unknown, msg: string) => {
    if (options.logger?.error) options.logger.error({ err }, msg);
    else process.emitWarning(`${msg}: ${(err as Error).message}`, 'DeiaMetricsWarning');
  };
  // Without attach(server) the metrics port never opens: say so once, at the first request.
  let unattachedPort = options.metricsPort !== undefined;
  const warnUnattached = () => {
    unattachedPort = false;
    warn(
      options,
      '@deia/express: metricsPort is set but attach(server) was not called; the metrics port opens once you call deia.attach(app.listen(...)).',
    );
  };

  const middleware = function deiaMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    const path = pathOf((req as ExpressRequest).originalUrl ?? req.url ?? '/');
    const kind = observer.match(path);
    if (unattachedPort && attached === undefined) warnUnattached();
    if (kind === PATH_RECORD) {
      // measured since the server's 'request' event once attached; else from here
      if (!observer.setContext(res, req)) observer.track(req, res, req);
      next();
      return;
    }
    if (kind === PATH_SERVED) {
      const answer = observer.serve({ method: req.method ?? 'GET', path, headers: req.headers });
      if (answer !== undefined) {
        answer.then((r) => send(res, r), next);
        return;
      }
    }
    next();
  } as DeiaExpressMiddleware;

  // The metrics port binds when the app's server listens (known from attach); at once without one.
  let listening: (server: Server) => void = () => {};
  const ready: Promise<AddressInfo | undefined> =
    options.metricsPort === undefined
      ? Promise.resolve(undefined)
      : new Promise((resolve, reject) => {
          listening = () => observer.listen().then(resolve, reject);
        });
  ready.catch((err: unknown) => logError(err, '@deia/express: the metricsPort server could not listen'));

  // With attach(server), measuring starts on the server's 'request' event (public Node API), as in
  // @deia/fastify: before Express swaps the prototypes of req and res. V8 makes adding properties
  // to an object after Object.setPrototypeOf slow (a new hidden class per object), and track()
  // adds three to res; on the plain response it costs a fraction. It also counts what the app
  // answers before this middleware runs (route from req.route when a router matched it, else
  // __unmatched__). Express hands the same req object to the middleware.
  const onServerRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (observer.match(pathOf(req.url ?? '/')) === PATH_RECORD) observer.track(req, res, req);
  };

  let attached: Server | undefined;
  let shutdown: Shutdown | undefined;
  Object.defineProperties(middleware, {
    observer: { value: observer, enumerable: true },
    ready: { value: ready, enumerable: true },
    shutdown: { get: () => shutdown, enumerable: true },
    close: { value: () => observer.close(), enumerable: true },
    attach: {
      enumerable: true,
      value: (server: Server): Shutdown | undefined => {
        assertServer(server);
        if (attached === server) return shutdown;
        if (attached !== undefined) {
          throw new DeiaMetricsError(
            'DEIA_HTTP_OPTIONS',
            'deiaExpress: attach(server) was already called with another server; one middleware serves one server.',
          );
        }
        attached = server;
        server.prependListener('request', onServerRequest);
        if (server.listening) listening(server);
        else server.once('listening', () => listening(server));
        if (options.shutdown) {
          const settings = options.shutdown === true ? {} : options.shutdown;
          shutdown = createShutdown({ ...settings, health: options.health, server });
          shutdown.addCloser('deia metrics server', () => observer.close());
        }
        return shutdown;
      },
    },
  });
  return middleware;
}
