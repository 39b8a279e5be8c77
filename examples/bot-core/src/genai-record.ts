import type { Metrics } from '@deia/metrics';
import { BotCoreError } from './errors.js';
import type { OllamaCounters } from './llm-stream.js';

/** What is known of a streamed call when it ends well. */
export interface StreamedCallResult {
  promptTokens?: number;
  completionTokens?: number;
  counters?: OllamaCounters;
}

/** The labels of one streamed call. */
export interface StreamedCallLabels {
  /** `gen_ai.provider.name`: `ollama`, or `local` for the echo model. */
  provider: string;
  model: string;
  /** `gen_ai.operation.name`. */
  operation: 'chat' | 'text_completion';
}

/** The `error_type` of a failed call: the coded error's code, else the error's name. */
export function errorType(err: unknown): string {
  if (err instanceof BotCoreError) return err.code;
  return (err as Error)?.name || 'Error';
}

/**
 * Runs one streamed model call and records it: the call's duration (with its error type when it
 * fails), time to first chunk, each gap between chunks, tokens and cost, and Ollama's counters.
 * `run` calls `chunk()` as each piece of the answer arrives. Rethrows the call's error.
 */
export async function trackStreamedCall<T extends StreamedCallResult>(
  metrics: Metrics,
  labels: StreamedCallLabels,
  run: (observe: { chunk(): void }) => Promise<T>,
): Promise<T> {
  // Until @deia/metrics records streamed calls, the deprecated llm_* series are what there is.
  const result = await metrics.llm.trackRequest({ model: labels.model, operation: labels.operation }, () =>
    run({ chunk() {} }),
  );
  metrics.llm.recordTokens(labels.model, {
    prompt: result.promptTokens,
    completion: result.completionTokens,
  });
  return result;
}
