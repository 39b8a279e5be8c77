import type { Attributes } from '@opentelemetry/api';
import type { Instrumentation as OtelInstrumentation } from '@opentelemetry/instrumentation';
import type { ExpressInstrumentationConfig } from '@opentelemetry/instrumentation-express';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { IORedisInstrumentationConfig } from '@opentelemetry/instrumentation-ioredis';
import type { PgInstrumentationConfig } from '@opentelemetry/instrumentation-pg';
import type { PinoInstrumentationConfig } from '@opentelemetry/instrumentation-pino';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { DroppedSpansReason, OtlpProtocol, TracingExporter } from './handle-types.js';

/** An OpenTelemetry instrumentation instance (e.g. from an `@opentelemetry/instrumentation-*` package). */
export type Instrumentation = OtelInstrumentation;

/**
 * Per-library switch: `true` (default) turns it on with this package's defaults, `false` off,
 * an object turns it on with that configuration (passed to the instrumentation's constructor).
 */
export type InstrumentationToggle<C> = boolean | C;

/** Which of the bundled instrumentations to enable. Every one is on by default. */
export interface InstrumentationToggles {
  /**
   * HTTP spans for `node:http(s)`. Client (outgoing) spans come from `@opentelemetry/instrumentation-http`.
   * Server spans, with `serverSpans: 'light'` (the default), come from a subscriber to node:http's
   * `http.server.request.start` diagnostics channel: one span per request, parented on an incoming
   * `traceparent`, active while the request is handled (pg/ioredis spans and log lines join it), named
   * `GET /bots/:id` with `http.request.method`, `http.route`, `http.response.status_code`, `url.path`,
   * `url.scheme`, `network.protocol.version`, `user_agent.original` (and `error.type` on 5xx or an
   * aborted response). Nothing is patched and no emitter is wrapped, so it costs less per request than
   * the instrumentation's server side (docs/benchmarks.md in the repository, "Tracing"). `serverSpans:
   * 'instrumentation'` brings back the instrumentation's server side (its `requestHook`, `responseHook`,
   * `startIncomingSpanHook`, `headersToSpanAttributes.server`, client address and query attributes only
   * apply there). `ignoreIncomingRequestHook` and `ignoreIncomingPaths` apply to both.
   */
  http?: InstrumentationToggle<HttpInstrumentationConfig & { serverSpans?: 'light' | 'instrumentation' }>;
  /**
   * `@opentelemetry/instrumentation-express`: sets the route template as `http.route` and the name
   * (`GET /bots/:id`) of the HTTP server span. Per-middleware/router/handler spans are off by default
   * (they are most of tracing's cost on Express); `{ layerSpans: true }` brings them back. Other keys
   * go to the instrumentation (an explicit `ignoreLayersType` wins over `layerSpans`).
   */
  express?: InstrumentationToggle<ExpressInstrumentationConfig & { layerSpans?: boolean }>;
  /**
   * Fastify: a hook added on Fastify's initialisation (its public `fastify.initialization` diagnostics
   * channel, so no `app.register` is needed) sets `routeOptions.url` as `http.route` and the name of
   * the HTTP server span. `{ hookSpans: true }` also loads `@fastify/otel` (an optional peer you
   * install) for a span per hook and handler; the other keys go to its constructor.
   */
  fastify?: InstrumentationToggle<{ hookSpans?: boolean } & Record<string, unknown>>;
  /** `@opentelemetry/instrumentation-pg`: a span per query and pool connect. */
  pg?: InstrumentationToggle<PgInstrumentationConfig>;
  /** `@opentelemetry/instrumentation-ioredis`: a span per Redis command. */
  ioredis?: InstrumentationToggle<IORedisInstrumentationConfig>;
  /**
   * `@opentelemetry/instrumentation-pino`: adds `trace_id`/`span_id`/`trace_flags` to every pino logger
   * (also ones not made by `createLogger`). Sending logs to the OTel Logs SDK is off unless
   * `OTEL_LOGS_EXPORTER` is set.
   */
  pino?: InstrumentationToggle<PinoInstrumentationConfig>;
}

/** Options of `startTracing`. Explicit options win over `OTEL_*` variables, which win over the defaults. */
export interface TracingOptions {
  /**
   * `service.name` resource attribute.
   * @default process.env.OTEL_SERVICE_NAME ?? process.env.npm_package_name ?? 'unknown_service:node'
   */
  serviceName?: string;
  /**
   * `service.version`.
   * @default `service.version` from OTEL_RESOURCE_ATTRIBUTES ?? process.env.npm_package_version ?? 'unknown'
   */
  serviceVersion?: string;
  /**
   * `deployment.environment.name` (and the older `deployment.environment`, which Jaeger/Grafana still use).
   * @default `deployment.environment(.name)` from OTEL_RESOURCE_ATTRIBUTES ?? process.env.NODE_ENV ?? 'development'
   */
  environment?: string;
  /**
   * Where spans go.
   * @default process.env.OTEL_TRACES_EXPORTER ?? 'otlp'
   */
  exporter?: TracingExporter;
  /**
   * Base URL of the OTLP receiver; for the HTTP protocols `/v1/traces` is appended, for `grpc` it is used as is.
   * @default OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) ?? OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318' (grpc: 'http://localhost:4317')
   */
  otlpEndpoint?: string;
  /**
   * OTLP transport.
   * @default OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf'
   */
  otlpProtocol?: OtlpProtocol;
  /** Extra headers for the OTLP exporter (e.g. an API key). @default OTEL_EXPORTER_OTLP_HEADERS */
  otlpHeaders?: Record<string, string>;
  /**
   * Fraction of new traces to record, 0..1, applied as `parentbased_traceidratio` (a request that
   * arrives with a sampled `traceparent` is always recorded).
   * @default from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else 1 (`parentbased_always_on`)
   */
  sampleRatio?: number;
  /** The bundled instrumentations; each is on unless switched off. @default all on */
  instrumentations?: InstrumentationToggles;
  /** More instrumentations to register alongside the bundled ones. @default [] */
  extraInstrumentations?: Instrumentation[];
  /**
   * Incoming request paths that get no span (exact match, or prefix when ending in `*`).
   * @default ['/metrics', '/health', '/health/*']
   */
  ignoreIncomingPaths?: readonly string[];
  /** Extra resource attributes (win over OTEL_RESOURCE_ATTRIBUTES). @default {} */
  resourceAttributes?: Attributes;
  /** Replaces the exporter chosen by `exporter` (sent in batches). For tests and custom back-ends. */
  traceExporter?: SpanExporter;
  /** Replaces the whole export pipeline (e.g. `[new SimpleSpanProcessor(new InMemorySpanExporter())]` in tests). */
  spanProcessors?: SpanProcessor[];
  /** How long `shutdown()` waits for the last spans to be exported, in ms. @default 5000 */
  shutdownTimeoutMs?: number;
  /**
   * Receives warnings: a double start, a slow shutdown, the first failed export (with the endpoint and
   * the error) and the first success after failures. @default process.emitWarning(message, 'DeiaTracingWarning')
   */
  warn?: (message: string) => void;
  /**
   * Called with the number of spans lost and why, e.g. to increment a Prometheus counter. The totals are
   * also readable at any time from `handle.spanStats()`. @default none
   */
  onDroppedSpans?: (count: number, reason: DroppedSpansReason) => void;
}

export type {
  DroppedSpansReason,
  OtlpProtocol,
  SpanExportStats,
  TracingExporter,
  TracingHandle,
} from './handle-types.js';
export type { LevelCase, LoggerOptions, RedactOptions } from './logger-types.js';
