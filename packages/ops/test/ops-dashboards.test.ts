import { CATALOG, DEFAULT_METRICS_OPTIONS, type MetricDefinition, type MetricGroup } from '@deia/metrics';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import {
  alertRules,
  buildDashboard,
  type DashboardSpec,
  dashboardSpecs,
  generateOps,
  type OpsOptions,
  type OpsOutput,
} from '../src/index.js';
import { dashboardExprs, promqlReferences } from '../src/references.js';
import { resolveOpsOptions } from '../src/resolve-options.js';
import { ALERT_DASHBOARDS } from '../src/rule-helpers.js';
import { expectOpsError } from './ops-error.js';

// ---------------------------------------------------------------------------------------------
// A panel for every alerted series. The series an expression reads are taken from Prometheus' own
// grammar (@prometheus-io/lezer-promql): every vector selector, with recording rules expanded into
// the selectors of their expressions. Matchers on the scope labels (job, instance, cluster: the
// template variables and the job selector) and on `le` (a histogram's bucket, not another series)
// are left out. The right operand of `and` is a condition on when to alert (the minimum-traffic
// clause, the short window of a burn rate), not the alerted series. A panel shows an alert's series
// when, for each selector of the alert, one of its queries selects the same series name with no
// matcher the alert does not have (the same series or a superset of them).

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

interface Selector {
  name: string;
  matchers: string[];
}

const SCOPE_LABELS = new Set(['job', 'instance', 'cluster', 'le']);

const grafanaToPromql = (expr: string) =>
  expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, 'placeholder');

function rawSelectors(source: string): Selector[] {
  const expr = grafanaToPromql(source);
  const out: Selector[] = [];
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  const children = (n: SyntaxNode) => {
    const list: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) list.push(c);
    return list;
  };
  const walk = (n: SyntaxNode) => {
    if (n.type.isError) throw new Error(`unparsable PromQL at ${n.from}: ${expr}`);
    if (n.type.name === 'VectorSelector') {
      const name = children(n).find((c) => c.type.name === 'Identifier');
      const matchers: string[] = [];
      n.cursor().iterate((c) => {
        if (c.type.name !== 'UnquotedLabelMatcher') return;
        const label = c.node.getChild('LabelName');
        if (label && !SCOPE_LABELS.has(text(label))) matchers.push(text(c.node));
        return false;
      });
      out.push({ name: name ? text(name) : '', matchers: matchers.sort() });
      return;
    }
    const kids = children(n);
    if (n.type.name === 'BinaryExpr' && kids.some((c) => c.type.name === 'And')) {
      if (kids[0]) walk(kids[0]);
      return;
    }
    for (const c of kids) walk(c);
  };
  walk(parser.parse(expr).topNode);
  return out;
}

/** The selectors an expression reads, recording rules replaced by what they read. */
function selectors(expr: string, recorded: ReadonlyMap<string, string>, depth = 0): Selector[] {
  if (depth > 5) throw new Error(`recording rules nest too deep at ${expr}`);
  return rawSelectors(expr).flatMap((s) => {
    const source = recorded.get(s.name);
    return source === undefined ? [s] : selectors(source, recorded, depth + 1);
  });
}

const covers = (panel: Selector[], alert: Selector[]) =>
  alert.every((a) => panel.some((p) => p.name === a.name && p.matchers.every((m) => a.matchers.includes(m))));

const slug = (spec: DashboardSpec, uidPrefix: string) => spec.uid.slice(uidPrefix.length + 1);

/** Alerts (name and severity) with no panel showing their series on the dashboard they link. */
function alertsWithoutPanel(options: OpsOptions, specs?: DashboardSpec[]): string[] {
  const o = resolveOpsOptions(options);
  const output: OpsOutput = generateOps(options);
  const recorded = new Map(
    output.groups.flatMap((g) =>
      g.rules.flatMap((r) => ('record' in r ? [[r.record, r.expr] as const] : [])),
    ),
  );
  const panels = (specs ?? dashboardSpecs(o)).flatMap((d) =>
    d.rows.flatMap((row) =>
      row.panels.map((p) => ({
        dashboard: slug(d, o.grafana.uidPrefix),
        reads: p.queries.flatMap((q) => selectors(q.expr, recorded)),
      })),
    ),
  );
  const missing: string[] = [];
  for (const rule of alertRules(output.groups)) {
    // ALERTS: the aftermath clause of symptoms reads their causes' alerts, not a series to plot.
    const reads = selectors(rule.expr, recorded).filter((s) => s.name !== 'ALERTS');
    const home = ALERT_DASHBOARDS[rule.alert];
    const found = panels.some((p) => (home === undefined || p.dashboard === home) && covers(p.reads, reads));
    if (!found)
      missing.push(
        `${rule.alert} (${rule.labels.severity}) reads ${reads.map((s) => `${s.name}{${s.matchers}}`).join(' ')}`,
      );
  }
  return missing;
}

/** The option sets the ops tests generate with: defaults, every opt-in, prefix, cluster. */
const OPTION_SETS: Array<[string, OpsOptions]> = [
  ['defaults', {}],
  [
    'prefix deia_, node/postgres/redis exporters, auth, websocket, botResources, $cluster, grafana.url',
    {
      prefix: 'deia_',
      nodeExporter: { enabled: true },
      postgresExporter: { enabled: true },
      redisExporter: { enabled: true },
      optional: { auth: true, websocket: true, botResources: true, uploads: true },
      grafana: { clusterVariable: true, url: 'https://grafana.example.com' },
    },
  ],
  ['the committed ops/ config', { nodeExporter: { enabled: true }, llmDependencies: 'ollama|openai' }],
  ['native histograms, prefix deia_', { nativeHistograms: true, prefix: 'deia_' }],
];

describe('a panel for every alerted series', () => {
  it('reads selectors with the PromQL grammar (the checker itself)', () => {
    expect(
      rawSelectors(
        'sum by (job) (rate(a_total{job="x",outcome="error",le=~"1|1[.]0"}[5m])) / b > 1\nand on (job) sum(rate(c[5m])) > 0.1',
      ),
    ).toEqual([
      { name: 'a_total', matchers: ['outcome="error"'] },
      { name: 'b', matchers: [] },
    ]);
    const recorded = new Map([
      ['job:x:ratio', 'sum(rate(x_total{status=~"5.."}[5m])) / sum(rate(x_total[5m]))'],
    ]);
    expect(selectors('job:x:ratio{job=~"$job"} > 0.1', recorded)).toEqual([
      { name: 'x_total', matchers: ['status=~"5.."'] },
      { name: 'x_total', matchers: [] },
    ]);
    // A panel without the alert's matcher shows a superset; one with another matcher does not.
    expect(covers([{ name: 'h_bucket', matchers: [] }], [{ name: 'h_bucket', matchers: ['a="1"'] }])).toBe(
      true,
    );
    expect(
      covers([{ name: 'h_bucket', matchers: ['a="2"'] }], [{ name: 'h_bucket', matchers: ['a="1"'] }]),
    ).toBe(false);
    expect(covers([{ name: 'h_bucket', matchers: [] }], [{ name: 'h_count', matchers: [] }])).toBe(false);
  });

  it('fails when a panel goes missing (the test can fail)', () => {
    const o = resolveOpsOptions({});
    const specs = dashboardSpecs(o).map((d) => ({
      ...d,
      rows: d.rows.map((r) => ({
        ...r,
        panels: r.panels.filter(
          (p) =>
            ![
              'Event-loop lag p99',
              'Error ratio by type',
              'Availability (successful calls)',
              'Model calls per second',
            ].includes(p.title),
        ),
      })),
    }));
    expect(alertsWithoutPanel({}, specs)).toEqual([
      expect.stringMatching(/^EventLoopLag \(warning\) reads nodejs_eventloop_lag_p99_seconds\{\}$/),
      expect.stringMatching(/^ModelErrorRate \(critical\)/),
      expect.stringMatching(/^ModelErrorRate \(warning\)/),
    ]);
  });

  it.each(OPTION_SETS)(
    'every alert rule has a panel on its dashboard reading its series (%s)',
    (_, options) => {
      expect(alertRules(generateOps(options).groups).length).toBeGreaterThan(20);
      expect(alertsWithoutPanel(options)).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------

const EXTRA: MetricDefinition[] = [
  {
    name: 'orders_placed_total',
    type: 'counter',
    help: 'Orders placed, by channel.',
    unit: '1',
    labelNames: ['channel'],
    group: 'custom',
  },
  {
    name: 'payment_duration_seconds',
    type: 'histogram',
    help: 'Payment provider call duration in seconds.',
    unit: 'seconds',
    labelNames: ['provider'],
    buckets: [0.1, 0.5, 1, 5],
    group: 'custom',
  },
  {
    name: 'inventory_items',
    type: 'gauge',
    help: 'Items in stock.',
    unit: '1',
    labelNames: [],
    group: 'custom',
  },
];

type Panel = {
  id: number;
  type: string;
  title: string;
  fieldConfig?: { defaults: { unit: string } };
  targets?: Array<{ expr: string; legendFormat?: string }>;
};

const dashboards = (options: OpsOptions = {}) =>
  Object.fromEntries(
    Object.entries(generateOps(options).files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .map(([f, text]) => [f.replace('grafana/dashboards/', ''), JSON.parse(text) as { panels: Panel[] }]),
  );
const panel = (d: { panels: Panel[] } | undefined, title: string) => d?.panels.find((p) => p.title === title);
const exprs = (p: Panel | undefined) => (p?.targets ?? []).map((t) => t.expr);

describe('the guides\u2019 panels the SDK can fill', () => {
  it('DB query latency p50 / p99, queue depth on the overview, with the variables', () => {
    const all = dashboards({ prefix: 'deia_', grafana: { clusterVariable: true } });
    const db = panel(all['database.json'], 'Query duration p50 / p99');
    expect(exprs(db)).toEqual([
      'histogram_quantile(0.5, sum by (le) (rate(deia_db_query_duration_seconds_bucket{job="deia-bot-controller",job=~"$job",cluster=~"$cluster",instance=~"$instance"}[$__rate_interval])))',
      'histogram_quantile(0.99, sum by (le) (rate(deia_db_query_duration_seconds_bucket{job="deia-bot-controller",job=~"$job",cluster=~"$cluster",instance=~"$instance"}[$__rate_interval])))',
    ]);
    expect(exprs(panel(all['system-overview.json'], 'Queue depth'))).toEqual([
      'max by (queue) (deia_task_queue_depth{job="deia-bot-controller",job=~"$job",cluster=~"$cluster",instance=~"$instance"})',
    ]);
  });

  it('token cost only with llmPricePer1kTokens, priced per token type', () => {
    expect(panel(dashboards()['dependencies.json'], 'Estimated LLM cost per hour')).toBeUndefined();
    expect(panel(dashboards()['dependencies.json'], 'LLM tokens per second')).toBeDefined();
    const one = panel(
      dashboards({ llmPricePer1kTokens: 0.002 })['dependencies.json'],
      'Estimated LLM cost per hour',
    );
    expect(one?.fieldConfig?.defaults.unit).toBe('currencyUSD');
    expect(exprs(one)[0]).toMatch(
      /type="prompt"[^)]*\[\$__rate_interval\]\) \* 0\.002 or .*type="completion".*\* 0\.002\) \* 3600 \/ 1000$/,
    );
    const two = panel(
      dashboards({ llmPricePer1kTokens: { prompt: 0.5, completion: 1.5 } })['dependencies.json'],
      'Estimated LLM cost per hour',
    );
    expect(exprs(two)[0]).toContain('* 0.5 or rate(');
    expect(exprs(two)[0]).toContain('* 1.5) * 3600 / 1000');
    expectOpsError(
      () => resolveOpsOptions({ llmPricePer1kTokens: -1 }),
      'DEIA_OPS_OPTIONS',
      /llmPricePer1kTokens must be a non-negative/,
    );
    expectOpsError(
      () => resolveOpsOptions({ llmPricePer1kTokens: { prompt: 1 } as never }),
      'DEIA_OPS_OPTIONS',
      /needs both prompt and completion/,
    );
  });
});

describe('extra metrics (panels derived from the definitions)', () => {
  it('no extraMetrics: no extra dashboard', () => {
    expect(Object.keys(dashboards())).not.toContain('extra-metrics.json');
  });

  it('one panel per extra metric by type: counter rate, histogram p50/p95/p99, gauge value', () => {
    const d = dashboards({ extraMetrics: EXTRA, prefix: 'shop_' })['extra-metrics.json'];
    expect(d).toBeDefined();
    const sel = 'job="deia-bot-controller",job=~"$job",instance=~"$instance"';
    expect(exprs(panel(d, 'shop_orders_placed_total per second'))).toEqual([
      `sum by (channel) (rate(shop_orders_placed_total{${sel}}[$__rate_interval]))`,
    ]);
    expect(exprs(panel(d, 'shop_payment_duration_seconds'))).toEqual(
      [0.5, 0.95, 0.99].map(
        (q) =>
          `histogram_quantile(${q}, sum by (le) (rate(shop_payment_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
      ),
    );
    expect(panel(d, 'shop_payment_duration_seconds')?.fieldConfig?.defaults.unit).toBe('s');
    expect(exprs(panel(d, 'shop_inventory_items'))).toEqual([`shop_inventory_items{${sel}}`]);
  });

  it('keeps every panel id when a metric is added or the order changes', () => {
    const ids = (defs: MetricDefinition[]) =>
      Object.fromEntries(
        (dashboards({ extraMetrics: defs })['extra-metrics.json']?.panels ?? []).map((p) => [p.title, p.id]),
      );
    const before = ids(EXTRA.slice(0, 2));
    const after = ids([
      ...EXTRA.slice().reverse(),
      {
        name: 'refunds_total',
        type: 'counter',
        help: 'Refunds.',
        unit: '1',
        labelNames: [],
        group: 'custom',
      },
    ]);
    for (const [title, id] of Object.entries(before)) expect(after[title], title).toBe(id);
    expect(new Set(Object.values(after)).size).toBe(Object.keys(after).length);
  });

  it('refuses a dashboard spec whose panel ids collide or are not positive integers', () => {
    const o = resolveOpsOptions();
    const spec = dashboardSpecs(o)[0] as DashboardSpec;
    const [first, second] = spec.rows[0]?.panels ?? [];
    if (!first || !second) throw new Error('the first row needs two panels');
    const withIds = (a: number, b: number): DashboardSpec => ({
      ...spec,
      rows: [
        {
          ...(spec.rows[0] as DashboardSpec['rows'][0]),
          panels: [
            { ...first, id: a },
            { ...second, id: b },
          ],
        },
      ],
    });
    expect(() => buildDashboard(withIds(first.id, second.id), o)).not.toThrow();
    expectOpsError(
      () => buildDashboard(withIds(first.id, first.id), o),
      'DEIA_OPS_DASHBOARD',
      new RegExp(`has id ${first.id}, already used by`),
    );
    expectOpsError(
      () => buildDashboard(withIds(first.id, 0), o),
      'DEIA_OPS_DASHBOARD',
      /not a positive integer/,
    );
  });

  it.each([
    [{ extraMetrics: 'x' }, /extraMetrics must be an array/],
    [
      { extraMetrics: [{ ...EXTRA[0], name: 'orders_placed' }] },
      // @deia/metrics' own validation, its code and text kept in the message
      /extraMetrics\[0\]: \[DEIA_METRIC_NAME\] .*counter names end in _total/,
    ],
    [
      { extraMetrics: [{ ...EXTRA[0], name: 'http_requests_total' }] },
      /"http_requests_total" is already defined/,
    ],
    [{ groups: ['http', 'bot'] }, /unknown group "bot"; use some of: http, process, bots/],
  ] as Array<[OpsOptions, RegExp]>)('rejects %j with a coded error', (options, message) => {
    expectOpsError(() => resolveOpsOptions(options), 'DEIA_OPS_OPTIONS', message);
  });
});

describe('groups switched off', () => {
  it('emit no dashboard for them and no panel reading their series', async () => {
    const groups: MetricGroup[] = ['http', 'process', 'health', 'dependencies'];
    const options: OpsOptions = { groups };
    const all = dashboards(options);
    expect(Object.keys(all).sort()).toEqual([
      'dependencies.json',
      'request-metrics.json',
      'system-overview.json',
    ]);
    const off = CATALOG.filter((d) => !groups.includes(d.group as MetricGroup)).map((d) => d.name);
    const read = Object.values(all).flatMap((d) =>
      dashboardExprs(d).flatMap((e) => [...promqlReferences(e).metrics]),
    );
    expect(read.filter((n) => off.some((name) => n.startsWith(name)))).toEqual([]);
    // What stays: the overview's HTTP, process and `up` panels; the dependency panels.
    expect(panel(all['system-overview.json'], 'Request rate')).toBeDefined();
    expect(panel(all['system-overview.json'], 'Memory (RSS)')).toBeDefined();
    expect(panel(all['system-overview.json'], 'Queue depth')).toBeUndefined();
    expect(panel(all['dependencies.json'], 'Dependency error ratio')).toBeDefined();
    expect(panel(all['dependencies.json'], 'Ollama error ratio')).toBeUndefined();
    // Every group on (the default) changes nothing.
    expect(dashboards({ groups: [...DEFAULT_METRICS_OPTIONS.groups] })).toEqual(dashboards());
  });
});
