import * as promClient from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics, type GenAiCall, genAiErrorType } from '../src/index.js';
import { histogram, labelSets, scalar, scriptedClock } from './support/read-series.js';

const fresh = (warn = vi.fn()) =>
  createMetrics({ registry: new promClient.Registry(), warn, defaultMetrics: false });
const chat = {
  gen_ai_operation_name: 'chat',
  gen_ai_provider_name: 'ollama',
  gen_ai_request_model: 'llama3.2',
};
const model = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'llama3.2' };

describe('metrics.llm.startCall', () => {
  it('records a streamed call: first chunk, each later chunk, duration, tokens, load, eval counters, cost', async () => {
    const m = fresh();
    // start 0, chunks at 500, 625, 750, 875 ms, end 1000 ms (binary-exact seconds)
    const call = m.llm.startCall(
      { operation: 'chat', model: 'llama3.2' },
      { now: scriptedClock(0, 500, 625, 750, 875, 1000), pricePerToken: { input: 0.5, output: 2 } },
    );
    for (let i = 0; i < 4; i++) call.chunk();
    call.finish({
      total_duration: 1_000_000_000,
      load_duration: 1_500_000_000,
      prompt_eval_count: 12,
      prompt_eval_duration: 250_000_000,
      eval_count: 4,
      eval_duration: 500_000_000,
    });
    expect(call.ended).toBe(true);

    const ttfc = await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds', chat);
    expect([ttfc.count, ttfc.sum]).toEqual([1, 0.5]);
    expect(ttfc.buckets.get('0.32')).toBe(0);
    expect(ttfc.buckets.get('0.64')).toBe(1);
    const tpoc = await histogram(m, 'gen_ai_client_operation_time_per_output_chunk_seconds', chat);
    expect([tpoc.count, tpoc.sum]).toEqual([3, 0.375]);
    expect(tpoc.buckets.get('0.08')).toBe(0);
    expect(tpoc.buckets.get('0.16')).toBe(3);
    const duration = await histogram(m, 'gen_ai_client_operation_duration_seconds', {
      ...chat,
      error_type: '',
    });
    expect([duration.count, duration.sum]).toEqual([1, 1]);
    const input = await histogram(m, 'gen_ai_client_token_usage', { ...chat, gen_ai_token_type: 'input' });
    const output = await histogram(m, 'gen_ai_client_token_usage', { ...chat, gen_ai_token_type: 'output' });
    expect([input.count, input.sum, output.count, output.sum]).toEqual([1, 12, 1, 4]);
    expect(input.buckets.get('4')).toBe(0);
    expect(input.buckets.get('16')).toBe(1);
    const load = await histogram(m, 'llm_model_load_duration_seconds', model);
    expect([load.count, load.sum]).toEqual([1, 1.5]);
    expect(await scalar(m, 'llm_model_cold_starts_total', model)).toBe(1);
    expect(await scalar(m, 'llm_eval_tokens_total', { ...model, phase: 'prompt' })).toBe(12);
    expect(await scalar(m, 'llm_eval_tokens_total', { ...model, phase: 'generation' })).toBe(4);
    expect(await scalar(m, 'llm_eval_duration_seconds_total', { ...model, phase: 'prompt' })).toBe(0.25);
    expect(await scalar(m, 'llm_eval_duration_seconds_total', { ...model, phase: 'generation' })).toBe(0.5);
    expect(await scalar(m, 'llm_request_cost_usd_total', model)).toBe(12 * 0.5 + 4 * 2);
    // the deprecated series keep moving for callers that migrated
    const legacy = await histogram(m, 'llm_request_duration_seconds', {
      model: 'llama3.2',
      operation: 'chat',
    });
    expect([legacy.count, legacy.sum]).toEqual([1, 1]);
    expect(await scalar(m, 'llm_tokens_total', { model: 'llama3.2', type: 'prompt' })).toBe(12);
    expect(await scalar(m, 'llm_tokens_total', { model: 'llama3.2', type: 'completion' })).toBe(4);
    expect(await scalar(m, 'llm_cost_usd_total', { model: 'llama3.2' })).toBe(14);
    expect(await scalar(m, 'llm_request_errors_total')).toBeUndefined();
  });

  it('records a call once: a second finish, a fail after it and chunks after the end do nothing', async () => {
    const m = fresh();
    const call = m.llm.startCall(
      { operation: 'chat', model: 'llama3.2' },
      { now: scriptedClock(0, 100, 200) },
    );
    call.chunk();
    call.finish({ eval_count: 3 });
    call.finish({ eval_count: 3 });
    call.fail('cancelled');
    call.chunk();
    const all = await histogram(m, 'gen_ai_client_operation_duration_seconds');
    expect(all.count).toBe(1);
    expect((await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds')).count).toBe(1);
    expect((await histogram(m, 'gen_ai_client_operation_time_per_output_chunk_seconds')).count).toBe(0);
    expect((await histogram(m, 'gen_ai_client_token_usage', { gen_ai_token_type: 'output' })).sum).toBe(3);
  });

  it('fails with an error type: a string as is, an error mapped, counters still recorded', async () => {
    const m = fresh();
    const failing = m.llm.startCall(
      { operation: 'text_completion', model: 'm1', provider: 'local' },
      { now: scriptedClock(0, 2000) },
    );
    failing.fail(Object.assign(new Error('deadline'), { name: 'TimeoutError' }), { prompt_eval_count: 7 });
    const d = await histogram(m, 'gen_ai_client_operation_duration_seconds', {
      gen_ai_operation_name: 'text_completion',
      gen_ai_provider_name: 'local',
      gen_ai_request_model: 'm1',
      error_type: 'timeout',
    });
    expect([d.count, d.sum]).toEqual([1, 2]);
    expect((await histogram(m, 'gen_ai_client_token_usage', { gen_ai_token_type: 'input' })).sum).toBe(7);
    expect(await scalar(m, 'llm_request_errors_total', { model: 'm1', operation: 'generate' })).toBe(1);

    m.llm.startCall({ operation: 'chat', model: 'm1' }).fail('');
    m.llm.startCall({ operation: 'chat', model: 'm1' }).fail('418');
    m.llm.startCall({ operation: 'rerank', model: 'm1' }).fail(new Error('boom'));
    const types = (await labelSets(m, 'gen_ai_client_operation_duration_seconds'))
      .filter((l) => l.le === '+Inf')
      .map((l) => `${l.gen_ai_operation_name}/${l.error_type}`)
      .sort();
    // '' becomes _OTHER; an undeclared status and an undeclared operation become other
    expect(types).toEqual(['chat/_OTHER', 'chat/other', 'other/_OTHER', 'text_completion/timeout']);
  });

  it('counts a cold start only above coldStartSeconds, creating the counter at 0 for warm calls', async () => {
    const m = fresh();
    m.llm.startCall({ operation: 'chat', model: 'warm' }).finish({ load_duration: 20_000_000 });
    m.llm
      .startCall({ operation: 'chat', model: 'cold' }, { coldStartSeconds: 5 })
      .finish({ load_duration: 4e9 });
    m.llm
      .startCall({ operation: 'chat', model: 'cold' }, { coldStartSeconds: 5 })
      .finish({ load_duration: 6e9 });
    expect(await scalar(m, 'llm_model_cold_starts_total', { gen_ai_request_model: 'warm' })).toBe(0);
    expect(await scalar(m, 'llm_model_cold_starts_total', { gen_ai_request_model: 'cold' })).toBe(1);
    const load = await histogram(m, 'llm_model_load_duration_seconds', { gen_ai_request_model: 'cold' });
    expect([load.count, load.sum]).toEqual([2, 10]);
  });

  it('skips invalid counters and records an eval phase only with both its count and its duration', async () => {
    const m = fresh();
    m.llm.startCall({ operation: 'chat', model: 'x' }).finish({
      prompt_eval_count: -1,
      eval_count: 5,
      eval_duration: Number.NaN,
      load_duration: 'soon' as never,
    });
    expect((await histogram(m, 'gen_ai_client_token_usage', { gen_ai_token_type: 'input' })).count).toBe(0);
    expect((await histogram(m, 'gen_ai_client_token_usage', { gen_ai_token_type: 'output' })).sum).toBe(5);
    expect(await scalar(m, 'llm_eval_tokens_total')).toBeUndefined();
    expect((await histogram(m, 'llm_model_load_duration_seconds')).count).toBe(0);
  });

  it('never throws when the metrics side fails: the failure is a warning', async () => {
    const warn = vi.fn();
    const m = fresh(warn);
    const handle = m.get('gen_ai_client_operation_duration_seconds') as { observe: unknown };
    handle.observe = () => {
      throw new Error('registry exploded');
    };
    const call = m.llm.startCall({ operation: 'chat', model: 'x' }, { now: () => 0 });
    expect(() => call.chunk()).not.toThrow();
    expect(() => call.finish()).not.toThrow();
    expect(call.ended).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('registry exploded'));
    const throwingClock = m.llm.startCall(
      { operation: 'chat', model: 'x' },
      {
        now: () => {
          throw new Error('clock broke');
        },
      },
    );
    expect(() => throwingClock.chunk()).not.toThrow();
    expect(() => throwingClock.fail('timeout')).not.toThrow();
  });

  it('is a no-op with the llm group switched off', async () => {
    const m = createMetrics({ registry: new promClient.Registry(), groups: ['http'], defaultMetrics: false });
    const call: GenAiCall = m.llm.startCall({ operation: 'chat', model: 'x' });
    call.chunk();
    call.finish({ eval_count: 1 });
    m.llm.recordResidentModels([{ model: 'x', sizeBytes: 1 }]);
    expect(m.has('gen_ai_client_operation_duration_seconds')).toBe(false);
  });
});

describe('genAiErrorType', () => {
  it('maps errors to the documented types', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect(genAiErrorType(named('TimeoutError'))).toBe('timeout');
    expect(genAiErrorType(named('AbortError'))).toBe('cancelled');
    expect(genAiErrorType(new TypeError('terminated'))).toBe('truncated');
    expect(genAiErrorType(new TypeError('fetch failed'))).toBe('network');
    expect(genAiErrorType(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('network');
    expect(genAiErrorType(Object.assign(new Error('x'), { status: 503 }))).toBe('503');
    expect(genAiErrorType(new Error('x'))).toBe('_OTHER');
    expect(genAiErrorType(null)).toBe('_OTHER');
    expect(genAiErrorType('ollama_error')).toBe('ollama_error');
  });
});

describe('metrics.llm.recordResidentModels', () => {
  it('sets the gauges of the listed models and removes the series of models no longer listed', async () => {
    const m = fresh();
    m.llm.recordResidentModels([
      { model: 'llama3.2:latest', sizeBytes: 3_000, vramBytes: 2_000, expiresInSeconds: 240 },
      { model: 'nomic-embed-text:latest', sizeBytes: 500 },
      { model: '' } as never,
    ]);
    const a = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'llama3.2:latest' };
    const b = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'nomic-embed-text:latest' };
    expect(await scalar(m, 'llm_model_resident', a)).toBe(1);
    expect(await scalar(m, 'llm_model_memory_bytes', { ...a, memory: 'total' })).toBe(3_000);
    expect(await scalar(m, 'llm_model_memory_bytes', { ...a, memory: 'vram' })).toBe(2_000);
    expect(await scalar(m, 'llm_model_expires_in_seconds', a)).toBe(240);
    expect(await scalar(m, 'llm_model_resident', b)).toBe(1);
    expect(await scalar(m, 'llm_model_memory_bytes', { ...b, memory: 'vram' })).toBeUndefined();
    expect((await labelSets(m, 'llm_model_resident')).length).toBe(2);

    m.llm.recordResidentModels([{ model: 'nomic-embed-text:latest', sizeBytes: 500, expiresInSeconds: -3 }]);
    expect(await scalar(m, 'llm_model_resident', a)).toBeUndefined();
    expect(await scalar(m, 'llm_model_memory_bytes', a)).toBeUndefined();
    expect(await scalar(m, 'llm_model_expires_in_seconds', a)).toBeUndefined();
    expect(await scalar(m, 'llm_model_expires_in_seconds', b)).toBe(0);
    // another provider's models are its own
    m.llm.recordResidentModels([{ model: 'other' }], 'vllm');
    m.llm.recordResidentModels([]);
    expect(await labelSets(m, 'llm_model_resident')).toEqual([
      { gen_ai_provider_name: 'vllm', gen_ai_request_model: 'other' },
    ]);
    expect(() => m.llm.recordResidentModels(null as never)).not.toThrow();
  });
});
