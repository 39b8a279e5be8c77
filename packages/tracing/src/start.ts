import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  type ResourceDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { DeiaTracingError } from './errors.js';
import type {
  Instrumentation,
  InstrumentationToggles,
  TracingExporter,
  TracingHandle,
  TracingOptions,
} from './types.js';

/** Defaults of `startTracing` (the `OTEL_*` variables, when set, win over these). */
export const DEFAULT_TRACING_OPTIONS = {
  exporter: 'otlp' as TracingExporter,
  otlpEndpoint: 'http://localhost:4318',
  sampleRatio: 1,
  environment: 'development',
  ignoreIncomingPaths: ['/metrics', '/health', '/health/*'] as readonly string[],
  shutdownTimeoutMs: 5000,
} as const;

/** `deployment.environment.name` (semconv 1.27+) and the older key that Jaeger and Grafana still read. */
const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';
const ATTR_DEPLOYMENT_ENVIRONMENT = 'deployment.environment';
const EXPORTERS: readonly TracingExporter[] = ['otlp', 'console', 'none'];
const OPTION_KEYS = new Set([
  'serviceName',
  'serviceVersion',
  'environment',
  'exporter',
  'otlpEndpoint',
  'otlpHeaders',
  'sampleRatio',
  'instrumentations',
  'extraInstrumentations',
  'ignoreIncomingPaths',
  'resourceAttributes',
  'traceExporter',
  'spanProcessors',
  'shutdownTimeoutMs',
  'warn',
]);
const TOGGLE_KEYS = new Set(['http', 'express', 'fastify', 'pg', 'ioredis', 'pino']);

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

/** Process-wide slot: one SDK per process, shared by the ESM and CJS copies of this package. */
const SLOT = Symbol.for('@deia/tracing');
interface Slot {
  handle: TracingHandle;
}
const slot = (): { [SLOT]?: Slot } => globalThis as { [SLOT]?: Slot };

/** The running tracing handle (from `startTracing` or the `@deia/tracing/register` entry), if any. */
export function getTracing(): TracingHandle | undefined {
  return slot()[SLOT]?.handle;
}

const bad = (message: string) => new DeiaTracingError('DEIA_TRACING_OPTIONS', message);

const envStr = (name: string): string | undefined => {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
};

function exporterFromEnv(): TracingExporter | undefined {
  const raw = envStr('OTEL_TRACES_EXPORTER');
  if (!raw) return undefined;
  const list = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (list.includes('none')) return 'none';
  const first = list[0];
  if (list.length !== 1 || !EXPORTERS.includes(first as TracingExporter)) {
    throw new DeiaTracingError(
      'DEIA_TRACING_ENV',
      `OTEL_TRACES_EXPORTER="${raw}" is not supported; set it to one of: ${EXPORTERS.join(', ')}.`,
    );
  }
  return first as TracingExporter;
}

function validate(options: TracingOptions): void {
  if (options === null || typeof options !== 'object')
    throw bad('startTracing(options): options must be an object.');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw bad(`unknown option "${key}"; use some of: ${[...OPTION_KEYS].join(', ')}.`);
    }
  }
  for (const key of ['serviceName', 'serviceVersion', 'environment'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) {
      throw bad(`${key} must be a non-empty string.`);
    }
  }
  if (options.exporter !== undefined && !EXPORTERS.includes(options.exporter)) {
    throw bad(
      `exporter "${String(options.exporter)}" is not supported; use one of: ${EXPORTERS.join(', ')}.`,
    );
  }
  if (options.sampleRatio !== undefined) {
    const r = options.sampleRatio;
    if (typeof r !== 'number' || !(r >= 0 && r <= 1)) {
      throw bad(`sampleRatio must be a number from 0 to 1 (got ${String(r)}).`);
    }
  }
  if (options.otlpEndpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.otlpEndpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      // The value may carry credentials: do not echo it.
      throw bad('otlpEndpoint must be an http(s) URL such as "http://localhost:4318".');
    }
  }
  if (options.otlpHeaders !== undefined) {
    if (options.otlpHeaders === null || typeof options.otlpHeaders !== 'object') {
      throw bad('otlpHeaders must be an object of header name to string value.');
    }
    for (const [k, v] of Object.entries(options.otlpHeaders)) {
      if (typeof v !== 'string') throw bad(`otlpHeaders.${k} must be a string.`);
    }
  }
  if (options.instrumentations !== undefined) {
    if (options.instrumentations === null || typeof options.instrumentations !== 'object') {
      throw bad('instrumentations must be an object such as { pg: false }.');
    }
    for (const [k, v] of Object.entries(options.instrumentations)) {
      if (!TOGGLE_KEYS.has(k))
        throw bad(`instrumentations.${k} is unknown; use some of: ${[...TOGGLE_KEYS].join(', ')}.`);
      if (typeof v !== 'boolean' && (v === null || typeof v !== 'object')) {
        throw bad(`instrumentations.${k} must be true, false or a configuration object.`);
      }
    }
  }
  if (options.extraInstrumentations !== undefined && !Array.isArray(options.extraInstrumentations)) {
    throw bad('extraInstrumentations must be an array of instrumentation instances.');
  }
  if (
    options.ignoreIncomingPaths !== undefined &&
    (!Array.isArray(options.ignoreIncomingPaths) ||
      options.ignoreIncomingPaths.some((p) => typeof p !== 'string'))
  ) {
    throw bad('ignoreIncomingPaths must be an array of paths such as ["/metrics", "/health/*"].');
  }
  if (options.spanProcessors !== undefined && !Array.isArray(options.spanProcessors)) {
    throw bad('spanProcessors must be an array of span processors.');
  }
  if (options.traceExporter !== undefined && typeof options.traceExporter?.export !== 'function') {
    throw bad('traceExporter must be a SpanExporter (an object with export() and shutdown()).');
  }
  if (options.traceExporter !== undefined && options.spanProcessors !== undefined) {
    throw bad('pass either traceExporter or spanProcessors, not both.');
  }
  const t = options.shutdownTimeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)) {
    throw bad('shutdownTimeoutMs must be a positive number of milliseconds.');
  }
  if (options.warn !== undefined && typeof options.warn !== 'function') throw bad('warn must be a function.');
}

function pathMatcher(paths: readonly string[]): (path: string) => boolean {
  const exact = new Set(paths.filter((p) => !p.endsWith('*')));
  const prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (path) => exact.has(path) || prefixes.some((p) => path.startsWith(p));
}

function toggle<C extends object>(value: boolean | C | undefined): C | undefined {
  if (value === false) return undefined;
  return (value === undefined || value === true ? {} : value) as C;
}

function buildInstrumentations(
  toggles: InstrumentationToggles,
  ignorePath: (path: string) => boolean,
): Instrumentation[] {
  const list: Instrumentation[] = [];
  const http = toggle(toggles.http);
  if (http) {
    const userIgnore = http.ignoreIncomingRequestHook;
    list.push(
      new HttpInstrumentation({
        ...http,
        ignoreIncomingRequestHook: (req) => {
          const url = req.url ?? '/';
          const q = url.indexOf('?');
          if (ignorePath(q === -1 ? url : url.slice(0, q))) return true;
          return userIgnore ? userIgnore(req) : false;
        },
      }),
    );
  }
  const express = toggle(toggles.express);
  if (express) list.push(new ExpressInstrumentation(express));
  const fastify = toggle(toggles.fastify);
  if (fastify) {
    list.push(
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ...fastify,
      }) as unknown as Instrumentation,
    );
  }
  const pg = toggle(toggles.pg);
  if (pg) list.push(new PgInstrumentation(pg));
  const ioredis = toggle(toggles.ioredis);
  if (ioredis) list.push(new IORedisInstrumentation(ioredis));
  const pino = toggle(toggles.pino);
  if (pino) {
    const logsExporter = envStr('OTEL_LOGS_EXPORTER');
    list.push(
      new PinoInstrumentation({
        // Log *sending* needs an OTel LoggerProvider, which is only set up when OTEL_LOGS_EXPORTER asks for one.
        disableLogSending: !logsExporter || logsExporter === 'none',
        ...pino,
      }),
    );
  }
  return list;
}

interface Resolved {
  serviceName: string;
  serviceVersion: string;
  environment: string;
}

function resolveIdentity(options: TracingOptions): Resolved {
  let fromEnv: Record<string, unknown> = {};
  try {
    fromEnv = detectResources({ detectors: [envDetector] }).attributes as Record<string, unknown>;
  } catch {
    fromEnv = {};
  }
  const s = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  return {
    serviceName:
      options.serviceName ??
      s(fromEnv[ATTR_SERVICE_NAME]) ??
      envStr('npm_package_name') ??
      'unknown_service:node',
    serviceVersion:
      options.serviceVersion ??
      s(fromEnv[ATTR_SERVICE_VERSION]) ??
      envStr('npm_package_version') ??
      'unknown',
    environment:
      options.environment ??
      s(fromEnv[ATTR_DEPLOYMENT_ENVIRONMENT_NAME]) ??
      s(fromEnv[ATTR_DEPLOYMENT_ENVIRONMENT]) ??
      envStr('NODE_ENV') ??
      DEFAULT_TRACING_OPTIONS.environment,
  };
}

function buildProcessors(options: TracingOptions): {
  exporter: TracingExporter | 'custom';
  processors: SpanProcessor[];
} {
  if (options.spanProcessors) return { exporter: 'custom', processors: options.spanProcessors };
  if (options.traceExporter) {
    return { exporter: 'custom', processors: [new BatchSpanProcessor(options.traceExporter)] };
  }
  const exporter = options.exporter ?? exporterFromEnv() ?? DEFAULT_TRACING_OPTIONS.exporter;
  // NoopSpanProcessor rather than no processor: NodeSDK registers no tracer provider for an empty list, and
  // spans (trace ids in logs, exemplars, propagation) are still wanted when nothing is exported.
  if (exporter === 'none') return { exporter, processors: [new NoopSpanProcessor()] };
  if (exporter === 'console') {
    return { exporter, processors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] };
  }
  const config: { url?: string; headers?: Record<string, string> } = {};
  // Without an explicit endpoint the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT.
  if (options.otlpEndpoint) config.url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
  if (options.otlpHeaders) config.headers = { ...options.otlpHeaders };
  return { exporter, processors: [new BatchSpanProcessor(new OTLPTraceExporter(config))] };
}

/**
 * Starts OpenTelemetry tracing for this process (NodeSDK, the bundled instrumentations, the exporter).
 * Call it before the app loads express/fastify/pg/ioredis/pino, or use the `@deia/tracing/register` entry.
 * A second call warns and returns the running handle.
 *
 * @throws DeiaTracingError `DEIA_TRACING_OPTIONS` on bad options, `DEIA_TRACING_ENV` on a bad `OTEL_*` value.
 */
export function startTracing(options: TracingOptions = {}): TracingHandle {
  validate(options);
  const warn =
    options.warn ?? ((message: string) => process.emitWarning(message, { type: 'DeiaTracingWarning' }));
  const running = slot()[SLOT];
  if (running) {
    warn('@deia/tracing: startTracing() was called again; returning the tracing that is already running.');
    return running.handle;
  }

  const identity = resolveIdentity(options);
  const { exporter, processors } = buildProcessors(options);
  const protocol = envStr('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? envStr('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (exporter === 'otlp' && protocol && protocol !== 'http/json') {
    warn(
      `@deia/tracing: OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not used; spans are sent as OTLP/HTTP JSON (port 4318), which the Collector and Jaeger accept. Pass traceExporter for another protocol.`,
    );
  }
  const ignorePath = pathMatcher(options.ignoreIncomingPaths ?? DEFAULT_TRACING_OPTIONS.ignoreIncomingPaths);
  const instrumentations = [
    ...buildInstrumentations(options.instrumentations ?? {}, ignorePath),
    ...(options.extraInstrumentations ?? []),
  ];

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

  let sampler: ParentBasedSampler | undefined;
  if (options.sampleRatio !== undefined) {
    sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) });
  }
  // Otherwise NodeSDK reads OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on).

  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    instrumentations,
    spanProcessors: processors,
    ...(sampler ? { sampler } : {}),
    // Metrics are Prometheus (@deia/metrics) and logs are pino lines: OTel metrics/logs only when asked for.
    ...(envStr('OTEL_METRICS_EXPORTER') ? {} : { metricReaders: [] }),
    ...(envStr('OTEL_LOGS_EXPORTER') ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();

  const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_TRACING_OPTIONS.shutdownTimeoutMs;
  let stopping: Promise<void> | undefined;
  const handle: TracingHandle = {
    serviceName: identity.serviceName,
    exporter,
    forceFlush: async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    shutdown: () => {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          timer.unref();
        });
        try {
          const result = await Promise.race([sdk.shutdown().then(() => 'done' as const), timeout]);
          if (result === 'timeout') {
            warn(
              `@deia/tracing: shutdown did not finish exporting within ${timeoutMs} ms; some spans may be lost.`,
            );
          }
        } catch (err) {
          warn(`@deia/tracing: shutdown failed: ${(err as Error).message}`);
        } finally {
          clearTimeout(timer);
          for (const i of instrumentations) {
            try {
              (i as { disable?: () => void }).disable?.();
            } catch {
              // an instrumentation that cannot unpatch must not fail the shutdown
            }
          }
          // Unregister the globals so that a later startTracing() (tests, restarts) can register again.
          trace.disable();
          context.disable();
          propagation.disable();
          if (slot()[SLOT]?.handle === handle) delete slot()[SLOT];
        }
      })();
      return stopping;
    },
  };
  slot()[SLOT] = { handle };
  return handle;
}
