import type { Server } from 'node:http';
import { createShutdown, type Health } from '@deia/health';
import type { Metrics } from '@deia/metrics';
import type { BotCore } from './bot-core.js';
import type { Telemetry } from './telemetry.js';
import type { LoggerLike } from './types.js';

/** What `startController` needs; everything defaults from the environment. */
export interface ControllerOptions {
  /** @default Number(env.PORT ?? 8000); 0 picks a free port */
  port?: number;
  /** @default env.HOST ?? '127.0.0.1' */
  host?: string;
  env?: NodeJS.ProcessEnv;
  logger?: LoggerLike;
  /** Pass one to share a registry; by default a new one with trace exemplars. */
  metrics?: Metrics;
  version?: string;
}

/** What a controller's `startController` returns, as far as the process wiring needs it. */
export interface RunningController {
  readonly url: string;
  readonly core: BotCore;
  readonly health: Health;
  readonly metrics: Metrics;
}

/**
 * The process around a controller: starts it, wires graceful shutdown (SIGTERM/SIGINT: readiness
 * 503 for SHUTDOWN_DELAY_MS (default 5 s) while requests are still served, then stop accepting and
 * drain without resetting a request (`Connection: close`, each socket closed after its in-flight
 * response), then queue, bots, pool, Redis, PGlite, tracing),
 * and prints where everything is. `stopAccepting` gives the server to close (Express), or the
 * framework's stop function plus its server (Fastify: `app.close()`, `app.server`).
 */
export async function runController<C extends RunningController>(
  telemetry: Telemetry,
  start: () => Promise<C>,
  stopAccepting: (controller: C) => { server: Server; stop?: () => Promise<void> },
): Promise<C> {
  const { logger, tracing, serviceName } = telemetry;
  let controller: C;
  try {
    controller = await start();
  } catch (err) {
    logger.error(
      { err: { message: (err as Error).message, code: (err as { code?: string }).code } },
      'start-up failed',
    );
    await tracing.shutdown();
    process.exit(1);
  }
  const { url, core } = controller;
  telemetry.countDroppedSpans(controller.metrics);
  createShutdown({
    health: controller.health,
    ...stopAccepting(controller),
    delayMs: core.config.shutdownDelayMs,
    closers: [...core.closers(), { name: 'tracing', close: () => tracing.shutdown() }],
    logger,
  });
  const lines = [
    `${serviceName} listening on ${url}`,
    `  API      ${url}/api/bots   (POST ${url}/api/bot/<id>/start, .../message, .../chat, .../stop; GET ${url}/api/tasks)`,
    `  metrics  ${url}/metrics`,
    `  health   ${url}/health   (/health/db, /health/cache, /health/detailed, /health/live, /health/ready)`,
    ...Object.entries(core.describe()).map(([k, v]) => `  ${k.padEnd(8)} ${v}`),
    `  traffic  pnpm demo   (in another terminal)`,
  ];
  logger.info({ url, ...core.describe() }, 'controller started');
  console.log(`\n${lines.join('\n')}\n`);
  return controller;
}
