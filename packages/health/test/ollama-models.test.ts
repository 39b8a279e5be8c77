import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../../test/support/fake-ollama.js';
import {
  createHealth,
  DeiaHealthError,
  ollamaCheck,
  type ResidentModelInfo,
  watchOllamaModels,
} from '../src/index.js';
import { closedPort } from './helpers.js';

let ollama: FakeOllama;
beforeAll(async () => {
  ollama = await startFakeOllama();
  ollama.reply('/api/tags', {
    kind: 'json',
    body: { models: [{ name: 'llama3.2:latest' }, { name: 'nomic-embed-text:latest' }] },
  });
  ollama.reply('/api/version', { kind: 'json', body: { version: '0.12.0' } });
});
afterAll(() => ollama.close());
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const inMinutes = (min: number) => new Date(Date.now() + min * 60_000).toISOString();
const ps = (...models: object[]) => ({ kind: 'json' as const, body: { models } });
const llama = { name: 'llama3.2:latest', model: 'llama3.2:latest', size: 3_000_000, size_vram: 2_500_000 };

function sink() {
  const calls: Array<{ models: readonly ResidentModelInfo[]; provider?: string }> = [];
  return {
    calls,
    recordResidentModels: (models: readonly ResidentModelInfo[], provider?: string) =>
      void calls.push({ models, provider }),
  };
}

describe('watchOllamaModels', () => {
  it('polls /api/ps at once and hands the resident models, with memory and expiry, to the sink', async () => {
    ollama.reply(
      '/api/ps',
      ps({ ...llama, expires_at: inMinutes(4) }, { name: 'nomic-embed-text:latest', size: 500 }),
    );
    const s = sink();
    const w = watchOllamaModels({ url: ollama.url, sink: s, intervalMs: 60_000 });
    cleanup.push(() => w.stop());
    const models = await w.poll();
    expect(s.calls.length).toBeGreaterThanOrEqual(1);
    expect(s.calls.at(-1)?.provider).toBe('ollama');
    expect(models?.map((m) => m.model)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    expect(models?.[0]).toMatchObject({ sizeBytes: 3_000_000, vramBytes: 2_500_000 });
    expect(models?.[0]?.expiresInSeconds).toBeGreaterThan(200);
    expect(models?.[0]?.expiresInSeconds).toBeLessThanOrEqual(240);
    expect(models?.[1]).toEqual({ model: 'nomic-embed-text:latest', sizeBytes: 500 });
  });

  it('feeds @deia/metrics-shaped sinks and removes unloaded models on the next poll', async () => {
    const s = sink();
    ollama.reply('/api/ps', ps(llama));
    const w = watchOllamaModels({ url: ollama.url, sink: s, intervalMs: 60_000, provider: 'ollama-gpu' });
    cleanup.push(() => w.stop());
    await w.poll();
    ollama.reply('/api/ps', ps());
    await w.poll();
    expect(s.calls.at(-1)).toEqual({ models: [], provider: 'ollama-gpu' });
  });

  it('a failed or timed-out poll hands an empty list, logs once per streak, and never rejects', async () => {
    const logger = { warn: vi.fn(), info: vi.fn() };
    const s = sink();
    ollama.reply('/api/ps', { kind: 'json', delayMs: 1_000, body: { models: [llama] } });
    const w = watchOllamaModels({ url: ollama.url, sink: s, intervalMs: 60_000, timeoutMs: 100, logger });
    cleanup.push(() => w.stop());
    const started = Date.now();
    expect(await w.poll()).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(900);
    expect(await w.poll()).toBeUndefined();
    expect(s.calls.at(-1)?.models).toEqual([]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    ollama.reply('/api/ps', { kind: 'json', body: { nothing: true } });
    expect(await w.poll()).toBeUndefined();
    ollama.reply('/api/ps', ps(llama));
    expect((await w.poll())?.length).toBe(1);
    expect(logger.info).toHaveBeenCalledTimes(1);

    const down = watchOllamaModels({
      url: `http://127.0.0.1:${await closedPort()}`,
      sink: s,
      intervalMs: 60_000,
    });
    cleanup.push(() => down.stop());
    expect(await down.poll()).toBeUndefined();
  });

  it('polls on its interval until stopped, sharing a poll in flight', async () => {
    ollama.reply('/api/ps', ps(llama));
    const before = ollama.requests.filter((r) => r.path === '/api/ps').length;
    const s = sink();
    const w = watchOllamaModels({ url: ollama.url, sink: s, intervalMs: 1_000 });
    const [a, b] = [w.poll(), w.poll()];
    expect(a).toBe(b);
    await a;
    await vi.waitFor(() => expect(s.calls.length).toBeGreaterThanOrEqual(2), {
      timeout: 3_000,
      interval: 50,
    });
    w.stop();
    w.stop();
    const after = ollama.requests.filter((r) => r.path === '/api/ps').length;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(ollama.requests.filter((r) => r.path === '/api/ps').length).toBe(after);
    expect(after - before).toBeGreaterThanOrEqual(2);
    expect(await w.poll()).toBeUndefined();
  });

  it('rejects bad options with a coded error', () => {
    const s = sink();
    const bad = [
      undefined,
      { url: '', sink: s },
      { url: 'http://x', sink: {} },
      { url: 'http://x', sink: s, intervalMs: 10 },
      { url: 'http://x', sink: s, intervalMs: 5_000, timeoutMs: 6_000 },
      { url: 'not a url', sink: s },
      { url: 'http://x', sink: s, intervalMS: 5_000 },
    ];
    for (const options of bad) {
      expect(() => watchOllamaModels(options as never)).toThrow(DeiaHealthError);
    }
  });
});

describe('ollamaCheck({ residentModel })', () => {
  const run = async (residentModel: string) => {
    const h = createHealth({ checks: { ollama: ollamaCheck({ url: ollama.url, residentModel }) } });
    cleanup.push(() => h.close());
    return (await h.run()).checks.ollama!;
  };

  it('passes when the model is resident, warns (degraded, not failing) when it is cold; it never calls generate', async () => {
    ollama.reply('/api/ps', ps(llama));
    const before = ollama.requests.length;
    const warm = await run('llama3.2');
    expect(warm.status).toBe('pass');
    expect(warm.details).toMatchObject({ resident: true, models_resident: ['llama3.2:latest'] });
    const cold = await run('nomic-embed-text');
    expect(cold.status).toBe('warn');
    expect(cold.message).toMatch(/not loaded/);
    expect(cold.details.resident).toBe(false);
    const paths = ollama.requests.slice(before).map((r) => r.path);
    expect(paths).not.toContain('/api/generate');
    expect(paths).not.toContain('/api/chat');
    expect(paths.filter((p) => p === '/api/ps')).toHaveLength(2);
  });

  it('warns when /api/ps cannot be read', async () => {
    ollama.reply('/api/ps', { kind: 'json', status: 404, body: { error: 'not found' } });
    const r = await run('llama3.2');
    expect(r.status).toBe('warn');
    expect(r.details.resident).toBeNull();
  });

  it('rejects an empty residentModel', () => {
    expect(() => ollamaCheck({ url: ollama.url, residentModel: '' })).toThrow(DeiaHealthError);
  });
});
