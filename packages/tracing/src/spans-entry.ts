/**
 * `@deia/tracing/spans`: the domain span helpers (bot dispatch, Ollama calls, streamed model calls, queued tasks). They use
 * `@opentelemetry/api` only, so they record into whatever tracer provider is registered.
 */
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
