/**
 * `@deia/tracing/logger`: the pino logger with `trace_id`/`span_id`/`trace_flags`, secret redaction and
 * trace exemplars. Loads pino and `@opentelemetry/api` only (no SDK), so it costs what pino costs and works
 * with whatever OpenTelemetry set-up is running: `startTracing`, or your own `NodeSDK`.
 */
export type { Logger } from 'pino';
export { DeiaTracingError } from './errors.js';
export { traceExemplar } from './exemplars.js';
export { getTracing } from './identity.js';
export {
  type AccessLog,
  accessLog,
  botLogger,
  createLogger,
  DEFAULT_LOGGER_OPTIONS,
  type RequestLogFields,
  requestLogger,
} from './logger.js';
export type { LevelCase, LoggerOptions, RedactOptions } from './logger-types.js';
export { DEFAULT_CENSOR, DEFAULT_REDACT_KEYS, redactConnectionString } from './redact.js';
