import type { Metrics, OllamaFinalFields } from '@deia/metrics';
import { GEN_AI_STREAM_ATTRIBUTES, startGenAiStreamSpan } from '@deia/tracing';
import { context, trace } from '@opentelemetry/api';
import { LlmCallError, type OllamaCounters } from './llm-stream.js';

/** What is known of a streamed call when it ends well. */
export interface StreamedCallResult {
  promptTokens?: number;
  completionTokens?: number;
  /** Ollama's counters (from its last line); the echo model has none. */
  counters?: OllamaCounters;
  /** The model that answered, when the provider says (`gen_ai.response.model`). */
  responseModel?: string;
  /** Why the model stopped (`gen_ai.response.finish_reasons`). */
  finishReason?: string;
}

/** Ollama's last-line fields (what `GenAiCall.finish` reads) from a call's result. */
function finalFields(r: StreamedCallResult): OllamaFinalFields {
  const c = r.counters ?? {};
  return {
    total_duration: c.totalDurationNs,
    load_duration: c.loadDurationNs,
    prompt_eval_count: c.promptEvalCount ?? r.promptTokens,
    prompt_eval_duration: c.promptEvalDurationNs,
    eval_count: c.evalCount ?? r.completionTokens,
    eval_duration: c.evalDurationNs,
  };
}

/** The labels of one model call, and its price. */
export interface StreamedCallLabels {
  /** `gen_ai.provider.name`: `ollama`, or `local` for the echo model. */
  provider: string;
  model: string;
  /** `gen_ai.operation.name`. */
  operation: 'chat' | 'text_completion';
  /** USD per input and output token (`llm_request_cost_usd_total`). @default undefined (no cost) */
  pricePerToken?: { input?: number; output?: number };
}

/**
 * The `error_type` of a failed call: an `LlmCallError`'s own, `timeout` or `cancelled` for an
 * abort by timer or by caller, else `_OTHER`.
 */
export function errorType(err: unknown): string {
  if (err instanceof LlmCallError) return err.errorType;
  const name = (err as Error)?.name;
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'cancelled';
  return '_OTHER';
}

/**
 * Runs one model call that is not streamed and records it through `metrics.llm.startCall`:
 * duration (with its `error_type` when it fails), tokens and Ollama's counters. Rethrows.
 */
export async function trackCall<T extends StreamedCallResult>(
  metrics: Metrics,
  labels: StreamedCallLabels,
  run: () => Promise<T>,
): Promise<T> {
  const { pricePerToken, ...attributes } = labels;
  const call = metrics.llm.startCall(attributes, pricePerToken ? { pricePerToken } : undefined);
  try {
    const result = await run();
    call.finish(finalFields(result));
    return result;
  } catch (err) {
    call.fail(errorType(err));
    throw err;
  }
}

/**
 * Runs one streamed model call in a streamed GenAI span (`startGenAiStreamSpan`: open until the
 * stream ends, the time to first chunk marked) and records it in the metrics: its duration (with
 * its `error_type` when it fails), time to first chunk, each gap between chunks, tokens, and
 * Ollama's counters, through `metrics.llm.startCall` (which feeds the deprecated `llm_*` too).
 * `run` calls `chunk()` as each piece of the answer arrives. A call the client abandoned ends its
 * span as cancelled, not failed. Rethrows the call's error.
 */
export async function trackStreamedCall<T extends StreamedCallResult>(
  metrics: Metrics,
  labels: StreamedCallLabels,
  run: (observe: { chunk(): void }) => Promise<T>,
): Promise<T> {
  const span = startGenAiStreamSpan({
    model: labels.model,
    operation: labels.operation,
    provider: labels.provider,
  });
  const { pricePerToken, ...attributes } = labels;
  const call = metrics.llm.startCall(attributes, pricePerToken ? { pricePerToken } : undefined);
  const observe = {
    chunk: () => {
      span.chunk();
      call.chunk();
    },
  };
  try {
    const result = await context.with(trace.setSpan(context.active(), span.span), () => run(observe));
    call.finish(finalFields(result));
    span.end({
      inputTokens: result.promptTokens,
      outputTokens: result.completionTokens,
      responseModel: result.responseModel,
      finishReason: result.finishReason,
    });
    return result;
  } catch (err) {
    const type = errorType(err);
    call.fail(type);
    if (type === 'cancelled') {
      span.span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.cancelled, true);
      span.end();
    } else {
      // error.type on the span is the metrics' error_type, not the class name
      const e = new Error((err as Error)?.message ?? String(err));
      e.name = type;
      span.fail(e);
    }
    throw err;
  }
}
