import { genAiErrorType } from './llm-calls.js';
import type { GenAiCall, OllamaFinalFields } from './llm-types.js';

/**
 * Longest line kept across reads to find Ollama's final counters (its final `/api/generate` line
 * carries the `context` token array, tens of KiB); a longer line is passed through uncounted.
 */
export const MAX_NDJSON_LINE_BYTES = 4 * 1024 * 1024;

const NEWLINE = 10;
const DONE = Buffer.from('"done":');
const ERROR = Buffer.from('"error":');
const T = 't'.charCodeAt(0);

const FINAL_FIELDS = [
  'total_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'eval_count',
  'eval_duration',
] as const;

/** Ollama's counters out of a parsed answer (missing or non-numeric fields left out). */
export function ollamaFinalFields(answer: unknown): OllamaFinalFields {
  const out: Record<string, number> = {};
  if (!answer || typeof answer !== 'object') return out;
  const a = answer as Record<string, unknown>;
  for (const k of FINAL_FIELDS) {
    const v = a[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/**
 * Records a non-streamed Ollama answer (the parsed JSON of `/api/chat`, `/api/generate` or
 * `/api/embed` with `stream: false`): an `{"error": ...}` answer fails the call with
 * `ollama_error`, a value that is not an object with `invalid_response`, anything else finishes it
 * with the answer's counters. Never throws.
 */
export function recordOllamaAnswer(call: GenAiCall, answer: unknown): void {
  try {
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) call.fail('invalid_response');
    else if ((answer as { error?: unknown }).error !== undefined) call.fail('ollama_error');
    else call.finish(ollamaFinalFields(answer));
  } catch {
    // GenAiCall never throws; a foreign implementation that does must not break the caller
  }
}

/**
 * Scans Ollama NDJSON as it passes: each line that is neither the final `"done":true` line nor an
 * `{"error":...}` line is one chunk; only the final line is parsed. Bytes are looked at, never
 * changed; a line split across reads is copied until its newline (at most MAX_NDJSON_LINE_BYTES).
 */
function createScanner(call: GenAiCall) {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overflow = false;

  const line = (buf: Buffer) => {
    const done = buf.indexOf(DONE);
    if (done >= 0) {
      let i = done + DONE.length;
      while (buf[i] === 32) i++;
      if (buf[i] !== T) return call.chunk();
      let parsed: unknown;
      try {
        parsed = JSON.parse(buf.toString('utf8'));
      } catch {
        return call.fail('invalid_response');
      }
      return call.finish(ollamaFinalFields(parsed));
    }
    if (buf.indexOf(ERROR) >= 0) return call.fail('ollama_error');
    // blank lines (keep-alive) are not chunks
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i] as number;
      if (c !== 32 && c !== 13 && c !== 9) return call.chunk();
    }
  };

  const flushPending = (tail: Buffer | undefined) => {
    if (overflow) {
      overflow = false;
      call.chunk();
    } else {
      if (tail !== undefined) pending.push(tail);
      line(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
    }
    pending = [];
    pendingBytes = 0;
  };

  return {
    push(bytes: Uint8Array) {
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(NEWLINE, from);
        if (nl === -1) break;
        if (pendingBytes > 0 || overflow) flushPending(buf.subarray(from, nl));
        else line(buf.subarray(from, nl));
        from = nl + 1;
      }
      if (from < buf.length && !overflow) {
        pendingBytes += buf.length - from;
        if (pendingBytes > MAX_NDJSON_LINE_BYTES) {
          overflow = true;
          pending = [];
          pendingBytes = 0;
        } else {
          // a copy: the consumer owns the chunk once it is passed on
          pending.push(Buffer.from(buf.subarray(from)));
        }
      }
    },
    /** The body ended: a last line without newline counts; no final line means `truncated`. */
    end() {
      if (pendingBytes > 0 || overflow) flushPending(undefined);
      if (!call.ended) call.fail('truncated');
    },
  };
}

/**
 * Wraps the body of a streamed Ollama call (NDJSON) so that the call is recorded as the bytes pass:
 * the returned stream yields the very same chunks, unchanged, one read of the source per read of
 * the consumer (nothing is read ahead or buffered). The call ends once: with Ollama's final counters
 * at the `"done":true` line; `ollama_error` at an `{"error":...}` line; `truncated` when the body
 * ends without a final line; the mapped error type (`timeout`, `network`, ...) when reading the
 * source fails (the error is passed on); `cancelled` when the consumer cancels (a client that
 * disconnected), the cancel being passed on to the source. A failure of the metrics side is
 * contained: the bytes flow on.
 */
export function wrapOllamaStream(
  call: GenAiCall,
  body: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let scanner: ReturnType<typeof createScanner> | undefined = createScanner(call);
  const safely = (f: (s: ReturnType<typeof createScanner>) => void) => {
    if (scanner === undefined) return;
    try {
      f(scanner);
    } catch {
      // metrics are best effort: stop scanning, keep streaming
      scanner = undefined;
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (err) {
          try {
            const type = genAiErrorType(err);
            call.fail(type === '_OTHER' ? 'network' : type);
          } catch {
            // contained
          }
          controller.error(err);
          return;
        }
        if (r.done) {
          safely((s) => s.end());
          controller.close();
          return;
        }
        safely((s) => s.push(r.value));
        controller.enqueue(r.value);
      },
      cancel(reason) {
        try {
          call.fail('cancelled');
        } catch {
          // contained
        }
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
