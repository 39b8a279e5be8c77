import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import {
  type BotCore,
  type ControllerOptions,
  createApiRoutes,
  createAppHealth,
  errorResponse,
  metricsAccess,
  startBotCore,
} from '@deia/example-bot-core';
import { deiaExpress } from '@deia/express';
import type { Health } from '@deia/health';
import { createMetrics, type Metrics } from '@deia/metrics';
import { traceExemplar } from '@deia/tracing';
import type expressModule from 'express';
import type { Express, NextFunction, Request, Response } from 'express';

// Loaded with require(), not import: OpenTelemetry's Express instrumentation patches modules as they
// are required, so this way Express gets its spans (and the server span its route) without the ESM
// loader hook. main.ts starts tracing before it loads this file.
const express = createRequire(import.meta.url)('express') as typeof expressModule;

/** A running controller. */
export interface Controller {
  readonly url: string;
  readonly server: Server;
  readonly app: Express;
  readonly core: BotCore;
  readonly metrics: Metrics;
  readonly health: Health;
  /** Closes the server, then the bot core (queue, pool, redis, embedded PGlite) and health timers. */
  close(): Promise<void>;
}

/**
 * Express's error handler (four parameters): a body too large (413) or not JSON (400), a path that
 * does not decode (400), other client errors as they are, anything else a 500 without internals.
 */
function errorHandler(core: BotCore) {
  return (
    err: Error & { status?: number; type?: string },
    _req: Request,
    res: Response,
    _next: NextFunction,
  ) => {
    const mode = core.mode();
    if (err.type === 'entity.too.large') {
      res.status(413).json({ error: 'BODY_TOO_LARGE', message: 'the body is over 64 KB', mode });
      return;
    }
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'BAD_JSON', message: 'the body is not valid JSON', mode });
      return;
    }
    if (err instanceof URIError) {
      // Express could not decode a path parameter (e.g. %FF)
      res
        .status(400)
        .json({ error: 'BAD_PATH', message: 'the URL path is not valid percent-encoded UTF-8', mode });
      return;
    }
    if (err.status !== undefined && err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ error: 'BAD_REQUEST', message: err.message, mode });
      return;
    }
    const out = errorResponse(err, mode);
    res.status(out.statusCode).json(out.body);
  };
}

/** Builds and starts the Express bot controller. main.ts adds tracing, signals and the banner. */
export type { ControllerOptions };

export async function startController(options: ControllerOptions = {}): Promise<Controller> {
  const env = options.env ?? process.env;
  const version = options.version ?? '0.1.0';
  const logger = options.logger;
  const metrics =
    options.metrics ??
    createMetrics({
      exemplars: traceExemplar,
      defaultLabels: { service: 'express-controller' },
      buildInfo: { version },
      // label-cap, series-budget and route-overflow warnings as log lines, not only process warnings
      ...(options.logger ? { logger: options.logger } : {}),
    });
  const core = await startBotCore({ metrics, logger, env });
  const health = createAppHealth(core, metrics, core.logger, version, env);

  const app = express();
  app.disable('x-powered-by');
  // One line: HTTP metrics, GET /metrics and the health endpoints.
  app.use(deiaExpress({ metrics, health, ...metricsAccess(env) }));
  // The body is parsed on the route, not before routing: a body that is too large or not JSON is
  // then answered (413/400) and counted under its route, not as an unmatched 500.
  const jsonBody = express.json({ limit: '64kb' });
  for (const route of createApiRoutes(core)) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'delete';
    app[method](route.path, jsonBody, async (req: Request, res: Response) => {
      const out = await route.handle({
        params: req.params as Record<string, string>,
        query: req.query,
        body: req.body,
      });
      res.status(out.statusCode).set(out.headers ?? {});
      // a streamed body: pipeline destroys it (aborting the model call) if the client goes away
      if (out.stream) pipeline(out.stream, res, () => {});
      else res.json(out.body);
    });
  }
  app.use((req: Request, res: Response) => {
    res
      .status(404)
      .json({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.path}`, mode: core.mode() });
  });
  app.use(errorHandler(core));

  const port = options.port ?? Number(env.PORT ?? 8000);
  const host = options.host ?? env.HOST ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  }).catch(async (err) => {
    await core.close();
    await health.close();
    throw err;
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}`,
    server,
    app,
    core,
    metrics,
    health,
    close: () =>
      (closing ??= (async () => {
        health.setShuttingDown();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeIdleConnections();
        });
        await core.close();
        await health.close();
        metrics.shutdown();
      })()),
  };
}
