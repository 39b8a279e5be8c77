import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import {
  alertRules,
  type DashboardSpec,
  dashboardSpecs,
  generateOps,
  type OpsOptions,
  type OpsOutput,
  resolveOpsOptions,
} from '../src/index.js';
import { ALERT_DASHBOARDS } from '../src/rule-helpers.js';

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
    const reads = selectors(rule.expr, recorded);
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
    'prefix deia_, node_exporter, auth, websocket, botResources, $cluster, grafana.url',
    {
      prefix: 'deia_',
      nodeExporter: { enabled: true },
      optional: { auth: true, websocket: true, botResources: true },
      grafana: { clusterVariable: true, url: 'https://grafana.example.com' },
    },
  ],
  ['the committed ops/ config', { nodeExporter: { enabled: true }, llmDependencies: 'ollama|openai' }],
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
        panels: r.panels.filter((p) => !['Event-loop lag p99', 'Ollama error ratio'].includes(p.title)),
      })),
    }));
    expect(alertsWithoutPanel({}, specs)).toEqual([
      expect.stringMatching(/^EventLoopLag \(warning\) reads nodejs_eventloop_lag_p99_seconds\{\}$/),
      expect.stringMatching(/^OllamaErrorRate \(warning\)/),
      expect.stringMatching(/^OllamaErrorRate \(critical\)/),
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
