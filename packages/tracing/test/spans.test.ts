import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  getTracing,
  recordGenAiUsage,
  startTracing,
  traceExemplar,
  withBotDispatchSpan,
  withOllamaSpan,
  withTaskSpan,
} from '../src/index.js';

const memory = new InMemorySpanExporter();
const off = { http: false, express: false, fastify: false, pg: false, ioredis: false, pino: false } as const;

beforeAll(() => {
  startTracing({ instrumentations: off, spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
});
afterAll(() => getTracing()?.shutdown());
beforeEach(() => memory.reset());

// SimpleSpanProcessor exports once the resource's async attributes (host.id) settle: flush first.
async function finished() {
  await getTracing()?.forceFlush();
  return memory.getFinishedSpans();
}

describe('domain span helpers', () => {
  it('withOllamaSpan sets the GenAI attributes and reads Ollama token counts from the result', async () => {
    const result = await withOllamaSpan({ model: 'llama3.2:1b', operation: 'chat' }, async (span) => {
      expect(traceExemplar()).toEqual({ trace_id: span.spanContext().traceId });
      return { model: 'llama3.2:1b', prompt_eval_count: 26, eval_count: 298, message: { content: 'hi' } };
    });
    expect(result.eval_count).toBe(298);
    const [span] = await finished();
    expect(span?.name).toBe('chat llama3.2:1b');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toEqual({
      'gen_ai.system': 'ollama',
      'gen_ai.provider.name': 'ollama',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'llama3.2:1b',
      'gen_ai.response.model': 'llama3.2:1b',
      'gen_ai.usage.input_tokens': 26,
      'gen_ai.usage.output_tokens': 298,
    });
  });

  it('withOllamaSpan takes usage from a callback or from recordGenAiUsage inside fn', async () => {
    await withOllamaSpan(
      {
        model: 'm',
        operation: 'text_completion',
        usage: (r) => ({ inputTokens: (r as number[])[0], outputTokens: 2 }),
      },
      () => [5],
    );
    await withOllamaSpan({ model: 'm', operation: 'embeddings' }, (span) => {
      recordGenAiUsage(span, { inputTokens: 9 });
      return 'stream done';
    });
    const [a, b] = await finished();
    expect(a?.attributes['gen_ai.usage.input_tokens']).toBe(5);
    expect(a?.attributes['gen_ai.usage.output_tokens']).toBe(2);
    expect(b?.name).toBe('embeddings m');
    expect(b?.attributes['gen_ai.usage.input_tokens']).toBe(9);
  });

  it('records the exception, sets ERROR status and rethrows', async () => {
    await expect(
      withOllamaSpan({ model: 'm' }, async () => {
        throw new TypeError('model not found');
      }),
    ).rejects.toThrow('model not found');
    const [span] = await finished();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'model not found' });
    expect(span?.attributes['error.type']).toBe('TypeError');
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('withBotDispatchSpan and withTaskSpan nest and carry their attributes', async () => {
    await withTaskSpan(
      'messages',
      () => withBotDispatchSpan('bot-3', () => withOllamaSpan({ model: 'm' }, () => ({ eval_count: 1 }))),
      { taskId: 't-1' },
    );
    const spans = await finished();
    const task = spans.find((s) => s.name === 'process messages');
    const bot = spans.find((s) => s.name === 'bot.dispatch');
    const llm = spans.find((s) => s.name === 'chat m');
    expect(task?.kind).toBe(SpanKind.CONSUMER);
    expect(task?.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'messages',
      'deia.task.id': 't-1',
    });
    expect(bot?.attributes['deia.bot.id']).toBe('bot-3');
    expect(bot?.parentSpanContext?.spanId).toBe(task?.spanContext().spanId);
    expect(llm?.parentSpanContext?.spanId).toBe(bot?.spanContext().spanId);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('traceExemplar returns undefined outside a span', () => {
    expect(traceExemplar()).toBeUndefined();
  });
});
