import { spawnSync } from 'node:child_process';
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/index.js';

// What packages/metrics/README.md says about `promtool check metrics` and prom-client's default
// metrics: only its three gauges named *_total are linted, and dropping them makes /metrics pass.
// promtool comes from the Debian package `prometheus`; .ci/run installs it.
const LINTED = ['handles', 'requests', 'resources'].map((n) => `nodejs_active_${n}_total`);

function promtool(text: string) {
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(res.error, 'promtool is not installed (apt-get install prometheus)').toBeUndefined();
  return { status: res.status, lines: `${res.stdout}${res.stderr}`.trim().split('\n').filter(Boolean) };
}

describe('promtool check metrics on the default /metrics', () => {
  it("lints exactly prom-client's three gauges named *_total (exit 3: lint only)", async () => {
    const m = createMetrics({ registry: new promClient.Registry(), warn: () => {} });
    const { status, lines } = promtool(await m.registry.metrics());
    expect(status).toBe(3);
    expect(lines.sort()).toEqual(
      LINTED.map((n) => `${n} non-counter metrics should not have "_total" suffix`).sort(),
    );
  });

  it('passes once the README drops those three, with a prefix too; the per-type gauges stay', async () => {
    const prefix = 'deia_';
    const m = createMetrics({ registry: new promClient.Registry(), prefix, warn: () => {} });
    for (const name of ['handles', 'requests', 'resources'])
      m.registry.removeSingleMetric(`${prefix}nodejs_active_${name}_total`);
    const text = await m.registry.metrics();
    expect(promtool(text)).toEqual({ status: 0, lines: [] });
    expect(text).toContain(`# TYPE ${prefix}nodejs_active_handles gauge`);
    expect(text).not.toContain('_total gauge');
  });
});
