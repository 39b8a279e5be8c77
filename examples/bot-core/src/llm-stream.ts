import { setTimeout as sleep } from 'node:timers/promises';
import { BotCoreError } from './errors.js';

/** Ollama's own counters of one call (from the last line of a stream), durations in nanoseconds. */
export interface OllamaCounters {
  totalDurationNs?: number;
  loadDurationNs?: number;
  promptEvalCount?: number;
  promptEvalDurationNs?: number;
  evalCount?: number;
  evalDurationNs?: number;
}

/** The bounds of one streamed call, in ms. */
export interface StreamTimeouts {
  /** From the request until the first chunk (connecting, the headers, loading the model). */
  firstChunkMs: number;
  /** Longest gap between two chunks after the first. */
  idleMs: number;
  /** The whole call, however steadily it streams. */
  totalMs: number;
}

/** What a streamed call is told. */
export interface StreamCallOptions {
  /** Aborts the call (the client went away); the call then rejects with `CLIENT_CLOSED`. */
  signal?: AbortSignal;
  /**
   * Receives each piece of the answer as it arrives. The next piece is not read while the returned
   * promise is pending (back-pressure from a slow client); that wait does not count as idle.
   */
  onChunk(text: string): void | Promise<void>;
}

/**
 * A failed model call: a `BotCoreError` that also says its `errorType`, the low-cardinality
 * `error_type` of the GenAI metrics (`timeout`, `cancelled`, `network`, `truncated`,
 * `ollama_error`, `invalid_response`, an HTTP status, or `_OTHER`).
 */
export class LlmCallError extends BotCoreError {
  constructor(
    code: string,
    message: string,
    statusCode: number,
    readonly errorType: string,
  ) {
    super(code, message, statusCode);
  }
}

/** Ollama HTTP statuses kept as their own `error_type`; any other is `_OTHER`. */
const KNOWN_STATUSES = new Set([400, 401, 403, 404, 429, 500, 502, 503, 504]);

/** The `error_type` of an HTTP error status from Ollama. */
export const httpErrorType = (status: number) => (KNOWN_STATUSES.has(status) ? String(status) : '_OTHER');

const MAX_LINE_BYTES = 1024 * 1024;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** Ollama's counters from its final answer (missing or invalid fields left out). */
export function countersOf(last: Record<string, unknown>): OllamaCounters {
  return {
    totalDurationNs: num(last.total_duration),
    loadDurationNs: num(last.load_duration),
    promptEvalCount: num(last.prompt_eval_count),
    promptEvalDurationNs: num(last.prompt_eval_duration),
    evalCount: num(last.eval_count),
    evalDurationNs: num(last.eval_duration),
  };
}

const clientClosed = () =>
  new LlmCallError('CLIENT_CLOSED', 'the client closed the stream', 499, 'cancelled');

/** The coded error of a streamed call that ended early, by why it ended. */
function endedEarly(why: 'first' | 'idle' | 'total' | 'client', t: StreamTimeouts): LlmCallError {
  switch (why) {
    case 'first':
      return new LlmCallError(
        'LLM_TIMEOUT',
        `Ollama sent nothing within ${t.firstChunkMs} ms`,
        504,
        'timeout',
      );
    case 'idle':
      return new LlmCallError(
        'LLM_IDLE_TIMEOUT',
        `Ollama sent nothing for ${t.idleMs} ms mid-answer`,
        504,
        'timeout',
      );
    case 'total':
      return new LlmCallError('LLM_TIMEOUT', `Ollama did not finish within ${t.totalMs} ms`, 504, 'timeout');
    default:
      return clientClosed();
  }
}

/**
 * One line of Ollama's NDJSON chat stream; undefined for a blank line. Throws `LLM_ERROR` on a line
 * that is not JSON and on an `error` line (Ollama failed mid-answer).
 */
function parseChatLine(line: string): Record<string, unknown> | undefined {
  if (line.trim() === '') return undefined;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new LlmCallError('LLM_ERROR', 'Ollama sent a line that is not JSON', 502, 'invalid_response');
  }
  if (typeof obj.error === 'string') {
    const message = `Ollama failed mid-answer: ${obj.error.slice(0, 200)}`;
    throw new LlmCallError('LLM_ERROR', message, 502, 'ollama_error');
  }
  return obj;
}

/**
 * Calls Ollama's `POST /api/chat` with `stream: true` and hands each piece of the answer to
 * `onChunk`. Bounded three ways (first chunk, idle gap, total) through one AbortController, and
 * by `options.signal`; every timer and listener is removed when it ends, and an unfinished body is
 * cancelled (the socket is released, not leaked). Rejects with an `LlmCallError`: `LLM_TIMEOUT`,
 * `LLM_IDLE_TIMEOUT`, `LLM_UNREACHABLE`, `LLM_ERROR` (an HTTP error, a malformed line, an `error`
 * line from Ollama, a stream without its `done` line) or `CLIENT_CLOSED`.
 *
 * Long because: the three timers, the abort reason and the body reader are the state of one
 * stream that every exit (answer, timeout, client gone, broken stream) must release; the read
 * loop re-arms the timers between reads and the `finally` clears them, and both read best in one place.
 */
export async function streamOllamaChat(
  call: { endpoint: string; headers: Record<string, string>; model: string; prompt: string },
  timeouts: StreamTimeouts,
  options: StreamCallOptions,
): Promise<{ text: string; counters: OllamaCounters; responseModel?: string; finishReason?: string }> {
  const ctl = new AbortController();
  let why: 'first' | 'idle' | 'total' | 'client' | undefined;
  const abort = (reason: NonNullable<typeof why>) => {
    why ??= reason;
    ctl.abort();
  };
  const total = setTimeout(() => abort('total'), timeouts.totalMs);
  const firstBy = Date.now() + timeouts.firstChunkMs;
  let gap: NodeJS.Timeout | undefined = setTimeout(() => abort('first'), timeouts.firstChunkMs);
  const onClient = () => abort('client');
  if (options.signal?.aborted) abort('client');
  options.signal?.addEventListener('abort', onClient, { once: true });
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let finished = false;
  let gotChunk = false;
  try {
    let res: Response;
    try {
      res = await fetch(call.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', ...call.headers },
        body: JSON.stringify({
          model: call.model,
          messages: [{ role: 'user', content: call.prompt }],
          stream: true,
        }),
        signal: ctl.signal,
      });
    } catch (err) {
      if (why) throw endedEarly(why, timeouts);
      throw new LlmCallError(
        'LLM_UNREACHABLE',
        `Ollama is unreachable (${(err as Error).message})`,
        502,
        'network',
      );
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new LlmCallError(
        'LLM_ERROR',
        `Ollama answered HTTP ${res.status}`,
        502,
        httpErrorType(res.status),
      );
    }
    reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let text = '';
    let last: Record<string, unknown> | undefined;
    const handleLine = async (line: string) => {
      const obj = parseChatLine(line);
      if (obj === undefined) return;
      const content = (obj.message as { content?: unknown } | undefined)?.content;
      if (typeof content === 'string' && content !== '') {
        gotChunk = true;
        text += content;
        await options.onChunk(content);
      }
      if (obj.done === true) last = obj;
    };
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (err) {
        if (why) throw endedEarly(why, timeouts);
        const message = `the Ollama stream broke (${(err as Error).message})`;
        throw new LlmCallError('LLM_ERROR', message, 502, 'truncated');
      }
      // The wait for the client (onChunk) is not Ollama's idleness: the gap timer runs only
      // while reading.
      clearTimeout(gap);
      gap = undefined;
      if (next.done) break;
      buffered += decoder.decode(next.value, { stream: true });
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        await handleLine(line);
        if (why) throw endedEarly(why, timeouts);
        nl = buffered.indexOf('\n');
      }
      if (buffered.length > MAX_LINE_BYTES) {
        throw new LlmCallError('LLM_ERROR', 'Ollama sent a line over 1 MiB', 502, 'invalid_response');
      }
      if (last) break;
      gap = gotChunk
        ? setTimeout(() => abort('idle'), timeouts.idleMs)
        : setTimeout(() => abort('first'), Math.max(0, firstBy - Date.now()));
    }
    buffered += decoder.decode();
    if (!last && buffered.trim() !== '') await handleLine(buffered);
    if (!last) {
      const message = 'the Ollama stream ended before its last ("done") line';
      throw new LlmCallError('LLM_ERROR', message, 502, 'truncated');
    }
    finished = true;
    return {
      text,
      counters: countersOf(last),
      responseModel: typeof last.model === 'string' ? last.model : undefined,
      finishReason: typeof last.done_reason === 'string' ? last.done_reason : undefined,
    };
  } finally {
    clearTimeout(total);
    clearTimeout(gap);
    options.signal?.removeEventListener('abort', onClient);
    if (!finished) ctl.abort();
    await reader?.cancel().catch(() => {});
  }
}

/**
 * The local echo model's stream: `words` one by one (the first one whole, the rest with their
 * leading space) with a small random delay before each, as a model would. Stops with
 * `CLIENT_CLOSED` when `signal` aborts.
 */
export async function streamWords(words: string[], options: StreamCallOptions): Promise<string> {
  let text = '';
  for (const [i, word] of words.entries()) {
    try {
      await sleep(5 + Math.floor(Math.random() * 20), undefined, { signal: options.signal });
    } catch {
      throw clientClosed();
    }
    const piece = i === 0 ? word : ` ${word}`;
    text += piece;
    await options.onChunk(piece);
  }
  return text;
}
