import type { Metrics } from '@deia/metrics';
import { withOllamaSpan } from '@deia/tracing';
import { trackCall, trackStreamedCall } from './genai-record.js';
import {
  countersOf,
  httpErrorType,
  LlmCallError,
  type OllamaCounters,
  type StreamCallOptions,
  type StreamTimeouts,
  streamOllamaChat,
  streamWords,
} from './llm-stream.js';

/** One completion. */
export interface Completion {
  text: string;
  model: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Ollama's counters (streamed calls to Ollama only). */
  counters?: OllamaCounters;
  /** The model that answered, as Ollama names it (streamed calls). */
  responseModel?: string;
  /** Why the model stopped, Ollama's `done_reason` (streamed calls). */
  finishReason?: string;
}

/** What bots call to answer a message. */
export interface LlmClient {
  /** 'ollama' when OLLAMA_URL is set, 'echo' for the local stand-in. */
  readonly kind: 'ollama' | 'echo';
  readonly model: string;
  generate(prompt: string): Promise<Completion>;
  /**
   * Streams the answer to `prompt` as a chat: `options.onChunk` receives each piece, the promise
   * the whole answer. Bounded (see `StreamTimeouts`) and aborted by `options.signal`; rejects with
   * a coded `BotCoreError`. Each call is recorded as one streamed GenAI client call.
   */
  stream(prompt: string, options: StreamCallOptions): Promise<Completion>;
}

/** Name of the local stand-in model, used as the `model` label. */
export const ECHO_MODEL = 'local-echo';
/** Every echo reply starts with this, so nobody mistakes it for a real model. */
export const ECHO_LABEL = '[local echo model: OLLAMA_URL is not set]';

/**
 * `fetch` refuses a URL with credentials (`http://user:pass@host`): they become a Basic
 * `Authorization` header and the URL is used without them.
 */
export function splitUrlCredentials(raw: string): { url: string; headers: Record<string, string> } {
  const u = new URL(raw);
  if (!u.username && !u.password) return { url: raw, headers: {} };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return {
    url: u.toString().replace(/\/+$/, ''),
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  };
}

const countWords = (s: string) => s.split(/\s+/).filter(Boolean).length;

/**
 * Calls Ollama's `POST /api/generate` (non-streaming) with a timeout (`timeoutMs`, `OLLAMA_TIMEOUT_MS`,
 * default 30 s) covering the connection, the headers and the body: a hung model is a 502
 * `LLM_TIMEOUT`, never a hung task. Each call is recorded through `metrics.llm.startCall`
 * (`gen_ai_client_operation_duration_seconds{gen_ai_operation_name="text_completion",error_type}`,
 * token usage, Ollama's counters, and the deprecated `llm_*`), one
 * `dependency_request_duration_seconds{dependency="ollama"}` observation, and a client span with
 * the GenAI semantic-convention attributes. `stream()` calls `POST /api/chat` (see
 * `streamOllamaChat` for its bounds) and records a streamed call (`trackStreamedCall`).
 */
export function createOllamaClient(options: {
  url: string;
  model: string;
  timeoutMs: number;
  /** Bounds of a streamed call. @default first chunk 15 s, idle 10 s, total 120 s */
  streamTimeouts?: StreamTimeouts;
  /** USD per input and output token, for `llm_request_cost_usd_total`. @default undefined (no cost) */
  pricePerToken?: { input?: number; output?: number };
  metrics: Metrics;
}): LlmClient {
  const price = options.pricePerToken;
  const { model, timeoutMs, metrics } = options;
  const streamTimeouts = options.streamTimeouts ?? DEFAULT_STREAM_TIMEOUTS;
  const { url, headers } = splitUrlCredentials(options.url);
  const endpoint = `${url}/api/generate`;
  const chatEndpoint = `${url}/api/chat`;
  return {
    kind: 'ollama',
    model,
    generate: (prompt) =>
      withOllamaSpan(
        {
          model,
          operation: 'text_completion',
          usage: (r) => {
            const c = r as Completion;
            return { inputTokens: c.promptTokens, outputTokens: c.completionTokens };
          },
        },
        () =>
          trackCall(
            metrics,
            { provider: 'ollama', model, operation: 'text_completion', pricePerToken: price },
            () =>
              metrics.dependencies.track('ollama', () =>
                callOllama(endpoint, headers, model, prompt, timeoutMs),
              ),
          ),
      ),
    stream: (prompt, streamOptions) =>
      trackStreamedCall(
        metrics,
        { provider: 'ollama', model, operation: 'chat', pricePerToken: price },
        (observe) =>
          metrics.dependencies.track('ollama', async (): Promise<Completion> => {
            const out = await streamOllamaChat(
              { endpoint: chatEndpoint, headers, model, prompt },
              streamTimeouts,
              {
                signal: streamOptions.signal,
                onChunk: (text) => {
                  observe.chunk();
                  return streamOptions.onChunk(text);
                },
              },
            );
            return {
              text: out.text,
              model,
              promptTokens: out.counters.promptEvalCount,
              completionTokens: out.counters.evalCount,
              counters: out.counters,
              responseModel: out.responseModel,
              finishReason: out.finishReason,
            };
          }),
      ),
  };
}

/** Bounds of a streamed Ollama call when none are given. */
export const DEFAULT_STREAM_TIMEOUTS: StreamTimeouts = {
  firstChunkMs: 15_000,
  idleMs: 10_000,
  totalMs: 120_000,
};

async function callOllama(
  endpoint: string,
  headers: Record<string, string>,
  model: string,
  prompt: string,
  timeoutMs: number,
): Promise<Completion> {
  // One deadline for the whole call: connecting, the answer's headers and its body (a model that
  // stalls mid-answer is cut off too).
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (err: unknown) => {
    const timedOut = (err as Error).name === 'TimeoutError' || signal.aborted;
    return new LlmCallError(
      timedOut ? 'LLM_TIMEOUT' : 'LLM_UNREACHABLE',
      timedOut ? `Ollama did not answer within ${timeoutMs} ms` : 'Ollama is unreachable',
      502,
      timedOut ? 'timeout' : 'network',
    );
  };
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, prompt, stream: false }),
      signal,
    });
  } catch (err) {
    throw failed(err);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new LlmCallError('LLM_ERROR', `Ollama answered HTTP ${res.status}`, 502, httpErrorType(res.status));
  }
  let body: { response?: unknown; prompt_eval_count?: unknown; eval_count?: unknown };
  try {
    body = (await res.json()) as typeof body;
  } catch (err) {
    if ((err as Error).name === 'SyntaxError') {
      throw new LlmCallError(
        'LLM_ERROR',
        'Ollama answered with a body that is not JSON',
        502,
        'invalid_response',
      );
    }
    throw failed(err);
  }
  if (typeof body !== 'object' || body === null || typeof body.response !== 'string') {
    const ollamaError = typeof (body as { error?: unknown } | null)?.error === 'string';
    throw new LlmCallError(
      'LLM_ERROR',
      'Ollama answered without a "response" field',
      502,
      ollamaError ? 'ollama_error' : 'invalid_response',
    );
  }
  return {
    text: body.response,
    model,
    promptTokens: typeof body.prompt_eval_count === 'number' ? body.prompt_eval_count : undefined,
    completionTokens: typeof body.eval_count === 'number' ? body.eval_count : undefined,
    counters: countersOf(body),
  };
}

/**
 * The local stand-in used when OLLAMA_URL is unset: it echoes the prompt after a short delay,
 * labelled so nobody mistakes it for a model, and is instrumented like a real model
 * (`gen_ai_provider_name="local"`, `gen_ai_request_model="local-echo"`) so the model dashboards move
 * in the demo. `stream()` answers word by word with small delays.
 */
export function createEchoClient(options: {
  metrics: Metrics;
  /** USD per input and output token, for `llm_request_cost_usd_total`. @default undefined (no cost) */
  pricePerToken?: { input?: number; output?: number };
}): LlmClient {
  const { metrics } = options;
  const price = options.pricePerToken;
  return {
    kind: 'echo',
    model: ECHO_MODEL,
    generate: (prompt) =>
      trackCall(
        metrics,
        { provider: 'local', model: ECHO_MODEL, operation: 'text_completion', pricePerToken: price },
        async () => {
          await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 25)));
          const text = `${ECHO_LABEL} You said: ${prompt}`;
          return {
            text,
            model: ECHO_MODEL,
            promptTokens: countWords(prompt),
            completionTokens: countWords(text),
          } satisfies Completion;
        },
      ),
    stream: (prompt, streamOptions) =>
      trackStreamedCall(
        metrics,
        { provider: 'local', model: ECHO_MODEL, operation: 'chat', pricePerToken: price },
        async (observe) => {
          const words = `You said: ${prompt}`.split(/\s+/).filter(Boolean);
          // Ollama-like counters, measured: the wait before the first word stands for reading the
          // prompt, the words after it for generating (so tokens per second move on the dashboard).
          const start = performance.now();
          let first: number | undefined;
          const text = await streamWords([ECHO_LABEL, ...words], {
            signal: streamOptions.signal,
            onChunk: (piece) => {
              first ??= performance.now();
              observe.chunk();
              return streamOptions.onChunk(piece);
            },
          });
          const end = performance.now();
          const ns = (ms: number) => Math.round(ms * 1e6);
          const promptTokens = countWords(prompt);
          const completionTokens = countWords(text);
          return {
            text,
            model: ECHO_MODEL,
            promptTokens,
            completionTokens,
            counters: {
              totalDurationNs: ns(end - start),
              promptEvalCount: promptTokens,
              promptEvalDurationNs: ns((first ?? end) - start),
              evalCount: completionTokens,
              evalDurationNs: ns(end - (first ?? end)),
            },
          };
        },
      ),
  };
}
