import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { generateOps, type OpsOptions } from '../src/index.js';
import { dashboardExprs } from '../src/references.js';

// Every PromQL expression the generator writes (panel queries, annotation queries, recording and
// alerting rules) goes through Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of
// the Prometheus UI). Grafana's macros and template variables are not PromQL: they are replaced by
// values of the same syntactic kind first (a duration for the interval macros, a label value for
// `$var`), the way Grafana interpolates them before the query reaches Prometheus.

function grafanaToPromql(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, 'placeholder');
}

/** The syntax errors of one expression: one entry per error node, with its position. */
function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`error at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
    },
  });
  return errors;
}

const CASES: Array<[string, OpsOptions]> = [
  ['defaults', {}],
  [
    'prefix deia_, node_exporter, postgres_exporter, redis_exporter, the opt-in series, $cluster',
    {
      prefix: 'deia_',
      nodeExporter: { enabled: true },
      postgresExporter: { enabled: true },
      redisExporter: { enabled: true },
      optional: { auth: true, websocket: true, botResources: true, uploads: true },
      grafana: { clusterVariable: true, url: 'https://grafana.example.com' },
    },
  ],
  [
    'extra metrics of every type, token prices, the cache group off, $cluster',
    {
      extraMetrics: [
        {
          name: 'jobs_done_total',
          type: 'counter',
          help: 'Jobs.',
          unit: '1',
          labelNames: ['kind'],
          group: 'custom',
        },
        {
          name: 'retries_total',
          type: 'counter',
          help: 'Retries.',
          unit: '1',
          labelNames: [],
          group: 'custom',
        },
        {
          name: 'job_duration_seconds',
          type: 'histogram',
          help: 'Job duration.',
          unit: 'seconds',
          labelNames: [],
          buckets: [1, 10],
          group: 'custom',
        },
        {
          name: 'jobs_waiting',
          type: 'gauge',
          help: 'Jobs waiting.',
          unit: '1',
          labelNames: [],
          group: 'custom',
        },
      ],
      llmPricePer1kTokens: { prompt: 0.001, completion: 0.002 },
      groups: [
        'http',
        'process',
        'bots',
        'tasks',
        'database',
        'llm',
        'dependencies',
        'connections',
        'health',
      ],
      grafana: { clusterVariable: true },
    },
  ],
];

describe('PromQL syntax of everything generated', () => {
  it('the checker flags broken expressions (it can fail)', () => {
    expect(promqlErrors('sum(rate(http_requests_total[5m])')).not.toEqual([]);
    expect(promqlErrors('rate(http_requests_total{job="a"[5m])')).not.toEqual([]);
    expect(promqlErrors('histogram_quantile(0.95, sum by (le (rate(x_bucket[5m])))')).not.toEqual([]);
    expect(promqlErrors(grafanaToPromql('rate(x{job=~$job}[$__rate_interval])'))).not.toEqual([]);
    expect(promqlErrors(grafanaToPromql('rate(x{job=~"$job"}[$__rate_interval])'))).toEqual([]);
  });

  it.each(CASES)('every panel, annotation and rule expression parses (%s)', (_, options) => {
    const { files, groups } = generateOps(options);
    const panelExprs = Object.entries(files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .flatMap(([, text]) => dashboardExprs(JSON.parse(text)));
    // Query variables are `label_values(<series selector>, <label>)`: the selector must be PromQL.
    const variableSelectors = Object.entries(files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .flatMap(
        ([, text]) =>
          (JSON.parse(text) as { templating: { list: Array<{ type: string; query: string }> } }).templating
            .list,
      )
      .filter((v) => v.type === 'query')
      .map((v) => /^label_values\((.*), \w+\)$/.exec(v.query)?.[1] ?? `unparsable ${v.query}`);
    expect(variableSelectors.length).toBeGreaterThanOrEqual(12);
    panelExprs.push(...variableSelectors);
    const ruleExprs = groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(panelExprs.length).toBeGreaterThan(50);
    expect(ruleExprs.length).toBeGreaterThan(20);
    const bad = [...panelExprs.map(grafanaToPromql), ...ruleExprs].flatMap((e) =>
      promqlErrors(e).map((err) => `${err} in ${e}`),
    );
    expect(bad).toEqual([]);
  });
});
