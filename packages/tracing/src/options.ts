import { DeiaTracingError } from './errors.js';
import type { OtlpProtocol, TracingExporter, TracingOptions } from './types.js';

/** Defaults of `startTracing` (the `OTEL_*` variables, when set, win over these). */
export const DEFAULT_TRACING_OPTIONS = {
  exporter: 'otlp' as TracingExporter,
  otlpEndpoint: 'http://localhost:4318',
  otlpProtocol: 'http/protobuf' as OtlpProtocol,
  sampleRatio: 1,
  environment: 'development',
  ignoreIncomingPaths: ['/metrics', '/health', '/health/*'] as readonly string[],
  shutdownTimeoutMs: 5000,
} as const;

export const EXPORTERS: readonly TracingExporter[] = ['otlp', 'console', 'none'];
export const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];
const OPTION_KEYS = new Set([
  'serviceName',
  'serviceVersion',
  'environment',
  'exporter',
  'otlpEndpoint',
  'otlpProtocol',
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
  'onDroppedSpans',
]);
const TOGGLE_KEYS = new Set(['http', 'express', 'fastify', 'pg', 'ioredis', 'pino']);

export const bad = (message: string) => new DeiaTracingError('DEIA_TRACING_OPTIONS', message);

export const envStr = (name: string): string | undefined => {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
};

/** A non-negative integer from the environment (e.g. `OTEL_BSP_*`), or undefined when unset or invalid. */
export const envInt = (name: string): number | undefined => {
  const raw = envStr(name);
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};

export function exporterFromEnv(): TracingExporter | undefined {
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

/** Options > OTEL_EXPORTER_OTLP_TRACES_PROTOCOL > OTEL_EXPORTER_OTLP_PROTOCOL > `http/protobuf`. */
export function protocolOf(options: TracingOptions): OtlpProtocol {
  if (options.otlpProtocol) return options.otlpProtocol;
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const raw = envStr(name);
    if (raw === undefined) continue;
    if (!PROTOCOLS.includes(raw as OtlpProtocol)) {
      throw new DeiaTracingError(
        'DEIA_TRACING_ENV',
        `${name}="${raw}" is not supported; set it to one of: ${PROTOCOLS.join(', ')}.`,
      );
    }
    return raw as OtlpProtocol;
  }
  return DEFAULT_TRACING_OPTIONS.otlpProtocol;
}

export function validate(options: TracingOptions): void {
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
    const serverSpans = (options.instrumentations.http as { serverSpans?: unknown } | undefined)?.serverSpans;
    if (serverSpans !== undefined && serverSpans !== 'light' && serverSpans !== 'instrumentation') {
      throw bad(
        `instrumentations.http.serverSpans must be 'light' or 'instrumentation', got ${String(serverSpans)}.`,
      );
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
  if (options.onDroppedSpans !== undefined && typeof options.onDroppedSpans !== 'function') {
    throw bad('onDroppedSpans must be a function.');
  }
  if (options.otlpProtocol !== undefined && !PROTOCOLS.includes(options.otlpProtocol)) {
    throw bad(
      `otlpProtocol "${String(options.otlpProtocol)}" is not supported; use one of: ${PROTOCOLS.join(', ')}.`,
    );
  }
}
