// An Ollama that accepts the connection and then stalls (before its headers, or mid-body) costs a
// task at most OLLAMA_TIMEOUT_MS: a 502 LLM_TIMEOUT, never a hung task.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics } from '@deia/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaClient } from '../src/index.js';

describe('Ollama calls are bounded by OLLAMA_TIMEOUT_MS', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (req.url === '/body/api/generate') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"response": "half'); // ... and never the rest
      }
      // '/headers/...': never answers at all
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  for (const stall of ['headers', 'body']) {
    it(`a model that stalls before its ${stall} fails with LLM_TIMEOUT within the timeout + 1 s`, async () => {
      const llm = createOllamaClient({
        url: `${url}/${stall}`,
        model: 'm',
        timeoutMs: 300,
        metrics: createMetrics(),
      });
      const t0 = Date.now();
      await expect(llm.generate('hi')).rejects.toMatchObject({ code: 'LLM_TIMEOUT', statusCode: 502 });
      expect(Date.now() - t0).toBeLessThan(1_300);
    });
  }
});
