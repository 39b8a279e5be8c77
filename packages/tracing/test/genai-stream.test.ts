import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  getTracing,
  startGenAiStreamSpan,
  startTracing,
  withGenAiStreamSpan,
  withOllamaSpan,
} from '../src/index.js';

const memory = new InMemorySpanExporter();
const off = { http: false, express: false, fastify: false, pg: false, ioredis: false, pino: false } as const;

beforeAll(() => {
  startTracing({ instrumentations: off, spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
});
afterAll(() => getTracing()?.shutdown());
beforeEach(() => memory.reset());

async function finished() {
  await getTracing()?.forceFlush();
  return memory.getFinishedSpans();
}

/** Ollama /api/chat stream chunks, as the server sends them (the last one carries the counts). */
function ollamaChunks(words: string[], last: Record<string, unknown> = {}) {
  return [
    ...words.map((w) => ({ model: 'llama3.2:1b', message: { role: 'assistant', content: w }, done: false })),
    {
      model: 'llama3.2:1b',
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 12,
      eval_count: words.length,
      ...last,
    },
  ];
}

/** An async stream that yields `items` one macrotask apart, and can fail after `failAfter` items. */
async function* stream<T>(items: T[], failAfter = Number.POSITIVE_INFINITY): AsyncGenerator<T> {
  let n = 0;
  for (const item of items) {
    if (n++ === failAfter) throw new TypeError('connection reset by Ollama');
    await new Promise((r) => setImmediate(r));
    yield item;
  }
}

describe('streamed GenAI spans', () => {
  it('stay open until the stream ends, then carry usage, finish reason and the first-chunk event', async () => {
    const s = await withGenAiStreamSpan({ model: 'llama3.2:1b' }, () => stream(ollamaChunks(['Hel', 'lo'])));
    const it = s[Symbol.asyncIterator]();
    await it.next();
    expect(await finished()).toEqual([]); // first chunk read, stream not over: no span exported yet
    const texts: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next())
      texts.push((r.value as { message: { content: string } }).message.content);
    const [span] = await finished();
    expect(texts).toEqual(['lo', '']);
    expect(span?.name).toBe('chat llama3.2:1b');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'ollama',
      'gen_ai.request.model': 'llama3.2:1b',
      'gen_ai.request.stream': true,
      'gen_ai.response.model': 'llama3.2:1b',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 2,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    const events = span?.events ?? [];
    expect(events.map((e) => e.name)).toEqual(['gen_ai.first_chunk']);
    const ttfc = span?.attributes['gen_ai.response.time_to_first_chunk'] as number;
    expect(events[0]?.attributes?.['gen_ai.response.time_to_first_chunk']).toBe(ttfc);
    expect(ttfc).toBeGreaterThanOrEqual(0);
    // The event is stamped between the span's start and end.
    const t = (hr: [number, number]) => hr[0] * 1e9 + hr[1];
    expect(t(events[0]?.time as [number, number])).toBeGreaterThanOrEqual(
      t(span?.startTime as [number, number]),
    );
    expect(t(events[0]?.time as [number, number])).toBeLessThanOrEqual(t(span?.endTime as [number, number]));
  });

  it('are children of the active span (the HTTP request) and parent what start() does', async () => {
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('GET /api/chat', async (request) => {
      const s = await withGenAiStreamSpan({ model: 'm', operation: 'text_completion' }, () => {
        tracer.startSpan('POST /api/generate').end(); // the HTTP client call inside
        return stream([
          { response: 'a' },
          { response: 'b', done: true, done_reason: 'length', eval_count: 2 },
        ]);
      });
      for await (const _ of s) {
        // consume
      }
      request.end();
    });
    const spans = await finished();
    const request = spans.find((x) => x.name === 'GET /api/chat');
    const llm = spans.find((x) => x.name === 'text_completion m');
    const call = spans.find((x) => x.name === 'POST /api/generate');
    expect(llm?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(call?.parentSpanContext?.spanId).toBe(llm?.spanContext().spanId);
    expect(llm?.attributes['gen_ai.response.finish_reasons']).toEqual(['length']);
    expect(llm?.attributes['gen_ai.usage.output_tokens']).toBe(2);
    // Nothing of the stream leaks into the caller's context.
    expect(trace.getSpan(context.active())).toBeUndefined();
  });

  it('never record prompt or completion text by default', async () => {
    const s = await withGenAiStreamSpan(
      { model: 'm', input: [{ role: 'user', content: 'my card is 4111 1111 1111 1111' }] },
      () => stream(ollamaChunks(['secret ', 'answer'])),
    );
    for await (const _ of s) {
      // consume
    }
    const [span] = await finished();
    const everything = JSON.stringify({ a: span?.attributes, e: span?.events });
    expect(everything).not.toContain('4111');
    expect(everything).not.toContain('secret');
    expect(span?.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(span?.attributes['gen_ai.output.messages']).toBeUndefined();
  });

  it('record them in the conventions format when enabled, bounded by maxContentLength', async () => {
    const s = await withGenAiStreamSpan(
      {
        model: 'm',
        captureContent: true,
        maxContentLength: 10,
        input: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hello there' },
        ],
      },
      () => stream(ollamaChunks(['Hello', ' world', ', how are you'])),
    );
    for await (const _ of s) {
      // consume
    }
    const [span] = await finished();
    expect(JSON.parse(span?.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'he' }] },
    ]);
    expect(JSON.parse(span?.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hello worl' }], finish_reason: 'stop' },
    ]);
    // 9 characters of the prompt ('llo there') and 14 of the completion ('d, how are you') left out.
    expect(span?.attributes['deia.gen_ai.content.truncated_chars']).toBe(9 + 14);
  });

  it('end with error.type and ERROR status when the stream fails midway (and rethrow)', async () => {
    const s = await withGenAiStreamSpan({ model: 'm' }, () => stream(ollamaChunks(['a', 'b', 'c']), 2));
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const c of s) seen.push(c);
      })(),
    ).rejects.toThrow('connection reset by Ollama');
    expect(seen).toHaveLength(2);
    const [span] = await finished();
    expect(span?.attributes['error.type']).toBe('TypeError');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'connection reset by Ollama' });
    expect(span?.events.map((e) => e.name)).toEqual(['gen_ai.first_chunk', 'exception']);
  });

  it('end with error.type when the call cannot start (no chunk, no first-chunk event)', async () => {
    await expect(
      withGenAiStreamSpan({ model: 'm' }, async () => {
        throw new Error('model "m" not found');
      }),
    ).rejects.toThrow('not found');
    const [span] = await finished();
    expect(span?.attributes['error.type']).toBe('Error');
    expect(span?.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('end, marked cancelled, when the consumer stops early, and close the source stream', async () => {
    let closed = false;
    async function* source() {
      try {
        yield* stream(ollamaChunks(['a', 'b', 'c']));
      } finally {
        closed = true;
      }
    }
    const s = await withGenAiStreamSpan({ model: 'm' }, () => source());
    for await (const _ of s) break;
    const [span] = await finished();
    expect(closed).toBe(true);
    expect(span?.attributes['deia.gen_ai.stream.cancelled']).toBe(true);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('survive a read callback that throws, and a handle ended twice', async () => {
    const s = await withGenAiStreamSpan(
      {
        model: 'm',
        provider: 'local',
        read: () => {
          throw new Error('bad chunk');
        },
      },
      () => stream([1, 2]),
    );
    const got: number[] = [];
    for await (const n of s) got.push(n);
    expect(got).toEqual([1, 2]);
    const h = startGenAiStreamSpan({ model: 'x', operation: 'embeddings' });
    h.chunk();
    h.end({ outputTokens: -1, inputTokens: 3 });
    h.fail(new Error('late'));
    h.end();
    const [a, b] = await finished();
    expect(a?.attributes['gen_ai.provider.name']).toBe('local');
    expect(a?.events.map((e) => e.name)).toEqual(['gen_ai.first_chunk']);
    expect(b?.attributes['gen_ai.usage.input_tokens']).toBe(3);
    expect(b?.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
    expect(b?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('withOllamaSpan (not streamed) keeps its API and now records the finish reason', async () => {
    await withOllamaSpan({ model: 'm' }, () => ({ eval_count: 3, done_reason: 'stop' }));
    const [span] = await finished();
    expect(span?.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(span?.attributes['gen_ai.request.stream']).toBeUndefined();
  });
});
