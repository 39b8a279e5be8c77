// The cardinality budget of docs/scale.md, computed from the catalog (see ops-scale-doc.test.ts).
import {
  CATALOG,
  DEFAULT_HTTP_OPTIONS,
  DEFAULT_METRICS_OPTIONS,
  type MetricDefinition,
  OTHER_LABEL_VALUE,
} from '@deia/metrics';

/** Series one label set of `d` exposes: 1, or a histogram's buckets + `+Inf` + `_sum` + `_count`. */
export const perSet = (d: MetricDefinition) => (d.type === 'histogram' ? (d.buckets?.length ?? 0) + 3 : 1);

/**
 * Distinct values a label can take per replica: declared values + `other`, or the cap +
 * `__overflow__`. `null` for the HTTP labels, which the HTTP core bounds itself.
 */
function cap(d: MetricDefinition, label: string): number | null {
  if (d.group === 'http') return null;
  const declared = d.labelValues?.[label];
  if (declared) return declared.length + (declared.includes(OTHER_LABEL_VALUE) ? 0 : 1);
  return (d.maxLabelValues ?? DEFAULT_METRICS_OPTIONS.maxLabelValues) + 1;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The Markdown between the cardinality markers of docs/scale.md. */
export function renderCardinality(): string {
  const http = CATALOG.filter((d) => d.group === 'http' && d.labelNames.length > 0);
  const httpPerSet = http.reduce((n, d) => n + perSet(d), 0);
  const routes = DEFAULT_HTTP_OPTIONS.maxRoutes + 2;
  const lines = [
    `HTTP series per (method, route, status) label set: **${httpPerSet}** (${http
      .map((d) => `\`${d.name}\` ${perSet(d)}`)
      .join(
        ', ',
      )}). Routes are capped at \`maxRoutes\` (default ${DEFAULT_HTTP_OPTIONS.maxRoutes}) + \`__unmatched__\` + \`__overflow__\` = ${routes}; methods at 8 (7 + \`other\`); status codes are not capped, so the budget counts the label sets you actually serve:`,
    '',
    '| Label sets (route × method × status) | HTTP series per replica |',
    '|---|---|',
  ];
  for (const [what, sets] of [
    ['20 routes × 1 method × 3 statuses', 20 * 3],
    [`${DEFAULT_HTTP_OPTIONS.maxRoutes} routes × 1 method × 3 statuses`, DEFAULT_HTTP_OPTIONS.maxRoutes * 3],
    [
      `${DEFAULT_HTTP_OPTIONS.maxRoutes} routes × 2 methods × 5 statuses`,
      DEFAULT_HTTP_OPTIONS.maxRoutes * 10,
    ],
    [`${routes} routes × 8 methods × 5 statuses (every cap hit)`, routes * 8 * 5],
  ] as const)
    lines.push(`| ${what} = ${fmt(sets)} | ${fmt(sets * httpPerSet)} |`);
  lines.push(
    '',
    'Every other catalog series, per replica: label-free ones exist once; labelled ones once per label set, up to the product of the label caps (declared values + `other`, or `maxLabelValues` + `__overflow__`), and for a metric with an undeclared label at most its series budget (`maxSeries`, default `maxSeriesPerMetric` = ' +
      `${fmt(DEFAULT_METRICS_OPTIONS.maxSeriesPerMetric)}) + one overflow series.`,
    '',
    '| Metric | Labels (cap) | Series per label set | Ceiling per replica |',
    '|---|---|---|---|',
  );
  let fixed = 0;
  let ceiling = 0;
  for (const d of CATALOG) {
    if (d.group === 'http' && d.labelNames.length > 0) continue;
    const caps = d.labelNames.map((l) => [l, cap(d, l)] as const);
    const product = caps.reduce((n, [, c]) => n * (c ?? 1), 1);
    // A metric with a label that has no declared values is also held to its series budget
    // (maxSeries, default maxSeriesPerMetric) plus the one overflow series.
    const open = d.labelNames.some((l) => !d.labelValues?.[l]);
    const budget = (d.maxSeries ?? DEFAULT_METRICS_OPTIONS.maxSeriesPerMetric) + 1;
    const sets = d.name === 'app_build_info' ? 1 : open ? Math.min(product, budget) : product;
    if (d.labelNames.length === 0 || d.name === 'app_build_info') fixed += perSet(d);
    const labels =
      d.name === 'app_build_info'
        ? 'version, commit, node_version (one build per process)'
        : (caps.map(([l, c]) => `${l} (${c})`).join(', ') || '—') +
          (open && product > sets ? `; series budget ${fmt(sets - 1)} + overflow` : '');
    ceiling += sets * perSet(d);
    lines.push(`| \`${d.name}\` | ${labels} | ${perSet(d)} | ${fmt(sets * perSet(d))} |`);
  }
  lines.push(
    '',
    `Label-free catalog series (present as soon as they are registered): ${fixed}. Ceiling of every non-HTTP catalog series with every cap hit: ${fmt(ceiling)} per replica; a real service sits far below it (a few bots, queues, pools and models). prom-client's default process and Node.js metrics add about 60 more per process (GC kinds, heap spaces).`,
  );
  return lines.join('\n');
}
