import type { AddressInfo } from 'node:net';
import {
  type BotCore,
  type ControllerOptions,
  createApiRoutes,
  createAppHealth,
  errorResponse,
  metricsAccess,
  startBotCore,
} from '@deia/example-bot-core';
import { deiaFastify } from '@deia/fastify';
import type { Health } from '@deia/health';
import { createMetrics, type Metrics } from '@deia/metrics';
import { traceExemplar } from '@deia/tracing';
import Fastify, { type FastifyInstance } from 'fastify';

/** A running controller. */
export interface Controller {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly core: BotCore;
  readonly metrics: Metrics;
  readonly health: Health;
  /** Closes the server, then the bot core (queue, pool, redis, embedded PGlite) and health timers. */
  close(): Promise<void>;
}

/** The API routes, then the 404 and error handlers answering in the API's JSON shape. */
function registerRoutes(app: FastifyInstance, core: BotCore): void {
  for (const route of createApiRoutes(core)) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (req, reply) => {
        const out = await route.handle({
          params: req.params as Record<string, string>,
          query: req.query as Record<string, unknown>,
          body: req.body,
        });
        return (
          reply
            .code(out.statusCode)
            .headers(out.headers ?? {})
            // a streamed body: Fastify destroys it (aborting the model call) if the client goes away
            .send(out.stream ?? out.body)
        );
      },
    });
  }
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: 'NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      mode: core.mode(),
    }),
  );
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err.statusCode === 413) {
      return reply
        .code(413)
        .send({ error: 'BODY_TOO_LARGE', message: 'the body is over 64 KB', mode: core.mode() });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply
        .code(err.statusCode)
        .send({ error: 'BAD_REQUEST', message: err.message, mode: core.mode() });
    }
    const out = errorResponse(err, core.mode());
    return reply.code(out.statusCode).send(out.body);
  });
}

/** Builds and starts the Fastify bot controller. main.ts adds tracing, signals and the banner. */
export type { ControllerOptions };

export async function startController(options: ControllerOptions = {}): Promise<Controller> {
  const env = options.env ?? process.env;
  const version = options.version ?? '0.1.0';
  const metrics =
    options.metrics ??
    createMetrics({
      exemplars: traceExemplar,
      defaultLabels: { service: 'fastify-controller' },
      buildInfo: { version },
      // label-cap, series-budget and route-overflow warnings as log lines, not only process warnings
      ...(options.logger ? { logger: options.logger } : {}),
    });
  const core = await startBotCore({ metrics, logger: options.logger, env });
  const health = createAppHealth(core, metrics, core.logger, version, env);

  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // errors raised before routing (an undecodable path such as %FF) answered like the others
    frameworkErrors: (err, _req, res) => {
      const badPath = (err as { code?: string }).code === 'FST_ERR_BAD_URL';
      // the reply's generics are not inferred here; only code/send are used
      const reply = res as unknown as { code(n: number): { send(body: unknown): void } };
      reply.code(400).send({
        error: badPath ? 'BAD_PATH' : 'BAD_REQUEST',
        message: badPath ? 'the URL path is not valid percent-encoded UTF-8' : err.message,
        mode: core.mode(),
      });
    },
  });
  // One line: HTTP metrics, GET /metrics and the health endpoints.
  await app.register(deiaFastify, { metrics, health, ...metricsAccess(env) });
  registerRoutes(app, core);

  const port = options.port ?? Number(env.PORT ?? 8000);
  const host = options.host ?? env.HOST ?? '127.0.0.1';
  try {
    await app.listen({ port, host });
  } catch (err) {
    await app.close().catch(() => {});
    await core.close();
    await health.close();
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}`,
    app,
    core,
    metrics,
    health,
    close: () =>
      (closing ??= (async () => {
        health.setShuttingDown();
        await app.close();
        await core.close();
        await health.close();
        metrics.shutdown();
      })()),
  };
}
