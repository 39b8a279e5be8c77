import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG, type MetricDefinition } from '@deia/metrics';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, describe, expect, it } from 'vitest';
import {
  alertRules,
  DEFAULT_OPS_OPTIONS,
  generateOps,
  NATIVE_THRESHOLD_DEFAULTS,
  type OpsOptions,
  runCli,
} from '../src/index.js';
import { dashboardExprs, promqlReferences } from '../src/references.js';
import { resolveOpsOptions } from '../src/resolve-options.js';
import { expectOpsError } from './ops-error.js';
import { runPromtool } from './promtool.js';

// `nativeHistograms`: the rules and panels of native histograms read the native series
// (histogram_quantile / histogram_fraction / histogram_count over `name`, no _bucket, no le), take
// thresholds that are not bucket bounds, and leave the classic output (the default) unchanged.

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HISTOGRAMS = CATALOG.filter((d) => d.type === 'histogram').map((d) => d.name);

function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`error at ${node.from}: ${expr.slice(node.from, node.from + 20)}`);
    },
  });
  return errors;
}

/** Every expression of the output: rules, then panel and annotation queries (Grafana macros replaced). */
function exprsOf(out: ReturnType<typeof generateOps>): string[] {
  return [
    ...out.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ...Object.entries(out.files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .flatMap(([, text]) => dashboardExprs(JSON.parse(text)))
      .map((e) =>
        e.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$(\w+)/g, 'placeholder'),
      ),
  ];
}

const rule = (out: ReturnType<typeof generateOps>, name: string, severity?: string) =>
  out.groups
    .flatMap((g) => g.rules)
    .find((r) =>
      'record' in r ? r.record === name : r.alert === name && (!severity || r.labels.severity === severity),
    )?.expr;

describe('nativeHistograms', () => {
  it('is off by default: false and [] give the default output byte for byte', () => {
    const classic = generateOps({}).files;
    expect(generateOps({ nativeHistograms: false }).files).toEqual(classic);
    expect(generateOps({ nativeHistograms: [] }).files).toEqual(classic);
    expect(resolveOpsOptions({}).nativeHistograms).toEqual([]);
    expect(resolveOpsOptions({}).thresholds.latencyP95Critical).toBe(1);
  });

  it('true reads every histogram natively: no _bucket, no le, no classic _count/_sum', () => {
    const out = generateOps({ nativeHistograms: true, prefix: 'deia_' });
    expect(resolveOpsOptions({ nativeHistograms: true }).nativeHistograms).toEqual([...HISTOGRAMS].sort());
    const exprs = exprsOf(out);
    for (const e of exprs) {
      expect(e).not.toMatch(/_bucket\b|\ble\b/);
      for (const h of HISTOGRAMS)
        expect(e).not.toMatch(new RegExp(`(?<![\\w:])deia_${h}_(count|sum)(?![\\w:])`));
    }
    // ... and every histogram family the rules read is read under its own name.
    const read = new Set(exprs.flatMap((e) => [...promqlReferences(e).metrics]));
    expect(read.has('deia_http_request_duration_seconds')).toBe(true);
    expect(read.has('deia_bot_dispatch_latency_seconds')).toBe(true);
  });

  it('writes the native forms of quantiles, the latency SLO, the dispatch median and rates', () => {
    const out = generateOps({ nativeHistograms: true });
    const sel = 'job="deia-bot-controller"';
    const http = `rate(http_request_duration_seconds{${sel}}[5m])`;
    expect(rule(out, 'job:http_request_duration_seconds:p95_5m')).toBe(
      `histogram_quantile(0.95, sum by (job) (${http}))`,
    );
    expect(rule(out, 'job_route:http_request_duration_seconds:p99_5m')).toBe(
      `histogram_quantile(0.99, sum by (job, route) (${http}))`,
    );
    expect(rule(out, 'job:http_request_slow:ratio_rate5m')).toBe(
      `1 - histogram_fraction(0, 0.2, sum by (job) (${http}))`,
    );
    expect(rule(out, 'job:http_requests_within_latency_slo:rate5m')).toBe(
      `histogram_fraction(0, 0.2, sum by (job) (${http}))\n*\nhistogram_count(sum by (job) (${http}))`,
    );
    expect(rule(out, 'job:http_request_duration_seconds_count:rate5m')).toBe(
      `sum by (job) (histogram_count(${http}))`,
    );
    const dispatch = `rate(bot_dispatch_latency_seconds{${sel}}[5m])`;
    // (wrapped in the aftermath clause of its causes, causes.ts)
    expect(rule(out, 'BotDispatchSlow')).toContain(
      `(\nhistogram_fraction(0, 2, sum by (job) (${dispatch}))\n< 0.5\nand on (job)\nsum by (job) (histogram_count(${dispatch})) > 0.1\n)\nunless on (job)\n`,
    );
    // The guide's 750 ms critical p95, no longer rounded up to the 1 s bound.
    expect(rule(out, 'HighLatency', 'critical')).toMatch(
      /^\(\njob:http_request_duration_seconds:p95_5m\{[^}]*\} > 0\.75\n/,
    );
    expect(
      alertRules(out.groups).find((r) => r.alert === 'HighLatency' && r.labels.severity === 'critical')
        ?.annotations.description,
    ).toContain('threshold 750ms');
    expect(rule(out, 'DependencyErrorRate', 'warning')).toContain(
      `histogram_count(rate(dependency_request_duration_seconds{${sel},outcome="error",dependency!~"ollama"}[5m]))`,
    );
  });

  it('parses with the Prometheus grammar and passes promtool check rules', () => {
    for (const options of [
      { nativeHistograms: true },
      {
        nativeHistograms: true,
        prefix: 'deia_',
        aggregateBy: ['cluster'],
        windowScale: 0.05,
        windowFloor: '15s',
      },
      { nativeHistograms: ['bot_dispatch_latency_seconds', 'db_query_duration_seconds'] },
    ] satisfies OpsOptions[]) {
      const out = generateOps({ ...options, grafana: { clusterVariable: true } });
      const errors = exprsOf(out).flatMap((e) => promqlErrors(e).map((x) => `${x} in ${e}`));
      expect(errors).toEqual([]);
      const res = runPromtool(dir, ['check', 'rules', 'rules.yml'], {
        files: { 'rules.yml': out.files['prometheus/rules.yml'] as string },
      });
      expect(res.out).toContain('SUCCESS');
      expect(res.status, res.out).toBe(0);
    }
  }, 60_000);

  it('named families: only those are native, the others keep their classic rules', () => {
    const classic = generateOps({});
    const out = generateOps({ nativeHistograms: ['bot_dispatch_latency_seconds'] });
    expect(rule(out, 'job:http_request_duration_seconds:p95_5m')).toBe(
      rule(classic, 'job:http_request_duration_seconds:p95_5m'),
    );
    expect(rule(out, 'HighLatency', 'critical')).toBe(rule(classic, 'HighLatency', 'critical'));
    expect(rule(out, 'BotDispatchSlow')).toMatch(/^\(\nhistogram_fraction\(0, 2, /);
    expect(rule(classic, 'BotDispatchSlow')).toMatch(
      /bot_dispatch_latency_seconds_bucket\{[^}]*le=~"2\|2\[\.\]0"/,
    );
    const panels = (o: typeof out) =>
      JSON.parse(o.files['grafana/dashboards/bot-performance.json'] as string);
    const exprs = dashboardExprs(panels(out));
    expect(exprs).toContain(
      'histogram_fraction(0, 2, sum(rate(bot_dispatch_latency_seconds{job="deia-bot-controller",job=~"$job",instance=~"$instance"}[$__rate_interval])))',
    );
    expect(exprs).toContain(
      'histogram_quantile(0.5, sum (rate(bot_dispatch_latency_seconds{job="deia-bot-controller",job=~"$job",instance=~"$instance"}[$__rate_interval])))',
    );
    // Message processing stays classic on the same dashboard.
    expect(exprs.some((e) => e.includes('bot_message_processing_duration_seconds_bucket'))).toBe(true);
  });

  it('takes thresholds between bucket bounds on native histograms, refuses them on classic ones', () => {
    const between: OpsOptions = {
      latencySlo: { thresholdSeconds: 0.25 },
      thresholds: {
        latencyP95Warning: 0.4,
        latencyP95Critical: 0.75,
        dispatchLatencyP50: 1.8,
        dbQueryP95: 0.8,
      },
    };
    expectOpsError(
      () => generateOps(between),
      'DEIA_OPS_OPTIONS',
      /is not a bucket bound of http_request_duration_seconds/,
    );
    expectOpsError(
      () =>
        generateOps({
          ...between,
          thresholds: { ...between.thresholds, dbQueryP95: 1 },
          nativeHistograms: ['http_request_duration_seconds'],
        }),
      'DEIA_OPS_OPTIONS',
      /thresholds\.dispatchLatencyP50 \(1\.8\) is not a bucket bound of bot_dispatch_latency_seconds/,
    );
    const out = generateOps({ ...between, nativeHistograms: true });
    expect(rule(out, 'BotDispatchSlow')).toMatch(/^\(\nhistogram_fraction\(0, 1\.8, /);
    expect(rule(out, 'job:http_request_slow:ratio_rate5m')).toMatch(/^1 - histogram_fraction\(0, 0\.25, /);
    expect(rule(out, 'SlowDatabaseQueries')).toMatch(/\) > 0\.8\n/);
    expect(rule(out, 'HighLatency', 'warning')).toMatch(/ > 0\.4\n/);
  });

  it('uses the guide value only as a default: a set latencyP95Critical wins, and http must be native', () => {
    expect(NATIVE_THRESHOLD_DEFAULTS).toEqual({ latencyP95Critical: 0.75 });
    expect(DEFAULT_OPS_OPTIONS.thresholds.latencyP95Critical).toBe(1);
    expect(resolveOpsOptions({ nativeHistograms: true }).thresholds.latencyP95Critical).toBe(0.75);
    expect(
      resolveOpsOptions({ nativeHistograms: ['http_request_duration_seconds'] }).thresholds
        .latencyP95Critical,
    ).toBe(0.75);
    expect(
      resolveOpsOptions({ nativeHistograms: ['bot_dispatch_latency_seconds'] }).thresholds.latencyP95Critical,
    ).toBe(1);
    expect(
      resolveOpsOptions({ nativeHistograms: true, thresholds: { latencyP95Critical: 2 } }).thresholds
        .latencyP95Critical,
    ).toBe(2);
    // The warning/critical order is checked against the native default too.
    expectOpsError(
      () => resolveOpsOptions({ nativeHistograms: true, thresholds: { latencyP95Warning: 0.8 } }),
      'DEIA_OPS_OPTIONS',
      /latencyP95Warning \(0\.8\) must be below thresholds\.latencyP95Critical \(0\.75\)/,
    );
  });

  it.each([
    ['yes', /nativeHistograms must be true, false or an array of histogram names/],
    [['http_request_duration_second'], /is not a metric .*did you mean "http_request_duration_seconds"/],
    [['http_requests_total'], /"http_requests_total" is a counter, not a histogram/],
    [
      ['http_request_duration_seconds', 'http_request_duration_seconds'],
      /lists "http_request_duration_seconds" twice/,
    ],
  ] as Array<[unknown, RegExp]>)('refuses %j', (value, message) => {
    expectOpsError(
      () => resolveOpsOptions({ nativeHistograms: value as OpsOptions['nativeHistograms'] }),
      'DEIA_OPS_OPTIONS',
      message,
    );
  });

  it('refuses a histogram of a switched-off group, and true covers only the registered ones', () => {
    expectOpsError(
      () => resolveOpsOptions({ groups: ['http'], nativeHistograms: ['db_query_duration_seconds'] }),
      'DEIA_OPS_OPTIONS',
      /"db_query_duration_seconds" is in group "database", which is switched off/,
    );
    expect(resolveOpsOptions({ groups: ['http'], nativeHistograms: true }).nativeHistograms).toEqual(
      CATALOG.filter((d) => d.group === 'http' && d.type === 'histogram')
        .map((d) => d.name)
        .sort(),
    );
  });

  it('extra histograms: any quantile threshold when native, and no promtool tests for them', () => {
    const extra = (name: string): MetricDefinition => ({
      name,
      type: 'histogram',
      help: 'Job duration.',
      unit: 'seconds',
      labelNames: [],
      buckets: [1, 10],
      group: 'custom',
      alerts: [{ name: `Slow${name.toUpperCase()[0]}`, over: 'quantile', threshold: 3 }],
    });
    expectOpsError(
      () => generateOps({ extraMetrics: [extra('a_seconds')] }),
      'DEIA_OPS_OPTIONS',
      /threshold \(3\) is not a bucket bound of a_seconds/,
    );
    const out = generateOps({ extraMetrics: [extra('a_seconds')], nativeHistograms: ['a_seconds'] });
    expect(rule(out, 'SlowA')).toBe(
      'histogram_quantile(0.95, sum by (job) (rate(a_seconds{job="deia-bot-controller"}[5m]))) > 3\nand on (job)\nsum by (job) (histogram_count(rate(a_seconds{job="deia-bot-controller"}[5m]))) > 0.1',
    );
    expect(out.files['prometheus/rules.test.yml']).toBeUndefined();
    const both = generateOps({
      extraMetrics: [
        extra('a_seconds'),
        { ...extra('b_seconds'), alerts: [{ name: 'BSlow', over: 'quantile', threshold: 1 }] },
      ],
      nativeHistograms: ['a_seconds'],
    });
    expect(both.files['prometheus/rules.test.yml']).toContain('BSlow');
    expect(both.files['prometheus/rules.test.yml']).not.toContain('a_seconds');
  });
});

describe('nativeHistograms and the definitions nativeHistogram field', () => {
  const def = (name: string, nativeHistogram?: boolean): MetricDefinition => ({
    name,
    type: 'histogram',
    help: 'Job duration.',
    unit: 'seconds',
    labelNames: [],
    buckets: [1, 10],
    group: 'custom',
    ...(nativeHistogram === undefined ? {} : { nativeHistogram }),
  });

  it('true leaves out an extra histogram that opts out; a list must agree with the definitions', () => {
    const extraMetrics = [def('a_seconds', false), def('b_seconds', true)];
    const native = resolveOpsOptions({ extraMetrics, nativeHistograms: true }).nativeHistograms;
    expect(native).toContain('b_seconds');
    expect(native).not.toContain('a_seconds');
    expectOpsError(
      () => resolveOpsOptions({ extraMetrics, nativeHistograms: ['a_seconds', 'b_seconds'] }),
      'DEIA_OPS_OPTIONS',
      /"a_seconds" sets nativeHistogram: false in its definition/,
    );
    expectOpsError(
      () => resolveOpsOptions({ extraMetrics, nativeHistograms: ['http_request_duration_seconds'] }),
      'DEIA_OPS_OPTIONS',
      /extraMetrics "b_seconds" records a native histogram .*: list it too/,
    );
    expect(resolveOpsOptions({ extraMetrics, nativeHistograms: ['b_seconds'] }).nativeHistograms).toEqual([
      'b_seconds',
    ]);
  });
});

describe('deia-observability --native-histograms', () => {
  const run = (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(
      args,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('all / a list / none set nativeHistograms', () => {
    const rulesOf = (sub: string) => readFileSync(join(dir, sub, 'prometheus/rules.yml'), 'utf8');
    expect(run(['generate', '--out', join(dir, 'all'), '--native-histograms', 'all']).code).toBe(0);
    expect(rulesOf('all')).toBe(generateOps({ nativeHistograms: true }).files['prometheus/rules.yml']);
    const list = 'bot_dispatch_latency_seconds, http_request_duration_seconds';
    expect(run(['generate', '--out', join(dir, 'list'), '--native-histograms', list]).code).toBe(0);
    expect(rulesOf('list')).toBe(
      generateOps({ nativeHistograms: ['bot_dispatch_latency_seconds', 'http_request_duration_seconds'] })
        .files['prometheus/rules.yml'],
    );
    expect(run(['generate', '--out', join(dir, 'none'), '--native-histograms', 'none']).code).toBe(0);
    expect(rulesOf('none')).toBe(generateOps({}).files['prometheus/rules.yml']);
  });

  it('reports a bad name or an empty list, and documents the flag', () => {
    const bad = run(['generate', '--out', join(dir, 'bad'), '--native-histograms', 'http_request_duration']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/\[DEIA_OPS_OPTIONS\] nativeHistograms: "http_request_duration" is not a metric/);
    const empty = run(['generate', '--out', join(dir, 'bad'), '--native-histograms', ',']);
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/--native-histograms needs "all", "none" or a comma-separated list/);
    expect(run(['--help']).out).toContain('--native-histograms <all|none|names>');
  });
});
