import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  type ResourceDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { createOtlpExporter, otlpUrl, printableUrl, queueFullListener, WatchedExporter } from './export.js';
import {
  getTracing,
  resourceAttributeFromEnv,
  serviceNameFromEnv,
  setTracing,
  UNKNOWN_SERVICE_NAME,
} from './identity.js';
import { buildInstrumentations } from './instrumentations.js';
import { DEFAULT_TRACING_OPTIONS, envInt, envStr, exporterFromEnv, protocolOf, validate } from './options.js';
import { lightServerSpans } from './server-span.js';
import type {
  OtlpProtocol,
  SpanExportStats,
  TracingExporter,
  TracingHandle,
  TracingOptions,
} from './types.js';

export { getTracing } from './identity.js';
export { DEFAULT_TRACING_OPTIONS } from './options.js';

/** `deployment.environment.name` (semconv 1.27+) and the older key that Jaeger and Grafana still read. */
const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';
const ATTR_DEPLOYMENT_ENVIRONMENT = 'deployment.environment';

/** The process detector minus the command line, which can carry credentials (`--db=postgres://u:p@…`). */
const processWithoutArgs: ResourceDetector = {
  detect(config) {
    const detected = processDetector.detect(config);
    const {
      'process.command_args': _args,
      'process.command_line': _line,
      ...attributes
    } = detected.attributes ?? {};
    return { attributes };
  },
};

function pathMatcher(paths: readonly string[]): (path: string) => boolean {
  const exact = new Set(paths.filter((p) => !p.endsWith('*')));
  const prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (path) => exact.has(path) || prefixes.some((p) => path.startsWith(p));
}

function resolveIdentity(options: TracingOptions) {
  return {
    serviceName: options.serviceName ?? serviceNameFromEnv() ?? UNKNOWN_SERVICE_NAME,
    serviceVersion:
      options.serviceVersion ??
      resourceAttributeFromEnv(ATTR_SERVICE_VERSION) ??
      envStr('npm_package_version') ??
      'unknown',
    environment:
      options.environment ??
      resourceAttributeFromEnv(ATTR_DEPLOYMENT_ENVIRONMENT_NAME) ??
      resourceAttributeFromEnv(ATTR_DEPLOYMENT_ENVIRONMENT) ??
      envStr('NODE_ENV') ??
      DEFAULT_TRACING_OPTIONS.environment,
  };
}

/** `sampleRatio`, else OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the spec's values), else parent-based always-on. */
function samplerOf(options: TracingOptions, warn: (m: string) => void): Sampler {
  if (options.sampleRatio !== undefined) {
    return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) });
  }
  const name = envStr('OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on';
  const arg = Number(envStr('OTEL_TRACES_SAMPLER_ARG') ?? 1);
  const ratio = () => new TraceIdRatioBasedSampler(arg >= 0 && arg <= 1 ? arg : 1);
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      warn(`@deia/tracing: OTEL_TRACES_SAMPLER=${name} is not supported; sampling every trace.`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

interface Pipeline {
  exporter: TracingExporter | 'custom';
  processors: SpanProcessor[];
  otlp?: { protocol: OtlpProtocol; url: string };
  stats: SpanExportStats;
}

function buildPipeline(options: TracingOptions, warn: (m: string) => void): Pipeline {
  const stats: SpanExportStats = { exported: 0, failed: 0, dropped: 0, failing: false };
  if (options.spanProcessors) return { exporter: 'custom', processors: options.spanProcessors, stats };
  // The batch settings are the SDK's defaults unless OTEL_BSP_* says otherwise (5 s, 2048 queued, 512 per export).
  const batch = (exporter: WatchedExporter | NonNullable<TracingOptions['traceExporter']>) =>
    new BatchSpanProcessor({
      exporter,
      selfObsMeterProvider: queueFullListener(
        exporter instanceof WatchedExporter ? exporter.stats : stats,
        options.onDroppedSpans,
      ),
      ...withDefined({
        scheduledDelayMillis: envInt('OTEL_BSP_SCHEDULE_DELAY'),
        exportTimeoutMillis: envInt('OTEL_BSP_EXPORT_TIMEOUT'),
        maxQueueSize: envInt('OTEL_BSP_MAX_QUEUE_SIZE'),
        maxExportBatchSize: envInt('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      }),
    });
  if (options.traceExporter) return { exporter: 'custom', processors: [batch(options.traceExporter)], stats };
  const exporter = options.exporter ?? exporterFromEnv() ?? DEFAULT_TRACING_OPTIONS.exporter;
  // No processor: spans are still created (trace ids in logs, exemplars, propagation), just not exported.
  if (exporter === 'none') return { exporter, processors: [], stats };
  if (exporter === 'console') {
    return {
      exporter,
      processors: [new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })],
      stats,
    };
  }
  const protocol = protocolOf(options);
  const url = otlpUrl(options, protocol);
  const printable = printableUrl(url);
  const watched = new WatchedExporter(
    createOtlpExporter(options, protocol, url),
    printable,
    warn,
    options.onDroppedSpans,
  );
  return { exporter, processors: [batch(watched)], otlp: { protocol, url: printable }, stats: watched.stats };
}

function withDefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Starts OpenTelemetry tracing for this process: a tracer provider with an AsyncLocalStorage context
 * manager and W3C propagation, the bundled instrumentations (each loaded only when on) and the exporter.
 * Call it before the app loads express/fastify/pg/ioredis/pino, or use the `@deia/tracing/register` entry.
 * A second call warns and returns the running handle.
 *
 * @throws DeiaTracingError `DEIA_TRACING_OPTIONS` on bad options, `DEIA_TRACING_ENV` on a bad `OTEL_*` value,
 * `DEIA_TRACING_GRPC_MISSING` / `DEIA_TRACING_FASTIFY_OTEL_MISSING` when an optional peer that was asked for is missing.
 */
export function startTracing(options: TracingOptions = {}): TracingHandle {
  validate(options);
  const warn =
    options.warn ?? ((message: string) => process.emitWarning(message, { type: 'DeiaTracingWarning' }));
  const running = getTracing();
  if (running) {
    warn('@deia/tracing: startTracing() was called again; returning the tracing that is already running.');
    return running;
  }

  const identity = resolveIdentity(options);
  const pipeline = buildPipeline(options, warn);
  const ignorePath = pathMatcher(options.ignoreIncomingPaths ?? DEFAULT_TRACING_OPTIONS.ignoreIncomingPaths);
  const built = buildInstrumentations(options.instrumentations ?? {}, ignorePath);
  const instrumentations = [...built.list, ...(options.extraInstrumentations ?? [])];

  // Precedence: explicit options > OTEL_* (env detector) > defaults; host and process detectors add the rest.
  const resource = defaultResource()
    .merge(detectResources({ detectors: [hostDetector, processWithoutArgs, envDetector] }))
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: identity.serviceName,
        [ATTR_SERVICE_VERSION]: identity.serviceVersion,
        [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: identity.environment,
        [ATTR_DEPLOYMENT_ENVIRONMENT]: identity.environment,
        ...options.resourceAttributes,
      }),
    );

  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(options, warn),
    spanProcessors: pipeline.processors,
  });
  // AsyncLocalStorage (not async_hooks): the cheaper context manager on Node >= 20.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({ instrumentations, tracerProvider: provider });
  const stopServerSpans = built.serverIgnore
    ? lightServerSpans({
        tracer: provider.getTracer('@deia/tracing'),
        enter: (ctx) => contextManager.attach(ctx),
        ignore: built.serverIgnore,
      })
    : () => {};

  const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_TRACING_OPTIONS.shutdownTimeoutMs;
  let stopping: Promise<void> | undefined;
  const handle: TracingHandle = {
    serviceName: identity.serviceName,
    exporter: pipeline.exporter,
    ...(pipeline.otlp ? { otlp: pipeline.otlp } : {}),
    spanStats: () => ({ ...pipeline.stats }),
    // A failed export is reported through `warn` and the stats, never thrown at the app.
    forceFlush: () => provider.forceFlush().catch(() => undefined),
    shutdown: () => {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          timer.unref();
        });
        try {
          const result = await Promise.race([provider.shutdown().then(() => 'done' as const), timeout]);
          if (result === 'timeout') {
            warn(
              `@deia/tracing: shutdown did not finish exporting within ${timeoutMs} ms; some spans may be lost.`,
            );
          }
        } catch (err) {
          warn(`@deia/tracing: shutdown failed: ${(err as Error).message}`);
        } finally {
          clearTimeout(timer);
          try {
            unregister();
          } catch {
            // an instrumentation that cannot unpatch must not fail the shutdown
          }
          built.stop();
          stopServerSpans();
          // Unregister the globals so that a later startTracing() (tests, restarts) can register again.
          trace.disable();
          context.disable();
          propagation.disable();
          if (getTracing() === handle) setTracing(undefined);
        }
      })();
      return stopping;
    },
  };
  setTracing(handle);
  return handle;
}
