// docs/scale.md's cardinality budget is computed from the catalog: this test renders it again and
// fails when the catalog (buckets, labels, caps) or the maxRoutes default changed without the doc.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG, type MetricDefinition } from '@deia/metrics';
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { generateKubernetes, type OpsOptions } from '../src/index.js';
import { perSet, renderCardinality } from './cardinality.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('docs/scale.md', () => {
  it('carries the cardinality budget computed from the catalog', () => {
    const doc = readFileSync(resolve(root, 'docs/scale.md'), 'utf8');
    const m = /<!-- cardinality:start -->\n([\s\S]*?)\n<!-- cardinality:end -->/.exec(doc);
    expect(m, 'docs/scale.md lacks the cardinality markers').not.toBeNull();
    expect(m?.[1], 'regenerate the table: paste renderCardinality() between the markers').toBe(
      renderCardinality(),
    );
  });

  it('its example config of the kubernetes target is valid and used as written', () => {
    const doc = readFileSync(resolve(root, 'docs/scale.md'), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);
    expect(blocks).toHaveLength(1);
    const options = JSON.parse(blocks[0] as string) as OpsOptions;
    const out = generateKubernetes(options);
    expect(out.resources.every((r) => r.metadata.namespace === 'bots')).toBe(true);
    expect(out.files['alertmanager-config.yaml']).toContain('name: alerting');
  });

  it('a histogram label set is buckets + 3 series in a real exposition', async () => {
    const registry = new promClient.Registry();
    const d = CATALOG.find((x) => x.name === 'http_request_duration_seconds') as MetricDefinition;
    const h = new promClient.Histogram({
      name: d.name,
      help: d.help,
      labelNames: [...d.labelNames],
      buckets: [...(d.buckets ?? [])],
      registers: [registry],
    });
    h.observe({ method: 'GET', route: '/x', status: '200' }, 0.1);
    const lines = (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(perSet(d));
  });
});
