import { spawnSync } from 'node:child_process';
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CATALOG, createMetrics } from '../src/index.js';

// promtool comes from the Debian package `prometheus`; .ci/run installs it.
describe('promtool check metrics', () => {
  it('accepts the exposition of every catalog metric, with series present', async () => {
    const m = createMetrics({ registry: new promClient.Registry(), defaultMetrics: false, warn: () => {} });
    // Give every labelled metric one series so promtool sees real samples, not only HELP/TYPE.
    for (const def of CATALOG) {
      const labels = Object.fromEntries(def.labelNames.map((l) => [l, def.labelValues?.[l]?.[0] ?? 'x']));
      const h = m.get(def.name) as unknown as Record<string, (...a: unknown[]) => void>;
      if (def.type === 'counter') h.inc?.(labels, 1);
      else if (def.type === 'gauge') h.set?.(labels, 1);
      else h.observe?.(labels, 0.1);
    }
    const text = await m.registry.metrics();
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(res.error, 'promtool is not installed (apt-get install prometheus)').toBeUndefined();
    expect(`${res.stdout}${res.stderr}`).toBe('');
    expect(res.status).toBe(0);
  });
});
