import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateOps, type OpsOptions } from '../src/index.js';
import { leMatcher } from '../src/rules.js';
import { runPromtool } from './promtool.js';

const JOB = 'deia-bot-controller';
const dir = mkdtempSync(join(tmpdir(), 'deia-ops-sre-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries({ job: JOB, instance: '127.0.0.1:8000', ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});
const http = (route: string, status: string, values: string) =>
  series('http_requests_total', { method: 'GET', route, status }, values);

interface ExprTest {
  expr: string;
  eval_time: string;
  exp_samples: Array<{ labels: string; value: number }>;
}

/** Runs one promtool unit-test group against the rules generated with `options`. */
function promtoolExprTest(
  name: string,
  options: OpsOptions,
  inputSeries: Array<{ series: string; values: string }>,
  tests: ExprTest[],
) {
  writeFileSync(join(dir, `${name}.rules.yml`), generateOps(options).files['prometheus/rules.yml'] as string);
  writeFileSync(
    join(dir, `${name}.test.yml`),
    stringify({
      rule_files: [`${name}.rules.yml`],
      evaluation_interval: '1m',
      tests: [{ interval: '1m', input_series: inputSeries, promql_expr_test: tests }],
    }),
  );
  expect(runPromtool(dir, ['test', 'rules', `${name}.test.yml`], { timeoutMs: 60_000 }).out).toContain(
    'SUCCESS',
  );
}

describe('recording rules with the SDK label sets', () => {
  it('error ratios are 0, not missing, while no route has answered a 5xx yet', () => {
    promtoolExprTest(
      'healthy',
      {},
      [http('/api/bots', '200', '0+60x20'), http('/health', '200', '0+6x20')],
      [
        {
          expr: 'job:http_request_errors:ratio_rate5m',
          eval_time: '10m',
          exp_samples: [{ labels: `job:http_request_errors:ratio_rate5m{job="${JOB}"}`, value: 0 }],
        },
        {
          expr: 'job_route:http_request_errors:ratio_rate5m',
          eval_time: '10m',
          exp_samples: [
            {
              labels: `job_route:http_request_errors:ratio_rate5m{job="${JOB}",route="/api/bots"}`,
              value: 0,
            },
            { labels: `job_route:http_request_errors:ratio_rate5m{job="${JOB}",route="/health"}`, value: 0 },
          ],
        },
      ],
    );
  });

  it('error ratios count 5xx once they exist', () => {
    promtoolExprTest(
      'errors',
      {},
      [http('/api/bots', '200', '0+1x20'), http('/api/bots', '503', '0+1x20')],
      [
        {
          expr: 'job:http_request_errors:ratio_rate5m',
          eval_time: '10m',
          exp_samples: [{ labels: `job:http_request_errors:ratio_rate5m{job="${JOB}"}`, value: 0.5 }],
        },
      ],
    );
  });

  it.each([
    ['classic form', '1'],
    ['Prometheus 3 float form', '1.0'],
  ])('the latency-SLO bucket selector matches le in the %s (le="%s")', (_, le) => {
    expect(leMatcher(1)).toBe('le=~"1|1[.]0"');
    expect(leMatcher(0.2)).toBe('le="0.2"');
    promtoolExprTest(
      `le-${le}`,
      { latencySlo: { thresholdSeconds: 1 } },
      [
        series(
          'http_request_duration_seconds_bucket',
          { method: 'GET', route: '/api/bots', status: '200', le },
          '0+1x20',
        ),
        series(
          'http_request_duration_seconds_count',
          { method: 'GET', route: '/api/bots', status: '200' },
          '0+2x20',
        ),
      ],
      [
        {
          expr: 'job:http_request_slow:ratio_rate5m',
          eval_time: '10m',
          exp_samples: [{ labels: `job:http_request_slow:ratio_rate5m{job="${JOB}"}`, value: 0.5 }],
        },
      ],
    );
  });
});

describe('thresholds a histogram can see', () => {
  it.each([
    [
      { thresholds: { dispatchLatencyP50: 1.5 } },
      /dispatchLatencyP50 \(1.5\) is not a bucket bound of bot_dispatch_latency_seconds/,
    ],
    [
      { thresholds: { latencyP95Critical: 1.5 } },
      /latencyP95Critical \(1.5\) is not a bucket bound of http_request_duration_seconds/,
    ],
    // 10 is the last finite bound: histogram_quantile never returns more, `> 10` could never fire.
    [{ thresholds: { latencyP95Critical: 10 } }, /latencyP95Critical \(10\) is not a bucket bound/],
    [{ latencySlo: { thresholdSeconds: 0.25 } }, /latencySlo.thresholdSeconds \(0.25\)/],
  ] as Array<[OpsOptions, RegExp]>)('generation fails for %j', (options, message) => {
    expect(() => generateOps(options)).toThrow(message);
  });

  it('accepts bounds (the defaults, and the last bound for the dispatch bucket ratio)', () => {
    expect(() => generateOps()).not.toThrow();
    expect(() => generateOps({ thresholds: { dispatchLatencyP50: 1 } })).not.toThrow();
    expect(() => generateOps({ thresholds: { dispatchLatencyP50: 2.5 } })).not.toThrow();
  });
});
