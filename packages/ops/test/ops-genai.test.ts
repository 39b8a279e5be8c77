// The model alerts (src/rules-genai.ts) beyond the shared case tables: one incident is one page
// (OllamaDown inhibits every model alert; the retired llm_request_* alerts are gone, so an outage
// cannot page through old and new alerts), thresholds must be bucket bounds, the generation-rate
// floor, and the hand-computed scenarios of genai-scenarios.ts fail against rules that lose their
// min-traffic clause.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { alertRules, generateOps, type OpsOptions } from '../src/index.js';
import { resolveOpsOptions } from '../src/resolve-options.js';
import { buildRuleGroups } from '../src/rules.js';
import { GENAI_CASES, type GenAiCase, inputSeries } from './genai-scenarios.js';
import { expectOpsError } from './ops-error.js';
import { runPromtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-genai-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL_ALERTS = [
  'ModelErrorRate',
  'ModelTimeToFirstChunkHigh',
  'ModelTimeToFirstChunkBudgetBurn',
  'ModelGenerationSlow',
  'ModelColdStartStorm',
];

/** promtool `test rules` of `cases` against `rulesYml`: its output. */
function promtool(name: string, rulesYml: string, cases: GenAiCase[]): string {
  writeFileSync(join(dir, `${name}.rules.yml`), rulesYml);
  const tests = cases.map((c) => ({
    name: `${c.alert}: ${c.what} [${c.kind}]`,
    interval: '1m',
    input_series: inputSeries(c),
    promql_expr_test: c.at.map((m) => ({
      expr: `ALERTS{alertname="${c.alert}",alertstate="firing"}`,
      eval_time: `${m}m`,
      exp_samples: c.fires.map((f) => ({
        labels: `ALERTS{${Object.entries({
          alertname: c.alert,
          alertstate: 'firing',
          ...f.labels,
          severity: f.severity,
        })
          .map(([k, v]) => `${k}="${v}"`)
          .join(',')}}`,
        value: 1,
      })),
    })),
  }));
  writeFileSync(
    join(dir, `${name}.test.yml`),
    stringify({ rule_files: [`${name}.rules.yml`], evaluation_interval: '1m', tests }, { lineWidth: 0 }),
  );
  return runPromtool(dir, ['test', 'rules', `${name}.test.yml`]).out;
}

describe('model alerts: one incident, one page', () => {
  const { files, groups } = generateOps({});
  const names = new Set(alertRules(groups).map((r) => r.alert));

  it('replace OllamaLatencyHigh and OllamaErrorRate, and read no deprecated llm_request_* series', () => {
    for (const a of [...MODEL_ALERTS, 'OllamaDown']) expect(names, a).toContain(a);
    expect(names).not.toContain('OllamaLatencyHigh');
    expect(names).not.toContain('OllamaErrorRate');
    expect(files['prometheus/rules.yml']).not.toMatch(/llm_request_(duration_seconds|errors_total)/);
  });

  it('are all inhibited by OllamaDown within the job', () => {
    const am = parse(files['alertmanager/alertmanager.yml'] as string) as {
      inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>;
    };
    const down = am.inhibit_rules.filter((r) => r.source_matchers.includes('alertname="OllamaDown"'));
    expect(down.map((r) => r.source_matchers[1])).toEqual(['severity="critical"']);
    const targets = (/alertname=~"(.*)"/.exec(down[0]?.target_matchers[0] ?? '')?.[1] ?? '').split('|');
    for (const a of [...MODEL_ALERTS, 'HighErrorRate', 'QueueBacklog']) expect(targets, a).toContain(a);
    expect(down[0]?.equal).toEqual(['job']);
    // A storm of cold starts explains slow first chunks and slow generation (warnings).
    const storm = am.inhibit_rules.find((r) => r.source_matchers.includes('alertname="ModelColdStartStorm"'));
    expect(storm?.target_matchers[0]).toMatch(/ModelTimeToFirstChunkHigh/);
    expect(storm?.target_matchers[1]).toBe('severity=~"warning|info"');
  });

  it('check the LLM health check named by checks.llm', () => {
    const rule = alertRules(generateOps({ checks: { llm: 'ai-backend' } }).groups).find(
      (r) => r.alert === 'OllamaDown',
    );
    expect(rule?.expr).toBe('health_check_up{job="deia-bot-controller",check=~"ai-backend"} == 0');
  });
});

describe('model alert options', () => {
  it.each([
    [{ thresholds: { ttfcP95: 3 } }, /thresholds\.ttfcP95 \(3\) is not a bucket bound/],
    [{ thresholds: { ttfcP95: 81.92 } }, /thresholds\.ttfcP95 \(81\.92\) is not a bucket bound/],
    [{ ttfcSlo: { thresholdSeconds: 0.3 } }, /ttfcSlo\.thresholdSeconds \(0\.3\) is not a bucket bound/],
    [{ ttfcSlo: { target: 0.9 } }, /ttfcSlo\.target 0\.9 leaves an error budget too large/],
    [{ ttfcSlo: { treshold: 1 } }, /ttfcSlo: unknown option "treshold"/],
    [{ thresholds: { generationRateDrop: 1 } }, /generationRateDrop must be below 1/],
    [
      { thresholds: { modelErrorRatioWarning: 0.3 } },
      /modelErrorRatioWarning \(0\.3\) must be below thresholds\.modelErrorRatioCritical/,
    ],
  ] as Array<[OpsOptions, RegExp]>)('reject %j with a coded error', (options, message) => {
    expectOpsError(() => buildRuleGroups(resolveOpsOptions(options)), 'DEIA_OPS_OPTIONS', message);
  });

  it('leave ModelGenerationSlow out when both the drop and the floor are off', () => {
    const rules = alertRules(generateOps({ thresholds: { generationRateDrop: 0 } }).groups);
    expect(rules.map((r) => r.alert)).not.toContain('ModelGenerationSlow');
  });

  it('fire on the floor alone: 10 tokens/s under a 15 tokens/s floor, quiet at 20 (promtool)', () => {
    const options: OpsOptions = { thresholds: { generationRateDrop: 0, generationRateFloor: 15 } };
    const yml = generateOps(options).files['prometheus/rules.yml'] as string;
    const labels = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'm' };
    const at = (tokensPerMinute: number, fires: boolean): GenAiCase => ({
      alert: 'ModelGenerationSlow',
      kind: fires ? 'fire' : 'quiet',
      // tokensPerMinute in 30 s of generation a minute: tokensPerMinute / 30 tokens/s, steady from the start.
      what: `${tokensPerMinute / 30} tokens/s`,
      at: [30],
      series: [
        {
          name: 'llm_eval_tokens_total',
          labels: { job: 'deia-bot-controller', instance: 'a:1', ...labels, phase: 'generation' },
          values: `0+${tokensPerMinute}x40`,
        },
        {
          name: 'llm_eval_duration_seconds_total',
          labels: { job: 'deia-bot-controller', instance: 'a:1', ...labels, phase: 'generation' },
          values: '0+30x40',
        },
        {
          name: 'gen_ai_client_operation_duration_seconds_count',
          labels: { job: 'deia-bot-controller', instance: 'a:1', ...labels, gen_ai_operation_name: 'chat' },
          values: '0+60x40',
        },
      ],
      fires: fires
        ? [{ severity: 'warning', labels: { job: 'deia-bot-controller', ...labels }, value: '10' }]
        : [],
    });
    const out = promtool('floor', yml, [at(300, true), at(600, false)]);
    expect(out).toContain('SUCCESS');
  }, 120_000);
});

describe('the hand-computed scenarios can fail', () => {
  it('against model alerts without their min-traffic clause', () => {
    const yml = generateOps({}).files['prometheus/rules.yml'] as string;
    // Drop every "and on (...) sum by (...) (rate(...)) > 0.1" clause of the model alerts.
    const loose = yml.replace(
      /\n\s+and on \(job, gen_ai_provider_name, gen_ai_request_model\)\n\s+sum by \(job, gen_ai_provider_name, gen_ai_request_model\) \(rate\([^\n]*\)\) > 0\.1/g,
      '',
    );
    expect(loose).not.toBe(yml);
    const low = GENAI_CASES.filter(
      (c) => c.kind === 'low-traffic' && ['ModelErrorRate', 'ModelTimeToFirstChunkHigh'].includes(c.alert),
    );
    expect(low).toHaveLength(2);
    const out = promtool('loose', loose, low);
    expect(out).toContain('FAILED');
    // promtool names the failing expression, not the test: both alerts fired on 3 calls a minute.
    expect(out).toMatch(/got: \{[^\n]*alertname="ModelErrorRate"/);
    expect(out).toMatch(/got: \{[^\n]*alertname="ModelTimeToFirstChunkHigh"/);
  }, 120_000);

  it('against a generation alert that compares with a fixed rate instead of its baseline', () => {
    const yml = generateOps({}).files['prometheus/rules.yml'] as string;
    // A model that always generated 10 tokens/s is not slow: only a drop from its own rate is.
    const steady: GenAiCase = {
      alert: 'ModelGenerationSlow',
      kind: 'quiet',
      what: 'always 10 tokens/s',
      at: [90],
      series: [
        {
          name: 'llm_eval_tokens_total',
          labels: {
            job: 'deia-bot-controller',
            instance: 'a:1',
            gen_ai_provider_name: 'ollama',
            gen_ai_request_model: 'm',
            phase: 'generation',
          },
          values: '0+300x100',
        },
        {
          name: 'llm_eval_duration_seconds_total',
          labels: {
            job: 'deia-bot-controller',
            instance: 'a:1',
            gen_ai_provider_name: 'ollama',
            gen_ai_request_model: 'm',
            phase: 'generation',
          },
          values: '0+30x100',
        },
        {
          name: 'gen_ai_client_operation_duration_seconds_count',
          labels: {
            job: 'deia-bot-controller',
            instance: 'a:1',
            gen_ai_provider_name: 'ollama',
            gen_ai_request_model: 'm',
            gen_ai_operation_name: 'chat',
          },
          values: '0+60x100',
        },
      ],
      fires: [],
    };
    expect(promtool('steady', yml, [steady])).toContain('SUCCESS');
    const fixed = yml.replace(/< 0\.5 \* \(\n(?:.*\n){3}\s*\)/, '< 20');
    expect(fixed).not.toBe(yml);
    expect(promtool('fixed', fixed, [steady])).toContain('FAILED');
  }, 120_000);
});
