import type { MetricDefinition } from './types.js';

/**
 * Buckets the OpenTelemetry GenAI semantic conventions recommend for their durations
 * (gen_ai.client.operation.duration, time_to_first_chunk, time_per_output_chunk), in seconds.
 */
export const GENAI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;
/** Buckets the OpenTelemetry GenAI semantic conventions recommend for gen_ai.client.token.usage. */
export const GENAI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;
/** Values of `gen_ai_operation_name` the catalog keeps; any other is recorded as `other`. */
export const GENAI_OPERATIONS = ['chat', 'text_completion', 'embeddings'] as const;

/**
 * The error types the recording itself reports in `error_type` (an error given to `fail` is mapped
 * by `genAiErrorType`; an HTTP status is reported as its number, e.g. `"500"`):
 * - `cancelled`: the consumer cancelled the wrapped stream (a client that disconnected) or the call
 *   was aborted;
 * - `timeout`: the call's deadline passed (`AbortSignal.timeout`);
 * - `truncated`: the answer ended before Ollama's final `done: true` line;
 * - `network`: the connection failed (refused, reset);
 * - `ollama_error`: Ollama answered `{"error": ...}` (in the body or as a line of the stream);
 * - `invalid_response`: the answer (or its final line) is not the JSON Ollama sends;
 * - `_OTHER`: anything else (the conventions' fallback).
 */
export const GENAI_ERROR_TYPES = [
  'cancelled',
  'timeout',
  'truncated',
  'network',
  'ollama_error',
  'invalid_response',
  '_OTHER',
] as const;

/** HTTP statuses an Ollama call may fail with, kept as `error_type` values (any other is `other`). */
export const GENAI_HTTP_ERROR_STATUSES = [
  '400',
  '401',
  '403',
  '404',
  '429',
  '500',
  '502',
  '503',
  '504',
] as const;

const modelLabels = ['gen_ai_provider_name', 'gen_ai_request_model'] as const;
const genAiLabels: readonly string[] = ['gen_ai_operation_name', ...modelLabels];
const genAiValues = { gen_ai_operation_name: [...GENAI_OPERATIONS] };

/**
 * The `llm` group: model calls after the OpenTelemetry GenAI conventions (names translated the way
 * Prometheus translates OTLP: dots to underscores, `_seconds` for `s`, annotation units dropped),
 * Ollama's own counters (load, evaluation), model residency (`/api/ps`), and the `llm_*` series
 * they replace (deprecated, kept for one release).
 */
export const LLM_DEFINITIONS: readonly MetricDefinition[] = [
  // --- llm: OpenTelemetry GenAI client conventions, translated to Prometheus -----------------
  {
    name: 'gen_ai_client_operation_duration_seconds',
    type: 'histogram',
    help: 'Duration of a GenAI client operation (a model call, to the last chunk when streamed), in seconds; error_type is empty on success.',
    unit: 'seconds',
    labelNames: genAiLabels.concat('error_type'),
    labelValues: { ...genAiValues, error_type: ['', ...GENAI_ERROR_TYPES, ...GENAI_HTTP_ERROR_STATUSES] },
    maxLabelValues: 30,
    buckets: GENAI_DURATION_BUCKETS,
    group: 'llm',
    guideName: 'gen_ai.client.operation.duration',
    guideNote: 'OpenTelemetry GenAI semantic conventions, named as Prometheus translates OTLP',
  },
  {
    name: 'gen_ai_client_token_usage',
    type: 'histogram',
    help: 'Tokens one GenAI call used, by token type (input: the prompt, output: the answer).',
    unit: 'tokens',
    labelNames: genAiLabels.concat('gen_ai_token_type'),
    labelValues: { ...genAiValues, gen_ai_token_type: ['input', 'output'] },
    maxLabelValues: 30,
    buckets: GENAI_TOKEN_BUCKETS,
    group: 'llm',
    guideName: 'gen_ai.client.token.usage',
    guideNote: 'OpenTelemetry GenAI semantic conventions; the annotation unit {token} is dropped',
  },
  {
    name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
    type: 'histogram',
    help: 'Time from issuing a streamed GenAI call to receiving its first chunk, in seconds (streamed calls only).',
    unit: 'seconds',
    labelNames: genAiLabels,
    labelValues: genAiValues,
    maxLabelValues: 30,
    buckets: GENAI_DURATION_BUCKETS,
    group: 'llm',
    guideName: 'gen_ai.client.operation.time_to_first_chunk',
    guideNote: 'OpenTelemetry GenAI semantic conventions',
  },
  {
    name: 'gen_ai_client_operation_time_per_output_chunk_seconds',
    type: 'histogram',
    help: 'Time between the end of one chunk and the end of the next of a streamed GenAI call, in seconds (one observation per chunk after the first).',
    unit: 'seconds',
    labelNames: genAiLabels,
    labelValues: genAiValues,
    maxLabelValues: 30,
    buckets: GENAI_DURATION_BUCKETS,
    group: 'llm',
    guideName: 'gen_ai.client.operation.time_per_output_chunk',
    guideNote: 'OpenTelemetry GenAI semantic conventions',
  },
  {
    name: 'llm_model_load_duration_seconds',
    type: 'histogram',
    help: 'Time the model server spent loading the model for one call (Ollama load_duration), in seconds; near 0 when the model was resident.',
    unit: 'seconds',
    labelNames: modelLabels,
    maxLabelValues: 30,
    buckets: GENAI_DURATION_BUCKETS,
    group: 'llm',
  },
  {
    name: 'llm_model_cold_starts_total',
    type: 'counter',
    help: 'Model calls whose model load (Ollama load_duration) took longer than the cold-start threshold (coldStartSeconds, default 1 s).',
    unit: '1',
    labelNames: modelLabels,
    maxLabelValues: 30,
    group: 'llm',
  },
  {
    name: 'llm_eval_tokens_total',
    type: 'counter',
    help: 'Tokens the model server evaluated, by phase (prompt: Ollama prompt_eval_count, generation: eval_count); divided by llm_eval_duration_seconds_total it gives tokens per second.',
    unit: 'tokens',
    labelNames: [...modelLabels, 'phase'],
    labelValues: { phase: ['prompt', 'generation'] },
    maxLabelValues: 30,
    group: 'llm',
  },
  {
    name: 'llm_eval_duration_seconds_total',
    type: 'counter',
    help: 'Time the model server spent evaluating tokens, by phase (prompt: Ollama prompt_eval_duration, generation: eval_duration), in seconds.',
    unit: 'seconds',
    labelNames: [...modelLabels, 'phase'],
    labelValues: { phase: ['prompt', 'generation'] },
    maxLabelValues: 30,
    group: 'llm',
  },
  {
    name: 'llm_request_cost_usd_total',
    type: 'counter',
    help: 'Estimated cost of model calls in US dollars, from the configured price per input and output token.',
    unit: 'usd',
    labelNames: modelLabels,
    maxLabelValues: 30,
    group: 'llm',
  },
  {
    name: 'llm_model_resident',
    type: 'gauge',
    help: '1 for each model the model server holds in memory (Ollama /api/ps); the series is removed when the model is unloaded.',
    unit: '1',
    labelNames: modelLabels,
    maxLabelValues: 30,
    aggregator: 'max',
    group: 'llm',
  },
  {
    name: 'llm_model_memory_bytes',
    type: 'gauge',
    help: 'Memory a resident model takes on the model server, in bytes (memory="total": Ollama size, "vram": size_vram).',
    unit: 'bytes',
    labelNames: [...modelLabels, 'memory'],
    labelValues: { memory: ['total', 'vram'] },
    maxLabelValues: 30,
    aggregator: 'max',
    group: 'llm',
  },
  {
    name: 'llm_model_expires_in_seconds',
    type: 'gauge',
    help: 'Seconds until the model server unloads a resident model if it stays idle (Ollama expires_at minus now).',
    unit: 'seconds',
    labelNames: modelLabels,
    maxLabelValues: 30,
    aggregator: 'max',
    group: 'llm',
  },
  // --- deprecated: kept for one release ------------------------------------------------------
  {
    name: 'llm_request_duration_seconds',
    type: 'histogram',
    help: 'LLM request duration in seconds, by model and operation.',
    unit: 'seconds',
    labelNames: ['model', 'operation'],
    labelValues: { operation: ['generate', 'chat', 'embeddings', 'tags'] },
    maxLabelValues: 30,
    buckets: [0.05, 0.1, 0.25, 0.3, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    deprecated: 'gen_ai_client_operation_duration_seconds',
    group: 'llm',
    guideName: 'ollama_latency_ms',
    guideNote: 'seconds instead of milliseconds; histogram so percentiles can be computed',
  },
  {
    name: 'llm_request_errors_total',
    type: 'counter',
    help: 'LLM requests that failed, by model and operation.',
    unit: '1',
    labelNames: ['model', 'operation'],
    labelValues: { operation: ['generate', 'chat', 'embeddings', 'tags'] },
    maxLabelValues: 30,
    deprecated: 'gen_ai_client_operation_duration_seconds_count{error_type!=""}',
    group: 'llm',
  },
  {
    name: 'llm_tokens_total',
    type: 'counter',
    help: 'LLM tokens, by model and type (prompt or completion).',
    unit: 'tokens',
    labelNames: ['model', 'type'],
    labelValues: { type: ['prompt', 'completion'] },
    maxLabelValues: 30,
    deprecated: 'gen_ai_client_token_usage',
    group: 'llm',
  },
  {
    name: 'llm_cost_usd_total',
    type: 'counter',
    help: 'Estimated LLM cost in US dollars, from the configured price per token.',
    unit: 'usd',
    labelNames: ['model'],
    maxLabelValues: 30,
    deprecated: 'llm_request_cost_usd_total',
    group: 'llm',
  },
];
