/**
 * `@deia/tracing/spans`: the domain span helpers (bot dispatch, Ollama calls, queued tasks). They use
 * `@opentelemetry/api` only, so they record into whatever tracer provider is registered.
 */
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
