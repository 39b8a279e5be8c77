/**
 * Public types of the model-call recording (`metrics.llm.startCall`, `wrapStream`, `recordAnswer`)
 * and of the model residency sink (`metrics.llm.recordResidentModels`).
 */

/** What one model call is: the OpenTelemetry GenAI attributes it is recorded under. */
export interface GenAiCallAttributes {
  /**
   * `gen_ai_operation_name`: `chat` (Ollama `/api/chat`), `text_completion` (`/api/generate`) or
   * `embeddings` (`/api/embed`); any other value is recorded as `other`.
   */
  operation: 'chat' | 'text_completion' | 'embeddings' | (string & {});
  /** `gen_ai_request_model`: the model asked for (`llama3.2`). */
  model: string;
  /**
   * `gen_ai_provider_name`.
   * @default 'ollama'
   */
  provider?: string;
}

/** Options of one recorded call. Defaults in `DEFAULT_GENAI_CALL_OPTIONS`. */
export interface GenAiCallOptions {
  /**
   * The clock, in milliseconds from any fixed origin (monotonic). Tests inject one to get exact sums.
   * @default performance.now
   */
  now?: () => number;
  /**
   * A call whose Ollama `load_duration` is longer than this many seconds counts in
   * `llm_model_cold_starts_total`.
   * @default 1
   */
  coldStartSeconds?: number;
  /**
   * Price in US dollars per input (prompt) and output (generated) token, added to
   * `llm_request_cost_usd_total` (as `recordTokens`' `pricePerToken` feeds `llm_cost_usd_total`).
   * @default undefined (no cost recorded)
   */
  pricePerToken?: { input?: number; output?: number };
}

/**
 * Ollama's own counters, as its final answer carries them (the `done: true` line of a stream, or
 * the non-streamed JSON answer). Durations are in nanoseconds; missing or invalid fields are skipped.
 */
export interface OllamaFinalFields {
  /** Whole request on the server, ns. */
  total_duration?: number;
  /** Loading the model, ns (near 0 when it was resident). Feeds the load histogram and cold starts. */
  load_duration?: number;
  /** Prompt tokens evaluated: `gen_ai_token_type="input"`, `phase="prompt"`. */
  prompt_eval_count?: number;
  /** Time evaluating the prompt, ns. */
  prompt_eval_duration?: number;
  /** Tokens generated: `gen_ai_token_type="output"`, `phase="generation"`. */
  eval_count?: number;
  /** Time generating, ns. */
  eval_duration?: number;
}

/**
 * The recorder of one model call, from `metrics.llm.startCall`. The call is recorded once, by the
 * first `finish` or `fail`; later calls of either (and `chunk` after the end) do nothing. No method
 * throws: a failure of the metrics side is logged, never passed to the caller.
 */
export interface GenAiCall {
  /**
   * A chunk of the answer arrived now (streamed calls): the first observes
   * `gen_ai_client_operation_time_to_first_chunk_seconds` (since `startCall`), each later one
   * `gen_ai_client_operation_time_per_output_chunk_seconds` (since the previous chunk).
   */
  chunk(): void;
  /**
   * Ends the call successfully: `gen_ai_client_operation_duration_seconds{error_type=""}`, and,
   * from Ollama's counters when given, token usage, model load time and cold starts, evaluation
   * tokens and time, and cost.
   */
  finish(final?: OllamaFinalFields): void;
  /**
   * Ends the call as failed: `gen_ai_client_operation_duration_seconds{error_type}`. `error` is an
   * error type (a string, used as is; empty becomes `_OTHER`) or an error, mapped by
   * `genAiErrorType`. Counters given (partial usage) are recorded as by `finish`.
   */
  fail(error: unknown, final?: OllamaFinalFields): void;
  /** True once `finish` or `fail` recorded the call. */
  readonly ended: boolean;
}

/** One model a model server holds in memory (an entry of Ollama's `/api/ps`). */
export interface ResidentModel {
  /** `gen_ai_request_model`: the model's name (`llama3.2:latest`). */
  model: string;
  /** Memory it takes, in bytes (Ollama `size`): `llm_model_memory_bytes{memory="total"}`. */
  sizeBytes?: number;
  /** Of which in GPU memory, in bytes (Ollama `size_vram`): `llm_model_memory_bytes{memory="vram"}`. */
  vramBytes?: number;
  /** Seconds until it is unloaded if idle (Ollama `expires_at` minus now): `llm_model_expires_in_seconds`. */
  expiresInSeconds?: number;
}
