import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createHttpObserver } from '../src/adapter.js';
import { loadPromClient } from '../src/client.js';
import { createMetrics } from '../src/index.js';

const require = createRequire(import.meta.url);

// Runs last in this file: loading the successor client changes process-wide state.
describe('prom-client and @prometheus-io/client', () => {
  it('loads prom-client without warning when only it is in use', () => {
    const warn = vi.fn();
    const client = loadPromClient(warn);
    expect(client).toBe(require('prom-client'));
    expect(warn).not.toHaveBeenCalled();
  });

  it('works with @prometheus-io/client passed as `client`, and warns that two clients are in use', async () => {
    const successor = require('@prometheus-io/client');
    const warn = vi.fn();
    const m = createMetrics({ client: successor, groups: ['http'], warn });
    expect(m.registry).toBeInstanceOf(successor.Registry);
    m.http.requests.inc({ method: 'GET', route: '/x', status: 200 });
    expect(await m.registry.metrics()).toContain(
      'http_requests_total{method="GET",route="/x",status="200"} 1',
    );
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/2 copies of the Prometheus client are in use/));
    const warn2 = vi.fn();
    loadPromClient(warn2);
    expect(warn2).toHaveBeenCalledWith(
      expect.stringMatching(/both prom-client and @prometheus-io\/client are loaded/),
    );
  });

  it('records exact HTTP series on @prometheus-io/client (the same direct path: no client internals read)', async () => {
    const successor = require('@prometheus-io/client');
    const m = createMetrics({ client: successor, groups: ['http'], warn: () => {} });
    const observer = createHttpObserver({ metrics: m }, () => '/a', 'test');
    const server = createServer((req, res) => {
      observer.track(req, res, undefined);
      res.end('hello');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`;
      for (let i = 0; i < 3; i++) await (await fetch(url)).text();
      let text = '';
      for (let i = 0; i < 100 && !text.includes('} 3'); i++) {
        await new Promise((r) => setTimeout(r, 10));
        text = await m.registry.metrics();
      }
      expect(text).toContain('http_requests_total{method="GET",route="/a",status="200"} 3');
      expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/a",status="200"} 3');
      expect(text).toContain('http_response_size_bytes_sum{method="GET",route="/a",status="200"} 15');
      expect(text).toMatch(
        /http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/a",status="200"\} 3/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await observer.close();
    }
  });
});
