// Start-up order matters: tracing first (so fastify, pg and ioredis get instrumented), then the app,
// loaded with a dynamic import after tracing has started.
import { startTelemetry } from '@deia/example-bot-core/telemetry';

const telemetry = startTelemetry('fastify-controller');
const { runController } = await import('@deia/example-bot-core');
const { startController } = await import('./app.js');

await runController(
  telemetry,
  () => startController({ logger: telemetry.logger }),
  (c) => ({ server: c.app.server, stop: () => c.app.close() }),
);
