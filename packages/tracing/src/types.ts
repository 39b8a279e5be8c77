import type { Attributes } from '@opentelemetry/api';
import type { ExpressInstrumentationConfig } from '@opentelemetry/instrumentation-express';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { IORedisInstrumentationConfig } from '@opentelemetry/instrumentation-ioredis';
import type { PgInstrumentationConfig } from '@opentelemetry/instrumentation-pg';
import type { PinoInstrumentationConfig } from '@opentelemetry/instrumentation-pino';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { DestinationStream, LoggerOptions as PinoLoggerOptions } from 'pino';

/** Where spans go. `otlp`: OTLP over HTTP (JSON) to the collector or Jaeger; `console`: stdout; `none`: nowhere. */
export type TracingExporter = 'otlp' | 'console' | 'none';

/** An OpenTelemetry instrumentation instance (e.g. from an `@opentelemetry/instrumentation-*` package). */
export type Instrumentation = NodeSDKConfiguration['instrumentations'][number];

/**
 * Per-library switch: `true` (default) turns it on with this package's defaults, `false` off,
 * an object turns it on with that configuration (passed to the instrumentation's constructor).
 */
export type InstrumentationToggle<C> = boolean | C;

/** Which of the bundled instrumentations to enable. Every one is on by default. */
export interface InstrumentationToggles {
  /** `@opentelemetry/instrumentation-http`: server and client spans for `node:http(s)`. */
  http?: InstrumentationToggle<HttpInstrumentationConfig>;
  /** `@opentelemetry/instrumentation-express`: middleware and route spans, `http.route`. */
  express?: InstrumentationToggle<ExpressInstrumentationConfig>;
  /**
   * `@fastify/otel` (the maintained Fastify instrumentation), registered on Fastify's initialisation
   * so no `app.register` is needed. The object is passed to `new FastifyOtelInstrumentation(...)`.
   */
  fastify?: InstrumentationToggle<Record<string, unknown>>;
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
   * Base URL of the OTLP/HTTP receiver; `/v1/traces` is appended.
   * @default OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) ?? OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318'
   */
  otlpEndpoint?: string;
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
  /** Receives warnings (double start, slow shutdown). @default process.emitWarning(message, 'DeiaTracingWarning') */
  warn?: (message: string) => void;
}

/** What `startTracing` returns. */
export interface TracingHandle {
  /** The resolved `service.name`. */
  readonly serviceName: string;
  /** The exporter in use (`custom` when `traceExporter`/`spanProcessors` were passed). */
  readonly exporter: TracingExporter | 'custom';
  /**
   * Exports the spans still buffered, then stops tracing. Idempotent (every call returns the same promise);
   * resolves, never rejects, at the latest after `shutdownTimeoutMs`. Does not exit the process.
   */
  shutdown(): Promise<void>;
  /** Exports buffered spans now, keeping tracing on. */
  forceFlush(): Promise<void>;
}

/** Case of the `level` word in log lines. */
export type LevelCase = 'upper' | 'lower';

/** Options of `createLogger`. Every other pino option can be passed through `pino`. */
export interface LoggerOptions {
  /**
   * `service` field on every line.
   * @default process.env.OTEL_SERVICE_NAME ?? process.env.npm_package_name ?? 'unknown_service'
   */
  service?: string;
  /** Minimum level. @default process.env.LOG_LEVEL ?? 'info' */
  level?: string;
  /** `INFO` as in the operations guide, or pino's `info`. @default 'upper' */
  levelCase?: LevelCase;
  /**
   * Secret removal. `true`: default keys and connection-string credentials; `false`: off (not recommended);
   * an object adds keys (matched case-insensitively, ignoring `-` and `_`) or changes the censor.
   * @default true
   */
  redact?: boolean | RedactOptions;
  /**
   * Human-readable output through `pino-pretty` (optional peer). Only honoured when NODE_ENV is not
   * `production`; the JSON line format is what log shippers parse.
   * @default false
   */
  pretty?: boolean;
  /** Where lines go (a pino destination or any writable stream). @default stdout (pino.destination(1)) */
  destination?: DestinationStream;
  /** Adds `trace_id`/`span_id` of the active span to every line. @default true */
  traceContext?: boolean;
  /** Fields on every line (after `service`). @default {} */
  base?: Record<string, unknown>;
  /** Raw pino options, merged last (the format-defining ones above win). */
  pino?: PinoLoggerOptions;
}

/** Options of secret redaction in logs. */
export interface RedactOptions {
  /** More keys whose values are replaced, e.g. `['sessionId']`. */
  keys?: readonly string[];
  /** Replacement text. @default '[REDACTED]' */
  censor?: string;
}
