import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createHttpObserver } from '../src/adapter.js';
import { acceptsGzip, negotiateFormat, renderExposition } from '../src/exposition.js';
import { CATALOG, createMetrics } from '../src/index.js';

// promtool (Debian `prometheus`) parses text 0.0.4; the OpenMetrics parser of the Python client
// (Debian `python3-prometheus-client`) parses OpenMetrics 1.0. .ci/run installs both.
const PYTHON_OM = `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
n = 0; ex = 0
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        n += 1
        ex += 1 if s.exemplar else 0
print(n, ex)
`;

async function filledMetrics() {
  const m = createMetrics({
    defaultMetrics: false,
    warn: () => {},
    exemplars: () => ({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    defaultLabels: { service: 'svc "quoted" \\ back\nslash' },
  });
  for (const def of CATALOG) {
    const labels = Object.fromEntries(def.labelNames.map((l) => [l, def.labelValues?.[l]?.[0] ?? 'x']));
    const h = m.get(def.name) as unknown as Record<string, (...a: unknown[]) => void>;
    if (def.type === 'counter') h.inc?.(labels, 1);
    else if (def.type === 'gauge') h.set?.(labels, 1);
    else h.observe?.(labels, 0.1);
  }
  // and series recorded by the HTTP core (its own store, with exemplars)
  const observer = createHttpObserver({ metrics: m }, () => '/bots/:id');
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    observer.track(req, res, undefined);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${port}/bots/1`)).text();
  for (let i = 0; i < 100; i++) {
    const v = (await m.http.requests.metric.get()).values.reduce((s, x) => s + x.value, 0);
    if (v === 4) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await observer.close();
  return m;
}

describe('exposition formats, checked by real parsers', () => {
  it('text 0.0.4 passes promtool; OpenMetrics 1.0 passes the Python client parser, same samples', async () => {
    const m = await filledMetrics();
    const json = await m.registry.getMetricsAsJSON();
    const text = renderExposition(json as never, 'text');
    const om = renderExposition(json as never, 'openmetrics');

    const prom = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(prom.error, 'promtool is not installed (apt-get install prometheus)').toBeUndefined();
    expect(`${prom.stdout}${prom.stderr}`).toBe('');
    expect(prom.status).toBe(0);

    const py = spawnSync('/usr/bin/python3', ['-c', PYTHON_OM], { input: om, encoding: 'utf8' });
    expect(py.error).toBeUndefined();
    expect(py.stderr, 'apt-get install python3-prometheus-client').toBe('');
    const [samples, exemplars] = py.stdout.trim().split(' ').map(Number);
    const textSamples = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    expect(samples).toBe(textSamples);
    expect(exemplars).toBeGreaterThan(0);
    // a broken document is rejected by both (the tests can fail)
    expect(spawnSync('promtool', ['check', 'metrics'], { input: om, encoding: 'utf8' }).status).not.toBe(0);
    expect(
      spawnSync('/usr/bin/python3', ['-c', PYTHON_OM], { input: om.replace('# EOF\n', ''), encoding: 'utf8' })
        .status,
    ).not.toBe(0);
  });

  it('negotiation and gzip helpers follow the headers', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('application/openmetrics-text')).toBe('openmetrics');
    expect(negotiateFormat(['text/plain;q=0.5', 'application/openmetrics-text;version=0.0.1'])).toBe(
      'openmetrics',
    );
    expect(negotiateFormat('*/*')).toBe('text');
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br')).toBe(false);
    expect(acceptsGzip('*;q=0')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
