import { checkOptions, closest, describeValue, type OptionsSchema, rules } from '@deia/options';
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

const nonBlank = (v: unknown) => typeof v === 'string' && v.trim() !== '';
const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The instrumentation switches: each true, false or a configuration object. */
function instrumentationsOk(v: unknown): true | string {
  if (!isObject(v)) return 'instrumentations must be an object such as { pg: false }.';
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!TOGGLE_KEYS.has(k)) {
      const near = closest(k, [...TOGGLE_KEYS]);
      return `instrumentations: unknown option "${k}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${[...TOGGLE_KEYS].join(', ')}.`;
    }
    if (typeof x !== 'boolean' && (x === null || typeof x !== 'object'))
      return `instrumentations.${k} must be true, false or a configuration object.`;
  }
  const serverSpans = ((v as { http?: unknown }).http as { serverSpans?: unknown } | undefined)?.serverSpans;
  if (serverSpans !== undefined && serverSpans !== 'light' && serverSpans !== 'instrumentation')
    return `instrumentations.http.serverSpans must be 'light' or 'instrumentation', got ${describeValue(serverSpans)}.`;
  return true;
}

/** `startTracing`'s options, checked by the options contract every @deia package shares. */
const TRACING_OPTIONS_SCHEMA: OptionsSchema = {
  serviceName: { must: 'a non-empty string', ok: nonBlank },
  serviceVersion: { must: 'a non-empty string', ok: nonBlank },
  environment: { must: 'a non-empty string', ok: nonBlank },
  exporter: rules.oneOf(EXPORTERS),
  otlpEndpoint: {
    must: 'an http(s) URL',
    // The value may carry credentials: the complaint never echoes it.
    ok: (v) => {
      let url: URL | undefined;
      try {
        url = new URL(String(v));
      } catch {
        url = undefined;
      }
      return (
        (typeof v === 'string' && (url?.protocol === 'http:' || url?.protocol === 'https:')) ||
        'otlpEndpoint must be an http(s) URL such as "http://localhost:4318".'
      );
    },
  },
  otlpProtocol: rules.oneOf(PROTOCOLS),
  otlpHeaders: rules.recordOf((v) => typeof v === 'string', 'an object of header name to string value'),
  sampleRatio: rules.number('a number from 0 to 1', { min: 0, max: 1 }),
  instrumentations: { must: 'an object such as { pg: false }', ok: instrumentationsOk },
  extraInstrumentations: rules.arrayOf(() => true, 'an array of instrumentation instances'),
  ignoreIncomingPaths: rules.arrayOf(
    (p) => typeof p === 'string',
    'an array of paths such as ["/metrics", "/health/*"]',
  ),
  resourceAttributes: rules.recordOf(() => true, 'an object of attribute name to value'),
  traceExporter: rules.methods(['export'], 'a SpanExporter (an object with export() and shutdown())'),
  spanProcessors: rules.arrayOf(() => true, 'an array of span processors'),
  shutdownTimeoutMs: rules.number('a positive number of milliseconds', { min: 0, exclusive: true }),
  warn: rules.function(),
  onDroppedSpans: rules.function(),
};

const fail = (message: string): never => {
  throw bad(message);
};

/** Throws `DEIA_TRACING_OPTIONS` naming the option and what to change (unknown keys: "did you mean"). */
export function validate(options: TracingOptions): void {
  const o = checkOptions('startTracing', options, TRACING_OPTIONS_SCHEMA, fail);
  if (o.traceExporter !== undefined && o.spanProcessors !== undefined)
    fail('startTracing: pass either traceExporter or spanProcessors, not both.');
}
