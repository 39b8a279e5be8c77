// For every shipped alert, promtool tests generated from the probes in alert-scenarios.ts: it fires
// well past its threshold, stays quiet within it, stays quiet at the last quiet level and fires at
// the first firing one (the threshold edge), stays quiet under minRequestRate, and stays quiet at
// every evaluation after a scrape gap longer than its window. Checked through the ALERTS series,
// so a warning/critical pair is checked together; annotations are checked by ops-rules.test.ts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { alertRules, DEFAULT_OPS_OPTIONS, generateOps, type OpsOptions } from '../src/index.js';
import {
  genAiCases,
  type Kind,
  NO_TRAFFIC,
  PROBES,
  type PromtoolCase,
  probeCases,
  targetMissingCases,
} from './alert-scenarios.js';
import { runPromtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-edges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options: OpsOptions = {
  nodeExporter: { enabled: true },
  optional: { auth: true, websocket: true, botResources: true, uploads: true },
};
const { files, groups } = generateOps(options);
const rules = alertRules(groups);
const CASES: PromtoolCase[] = [...targetMissingCases(), ...PROBES.flatMap(probeCases), ...genAiCases()];

const alertsText = (alert: string, firing: PromtoolCase['evals'][number]['firing']) =>
  firing.map((f) => ({
    labels: `ALERTS{${Object.entries({ alertname: alert, alertstate: 'firing', ...f })
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`,
    value: 1,
  }));

function write(cases: PromtoolCase[], rulesYml: string, name: string) {
  writeFileSync(join(dir, `${name}.rules.yml`), rulesYml);
  writeFileSync(
    join(dir, `${name}.test.yml`),
    stringify(
      {
        rule_files: [`${name}.rules.yml`],
        evaluation_interval: '1m',
        tests: cases.map((c) => ({
          name: `${c.name} [${c.kind}]`,
          interval: '1m',
          input_series: c.input_series,
          promql_expr_test: c.evals.map((e) => ({
            expr: `ALERTS{alertname="${c.alert}",alertstate="firing"}`,
            eval_time: e.at,
            exp_samples: alertsText(c.alert, e.firing),
          })),
        })),
      },
      { lineWidth: 0 },
    ),
  );
}

function run(cases: PromtoolCase[], rulesYml: string, name: string) {
  write(cases, rulesYml, name);
  return runPromtool(dir, ['test', 'rules', `${name}.test.yml`], { timeoutMs: 400_000 }).out;
}

/** Runs promtool on `parts` test files at once (each run evaluates every rule, minute by minute). */
async function runParallel(cases: PromtoolCase[], rulesYml: string, parts: number): Promise<string[]> {
  const chunks = Array.from({ length: parts }, (_, i) => cases.filter((_, j) => j % parts === i));
  return Promise.all(
    chunks.map((chunk, i) => {
      write(chunk, rulesYml, `part${i}`);
      return new Promise<string>((done, fail) => {
        const p = spawn('promtool', ['test', 'rules', `part${i}.test.yml`], { cwd: dir, timeout: 400_000 });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('error', (err) =>
          fail(new Error(`promtool is not installed (apt-get install prometheus): ${err.message}`)),
        );
        p.on('close', () => done(out));
      });
    }),
  );
}

describe('every shipped alert at its edges', () => {
  it('has fire, quiet, threshold-edge, low-traffic and scrape-gap cases (meta-test)', () => {
    const required: Kind[] = ['fire', 'quiet', 'edge-quiet', 'edge-fire', 'gap'];
    const minRate = `> ${DEFAULT_OPS_OPTIONS.thresholds.minRequestRate}`;
    for (const r of rules) {
      const kinds = new Set(CASES.filter((c) => c.alert === r.alert).map((c) => c.kind));
      for (const k of required) expect(kinds.has(k), `${r.alert} has a ${k} case`).toBe(true);
      const guarded = r.expr.includes('and on') && r.expr.includes(minRate);
      if (guarded) {
        expect(kinds.has('low-traffic'), `${r.alert} has a low-traffic case`).toBe(true);
        expect(NO_TRAFFIC[r.alert], `${r.alert} has a min-traffic clause`).toBeUndefined();
      } else {
        expect(NO_TRAFFIC[r.alert], `${r.alert}: no min-traffic clause and no reason why`).toBeDefined();
      }
      // Every severity is seen firing, and seen quiet at its edge.
      const fired = new Set(
        CASES.filter((c) => c.alert === r.alert).flatMap((c) =>
          c.evals.flatMap((e) => e.firing.map((f) => f.severity)),
        ),
      );
      expect(fired.has(r.labels.severity), `${r.alert}/${r.labels.severity} fires in some case`).toBe(true);
    }
    expect(new Set(CASES.map((c) => c.alert))).toEqual(new Set(rules.map((r) => r.alert)));
  });

  it('pass promtool with the generated rules', async () => {
    const outs = await runParallel(CASES, files['prometheus/rules.yml'] as string, 2);
    for (const out of outs) expect(out).toContain('SUCCESS');
  }, 400_000);

  it('fail against a rule that pages on old totals after a gap (the former first-use fallback)', () => {
    const fallback = groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) =>
        'alert' in r && r.alert === 'BotCrashLoop' && r.labels.severity === 'warning'
          ? {
              ...r,
              expr: 'sum by (job, bot_id) ((increase(bot_restarts_total{job="deia-bot-controller"}[10m]) and bot_restarts_total{job="deia-bot-controller"} offset 10m) or bot_restarts_total{job="deia-bot-controller"}) >= 2',
            }
          : r,
      ),
    }));
    const yml = stringify({ groups: fallback });
    expect(yml).not.toBe(files['prometheus/rules.yml']);
    const out = run(
      CASES.filter((c) => c.alert === 'BotCrashLoop' && c.kind === 'gap'),
      yml,
      'fallback',
    );
    expect(out).toContain('FAILED');
  }, 120_000);

  it('fail against a ratio alert without its min-traffic clause', () => {
    const yml = (files['prometheus/rules.yml'] as string).replace(
      /job:http_request_errors:ratio_rate5m\{job="deia-bot-controller"\} > 0.01\n(\s+)and on \(job\)\n\s+sum by \(job\) \(rate\(http_requests_total\{job="deia-bot-controller"\}\[5m\]\)\) > 0.1/,
      'job:http_request_errors:ratio_rate5m{job="deia-bot-controller"} > 0.01',
    );
    expect(yml).not.toBe(files['prometheus/rules.yml']);
    const out = run(
      CASES.filter((c) => c.alert === 'HighErrorRate' && c.kind === 'low-traffic'),
      yml,
      'traffic',
    );
    expect(out).toContain('FAILED');
  }, 120_000);
});
