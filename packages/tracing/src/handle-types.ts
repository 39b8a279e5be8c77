// The handle's types, free of SDK imports so that the light entries' declarations stay SDK-free.

/** Where spans go. `otlp`: OTLP to the collector or Jaeger (see `otlpProtocol`); `console`: stdout; `none`: nowhere. */
export type TracingExporter = 'otlp' | 'console' | 'none';

/**
 * OTLP transport. `http/protobuf` (the specification's default, port 4318), `http/json` (4318), `grpc`
 * (4317; needs the optional peer `@opentelemetry/exporter-trace-otlp-grpc`, loaded only then).
 */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** Why spans were lost: the exporter failed (collector down, rejected), or the batch queue was full. */
export type DroppedSpansReason = 'export_failed' | 'queue_full';

/** Export counters since `startTracing` (spans). */
export interface SpanExportStats {
  /** Spans the exporter delivered. */
  exported: number;
  /** Spans lost because an export failed. */
  failed: number;
  /** Spans dropped before export because the batch queue was full (`OTEL_BSP_MAX_QUEUE_SIZE`). */
  dropped: number;
  /** True while the last export failed. */
  failing: boolean;
}

/** What `startTracing` returns. */
export interface TracingHandle {
  /** The resolved `service.name`. */
  readonly serviceName: string;
  /** The exporter in use (`custom` when `traceExporter`/`spanProcessors` were passed). */
  readonly exporter: TracingExporter | 'custom';
  /** With the `otlp` exporter: the transport and the URL spans are sent to (credentials removed). */
  readonly otlp?: { readonly protocol: OtlpProtocol; readonly url: string };
  /** Export counters of the built-in exporter (all 0 with `custom`, `console` or `none`). */
  spanStats(): SpanExportStats;
  /**
   * Exports the spans still buffered, then stops tracing. Idempotent (every call returns the same promise);
   * resolves, never rejects, at the latest after `shutdownTimeoutMs`. Does not exit the process.
   */
  shutdown(): Promise<void>;
  /** Exports buffered spans now, keeping tracing on. */
  forceFlush(): Promise<void>;
}
