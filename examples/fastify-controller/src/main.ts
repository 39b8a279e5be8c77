// Start-up order matters: tracing first (so fastify, pg and ioredis get instrumented), then the app.
import { createAppLogger, SERVICE_NAME, startTelemetry } from './telemetry.js';

const tracing = startTelemetry();
const logger = createAppLogger();

const { createShutdown } = await import('@deia/health');
const { startController } = await import('./app.js');

let controller: Awaited<ReturnType<typeof startController>>;
try {
  controller = await startController({ logger });
} catch (err) {
  logger.error(
    { err: { message: (err as Error).message, code: (err as { code?: string }).code } },
    'start-up failed',
  );
  await tracing.shutdown();
  process.exit(1);
}

const { url, core } = controller;
createShutdown({
  health: controller.health,
  stop: () => controller.app.close(),
  closers: [...core.closers(), { name: 'tracing', close: () => tracing.shutdown() }],
  logger,
});

const lines = [
  `${SERVICE_NAME} listening on ${url}`,
  `  API      ${url}/api/bots   (POST ${url}/api/bot/<id>/start, .../message, .../stop; GET ${url}/api/tasks)`,
  `  metrics  ${url}/metrics`,
  `  health   ${url}/health   (/health/db, /health/cache, /health/detailed, /health/live, /health/ready)`,
  ...Object.entries(core.describe()).map(([k, v]) => `  ${k.padEnd(8)} ${v}`),
  `  traffic  pnpm demo   (in another terminal)`,
];
logger.info({ url, ...core.describe() }, 'controller started');
console.log(`\n${lines.join('\n')}\n`);
