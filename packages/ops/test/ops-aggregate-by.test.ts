import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  DEFAULT_OPS_OPTIONS,
  generateKubernetes,
  generateOps,
  type OpsOptions,
  type RuleGroup,
} from '../src/index.js';
import { EXTRA } from './extra-metrics.js';
import { runPromtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-aggregate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const promtool = (args: string[], files: Record<string, string>) => runPromtool(dir, args, { files });

/** Every rule family on: node_exporter, the opt-in series and extra metrics of every alert kind. */
const EVERYTHING: OpsOptions = {
  nodeExporter: { enabled: true },
  optional: { auth: true, websocket: true, botResources: true, uploads: true },
  extraMetrics: EXTRA,
};

/**
 * The places where `expr` aggregates or matches vectors without keeping `labels`: an aggregation
 * with no `by`/`without` or with a `by` that leaves one out (or a `without` that drops one), and
 * an `on (...)` that leaves one out (or an `ignoring (...)` that ignores one). `counts` tallies
 * what was checked, so a test can see the checker actually met each construct.
 */
function dropping(
  expr: string,
  labels: readonly string[],
  counts = { aggregations: 0, matchings: 0 },
): string[] {
  const out: string[] = [];
  const tree = parser.parse(expr);
  /** The label names of the node's `(...)` (the first one: `on (a) group_left (b)` gives a). */
  const groupingLabels = (node: typeof tree.topNode) =>
    (node.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map((l) => expr.slice(l.from, l.to));
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) out.push(`syntax error at ${ref.from}`);
      const node = ref.node;
      const text = expr.slice(node.from, node.to).replace(/\s+/g, ' ');
      if (ref.name === 'AggregateExpr') {
        counts.aggregations++;
        const mod = node.getChild('AggregateModifier');
        if (!mod) {
          out.push(`aggregation without by: ${text.slice(0, 80)}`);
          return;
        }
        const names = groupingLabels(mod);
        const without = mod.getChild('Without') !== null;
        for (const l of labels)
          if (without ? names.includes(l) : !names.includes(l))
            out.push(`${without ? 'without' : 'by'} (${names.join(', ')}) drops ${l}: ${text.slice(0, 80)}`);
      }
      if (ref.name === 'MatchingModifierClause') {
        counts.matchings++;
        const names = groupingLabels(node);
        const ignoring = node.getChild('Ignoring') !== null;
        for (const l of labels)
          if (ignoring ? names.includes(l) : !names.includes(l))
            out.push(`${ignoring ? 'ignoring' : 'on'} (${names.join(', ')}) drops ${l}`);
      }
    },
  });
  return out;
}

const violations = (
  groups: RuleGroup[],
  labels: readonly string[],
  counts?: Parameters<typeof dropping>[2],
) =>
  groups.flatMap((g) =>
    g.rules.flatMap((r) =>
      dropping(r.expr, labels, counts).map((v) => `${'alert' in r ? r.alert : r.record}: ${v}`),
    ),
  );

describe('aggregateBy: every aggregation of every rule keeps the labels', () => {
  it('the checker flags what drops a label (it can fail)', () => {
    expect(dropping('sum(rate(x[5m]))', ['cluster'])).toHaveLength(1);
    expect(dropping('sum by (job) (rate(x[5m]))', ['cluster'])).toHaveLength(1);
    expect(dropping('sum without (cluster) (x)', ['cluster'])).toHaveLength(1);
    expect(dropping('a > 1 and on (job) b', ['cluster'])).toHaveLength(1);
    expect(dropping('a / ignoring (cluster) b', ['cluster'])).toHaveLength(1);
    expect(dropping('histogram_quantile(0.9, sum by (job, le) (rate(x[5m])))', ['cluster'])).toHaveLength(1);
    expect(
      dropping('sum by (cluster, job) (x) > 1 and on (cluster, job) sum without (le) (y)', ['cluster']),
    ).toEqual([]);
    // The default rules aggregate by job only: the checker sees that in many places.
    expect(violations(generateOps(EVERYTHING).groups, ['cluster']).length).toBeGreaterThan(50);
  });

  it("['cluster']: no aggregation or on() of the files target drops cluster", () => {
    const counts = { aggregations: 0, matchings: 0 };
    const { groups, files } = generateOps({ ...EVERYTHING, aggregateBy: ['cluster'] });
    expect(violations(groups, ['cluster'], counts)).toEqual([]);
    // Every rule family was checked: the job-wide ratios, the by-object ones, the extra metrics'.
    // The parser met every `by (` and `on (` the text holds (nothing hid from the check).
    const text = groups.flatMap((g) => g.rules.map((r) => r.expr)).join('\n');
    expect(counts.aggregations).toBe(text.match(/\bby \(/g)?.length);
    expect(counts.matchings).toBe(text.match(/\bon \(/g)?.length);
    expect(counts.aggregations).toBeGreaterThan(80);
    expect(counts.matchings).toBeGreaterThan(20);
    expect(groups.flatMap((g) => g.rules.map((r) => ('alert' in r ? r.alert : r.record)))).toEqual(
      expect.arrayContaining(['HighErrorRate', 'PaymentFailures', 'WorkersExhausted', 'RenderSlow']),
    );
    // The written rules.yml is what was checked, and promtool accepts it.
    expect(
      promtool(['check', 'rules', 'cluster.yml'], { 'cluster.yml': files['prometheus/rules.yml'] as string })
        .out,
    ).toContain('SUCCESS');
  });

  it("['cluster', 'namespace'] in the Kubernetes target: both kept, before job", () => {
    const out = generateKubernetes({ ...EVERYTHING, aggregateBy: ['cluster', 'namespace'] });
    expect(violations(out.groups, ['cluster', 'namespace'])).toEqual([]);
    const text = out.files['prometheus-rule.yaml'] as string;
    expect(text).toContain('sum by (cluster, namespace, job) (rate(http_requests_total{');
    expect(text).toContain('and on (cluster, namespace, job)');
    expect(text).not.toMatch(/by \(job[,)]/);
  });

  it('the Alertmanager inhibitions compare the labels: one cluster does not silence another', () => {
    const am = (o: OpsOptions) =>
      parse(generateOps(o).files['alertmanager/alertmanager.yml'] as string) as {
        inhibit_rules: Array<{ equal: string[] }>;
      };
    for (const r of am({ aggregateBy: ['cluster'] }).inhibit_rules) expect(r.equal).toContain('cluster');
    for (const r of am({}).inhibit_rules) expect(r.equal).not.toContain('cluster');
  });

  it('the generated promtool tests of extra alerts pass when the selector fixes the label', () => {
    const out = generateOps({
      selector: 'job="deia-bot-controller",cluster="eu-1"',
      aggregateBy: ['cluster'],
      extraMetrics: EXTRA,
    });
    const tests = out.files['prometheus/rules.test.yml'] as string;
    expect(tests).toContain('cluster="eu-1"');
    const r = promtool(['test', 'rules', 'extra.test.yml'], {
      'rules.yml': out.files['prometheus/rules.yml'] as string,
      'extra.test.yml': tests,
    });
    expect(r.out).toContain('SUCCESS');
  }, 120_000);
});

describe('aggregateBy in a ruler that sees two clusters (promtool)', () => {
  // One job in two clusters: eu-1 answers half of its 1 request/s with 5xx, us-1 is healthy and
  // serves 10 requests/s. Job-wide, 0.5 errors in 11 requests/s is 4.5%: under the 5% critical.
  const job = 'deia-bot-controller';
  const series = (cluster: string, status: string) =>
    `http_requests_total{cluster="${cluster}",instance="${cluster}:8000",job="${job}",method="GET",route="/api",status="${status}"}`;
  const input_series = [
    { series: series('eu-1', '200'), values: '0+30x20' },
    { series: series('eu-1', '500'), values: '0+30x20' },
    { series: series('us-1', '200'), values: '0+600x20' },
  ];
  const alerts = (labels: Array<Record<string, string>>) =>
    labels.map((l) => ({
      labels: `ALERTS{${Object.entries({ alertstate: 'firing', job, ...l })
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`,
      value: 1,
    }));
  const testFile = (
    rules: string,
    exp: { ratio: unknown[]; high: unknown[]; burn: unknown[]; alerts?: unknown[] },
  ) =>
    stringify(
      {
        rule_files: [rules],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series,
            promql_expr_test: [
              { expr: 'job:http_request_errors:ratio_rate5m', eval_time: '10m', exp_samples: exp.ratio },
              {
                expr: 'ALERTS{alertname="HighErrorRate",alertstate="firing"}',
                eval_time: '10m',
                exp_samples: exp.high,
              },
              {
                // Built on recorded series (sum_over_time of the recorded 5m rates): they must
                // keep cluster for the 1h and 5m ratios to match each other and the traffic floor.
                expr: 'ALERTS{alertname="AvailabilityBudgetBurn",alertstate="firing"}',
                eval_time: '10m',
                exp_samples: exp.burn,
              },
            ],
            ...(exp.alerts ? { alert_rule_test: exp.alerts } : {}),
          },
        ],
      },
      { lineWidth: 0 },
    );
  const grafana = { url: 'https://grafana.example.com', clusterVariable: true };
  // What the notification shows: the summary names the cluster, the link selects it on the dashboard.
  const highErrorRate = (severity: string, threshold: string) => ({
    exp_labels: { severity, cluster: 'eu-1', job },
    exp_annotations: {
      summary: `High 5xx error ratio on ${job} (cluster eu-1)`,
      description: `50% of requests to ${job} answered 5xx over the last 5m (threshold ${threshold}).`,
      runbook_url: `${DEFAULT_OPS_OPTIONS.runbookBaseUrl}/HighErrorRate.md`,
      dashboard_url: `${grafana.url}/d/deia-system-overview?var-job=${job}&var-cluster=eu-1`,
    },
  });
  const perCluster = {
    ratio: [
      { labels: `job:http_request_errors:ratio_rate5m{cluster="eu-1",job="${job}"}`, value: 0.5 },
      { labels: `job:http_request_errors:ratio_rate5m{cluster="us-1",job="${job}"}`, value: 0 },
    ],
    high: alerts([
      { alertname: 'HighErrorRate', cluster: 'eu-1', severity: 'warning' },
      { alertname: 'HighErrorRate', cluster: 'eu-1', severity: 'critical' },
    ]),
    burn: alerts([{ alertname: 'AvailabilityBudgetBurn', cluster: 'eu-1', severity: 'critical' }]),
    alerts: [
      {
        eval_time: '10m',
        alertname: 'HighErrorRate',
        exp_alerts: [highErrorRate('warning', '1%'), highErrorRate('critical', '5%')],
      },
    ],
  };
  const diluted = {
    ratio: [{ labels: `job:http_request_errors:ratio_rate5m{job="${job}"}`, value: 0.5 / 11 }],
    // Only the warning, for the job as a whole: no cluster to act on, and no page.
    high: alerts([{ alertname: 'HighErrorRate', severity: 'warning' }]),
    burn: alerts([{ alertname: 'AvailabilityBudgetBurn', severity: 'critical' }]),
  };
  const rules = {
    cluster: generateOps({ aggregateBy: ['cluster'], grafana }).files['prometheus/rules.yml'] as string,
    job: generateOps({ grafana }).files['prometheus/rules.yml'] as string,
  };

  it("['cluster']: HighErrorRate pages for eu-1 only, with cluster in its labels", () => {
    const r = promtool(['test', 'rules', 'cluster.test.yml'], {
      'cluster.rules.yml': rules.cluster,
      'cluster.test.yml': testFile('cluster.rules.yml', perCluster),
    });
    expect(r.out).toContain('SUCCESS');
  }, 120_000);

  it('default: the same input gives the diluted job-wide ratio, and no page', () => {
    const r = promtool(['test', 'rules', 'job.test.yml'], {
      'job.rules.yml': rules.job,
      'job.test.yml': testFile('job.rules.yml', diluted),
    });
    expect(r.out).toContain('SUCCESS');
  }, 120_000);

  it('the per-cluster expectations fail against the default rules (the test can fail)', () => {
    const r = promtool(['test', 'rules', 'swapped.test.yml'], {
      'swapped.rules.yml': rules.job,
      'swapped.test.yml': testFile('swapped.rules.yml', perCluster),
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('FAILED');
  }, 120_000);
});

describe('aggregateBy validation', () => {
  const error = (aggregateBy: unknown) => {
    try {
      generateOps({ aggregateBy } as OpsOptions);
    } catch (e) {
      expect((e as { code: string }).code).toBe('DEIA_OPS_OPTIONS');
      return (e as Error).message;
    }
    return 'no error';
  };

  it.each([
    ['cluster', /aggregateBy must be an array of label names/],
    [['cluster', 'cluster'], /aggregateBy lists "cluster" twice/],
    [['9lives'], /aggregateBy: "9lives" is not a Prometheus label name/],
    [['clus-ter'], /aggregateBy: "clus-ter" is not a Prometheus label name/],
    [[''], /aggregateBy: "" is not a Prometheus label name/],
    [[42], /aggregateBy: 42 is not a Prometheus label name/],
    [['__replica__'], /aggregateBy: "__replica__" is reserved/],
    [['job'], /aggregateBy: "job" is what every rule aggregates by already/],
    [['instance'], /aggregateBy: "instance" is one replica: the job-wide rules would become per replica/],
    [['le'], /aggregateBy: "le" is the bucket label of histograms/],
    [['route'], /aggregateBy: "route" is a label of http_requests_total, emitted by the SDK/],
    [['cluster', 'bot_id'], /aggregateBy: "bot_id" is a label of .*, emitted by the SDK/],
  ])('%j is refused', (value, message) => {
    expect(error(value)).toMatch(message);
  });

  it('refuses a label of an extra metric, and names the metric', () => {
    expect(() => generateOps({ extraMetrics: EXTRA, aggregateBy: ['provider'] })).toThrow(
      /aggregateBy: "provider" is a label of payment_failures_total/,
    );
  });

  it('accepts the labels a scrape or a ruler adds; [] is the default and changes nothing', () => {
    expect(error(['cluster', 'namespace', 'region'])).toBe('no error');
    expect(generateOps({ aggregateBy: [] }).files).toEqual(generateOps({}).files);
  });
});
