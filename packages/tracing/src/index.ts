/** The pino logger type `createLogger` returns (re-exported so apps can annotate without importing pino). */
export type { Logger } from 'pino';
export { DeiaTracingError } from './errors.js';
export { traceExemplar } from './exemplars.js';
export {
  DEFAULT_MAX_CONTENT_LENGTH,
  GEN_AI_STREAM_ATTRIBUTES,
  type GenAiChunkInfo,
  type GenAiMessage,
  type GenAiStreamOptions,
  type GenAiStreamResult,
  type GenAiStreamSpan,
  type GenAiStreamSpanOptions,
  readOllamaChunk,
  startGenAiStreamSpan,
  withGenAiStreamSpan,
} from './genai-stream.js';
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
export {
  type GenAiUsage,
  type OllamaSpanOptions,
  recordGenAiUsage,
  SPAN_ATTRIBUTES,
  type SpanExtras,
  type TaskSpanOptions,
  TRACER_NAME,
  withBotDispatchSpan,
  withOllamaSpan,
  withTaskSpan,
} from './spans.js';
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
