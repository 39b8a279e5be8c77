import type { MetricDefinition } from '@deia/metrics';
import type { DashboardSpec, PanelContext, PanelSpec } from './builder.js';

/** Grafana unit of a value in the catalog's base unit. */
const VALUE_UNITS: Record<string, string> = {
  seconds: 's',
  bytes: 'bytes',
  ratio: 'percentunit',
  usd: 'currencyUSD',
};
/** Grafana unit of a counter's per-second rate. */
const RATE_UNITS: Record<string, string> = { bytes: 'Bps', '1': 'ops' };

/**
 * A panel id from the metric name (FNV-1a), so adding, removing or reordering extra metrics never
 * renumbers another metric's panel. Ids start above the row's; a collision takes the next free id.
 */
function nameId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return 1000 + (h % 1_000_000);
}

function extraPanel(c: PanelContext, def: MetricDefinition, id: number): PanelSpec {
  const name = `${c.p}${def.name}`;
  const by = def.labelNames.join(', ');
  const legend = def.labelNames.map((l) => `{{${l}}}`).join(' ') || name;
  const common = { id, title: name, description: def.help };
  if (def.type === 'counter')
    return {
      ...common,
      title: `${name} per second`,
      kind: 'timeseries',
      unit: RATE_UNITS[def.unit] ?? 'short',
      queries: [{ expr: `sum${by ? ` by (${by})` : ''} (rate(${c.m(def.name)}[$__rate_interval]))`, legend }],
    };
  if (def.type === 'histogram')
    return {
      ...common,
      kind: 'timeseries',
      unit: VALUE_UNITS[def.unit] ?? 'short',
      queries: c.percentiles(def.name),
    };
  return {
    ...common,
    kind: 'timeseries',
    unit: VALUE_UNITS[def.unit] ?? 'short',
    queries: [{ expr: c.m(def.name), legend: `{{instance}}${def.labelNames.length ? ` ${legend}` : ''}` }],
  };
}

/** The "Extra metrics" dashboard: one generic panel per `extraMetrics` definition, or none. */
export function extraMetricsDashboard(c: PanelContext): DashboardSpec | undefined {
  const defs = c.o.extraMetrics;
  if (defs.length === 0) return undefined;
  const used = new Set<number>([1]);
  const ids = new Map<string, number>();
  for (const name of defs.map((d) => d.name).sort()) {
    let id = nameId(name);
    while (used.has(id)) id++;
    used.add(id);
    ids.set(name, id);
  }
  return {
    file: 'extra-metrics.json',
    uid: c.uid('extra-metrics'),
    title: 'DEIA / Extra metrics',
    rows: [
      {
        id: 1,
        title: 'Extra metrics',
        panels: defs.map((d) => extraPanel(c, d, ids.get(d.name) as number)),
      },
    ],
  };
}
