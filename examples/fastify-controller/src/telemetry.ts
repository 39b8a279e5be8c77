// Imported first by main.ts: tracing has to start before fastify, pg and ioredis are loaded so
// their instrumentations can patch them.
import type { LoggerLike } from '@deia/example-bot-core';
import { createLogger, startTracing, type TracingHandle } from '@deia/tracing';

export const SERVICE_NAME = process.env.OTEL_SERVICE_NAME ?? 'fastify-controller';

/**
 * Spans are exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) is
 * set; otherwise they are still created (trace ids in logs, exemplars) but go nowhere.
 */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): TracingHandle {
  const exporter = (env.OTEL_TRACES_EXPORTER ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none')) as
    | 'otlp'
    | 'console'
    | 'none';
  return startTracing({ serviceName: SERVICE_NAME, exporter });
}

/** JSON lines in the guides' format, with trace_id/span_id of the active span. */
export const createAppLogger = (): LoggerLike => createLogger({ service: SERVICE_NAME });
