// The first failure counts: a counter series that appears already above zero (created and
// incremented between two scrapes) is an increase; one that returns after a scrape gap or is reset
// by a restart is not (promtool, the generated rules).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateOps } from '../src/index.js';
import { runPromtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-first-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const JOB = 'deia-bot-controller';
const series = (name: string, labels: Record<string, string>, instance = 'app:8000') =>
  `${name}{${Object.entries({ job: JOB, instance, ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
const firing = (alert: string, labels: Record<string, string>, severities: string[]) =>
  severities.map((severity) => ({
    labels: `ALERTS{${Object.entries({
      alertname: alert,
      alertstate: 'firing',
      job: JOB,
      ...labels,
      severity,
    })
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`,
    value: 1,
  }));

interface Case {
  name: string;
  alert: string;
  input: Array<{ series: string; values: string }>;
  /** Minute -> the severities firing then (labels of the alert besides job). */
  expect: Array<[number, Record<string, string>, string[]]>;
}

const bot = { bot_id: 'new-bot' };
const reason = { reason: 'undeclared' };
const CASES: Case[] = [
  {
    name: "a bot's first start fails before the first scrape (series born at 1): warns",
    alert: 'BotStartErrors',
    input: [{ series: series('bot_start_errors_total', bot), values: '1x15' }],
    expect: [
      [2, bot, ['warning']],
      [4, bot, ['warning']],
      // The failure leaves the 5m window: quiet again.
      [8, bot, []],
    ],
  },
  {
    name: 'a bot registered at 0 that never fails: quiet',
    alert: 'BotStartErrors',
    input: [{ series: series('bot_start_errors_total', bot), values: '0x15' }],
    expect: [
      [2, bot, []],
      [8, bot, []],
    ],
  },
  {
    name: '4 restarts in 4 minutes, the first before the first scrape: pages',
    alert: 'BotCrashLoop',
    input: [{ series: series('bot_restarts_total', bot), values: '1 2 3 4x15' }],
    expect: [
      [1, bot, ['warning']],
      [3, bot, ['warning', 'critical']],
      [9, bot, ['warning', 'critical']],
    ],
  },
  {
    name: 'an auth failure reason never declared, 12 failures before its first scrape: counts them',
    alert: 'AuthFailureSpike',
    input: [{ series: series('auth_failures_total', reason), values: '12x15' }],
    expect: [[2, {}, ['warning']]],
  },
  {
    name: 'after a restart the counters come back at 0 (registered): quiet',
    alert: 'BotCrashLoop',
    input: [{ series: series('bot_restarts_total', bot), values: '5x20 0x20' }],
    expect: [
      [20, bot, []],
      [22, bot, []],
      [30, bot, []],
    ],
  },
  {
    name: 'after a restart on a new address (a new instance label) with old-looking totals at 0: quiet',
    alert: 'BotStartErrors',
    input: [
      { series: series('bot_start_errors_total', bot, 'old:8000'), values: '3x10' },
      { series: series('bot_start_errors_total', bot, 'new:8000'), values: '_x11 0x20' },
    ],
    expect: [
      [12, bot, []],
      [14, bot, []],
      [20, bot, []],
    ],
  },
  {
    name: 'after a 20m scrape gap, old totals come back unchanged: quiet',
    alert: 'BotCrashLoop',
    input: [{ series: series('bot_restarts_total', bot), values: '1 2 3 4x10 _x20 4x20' }],
    expect: [
      [34, bot, []],
      [35, bot, []],
      [38, bot, []],
      [45, bot, []],
    ],
  },
  {
    name: 'after a 20m scrape gap, an undeclared reason comes back unchanged: quiet',
    alert: 'AuthFailureSpike',
    input: [{ series: series('auth_failures_total', reason), values: '12x10 _x20 12x20' }],
    expect: [
      [32, {}, []],
      [34, {}, []],
      [40, {}, []],
    ],
  },
];

function promtoolTests(rulesYml: string) {
  return runPromtool(dir, ['test', 'rules', 'tests.yml'], {
    files: {
      'rules.yml': rulesYml,
      'tests.yml': stringify({
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: CASES.map((c) => ({
          name: c.name,
          interval: '1m',
          input_series: c.input,
          promql_expr_test: c.expect.map(([m, labels, severities]) => ({
            expr: `ALERTS{alertname="${c.alert}",alertstate="firing"}`,
            eval_time: `${m}m`,
            exp_samples: firing(c.alert, labels, severities),
          })),
        })),
      }),
    },
  });
}

describe('the first failure counts (promtool)', () => {
  const rules = generateOps({ optional: { auth: true } }).files['prometheus/rules.yml'] as string;

  it('a series born above zero is an increase; a reset, a new instance or a gap is not', () => {
    const r = promtoolTests(rules);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('fails against the plain increase() rules (the test can fail)', () => {
    const plain = rules.replace(
      /\(\n\s+\((\w+)\{([^}]*)\} unless max_over_time\(\w+\{[^}]*\}\[1h\] offset (\w+)\)\)\n\s+or\n\s+increase\(\w+\{[^}]*\}\[\w+\]\)\n\s+\)/g,
      '(increase($1{$2}[$3]))',
    );
    expect(plain).not.toBe(rules);
    expect(plain).not.toContain('max_over_time(bot_restarts_total');
    const r = promtoolTests(plain);
    expect(r.out).toContain('FAILED');
    // promtool names the failing expression, not the test: each of the three alerts misses.
    for (const alert of ['BotStartErrors', 'BotCrashLoop', 'AuthFailureSpike'])
      expect(r.out).toContain(`alertname=\\"${alert}\\"`);
  });
});
