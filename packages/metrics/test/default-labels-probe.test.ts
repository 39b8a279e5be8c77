import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defaultLabelsOf, metricsOf, type RenderableRegistry } from '../src/render.js';

// prom-client keeps a registry's default labels private; the renderer reads them with a probe metric
// through the public API. These cases pin what happens when a client does its lookup at another time.
function registryWith(labels: Record<string, string>): Registry {
  const r = new Registry();
  r.setDefaultLabels(labels);
  return r;
}

/** A registry whose getSingleMetricAsString looks the metric up only after an await. */
function lateLookup(inner: Registry, onLookup: () => void = () => {}): RenderableRegistry {
  return {
    getMetricsAsArray: () => inner.getMetricsAsArray(),
    getSingleMetric: (name) => inner.getSingleMetric(name),
    getSingleMetricAsString: async (name) => {
      await new Promise((r) => setImmediate(r));
      onLookup();
      return inner.getSingleMetricAsString(name);
    },
    registerMetric: (m) => inner.registerMetric(m as never),
    removeSingleMetric: (name) => inner.removeSingleMetric(name),
  };
}

describe('the default-labels probe', () => {
  it('reads the default labels of a prom-client registry and leaves nothing registered', async () => {
    const r = registryWith({ service: 'bots', region: 'eu "1"' });
    const d = await defaultLabelsOf(r as unknown as RenderableRegistry);
    expect(d.values).toEqual({ service: 'bots', region: 'eu "1"' });
    expect(r.getMetricsAsArray()).toHaveLength(0);
  });

  it('falls back to a probe kept registered for the call when the client looks it up late', async () => {
    const inner = registryWith({ service: 'bots' });
    const seen: Array<{ registered: string[]; listed: number }> = [];
    const late: RenderableRegistry = lateLookup(inner, () =>
      seen.push({
        registered: inner.getMetricsAsArray().map((m) => (m as { name: string }).name),
        listed: metricsOf(late).length,
      }),
    );
    // two scrapes at once share the probe; a scrape listing metrics meanwhile does not see it
    const [a, b] = await Promise.all([defaultLabelsOf(late), defaultLabelsOf(late)]);
    expect(seen).toEqual([
      { registered: [], listed: 0 },
      { registered: ['deia_default_labels_probe'], listed: 0 },
    ]);
    expect(a.values).toEqual({ service: 'bots' });
    expect(b).toBe(a);
    expect(inner.getMetricsAsArray()).toHaveLength(0);
  });

  it('finds no default labels on a registry without them, in one probe', async () => {
    const r = new Registry();
    let calls = 0;
    const counting: RenderableRegistry = {
      ...lateLookup(r),
      getSingleMetricAsString: (name) => {
        calls++;
        return r.getSingleMetricAsString(name);
      },
    };
    const d = await defaultLabelsOf(counting);
    expect(Object.keys(d.values ?? {})).toHaveLength(0);
    expect(calls).toBe(1);
  });
});
