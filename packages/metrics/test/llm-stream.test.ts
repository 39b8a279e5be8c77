import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as promClient from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../test/support/fake-ollama.js';
import { createMetrics, type GenAiCall, type Metrics } from '../src/index.js';
import { histogram, scalar, scriptedClock } from './support/read-series.js';

let ollama: FakeOllama;
beforeAll(async () => {
  ollama = await startFakeOllama();
});
afterAll(() => ollama.close());

const fresh = (warn = vi.fn()) =>
  createMetrics({ registry: new promClient.Registry(), warn, defaultMetrics: false });

const post = (path: string, body: object, signal?: AbortSignal) =>
  fetch(`${ollama.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: signal ?? AbortSignal.timeout(5_000),
  });

const readAll = async (s: ReadableStream<Uint8Array>) => Buffer.from(await new Response(s).arrayBuffer());

const FINAL = {
  total_duration: 2_000_000_000,
  load_duration: 1_250_000_000,
  prompt_eval_count: 26,
  prompt_eval_duration: 125_000_000,
  eval_count: 5,
  eval_duration: 250_000_000,
};

const errorTypes = async (m: Metrics) => {
  const out: Record<string, number> = {};
  const metric = m.registry.getSingleMetric('gen_ai_client_operation_duration_seconds') as unknown as {
    get(): Promise<{ values: Array<{ labels: Record<string, string>; value: number; metricName: string }> }>;
  };
  for (const v of (await metric.get()).values) {
    if (!v.metricName.endsWith('_count')) continue;
    const k = v.labels.error_type as string;
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
};

describe('metrics.llm.wrapStream over a fake Ollama', () => {
  it('passes the bytes through untouched and records every series exactly (injected clock)', async () => {
    ollama.reply('/api/chat', { kind: 'stream', chunks: 5, everyMs: 2, final: FINAL });
    const plain = await readAll((await post('/api/chat', { model: 'llama3.2' })).body!);

    const m = fresh();
    // start 0; chunks at 250, 375, 500, 625, 750 ms; the final line at 1000 ms
    const call = m.llm.startCall(
      { operation: 'chat', model: 'llama3.2' },
      { now: scriptedClock(0, 250, 375, 500, 625, 750, 1000), pricePerToken: { input: 0.25, output: 1 } },
    );
    const res = await post('/api/chat', { model: 'llama3.2', stream: true });
    const wrapped = await readAll(m.llm.wrapStream(call, res.body!));
    expect(wrapped.equals(plain)).toBe(true);
    expect(wrapped.toString().trim().split('\n')).toHaveLength(6);
    expect(call.ended).toBe(true);

    const labels = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'ollama',
      gen_ai_request_model: 'llama3.2',
    };
    const model = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'llama3.2' };
    const ttfc = await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds', labels);
    expect([ttfc.count, ttfc.sum]).toEqual([1, 0.25]);
    const tpoc = await histogram(m, 'gen_ai_client_operation_time_per_output_chunk_seconds', labels);
    expect([tpoc.count, tpoc.sum]).toEqual([4, 0.5]);
    expect([tpoc.buckets.get('0.08'), tpoc.buckets.get('0.16')]).toEqual([0, 4]);
    const d = await histogram(m, 'gen_ai_client_operation_duration_seconds', { ...labels, error_type: '' });
    expect([d.count, d.sum]).toEqual([1, 1]);
    expect([d.buckets.get('0.64'), d.buckets.get('1.28')]).toEqual([0, 1]);
    const inTok = await histogram(m, 'gen_ai_client_token_usage', { ...labels, gen_ai_token_type: 'input' });
    const outTok = await histogram(m, 'gen_ai_client_token_usage', {
      ...labels,
      gen_ai_token_type: 'output',
    });
    expect([inTok.count, inTok.sum, outTok.count, outTok.sum]).toEqual([1, 26, 1, 5]);
    expect([inTok.buckets.get('16'), inTok.buckets.get('64')]).toEqual([0, 1]);
    const load = await histogram(m, 'llm_model_load_duration_seconds', model);
    expect([load.count, load.sum]).toEqual([1, 1.25]);
    expect([load.buckets.get('0.64'), load.buckets.get('1.28')]).toEqual([0, 1]);
    expect(await scalar(m, 'llm_model_cold_starts_total', model)).toBe(1);
    expect(await scalar(m, 'llm_eval_tokens_total', { ...model, phase: 'prompt' })).toBe(26);
    expect(await scalar(m, 'llm_eval_tokens_total', { ...model, phase: 'generation' })).toBe(5);
    expect(await scalar(m, 'llm_eval_duration_seconds_total', { ...model, phase: 'prompt' })).toBe(0.125);
    expect(await scalar(m, 'llm_eval_duration_seconds_total', { ...model, phase: 'generation' })).toBe(0.25);
    expect(await scalar(m, 'llm_request_cost_usd_total', model)).toBe(26 * 0.25 + 5);
  });

  it('counts every line as a chunk when several arrive in one read (/api/generate)', async () => {
    ollama.reply('/api/generate', { kind: 'stream', chunks: 4, oneWrite: true, final: { eval_count: 4 } });
    const m = fresh();
    const call = m.llm.startCall(
      { operation: 'text_completion', model: 'm' },
      { now: scriptedClock(0, 100, 100, 100, 100, 200) },
    );
    await readAll(m.llm.wrapStream(call, (await post('/api/generate', { model: 'm' })).body!));
    expect((await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds')).sum).toBe(0.1);
    const tpoc = await histogram(m, 'gen_ai_client_operation_time_per_output_chunk_seconds');
    expect([tpoc.count, tpoc.sum]).toEqual([3, 0]);
    expect(await errorTypes(m)).toEqual({ '': 1 });
  });

  it('measures real time with the default clock (loose bounds)', async () => {
    ollama.reply('/api/chat', { kind: 'stream', firstChunkMs: 120, chunks: 4, everyMs: 40, final: {} });
    const m = fresh();
    const call = m.llm.startCall({ operation: 'chat', model: 'llama3.2' });
    await readAll(m.llm.wrapStream(call, (await post('/api/chat', { model: 'llama3.2' })).body!));
    const ttfc = await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds');
    expect(ttfc.count).toBe(1);
    expect(ttfc.sum).toBeGreaterThan(0.1);
    expect(ttfc.sum).toBeLessThan(10);
    const tpoc = await histogram(m, 'gen_ai_client_operation_time_per_output_chunk_seconds');
    expect(tpoc.count).toBe(3);
    expect(tpoc.sum).toBeGreaterThan(0.09);
    const d = await histogram(m, 'gen_ai_client_operation_duration_seconds');
    expect(d.sum).toBeGreaterThanOrEqual(ttfc.sum + tpoc.sum - 0.001);
  });

  it('an {"error": ...} line mid-stream fails the call once with ollama_error', async () => {
    ollama.reply('/api/chat', { kind: 'stream', chunks: 5, errorAfter: 2 });
    const m = fresh();
    const call = m.llm.startCall(
      { operation: 'chat', model: 'x' },
      { now: scriptedClock(0, 500, 750, 1000) },
    );
    const text = (
      await readAll(m.llm.wrapStream(call, (await post('/api/chat', { model: 'x' })).body!))
    ).toString();
    expect(text).toContain('"error"');
    expect(await errorTypes(m)).toEqual({ ollama_error: 1 });
    expect((await histogram(m, 'gen_ai_client_operation_duration_seconds')).sum).toBe(1);
    expect((await histogram(m, 'gen_ai_client_operation_time_per_output_chunk_seconds')).count).toBe(1);
    expect((await histogram(m, 'gen_ai_client_token_usage')).count).toBe(0);
  });

  it('a body that ends without the final line is truncated; a cut connection too, and its error passes on', async () => {
    ollama.reply('/api/generate', { kind: 'stream', chunks: 3, final: false });
    const m = fresh();
    const ended = m.llm.startCall({ operation: 'text_completion', model: 'x' });
    await readAll(m.llm.wrapStream(ended, (await post('/api/generate', { model: 'x' })).body!));
    expect(await errorTypes(m)).toEqual({ truncated: 1 });

    ollama.reply('/api/generate', { kind: 'stream', chunks: 5, cutAfter: 2 });
    const cut = m.llm.startCall({ operation: 'text_completion', model: 'x' });
    const body = m.llm.wrapStream(cut, (await post('/api/generate', { model: 'x' })).body!);
    await expect(readAll(body)).rejects.toThrow();
    expect(await errorTypes(m)).toEqual({ truncated: 2 });
    expect((await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds')).count).toBe(2);
  });

  it('a stalled stream cut by the fetch deadline is a timeout', async () => {
    ollama.reply('/api/chat', { kind: 'stream', chunks: 5, hangAfter: 1 });
    const m = fresh();
    const call = m.llm.startCall({ operation: 'chat', model: 'x' });
    const res = await post('/api/chat', { model: 'x' }, AbortSignal.timeout(300));
    await expect(readAll(m.llm.wrapStream(call, res.body!))).rejects.toThrow();
    expect(await errorTypes(m)).toEqual({ timeout: 1 });
  });

  it('a consumer that cancels mid-stream records cancelled once and cancels the request to Ollama', async () => {
    ollama.reply('/api/chat', { kind: 'stream', chunks: 50, everyMs: 20, final: FINAL });
    const m = fresh();
    const call = m.llm.startCall({ operation: 'chat', model: 'x' }, { now: scriptedClock(0, 10, 20, 30) });
    const closed = ollama.streamClosed();
    const reader = m.llm.wrapStream(call, (await post('/api/chat', { model: 'x' })).body!).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel(new Error('client went away'));
    await reader.cancel();
    call.finish(FINAL);
    await closed;
    expect(await errorTypes(m)).toEqual({ cancelled: 1 });
    expect((await histogram(m, 'gen_ai_client_operation_duration_seconds')).sum).toBe(0.03);
    expect((await histogram(m, 'gen_ai_client_token_usage')).count).toBe(0);
  });

  it('an HTTP client that disconnects from a proxied stream records cancelled once', async () => {
    ollama.reply('/api/chat', { kind: 'stream', chunks: 100, everyMs: 10, final: {} });
    const m = fresh();
    let call: GenAiCall | undefined;
    let piped: Promise<unknown> = Promise.resolve();
    const app = createServer(async (_req, res) => {
      call = m.llm.startCall({ operation: 'chat', model: 'x' });
      const upstream = await post('/api/chat', { model: 'x' });
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      piped = pipeline(Readable.fromWeb(m.llm.wrapStream(call, upstream.body!) as never), res).catch(
        () => undefined,
      );
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const closed = ollama.streamClosed();
      await new Promise<void>((resolve, reject) => {
        const req = request(`http://127.0.0.1:${(app.address() as AddressInfo).port}/`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.setTimeout(5_000, () => reject(new Error('no data')));
        req.end();
      });
      await piped;
      await closed;
      expect(call?.ended).toBe(true);
      expect(await errorTypes(m)).toEqual({ cancelled: 1 });
    } finally {
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });

  it('a throwing metrics side never breaks the stream', async () => {
    ollama.reply('/api/chat', { kind: 'stream', chunks: 5, final: FINAL });
    const plain = await readAll((await post('/api/chat', { model: 'x' })).body!);
    const warn = vi.fn();
    const m = fresh(warn);
    for (const name of [
      'gen_ai_client_operation_time_to_first_chunk_seconds',
      'gen_ai_client_operation_time_per_output_chunk_seconds',
      'gen_ai_client_operation_duration_seconds',
    ]) {
      (m.get(name) as { observe: unknown }).observe = () => {
        throw new Error('metrics down');
      };
    }
    const call = m.llm.startCall({ operation: 'chat', model: 'x' });
    const out = await readAll(m.llm.wrapStream(call, (await post('/api/chat', { model: 'x' })).body!));
    expect(out.equals(plain)).toBe(true);
    expect(warn).toHaveBeenCalled();

    // a recorder that throws from every method (not ours): the bytes still flow
    const hostile: GenAiCall = {
      chunk: () => {
        throw new Error('x');
      },
      finish: () => {
        throw new Error('x');
      },
      fail: () => {
        throw new Error('x');
      },
      ended: false,
    };
    const out2 = await readAll(m.llm.wrapStream(hostile, (await post('/api/chat', { model: 'x' })).body!));
    expect(out2.equals(plain)).toBe(true);
  });
});

describe('metrics.llm.recordAnswer (non-streamed answers)', () => {
  it('finishes with the counters of /api/generate and /api/embed answers, fails an error answer', async () => {
    const m = fresh();
    ollama.reply('/api/generate', {
      kind: 'json',
      body: { model: 'm', response: 'hi', done: true, ...FINAL },
    });
    const gen = m.llm.startCall(
      { operation: 'text_completion', model: 'm' },
      { now: scriptedClock(0, 2000) },
    );
    m.llm.recordAnswer(gen, await (await post('/api/generate', { model: 'm', stream: false })).json());
    const d = await histogram(m, 'gen_ai_client_operation_duration_seconds', { error_type: '' });
    expect([d.count, d.sum]).toEqual([1, 2]);
    expect((await histogram(m, 'gen_ai_client_operation_time_to_first_chunk_seconds')).count).toBe(0);
    expect((await histogram(m, 'gen_ai_client_token_usage', { gen_ai_token_type: 'output' })).sum).toBe(5);

    ollama.reply('/api/embed', {
      kind: 'json',
      body: {
        model: 'e',
        embeddings: [[0.1, 0.2]],
        total_duration: 1e7,
        load_duration: 1e6,
        prompt_eval_count: 8,
      },
    });
    const emb = m.llm.startCall({ operation: 'embeddings', model: 'e' });
    m.llm.recordAnswer(emb, await (await post('/api/embed', { model: 'e', input: 'x' })).json());
    const e = await histogram(m, 'gen_ai_client_token_usage', {
      gen_ai_operation_name: 'embeddings',
      gen_ai_token_type: 'input',
    });
    expect([e.count, e.sum]).toEqual([1, 8]);
    expect(
      (await histogram(m, 'gen_ai_client_token_usage', { gen_ai_operation_name: 'embeddings' })).count,
    ).toBe(1);

    ollama.reply('/api/generate', { kind: 'json', status: 200, body: { error: 'model is loading' } });
    const bad = m.llm.startCall({ operation: 'text_completion', model: 'm' });
    m.llm.recordAnswer(bad, await (await post('/api/generate', { model: 'm' })).json());
    m.llm.recordAnswer(m.llm.startCall({ operation: 'chat', model: 'm' }), 'not json');
    // an HTTP error: the caller fails the call with the status
    ollama.reply('/api/chat', { kind: 'json', status: 404, body: { error: 'model "m" not found' } });
    const res = await post('/api/chat', { model: 'm' });
    const missing = m.llm.startCall({ operation: 'chat', model: 'm' });
    if (!res.ok) missing.fail(String(res.status));
    await res.body?.cancel();
    expect(await errorTypes(m)).toEqual({ '': 2, ollama_error: 1, invalid_response: 1, '404': 1 });
  });
});
