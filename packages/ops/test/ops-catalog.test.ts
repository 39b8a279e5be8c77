import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricDefinition } from '@deia/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { alertRules, generateOps, type OpsOptions, referencedSeries } from '../src/index.js';
import { EXTRA } from './extra-metrics.js';
import { expectOpsError } from './ops-error.js';
import { runPromtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const promtool = (args: string[], files: Record<string, string>) => runPromtool(dir, args, { files });

const alertNames = (options: OpsOptions) =>
  new Set(alertRules(generateOps(options).groups).map((r) => r.alert));

describe('groups', () => {
  it('a switched-off group gets no rules and no series of it is read', () => {
    const all = alertNames({});
    const noBots = alertNames({
      groups: [
        'http',
        'process',
        'tasks',
        'database',
        'cache',
        'llm',
        'dependencies',
        'connections',
        'health',
      ],
    });
    for (const a of ['BotStartErrors', 'BotCrashLoop', 'BotDispatchSlow', 'MessageProcessingSlow']) {
      expect(all.has(a)).toBe(true);
      expect(noBots.has(a)).toBe(false);
    }
    expect(noBots.has('QueueBacklog')).toBe(true);
    const onlyHttp = generateOps({ groups: ['http'] });
    expect(new Set(alertRules(onlyHttp.groups).map((r) => r.alert))).toEqual(
      new Set([
        'TargetMissing',
        'ServiceDown',
        'HighErrorRate',
        'HighLatency',
        'HttpRoutesOverflowed',
        'AvailabilityBudgetBurn',
        'LatencyBudgetBurn',
      ]),
    );
    const read = referencedSeries({
      files: { 'prometheus/rules.yml': onlyHttp.files['prometheus/rules.yml'] as string },
      groups: onlyHttp.groups,
    });
    expect(read.filter((s) => !s.startsWith('http_') && s !== 'up')).toEqual([]);
    const r = promtool(['check', 'rules', 'only-http.yml'], {
      'only-http.yml': onlyHttp.files['prometheus/rules.yml'] as string,
    });
    expect(r.out).toContain('SUCCESS');
  });

  it('process alerts need the process group and prom-client default metrics', () => {
    expect(alertNames({}).has('HighMemoryUsage')).toBe(true);
    expect(alertNames({ defaultMetrics: false }).has('HighMemoryUsage')).toBe(false);
    expect(alertNames({ groups: ['http', 'bots'] }).has('EventLoopLag')).toBe(false);
  });

  it.each([
    [{ groups: ['bogus'] }, /groups must be an array of catalog groups/],
    [{ buckets: { http_requests_total: [1, 2] } }, /buckets.http_requests_total: no histogram/],
    [{ buckets: { http_request_duration_seconds: [2, 1] } }, /strictly increasing/],
    [
      { buckets: { http_request_duration_seconds: [0.1, 0.3, 0.5, 1, 2] } },
      /latencySlo.thresholdSeconds \(0.2\) is not a bucket bound/,
    ],
    [{ defaultMetrics: 'yes' }, /defaultMetrics must be a boolean/],
    [{ extraMetrics: [{ ...EXTRA[0], name: 'http_requests_total' }] }, /is already defined/],
  ] as Array<[OpsOptions, RegExp]>)('rejects %j', (options, message) => {
    expectOpsError(() => generateOps(options), 'DEIA_OPS_OPTIONS', message);
  });

  it('latency thresholds are checked against bucket overrides', () => {
    const buckets = { http_request_duration_seconds: [0.1, 0.2, 0.4, 0.8, 1.6] };
    expectOpsError(
      () => generateOps({ buckets }),
      'DEIA_OPS_OPTIONS',
      /latencyP95Warning \(0.5\) is not a bucket bound/,
    );
    expect(() =>
      generateOps({ buckets, thresholds: { latencyP95Warning: 0.4, latencyP95Critical: 0.8 } }),
    ).not.toThrow();
  });
});

describe('extra metrics with alerts', () => {
  const options: OpsOptions = { extraMetrics: EXTRA, prefix: 'app_' };
  const out = generateOps(options);
  const rules = alertRules(out.groups).filter((r) =>
    out.groups.find((g) => g.name === 'deia.alerts.extra')?.rules.includes(r),
  );

  it('get their rules, with the prefix, the by labels and a quantile guarded by minRequestRate', () => {
    // A critical is evaluated before its same-name warning (causes.ts, the handover).
    expect(rules.map((r) => `${r.alert}/${r.labels.severity}`)).toEqual([
      'PaymentFailures/critical',
      'PaymentFailures/warning',
      'WebhookStorm/warning',
      'WorkersExhausted/warning',
      'RenderSlow/critical',
      'RenderSlow/warning',
    ]);
    expect(rules[1]?.expr).toBe(
      'sum by (job, provider) (increase(app_payment_failures_total{job="deia-bot-controller"}[5m])) > 5',
    );
    expect(rules[3]?.expr).toBe('min by (job, pool) (app_worker_pool_idle{job="deia-bot-controller"}) < 1');
    expect(rules[5]?.expr).toContain(
      'histogram_quantile(0.9, sum by (job, page, le) (rate(app_render_duration_seconds_bucket{job="deia-bot-controller"}[5m]))) > 1',
    );
    expect(rules[5]?.expr).toContain('> 0.1');
    expect(rules[1]?.for).toBe('2m');
    expect(rules[2]?.for).toBeUndefined();
    expect(rules[5]?.annotations.description).toContain('humanizeDuration');
  });

  it('pass their generated promtool tests (fire, quiet, threshold edge, low traffic, scrape gap)', () => {
    const tests = out.files['prometheus/rules.test.yml'] as string;
    expect(tests).toBeDefined();
    for (const what of ['quiet exactly at the threshold', 'fires just', 'scrape gap', 'under minRequestRate'])
      expect(tests).toContain(what);
    const r = promtool(['test', 'rules', 'rules.test.yml'], {
      'rules.yml': out.files['prometheus/rules.yml'] as string,
      'rules.test.yml': tests,
    });
    expect(r.out).toContain('SUCCESS');
  }, 120_000);

  /** The generated tests of one alert only (each run re-evaluates every rule of rules.yml). */
  const testsOf = (alert: string) => {
    const t = parse(out.files['prometheus/rules.test.yml'] as string) as { tests: Array<{ name: string }> };
    return stringify({ ...t, tests: t.tests.filter((x) => x.name.startsWith(`${alert}: `)) });
  };

  it.each([
    ['PaymentFailures', 'a threshold one lower', (y: string) => y.replace('[5m])) > 5', '[5m])) > 4')],
    [
      'PaymentFailures',
      'the first-use fallback that reports old totals',
      (y: string) =>
        y.replace(
          'sum by (job, provider) (increase(app_payment_failures_total{job="deia-bot-controller"}[5m])) > 5',
          'sum by (job, provider) ((increase(app_payment_failures_total{job="deia-bot-controller"}[5m]) and app_payment_failures_total{job="deia-bot-controller"} offset 5m) or app_payment_failures_total{job="deia-bot-controller"}) > 5',
        ),
    ],
    [
      'RenderSlow',
      'no min-traffic clause',
      (y: string) =>
        y.replace(
          /\n\s+and on \(job, page\)\n\s+sum by \(job, page\) \(rate\(app_render_duration_seconds_count[^\n]+> 0.1/g,
          '',
        ),
    ],
    [
      'WorkersExhausted',
      'a gauge compared with <=',
      (y: string) =>
        y.replace(
          '(app_worker_pool_idle{job="deia-bot-controller"}) < 1',
          '(app_worker_pool_idle{job="deia-bot-controller"}) <= 1',
        ),
    ],
  ])(
    'the generated tests of %s fail against rules with %s',
    (alert, _, mutate) => {
      const yml = out.files['prometheus/rules.yml'] as string;
      const broken = mutate(yml);
      expect(broken).not.toBe(yml);
      const r = promtool(['test', 'rules', 'rules.test.yml'], {
        'rules.yml': broken,
        'rules.test.yml': testsOf(alert),
      });
      expect(r.out).toContain('FAILED');
    },
    120_000,
  );

  it('keep inhibition within one object: their by labels are in the equal list', () => {
    const am = parse(out.files['alertmanager/alertmanager.yml'] as string) as {
      inhibit_rules: Array<{ source_matchers: string[]; equal: string[] }>;
    };
    const sameName = am.inhibit_rules.find(
      (r) => r.source_matchers.includes('severity="critical"') && r.equal.includes('alertname'),
    );
    expect(sameName?.equal).toEqual(expect.arrayContaining(['provider', 'pool', 'page', 'bot_id']));
  });

  it('have no test file without alert specs, or with a selector no series can be made up for', () => {
    expect(generateOps({}).files['prometheus/rules.test.yml']).toBeUndefined();
    expect(
      generateOps({ extraMetrics: EXTRA, selector: 'job=~"a|b"' }).files['prometheus/rules.test.yml'],
    ).toBeUndefined();
  });

  it.each([
    [
      { ...EXTRA[3], alerts: [{ name: 'RenderSlow', over: 'quantile', threshold: 1.5 }] },
      /threshold \(1.5\) is not a bucket bound/,
    ],
    [
      { ...EXTRA[3], alerts: [{ name: 'RenderSlow', over: 'quantile', threshold: 5 }] },
      /threshold \(5\) is not a bucket bound/,
    ],
    [
      { ...EXTRA[0], alerts: [{ name: 'PaymentFailures', over: 'value', threshold: 1 }] },
      /a counter alert compares increase or rate/,
    ],
    [
      { ...EXTRA[0], alerts: [{ name: 'PaymentFailures', over: 'increase', threshold: 1, by: ['region'] }] },
      /by names "region"/,
    ],
    [{ ...EXTRA[0], alerts: [{ name: 'payment', over: 'increase', threshold: 1 }] }, /PascalCase/],
    [
      { ...EXTRA[0], alerts: [{ name: 'PaymentFailures', over: 'increase', threshold: 1, window: 'soon' }] },
      /not a Prometheus duration/,
    ],
    [
      { ...EXTRA[0], alerts: [{ name: 'PaymentFailures', over: 'increase', threshold: 1, below: true }] },
      /only gauges alert below/,
    ],
  ] as Array<[MetricDefinition, RegExp]>)('reject a bad alert spec (%#)', (def, message) => {
    expectOpsError(() => generateOps({ extraMetrics: [def] }), 'DEIA_OPS_OPTIONS', message);
  });
});

describe('extra alerts link the dashboard that shows their metric', () => {
  it('dashboard_url of every extra alert opens the Extra metrics dashboard, which has a panel on its metric', () => {
    const out = generateOps({ extraMetrics: EXTRA, grafana: { url: 'https://grafana.example.com' } });
    const dashboard = JSON.parse(out.files['grafana/dashboards/extra-metrics.json'] as string) as {
      uid: string;
      panels: Array<{ targets?: Array<{ expr?: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    const extraAlerts = new Set(EXTRA.flatMap((d) => (d.alerts ?? []).map((a) => a.name)));
    const rules = alertRules(out.groups).filter((r) => extraAlerts.has(r.alert));
    expect(rules.length).toBeGreaterThanOrEqual(extraAlerts.size);
    for (const rule of rules) {
      expect(rule.annotations.dashboard_url, rule.alert).toMatch(
        new RegExp(`^https://grafana\\.example\\.com/d/${dashboard.uid}\\?var-job=`),
      );
      const def = EXTRA.find((d) => (d.alerts ?? []).some((a) => a.name === rule.alert));
      expect(
        exprs.some((e) => e.includes(def?.name as string)),
        rule.alert,
      ).toBe(true);
    }
  });
});
