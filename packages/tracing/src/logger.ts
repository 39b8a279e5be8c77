import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { checkOptions, type OptionsSchema, rules } from '@deia/options';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions as PinoLoggerOptions } from 'pino';
import { DeiaTracingError } from './errors.js';
import { getTracing, serviceNameFromEnv, UNKNOWN_SERVICE_NAME } from './identity.js';
import type { LoggerOptions } from './logger-types.js';
import { DEFAULT_CENSOR, redactConnectionString, redactObject, secretKeyMatcher } from './redact.js';

/** Defaults of `createLogger`. */
export const DEFAULT_LOGGER_OPTIONS = {
  level: 'info',
  levelCase: 'upper',
  redact: true,
  pretty: false,
  traceContext: true,
  censor: DEFAULT_CENSOR,
} as const;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** `createLogger`'s options, checked by the options contract every @deia package shares. */
const LOGGER_OPTIONS_SCHEMA: OptionsSchema = {
  service: rules.nonEmptyString(),
  level: rules.type('string', 'a pino level'),
  levelCase: rules.oneOf(['upper', 'lower']),
  redact: {
    must: 'true, false or { keys?, censor? }',
    ok: (v) => typeof v === 'boolean' || (v !== null && typeof v === 'object' && !Array.isArray(v)),
  },
  pretty: rules.any('true or false'),
  destination: rules.any('a pino destination stream'),
  traceContext: rules.any('true or false'),
  base: rules.any('an object of fields on every line'),
  pino: rules.any('pino options'),
};

const bad = (message: string) => new DeiaTracingError('DEIA_LOGGER_OPTIONS', message);

const FLAGS = ['00', '01'];

/**
 * `trace_id`/`span_id`/`trace_flags` of the active span (nothing when there is none), the same three
 * fields and spelling as `@opentelemetry/instrumentation-pino`, so lines look alike whichever adds them.
 */
function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  const flags = FLAGS[sc.traceFlags] ?? `0${sc.traceFlags.toString(16)}`.slice(-2);
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: flags };
}

function loadPretty(): ((options: object) => DestinationStream) | undefined {
  try {
    const req = createRequire(import.meta.url);
    const mod = req('pino-pretty') as { default?: unknown };
    return (typeof mod === 'function' ? mod : mod.default) as (options: object) => DestinationStream;
  } catch {
    return undefined;
  }
}

/**
 * Where the lines go: with `pretty` (not in production, and only when the optional peer
 * pino-pretty loads) through pino-pretty into `destination`; otherwise `destination` as given.
 */
function prettyOutput(options: LoggerOptions): {
  pretty: boolean;
  destination: DestinationStream | undefined;
} {
  let pretty = options.pretty ?? DEFAULT_LOGGER_OPTIONS.pretty;
  if (pretty && process.env.NODE_ENV === 'production') {
    process.emitWarning('@deia/tracing: pretty logs are for development; writing JSON lines in production.', {
      type: 'DeiaTracingWarning',
    });
    pretty = false;
  }
  let destination = options.destination;
  if (pretty) {
    const factory = loadPretty();
    if (factory) {
      const target = options.destination;
      destination = factory({
        // pino-pretty pipes into its destination, so a bare { write } sink is wrapped in a real stream.
        destination:
          target === undefined
            ? 1
            : typeof (target as { on?: unknown }).on === 'function'
              ? target
              : new Writable({
                  write(chunk, _encoding, callback) {
                    target.write(String(chunk));
                    callback();
                  },
                }),
        messageKey: 'message',
        timestampKey: 'timestamp',
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'service',
      });
    } else {
      process.emitWarning(
        '@deia/tracing: pretty logs need the optional peer "pino-pretty"; writing JSON lines.',
        {
          type: 'DeiaTracingWarning',
        },
      );
      pretty = false;
    }
  }
  return { pretty, destination };
}

/**
 * A pino logger writing one JSON object per line in the operations guide's format:
 * `{"level":"INFO","timestamp":"2026-01-15T10:00:00.000Z","service":"api","trace_id":"…","span_id":"…",…fields,"message":"…"}`.
 * `trace_id`/`span_id` come from the active OpenTelemetry span; secrets are redacted by default
 * (secret-named keys at any depth, credentials inside connection strings anywhere on the line).
 *
 * @throws DeiaTracingError `DEIA_LOGGER_OPTIONS` on bad options.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  checkOptions('createLogger', options, LOGGER_OPTIONS_SCHEMA, (message) => {
    throw bad(message);
  });
  const level = options.level ?? process.env.LOG_LEVEL?.trim().toLowerCase() ?? DEFAULT_LOGGER_OPTIONS.level;
  if (!LEVELS.has(level))
    throw bad(`level "${level}" is not a pino level; use one of: ${[...LEVELS].join(', ')}.`);
  const levelCase = options.levelCase ?? DEFAULT_LOGGER_OPTIONS.levelCase;
  if (levelCase !== 'upper' && levelCase !== 'lower') throw bad('levelCase must be "upper" or "lower".');
  const redact = options.redact ?? DEFAULT_LOGGER_OPTIONS.redact;
  if (typeof redact !== 'boolean' && (redact === null || typeof redact !== 'object')) {
    throw bad('redact must be true, false or { keys?, censor? }.');
  }
  const redactKeys = typeof redact === 'object' ? (redact.keys ?? []) : [];
  if (!Array.isArray(redactKeys) || redactKeys.some((k) => typeof k !== 'string')) {
    throw bad('redact.keys must be an array of key names.');
  }
  const censor = (typeof redact === 'object' ? redact.censor : undefined) ?? DEFAULT_LOGGER_OPTIONS.censor;
  if (typeof censor !== 'string') throw bad('redact.censor must be a string.');
  if (options.service !== undefined && (typeof options.service !== 'string' || options.service === '')) {
    throw bad('service must be a non-empty string.');
  }
  // The running tracing's service.name first, so log lines and spans agree.
  const service =
    options.service ?? getTracing()?.serviceName ?? serviceNameFromEnv() ?? UNKNOWN_SERVICE_NAME;

  const { pretty, destination } = prettyOutput(options);
  const isSecretKey = secretKeyMatcher(redactKeys);
  const traceContext = options.traceContext ?? DEFAULT_LOGGER_OPTIONS.traceContext;
  const user = options.pino ?? {};
  const pinoOptions: PinoLoggerOptions = {
    ...user,
    level,
    messageKey: 'message',
    base: { service, ...options.base },
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: {
      ...user.formatters,
      // pino-pretty colours by the numeric level, so only JSON output gets the word.
      ...(pretty
        ? {}
        : { level: (label: string) => ({ level: levelCase === 'upper' ? label.toUpperCase() : label }) }),
      ...(redact
        ? { log: (obj: Record<string, unknown>) => redactObject(obj, isSecretKey, censor, 'err') }
        : {}),
    },
    ...(redact
      ? {
          serializers: {
            // pino's error serializer, then the same key redaction on its (plain) result.
            err: (e: unknown) => {
              const out = pino.stdSerializers.err(e as Error) as unknown;
              return out !== null && typeof out === 'object'
                ? redactObject({ ...(out as Record<string, unknown>) }, isSecretKey, censor)
                : out;
            },
            ...user.serializers,
          },
        }
      : {}),
    ...(traceContext ? { mixin: traceFields } : {}),
    hooks: {
      ...user.hooks,
      // Last line of defence: credentials in connection strings anywhere on the line (message, bindings, stacks).
      ...(redact ? { streamWrite: (line: string) => redactConnectionString(line, censor) } : {}),
    },
  };
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}

/** A child logger for one bot: every line carries `bot_id`. */
export function botLogger(logger: Logger, botId: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ bot_id: botId, ...bindings });
}

/** What identifies a request in its log lines. */
export interface RequestLogFields {
  /** `request_id`, e.g. from the `x-request-id` header. */
  id?: string;
  /** `method`. */
  method?: string;
  /** `route`: the route template (`/api/bots/:id`), not the raw path. */
  route?: string;
}

/** A child logger for one request: every line carries `request_id`, `method`, `route` (when given). */
export function requestLogger(logger: Logger, request: RequestLogFields): Logger {
  const bindings: Record<string, string> = {};
  if (request.id !== undefined) bindings.request_id = request.id;
  if (request.method !== undefined) bindings.method = request.method;
  if (request.route !== undefined) bindings.route = request.route;
  return logger.child(bindings);
}

/** The logger shape the HTTP adapters accept (`logger` option of `deiaExpress`/`deiaFastify`; pino-compatible). */
export interface AccessLog {
  /** One access-log entry (the adapters call it once per request when `accessLog: true`). */
  info(obj: object, msg?: string): void;
  /** Passed through to the logger (the adapters report their own problems here). */
  warn(obj: object, msg?: string): void;
  /** Passed through to the logger. */
  error(obj: object, msg?: string): void;
}

/**
 * Wraps a logger for the adapters' access log: each `info` entry gets `event_type: "access"` and is
 * written at `error` for 5xx, `warn` for 4xx and `info` otherwise (reads `status` or `statusCode`).
 * `warn`/`error` pass through unchanged.
 */
export function accessLog(logger: Pick<Logger, 'info' | 'warn' | 'error'>): AccessLog {
  return {
    info(obj, msg) {
      const entry = obj as { status?: unknown; statusCode?: unknown };
      const status = Number(entry.status ?? entry.statusCode);
      const line = { event_type: 'access', ...obj };
      if (status >= 500) logger.error(line, msg);
      else if (status >= 400) logger.warn(line, msg);
      else logger.info(line, msg);
    },
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
  };
}
