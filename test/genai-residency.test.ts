// @deia/health's /api/ps collector feeding @deia/metrics' residency gauges, end to end.
import { watchOllamaModels } from '@deia/health';
import { createMetrics } from '@deia/metrics';
import * as promClient from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.js';

let ollama: FakeOllama;
beforeAll(async () => {
  ollama = await startFakeOllama();
});
afterAll(() => ollama.close());

it('watchOllamaModels({ sink: metrics.llm }) exposes the resident models and drops unloaded ones', async () => {
  const metrics = createMetrics({
    registry: new promClient.Registry(),
    defaultMetrics: false,
    groups: ['llm'],
  });
  const expires = new Date(Date.now() + 300_000).toISOString();
  ollama.reply('/api/ps', {
    kind: 'json',
    body: {
      models: [
        { name: 'llama3.2:latest', size: 3_338_801_664, size_vram: 3_338_801_664, expires_at: expires },
        { name: 'nomic-embed-text:latest', size: 849_000_000, size_vram: 0, expires_at: expires },
      ],
    },
  });
  const watch = watchOllamaModels({ url: ollama.url, sink: metrics.llm, intervalMs: 60_000 });
  try {
    await watch.poll();
    let text = await metrics.registry.metrics();
    expect(text).toContain(
      'llm_model_resident{gen_ai_provider_name="ollama",gen_ai_request_model="llama3.2:latest"} 1',
    );
    expect(text).toContain(
      'llm_model_memory_bytes{gen_ai_provider_name="ollama",gen_ai_request_model="llama3.2:latest",memory="vram"} 3338801664',
    );
    expect(text).toMatch(/llm_model_expires_in_seconds\{[^}]*nomic-embed-text:latest"\} (29\d|300)/);
    ollama.reply('/api/ps', { kind: 'json', body: { models: [{ name: 'llama3.2:latest', size: 1 }] } });
    await watch.poll();
    text = await metrics.registry.metrics();
    expect(text).not.toContain('nomic-embed-text');
    expect(text).not.toContain('memory="vram"');
    expect(text).toContain(
      'llm_model_memory_bytes{gen_ai_provider_name="ollama",gen_ai_request_model="llama3.2:latest",memory="total"} 1',
    );
  } finally {
    watch.stop();
  }
});
