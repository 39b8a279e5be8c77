import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics, loadPromClient } from '../src/index.js';

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
});
