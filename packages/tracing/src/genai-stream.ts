import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type GenAiUsage, recordGenAiUsage, SPAN_ATTRIBUTES, type SpanExtras, TRACER_NAME } from './spans.js';

/** Attribute and event names of streamed GenAI spans (OpenTelemetry GenAI semantic conventions). */
export const GEN_AI_STREAM_ATTRIBUTES = {
  requestStream: 'gen_ai.request.stream',
  responseId: 'gen_ai.response.id',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  /** `deia.*`: the consumer stopped reading before the stream ended (a client that went away). */
  cancelled: 'deia.gen_ai.stream.cancelled',
  /** `deia.*`: characters of prompt/completion text left out of the recorded messages. */
  contentTruncated: 'deia.gen_ai.content.truncated_chars',
  /** Event added when the first chunk arrives. */
  firstChunkEvent: 'gen_ai.first_chunk',
} as const;

/** One prompt message, recorded only when content capture is on. */
export interface GenAiMessage {
  /** `system`, `user`, `assistant`, `tool`. */
  role: string;
  /** The message text. */
  content: string;
}

/** What a streamed GenAI span records. */
export interface GenAiStreamSpanOptions extends SpanExtras {
  /** Requested model (`gen_ai.request.model`). */
  model: string;
  /** `gen_ai.operation.name`: `chat`, `text_completion` or `embeddings`. @default 'chat' */
  operation?: string;
  /** `gen_ai.provider.name`. @default 'ollama' */
  provider?: string;
  /**
   * Records the prompt (`gen_ai.input.messages`) and the completion (`gen_ai.output.messages`) on the
   * span, in the conventions' JSON message format. Prompts and completions can hold personal data:
   * off unless you turn it on. @default false
   */
  captureContent?: boolean;
  /**
   * Characters of text recorded per attribute when `captureContent` is on; the rest is cut and the
   * number of characters left out is set in `deia.gen_ai.content.truncated_chars`. @default 4096
   */
  maxContentLength?: number;
  /** The prompt messages (recorded only with `captureContent`). @default [] */
  input?: readonly GenAiMessage[];
}

/** How a stream ended: usage and finish reason (all optional). */
export interface GenAiStreamResult extends GenAiUsage {
  /** `gen_ai.response.id`. */
  responseId?: string;
}

/** A streamed GenAI span in progress (from `startGenAiStreamSpan`). */
export interface GenAiStreamSpan {
  /** The CLIENT span; open until `end` or `fail`. */
  readonly span: Span;
  /**
   * Notes one chunk: the first adds the `gen_ai.first_chunk` event and `gen_ai.response.time_to_first_chunk`
   * (seconds since the span started). `text` is kept for `gen_ai.output.messages` only with `captureContent`.
   */
  chunk(text?: string): void;
  /** Ends the span with the usage and finish reason. Later calls (and `fail`) do nothing. */
  end(result?: GenAiStreamResult): void;
  /** Ends the span as failed: records the exception, sets `error.type` and ERROR status. Idempotent. */
  fail(error: unknown): void;
}

/** The default of `maxContentLength`. */
export const DEFAULT_MAX_CONTENT_LENGTH = 4096;

/** Keeps at most `limit` characters of text, counting what it leaves out. */
class BoundedText {
  text = '';
  dropped = 0;
  constructor(private readonly limit: number) {}
  add(s: string): string {
    const room = Math.max(0, this.limit - this.text.length);
    const kept = s.length <= room ? s : s.slice(0, room);
    this.text += kept;
    this.dropped += s.length - kept.length;
    return kept;
  }
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * Starts a CLIENT span `{operation} {model}` for a streamed model call, parented on the active context
 * (the HTTP request's span). The span stays open until `end`/`fail`; the first `chunk()` marks the time
 * to first chunk. Prompt and completion text are recorded only with `captureContent`, bounded by
 * `maxContentLength`. Never throws for bad usage values (they are skipped).
 */
export function startGenAiStreamSpan(options: GenAiStreamSpanOptions): GenAiStreamSpan {
  const operation = options.operation ?? 'chat';
  const provider = options.provider ?? 'ollama';
  const attributes: Attributes = {
    [SPAN_ATTRIBUTES.genAiSystem]: provider,
    [SPAN_ATTRIBUTES.genAiProviderName]: provider,
    [SPAN_ATTRIBUTES.genAiOperationName]: operation,
    [SPAN_ATTRIBUTES.genAiRequestModel]: options.model,
    [GEN_AI_STREAM_ATTRIBUTES.requestStream]: true,
    ...options.attributes,
  };
  const span = trace
    .getTracer(TRACER_NAME)
    .startSpan(`${operation} ${options.model}`, { kind: SpanKind.CLIENT, attributes }, context.active());
  const started = performance.now();
  const capture = options.captureContent === true;
  const limit = options.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH;
  const output = new BoundedText(limit);
  let first = true;
  let open = true;

  const recordContent = (finishReason?: string) => {
    if (!capture) return;
    const prompt = new BoundedText(limit);
    const input = (options.input ?? []).map((m) => ({
      role: m.role,
      parts: [{ type: 'text', content: prompt.add(String(m.content)) }],
    }));
    if (input.length > 0) span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.inputMessages, JSON.stringify(input));
    const out = [
      {
        role: 'assistant',
        parts: [{ type: 'text', content: output.text }],
        ...(finishReason ? { finish_reason: finishReason } : {}),
      },
    ];
    span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.outputMessages, JSON.stringify(out));
    if (prompt.dropped + output.dropped > 0)
      span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.contentTruncated, prompt.dropped + output.dropped);
  };

  return {
    span,
    chunk(text) {
      if (!open) return;
      if (first) {
        first = false;
        const ttfc = seconds(performance.now() - started);
        span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.timeToFirstChunk, ttfc);
        span.addEvent(GEN_AI_STREAM_ATTRIBUTES.firstChunkEvent, {
          [GEN_AI_STREAM_ATTRIBUTES.timeToFirstChunk]: ttfc,
        });
      }
      if (capture && typeof text === 'string' && text !== '') output.add(text);
    },
    end(result = {}) {
      if (!open) return;
      open = false;
      recordGenAiUsage(span, result);
      if (typeof result.responseId === 'string' && result.responseId !== '')
        span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.responseId, result.responseId);
      recordContent(result.finishReason);
      span.end();
    },
    fail(err) {
      if (!open) return;
      open = false;
      const e = err instanceof Error ? err : new Error(String(err));
      span.recordException(e);
      span.setAttribute(SPAN_ATTRIBUTES.errorType, e.name || 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      recordContent();
      span.end();
    },
  };
}

/** What one chunk of a stream says (for `withGenAiStreamSpan`'s `read`). */
export interface GenAiChunkInfo extends GenAiStreamResult {
  /** Text the chunk carries (kept only with `captureContent`). */
  text?: string;
}

/** Options of `withGenAiStreamSpan`. */
export interface GenAiStreamOptions<T> extends GenAiStreamSpanOptions {
  /**
   * Reads one chunk. The usage, finish reason and response model found in the chunks (usually the
   * last) end up on the span. By default Ollama's chunk fields are used: `message.content` or
   * `response` (text), `done_reason`, `prompt_eval_count`, `eval_count`, `model`.
   */
  read?: (chunk: T) => GenAiChunkInfo | undefined;
}

/** Reads an Ollama `/api/chat` or `/api/generate` stream chunk. */
export function readOllamaChunk(chunk: unknown): GenAiChunkInfo | undefined {
  if (chunk === null || typeof chunk !== 'object') return undefined;
  const c = chunk as {
    message?: { content?: unknown };
    response?: unknown;
    done_reason?: unknown;
    prompt_eval_count?: unknown;
    eval_count?: unknown;
    model?: unknown;
  };
  const info: GenAiChunkInfo = {};
  const text = typeof c.message?.content === 'string' ? c.message.content : c.response;
  if (typeof text === 'string') info.text = text;
  if (typeof c.done_reason === 'string') info.finishReason = c.done_reason;
  if (typeof c.prompt_eval_count === 'number') info.inputTokens = c.prompt_eval_count;
  if (typeof c.eval_count === 'number') info.outputTokens = c.eval_count;
  if (typeof c.model === 'string') info.responseModel = c.model;
  return info;
}

/**
 * Runs `start` (which opens a streamed model call) in the context of a new streamed GenAI span and
 * returns the stream, wrapped: every chunk passes through unchanged; the first marks the time to first
 * chunk; the span ends when the stream ends (with the usage and finish reason `read` found), when it
 * throws (exception recorded, rethrown) or when the consumer stops early (`break`: the span ends with
 * `deia.gen_ai.stream.cancelled`). A stream nobody reads keeps its span open: read it or `return()` it.
 */
export async function withGenAiStreamSpan<T>(
  options: GenAiStreamOptions<T>,
  start: (span: Span) => AsyncIterable<T> | Promise<AsyncIterable<T>>,
): Promise<AsyncIterable<T>> {
  const handle = startGenAiStreamSpan(options);
  const read = options.read ?? (readOllamaChunk as (chunk: T) => GenAiChunkInfo | undefined);
  let source: AsyncIterable<T>;
  try {
    source = await context.with(trace.setSpan(context.active(), handle.span), () => start(handle.span));
  } catch (err) {
    handle.fail(err);
    throw err;
  }
  const seen: GenAiStreamResult = {};
  const note = (chunk: T) => {
    let info: GenAiChunkInfo | undefined;
    try {
      info = read(chunk);
    } catch {
      // reading a chunk must never fail the caller's stream
    }
    handle.chunk(info?.text);
    if (!info) return;
    for (const k of ['inputTokens', 'outputTokens', 'responseModel', 'finishReason', 'responseId'] as const)
      if (info[k] !== undefined) (seen as Record<string, unknown>)[k] = info[k];
  };
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      let finished = false;
      return {
        async next() {
          let r: IteratorResult<T>;
          try {
            r = await it.next();
          } catch (err) {
            finished = true;
            handle.fail(err);
            throw err;
          }
          if (r.done) {
            finished = true;
            handle.end(seen);
          } else note(r.value);
          return r;
        },
        async return(value?: unknown) {
          if (!finished) {
            finished = true;
            handle.span.setAttribute(GEN_AI_STREAM_ATTRIBUTES.cancelled, true);
            handle.end(seen);
          }
          if (it.return) return it.return(value);
          return { done: true, value: value as T };
        },
      };
    },
  };
}
