import { createRequire } from 'node:module';
import { createNoopMeter, type Meter, type MeterProvider } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { DeiaTracingError } from './errors.js';
import { envStr } from './options.js';
import type { DroppedSpansReason, OtlpProtocol, SpanExportStats, TracingOptions } from './types.js';

// Exporters are loaded when chosen: the protobuf and JSON ones share one small base, gRPC is an optional peer.
const load = createRequire(import.meta.url);

/** Where spans go: the option, else the exporter's own variables, else the protocol's default port. */
export function otlpUrl(options: TracingOptions, protocol: OtlpProtocol): string {
  const grpc = protocol === 'grpc';
  const withPath = (base: string) => (grpc ? base : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (options.otlpEndpoint) return withPath(options.otlpEndpoint);
  const signal = envStr('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (signal) return signal;
  const base = envStr('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base) return withPath(base);
  return grpc ? 'http://localhost:4317' : withPath('http://localhost:4318');
}

/** The URL without userinfo or query, safe to print. */
export function printableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(an invalid OTLP endpoint)';
  }
}

type ExporterClass = new (config: { url: string; headers?: Record<string, string> }) => SpanExporter;

const EXPORTER_PACKAGE: Record<OtlpProtocol, string> = {
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
};

/**
 * The OTLP exporter for `protocol`, loaded on the first export rather than at start-up: the first batch
 * leaves after `OTEL_BSP_SCHEDULE_DELAY` (5 s), so the exporter's code (protobuf, gRPC) stays out of the
 * app's time-to-listen. Whether the package is installed is checked now, so a missing optional peer
 * still fails `startTracing`.
 */
export function createOtlpExporter(
  options: TracingOptions,
  protocol: OtlpProtocol,
  url: string,
): SpanExporter {
  const pkg = EXPORTER_PACKAGE[protocol];
  try {
    load.resolve(pkg);
  } catch {
    throw new DeiaTracingError(
      'DEIA_TRACING_GRPC_MISSING',
      `OTLP over gRPC needs the optional peer "${pkg}" (npm i ${pkg}); or use http/protobuf (port 4318), which every Collector and Jaeger accept.`,
    );
  }
  const config = { url, ...(options.otlpHeaders ? { headers: { ...options.otlpHeaders } } : {}) };
  let inner: SpanExporter | undefined;
  const get = () => {
    inner ??= new (load(pkg) as { OTLPTraceExporter: ExporterClass }).OTLPTraceExporter(config);
    return inner;
  };
  return {
    export: (spans, resultCallback) => get().export(spans, resultCallback),
    shutdown: () => inner?.shutdown() ?? Promise.resolve(),
    forceFlush: () => inner?.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Counts what the exporter does, and says once when exports start failing and once when they recover. */
export class WatchedExporter implements SpanExporter {
  readonly stats: SpanExportStats = { exported: 0, failed: 0, dropped: 0, failing: false };

  constructor(
    private readonly inner: SpanExporter,
    private readonly endpoint: string,
    private readonly warn: (message: string) => void,
    private readonly onDropped: ((count: number, reason: DroppedSpansReason) => void) | undefined,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      try {
        this.observe(spans.length, result);
      } finally {
        resultCallback(result);
      }
    });
  }

  private observe(count: number, result: ExportResult): void {
    if (result.code === ExportResultCode.SUCCESS) {
      this.stats.exported += count;
      if (this.stats.failing) {
        this.stats.failing = false;
        this.warn(`@deia/tracing: exporting spans to ${this.endpoint} works again.`);
      }
      return;
    }
    this.stats.failed += count;
    if (!this.stats.failing) {
      this.stats.failing = true;
      const reason = result.error?.message ?? 'unknown error';
      this.warn(
        `@deia/tracing: exporting spans to ${this.endpoint} failed (${reason}); spans are being lost. Is the collector running? Said once until exports work again.`,
      );
    }
    countDropped(this.onDropped, count, 'export_failed');
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function countDropped(
  onDropped: ((count: number, reason: DroppedSpansReason) => void) | undefined,
  count: number,
  reason: DroppedSpansReason,
): void {
  try {
    onDropped?.(count, reason);
  } catch {
    // a failing user callback must not break export
  }
}

/**
 * A meter provider that only listens to the batch processor's self-observability counter
 * (`otel.sdk.processor.span.processed`, `error.type=queue_full`): the one place the SDK reports spans it
 * dropped because the queue was full. Everything else is a no-op.
 */
export function queueFullListener(
  stats: SpanExportStats,
  onDropped: ((count: number, reason: DroppedSpansReason) => void) | undefined,
): MeterProvider {
  const noop = createNoopMeter();
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: (name: string, opts?: Parameters<Meter['createCounter']>[1]) => {
      if (name !== 'otel.sdk.processor.span.processed') return noop.createCounter(name, opts);
      return {
        add(value: number, attributes?: Record<string, unknown>) {
          if (attributes?.['error.type'] !== 'queue_full') return;
          stats.dropped += value;
          countDropped(onDropped, value, 'queue_full');
        },
      };
    },
  });
  return { getMeter: () => meter };
}
