import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createShutdown, type Shutdown } from '@deia/health';
import {
  createHttpObserver,
  type HttpObserver,
  type OptionsSchema,
  PATH_RECORD,
  PATH_SERVED,
  type RouteResolver,
  rules,
  SHUTDOWN_OPTION_RULE,
} from '@deia/metrics/adapter';
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { DeiaFastifyDecoration, DeiaFastifyOptions } from './types.js';

// Structural types: the plugin works with Fastify 4 and 5 without importing either's types.
interface FastifyRequestLike {
  raw: IncomingMessage;
  url: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  is404?: boolean;
  routeOptions?: { url?: string };
}
interface FastifyReplyLike {
  raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  headers(h: Record<string, string>): FastifyReplyLike;
  send(body?: unknown): FastifyReplyLike;
}
interface FastifyInstanceLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
  route(options: object): unknown;
  decorate(name: string, value: unknown): unknown;
  close(): Promise<void>;
  server?: unknown;
}

// Fastify 5 (and 4.x) `routeOptions.url` includes prefixes; `is404` marks the not-found handler.
// No request object (`ctx` undefined): Fastify answered before its hooks ran (a URL its router
// cannot decode, 400): no route matched.
const resolveRoute: RouteResolver = (ctx) => {
  const request = ctx as FastifyRequestLike | undefined;
  if (request === undefined || request.is404) return undefined;
  return request.routeOptions?.url;
};

/** The path of a request URL, without the query string. */
const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

interface RequestEmitter {
  prependListener(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown;
}
const isRequestEmitter = (server: unknown): server is RequestEmitter =>
  typeof (server as RequestEmitter | undefined)?.prependListener === 'function';

/**
 * `app.close()` closes the keep-alive sockets that are idle when it starts; a socket whose request
 * finishes later would stay open until its keep-alive timeout. Close those as they turn idle.
 * (With a node http server, `createShutdown` has drained it before this runs: nothing is left.)
 */
async function closeDraining(app: FastifyInstanceLike): Promise<void> {
  const server = app.server as { closeIdleConnections?: () => void } | undefined;
  const sweep = setInterval(() => server?.closeIdleConnections?.(), 50);
  sweep.unref();
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}

// `shutdown`, plus the options Fastify's register() itself understands (harmless here).
const FASTIFY_OPTIONS: OptionsSchema = {
  shutdown: SHUTDOWN_OPTION_RULE,
  prefix: rules.any(),
  logLevel: rules.any(),
  logSerializers: rules.any(),
};

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function plugin(app: FastifyInstanceLike, options: DeiaFastifyOptions, done: (err?: Error) => void): void {
  try {
    setup(app, options);
  } catch (err) {
    done(err as Error);
    return;
  }
  done();
}

function setup(app: FastifyInstanceLike, options: DeiaFastifyOptions): void {
  const observer: HttpObserver = createHttpObserver(options, resolveRoute, 'deiaFastify', FASTIFY_OPTIONS);

  // Measuring starts where the server receives the request (its 'request' event, a public
  // Node API), so what Fastify answers without running hooks is counted too: a URL its router
  // cannot decode (400), and return503OnClosing's 503s where a request reaches them. The
  // onRequest hook then hands over the request object (the route); it alone measures where no
  // server emits the request (inject(), a serverFactory that calls the handler itself).
  const onServerRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (observer.match(pathOf(req.url ?? '/')) === PATH_RECORD) observer.track(req, res, undefined);
  };

  app.addHook('onRequest', (request: FastifyRequestLike, reply: FastifyReplyLike, next: () => void) => {
    if (observer.setContext(reply.raw, request)) {
      next(); // measured since the server's 'request' event: only the route was missing
      return;
    }
    const path = pathOf(request.raw.url ?? '/');
    const kind = observer.match(path);
    if (kind === PATH_RECORD) observer.track(request.raw, reply.raw, request);
    else if (kind === PATH_SERVED && path.length > 1 && path.endsWith('/')) {
      // `/health/`: no route of its own (unless ignoreTrailingSlash); answered here like the
      // Express adapter and health.handle() do, without calling next()
      void handler(request, reply).catch(next);
      return;
    }
    next();
  });

  async function handler(request: FastifyRequestLike, reply: FastifyReplyLike) {
    const path = pathOf(request.raw.url ?? '/');
    const answer = await observer.serve({ method: request.method, path, headers: request.headers });
    if (answer === undefined) return reply.code(404).send({ error: 'Not Found' });
    return reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
  }
  for (const path of observer.servedPaths) {
    // GET also answers HEAD (Fastify's exposeHeadRoutes); other methods get the endpoint's own 405.
    app.route({ method: ALL_METHODS, url: path, handler, logLevel: 'warn' });
  }

  // The app's server is known at ready (as at attach(server) in @deia/express): the metrics port
  // binds and, with `shutdown`, graceful shutdown is armed.
  let shutdown: Shutdown | undefined;
  let listeningOn: RequestEmitter | undefined;
  app.addHook('onReady', async () => {
    // kept for the server's life: what Fastify answers while closing is counted too
    if (listeningOn === undefined && isRequestEmitter(app.server)) {
      listeningOn = app.server;
      listeningOn.prependListener('request', onServerRequest);
    }
    await observer.listen();
    if (options.shutdown && shutdown === undefined) {
      const settings = options.shutdown === true ? {} : options.shutdown;
      // the node server (not an http2 one) is drained first (no reset request), then app.close() runs
      const server = app.server as Server | undefined;
      shutdown = createShutdown({
        ...settings,
        health: options.health,
        ...(typeof server?.closeIdleConnections === 'function' ? { server } : {}),
        stop: () => closeDraining(app),
      });
    }
  });
  app.addHook('onClose', async () => {
    shutdown?.dispose();
    await observer.close();
  });

  const decoration: DeiaFastifyDecoration = {
    observer,
    get shutdown() {
      return shutdown;
    },
    metricsAddress: () => observer.metricsAddress(),
  };
  app.decorate('deia', decoration);
}

/**
 * Fastify 4/5 plugin (not encapsulated): records the HTTP metrics of every request (route = the
 * matched template, prefixes included; 404s share `__unmatched__`), serves `/metrics` and the
 * health endpoints, and opt-in graceful shutdown.
 *
 * ```ts
 * await app.register(deiaFastify, { metrics, health });
 * ```
 * Throws `DeiaMetricsError` (code `DEIA_HTTP_OPTIONS`) on bad options, at `register`/`ready`.
 */
export const deiaFastify: FastifyPluginCallback<DeiaFastifyOptions> = fp(plugin as never, {
  name: '@deia/fastify',
  fastify: '4.x || 5.x',
});
