/** The pino logger type `createLogger` returns (re-exported so apps can annotate without importing pino). */
export type { Logger } from 'pino';
export { DeiaTracingError } from './errors.js';
export { traceExemplar } from './exemplars.js';
export {
  type AccessLog,
  accessLog,
  botLogger,
  createLogger,
  DEFAULT_LOGGER_OPTIONS,
  type RequestLogFields,
  requestLogger,
} from './logger.js';
export { DEFAULT_CENSOR, DEFAULT_REDACT_KEYS, redactConnectionString } from './redact.js';
// The domain span helpers: the same list as the `./spans` entry, kept in one place.
export * from './spans-entry.js';
export { DEFAULT_TRACING_OPTIONS, getTracing, startTracing } from './start.js';
export type {
  DroppedSpansReason,
  Instrumentation,
  InstrumentationToggle,
  InstrumentationToggles,
  LevelCase,
  LoggerOptions,
  OtlpProtocol,
  RedactOptions,
  SpanExportStats,
  TracingExporter,
  TracingHandle,
  TracingOptions,
} from './types.js';
