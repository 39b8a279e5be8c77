// Imported first by each controller's main.ts: tracing has to start before the framework, pg and
// ioredis are loaded so their instrumentations can patch them. So this module imports nothing that
// loads them (it is its own entry, `@deia/example-bot-core/telemetry`).
import { createLogger, startTracing, type TracingHandle } from '@deia/tracing';
import type { LoggerLike } from './types.js';

/** The tracing handle and the JSON logger of one controller process. */
export interface Telemetry {
  readonly serviceName: string;
  readonly tracing: TracingHandle;
  /** JSON lines in the guides' format, with trace_id/span_id of the active span. */
  readonly logger: LoggerLike;
  /**
   * Where spans that never reach the collector are counted, once metrics exist (tracing starts
   * first): `tracing_spans_dropped_total{reason}` of the catalog.
   */
  countDroppedSpans(metrics: { recordDroppedSpans(count: number, reason: string): void }): void;
}

/**
 * Starts tracing for `serviceName` (OTEL_SERVICE_NAME wins). Spans are exported over OTLP only when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) is set; otherwise they are still created
 * (trace ids in logs, exemplars) but go nowhere.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const name = env.OTEL_SERVICE_NAME ?? serviceName;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none')) as
    | 'otlp'
    | 'console'
    | 'none';
  let dropped: ((count: number, reason: string) => void) | undefined;
  return {
    serviceName: name,
    tracing: startTracing({
      serviceName: name,
      exporter,
      onDroppedSpans: (n, reason) => dropped?.(n, reason),
    }),
    logger: createLogger({ service: name }),
    countDroppedSpans(metrics) {
      dropped = (n, reason) => metrics.recordDroppedSpans(n, reason);
    },
  };
}
