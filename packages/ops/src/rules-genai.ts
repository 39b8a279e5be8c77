import { formatThreshold, type RuleContext, round } from './rule-context.js';
import { BURN_RATES, SLO_WINDOWS } from './rules-http.js';
import type { AlertRule, RecordingRule } from './types.js';

const TTFC = 'gen_ai_client_operation_time_to_first_chunk_seconds';
const CALLS = 'gen_ai_client_operation_duration_seconds';
const TOKENS = 'llm_eval_tokens_total';
const EVAL = 'llm_eval_duration_seconds_total';
const COLD = 'llm_model_cold_starts_total';

/** Window of the current generation rate, and the baseline it is compared with (before the last 30m). */
export const GENERATION_WINDOW = '10m';
export const GENERATION_BASELINE = { window: '6h', offset: '30m' } as const;

/** Names of the model recording rules (with the prefix before the metric part). */
export function genAiRecordNames(p: string) {
  return {
    chunks: `job_model:${p}gen_ai_first_chunks:rate5m`,
    fastChunks: `job_model:${p}gen_ai_first_chunks_within_slo:rate5m`,
    slowRatio: (w: string) => `job_model:${p}gen_ai_first_chunk_slow:ratio_rate${w}`,
    genTokens: `job_model:${p}llm_generation_tokens:rate5m`,
    genSeconds: `job_model:${p}llm_generation_seconds:rate5m`,
  };
}

/**
 * Rules of the model calls (issue 22's `gen_ai_*` and `llm_*` series): time to first chunk (a p95
 * alert and a multi-window burn-rate SLO), errors by `error_type`, the generation rate against its
 * own baseline (or a floor) and cold-start storms. Each part exists only when its series are
 * registered. Every alert is a symptom of OllamaDown (causes.ts).
 */
export function genAiRules(x: RuleContext): { recording: RecordingRule[]; alerts: AlertRule[] } {
  const { c } = x;
  const recording: RecordingRule[] = [];
  const alerts: AlertRule[] = [];
  if (c.has(TTFC)) ttfcRules(x, recording, alerts);
  if (c.has(CALLS)) alerts.push(...errorRules(x));
  if (c.has(TOKENS) && c.has(EVAL) && c.has(CALLS)) generationRules(x, recording, alerts);
  if (c.has(COLD)) alerts.push(coldStartRule(x));
  return { recording, alerts };
}

function ttfcRules(x: RuleContext, recording: RecordingRule[], alerts: AlertRule[]): void {
  const { o, t, c, v } = x;
  x.bound(TTFC, t.ttfcP95, 'thresholds.ttfcP95', true);
  x.bound(TTFC, o.ttfcSlo.thresholdSeconds, 'ttfcSlo.thresholdSeconds', false);
  const by = c.by(TTFC, 'gen_ai_provider_name', 'gen_ai_request_model');
  const count = c.m(`${TTFC}_count`);
  // first chunks within the SLO per second: a bucket bound's rate, or histogram_fraction on native
  const fast = x.within(TTFC, by, o.ttfcSlo.thresholdSeconds);
  const rec = genAiRecordNames(o.prefix);
  const long = SLO_WINDOWS.filter((w) => w !== '5m');
  recording.push(
    { record: rec.chunks, expr: `sum by (${by}) (rate(${count}[5m]))` },
    { record: rec.fastChunks, expr: fast },
    {
      record: rec.slowRatio('5m'),
      expr: `1 - (\n  ${fast.replace(/\n/g, '\n  ')}\n  /\n  sum by (${by}) (rate(${count}[5m]))\n)`,
    },
    ...long.map((w) => ({
      record: rec.slowRatio(w),
      expr: `1 - (\n  sum_over_time(${x.rec(rec.fastChunks)}[${w}])\n  /\n  sum_over_time(${x.rec(rec.chunks)}[${w}])\n)`,
    })),
  );
  const model = '{{ $labels.gen_ai_request_model }} ({{ $labels.gen_ai_provider_name }})';
  alerts.push(
    x.alert(
      'ModelTimeToFirstChunkHigh',
      'warning',
      o.for.ttfcP95,
      `${x.quantile(0.95, TTFC, by)} > ${t.ttfcP95}${x.enough(by, count)}`,
      `Streamed answers of model ${model} start slowly`,
      `p95 time to first chunk of model ${model} is ${v.duration} over the last 5m (threshold ${formatThreshold(t.ttfcP95, 'duration')}).`,
    ),
  );
  const budget = 1 - o.ttfcSlo.target;
  const guard = x.enough(by, count).replace(/\n/g, ' ');
  const ratio = (w: string) => x.rec(rec.slowRatio(w));
  const cond = (r: (typeof BURN_RATES)[number]) =>
    `(${ratio(r.long)} > ${round(r.factor * budget)} and ${ratio(r.short)} > ${round(r.factor * budget)}${guard})`;
  const pct = formatThreshold(o.ttfcSlo.target, 'percent');
  const within = formatThreshold(o.ttfcSlo.thresholdSeconds, 'duration');
  for (const severity of ['critical', 'warning'] as const) {
    const rates = BURN_RATES.filter((r) => r.severity === severity);
    const explain = rates.map((r) => `${r.factor}x over ${r.long} and ${r.short}`).join(', or ');
    alerts.push(
      x.alert(
        'ModelTimeToFirstChunkBudgetBurn',
        severity,
        o.for[severity === 'critical' ? 'sloPage' : 'sloTicket'],
        rates.map(cond).join('\nor\n'),
        `Model ${model} is burning its ${pct} time-to-first-chunk budget ${severity === 'critical' ? 'fast' : 'steadily'}`,
        `${v.percent} of streamed calls to ${model} waited more than ${within} for their first chunk over the long window; burn rate above ${explain} (budget ${formatThreshold(budget, 'percent')}).`,
      ),
    );
  }
}

function errorRules(x: RuleContext): AlertRule[] {
  const { c, v } = x;
  const byModel = c.by(CALLS, 'gen_ai_provider_name', 'gen_ai_request_model');
  const byType = c.by(CALLS, 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type');
  const calls = c.m(`${CALLS}_count`);
  // A client that leaves mid-answer is recorded as error_type="cancelled": not the model's failure.
  const failed = c.m(`${CALLS}_count`, 'error_type!="",error_type!="cancelled"');
  return x.pair(
    'ModelErrorRate',
    'modelErrorRatio',
    'percent',
    (th) =>
      `sum by (${byType}) (rate(${failed}[5m]))\n/ on (${byModel}) group_left\nsum by (${byModel}) (rate(${calls}[5m]))\n> ${th}${x.enough(byModel, calls)}`,
    'Calls to model {{ $labels.gen_ai_request_model }} fail with {{ $labels.error_type }}',
    (th) =>
      `${v.percent} of calls to model {{ $labels.gen_ai_request_model }} ({{ $labels.gen_ai_provider_name }}) failed with error type {{ $labels.error_type }} over the last 5m (threshold ${th}).`,
  );
}

function generationRules(x: RuleContext, recording: RecordingRule[], alerts: AlertRule[]): void {
  const { o, t, c, v } = x;
  const by = c.by(TOKENS, 'gen_ai_provider_name', 'gen_ai_request_model');
  const rec = genAiRecordNames(o.prefix);
  const gen = 'phase="generation"';
  recording.push(
    { record: rec.genTokens, expr: `sum by (${by}) (rate(${c.m(TOKENS, gen)}[5m]))` },
    { record: rec.genSeconds, expr: `sum by (${by}) (rate(${c.m(EVAL, gen)}[5m]))` },
  );
  const over = (w: string) =>
    `sum_over_time(${x.rec(rec.genTokens)}[${w}])\n  /\n  sum_over_time(${x.rec(rec.genSeconds)}[${w}])`;
  const current = over(GENERATION_WINDOW);
  const { window, offset } = GENERATION_BASELINE;
  const baseline = over(window).replace(/\]/g, `] offset ${offset}`);
  const conds: string[] = [];
  const says: string[] = [];
  if (t.generationRateDrop > 0) {
    conds.push(`(\n  ${current}\n)\n< ${t.generationRateDrop} * (\n  ${baseline}\n)`);
    says.push(
      `below ${formatThreshold(t.generationRateDrop, 'percent')} of its rate in the ${window} before the last ${offset}`,
    );
  }
  if (t.generationRateFloor > 0) {
    conds.push(`(\n  ${current}\n)\n< ${t.generationRateFloor}`);
    says.push(`below ${t.generationRateFloor} tokens/s`);
  }
  if (conds.length === 0) return;
  const calls = c.m(`${CALLS}_count`);
  const byCalls = c.by(CALLS, 'gen_ai_provider_name', 'gen_ai_request_model');
  alerts.push(
    x.alert(
      'ModelGenerationSlow',
      'warning',
      o.for.generationRate,
      `(\n${conds.join('\nor\n')}\n)${x.enough(byCalls, calls)}`,
      'Model {{ $labels.gen_ai_request_model }} generates tokens slowly',
      `Model {{ $labels.gen_ai_request_model }} ({{ $labels.gen_ai_provider_name }}) generates ${v.number} tokens/s over the last ${GENERATION_WINDOW}: ${says.join(', or ')}.`,
    ),
  );
}

function coldStartRule(x: RuleContext): AlertRule {
  const { o, t, c, v } = x;
  const by = c.by(COLD, 'gen_ai_provider_name');
  // Per minute, rounded to 0.001 so exactly the threshold is not above it (as WebSocketDisconnectSpike).
  return x.alert(
    'ModelColdStartStorm',
    'warning',
    o.for.coldStarts,
    `round(sum by (${by}) (rate(${c.m(COLD)}[5m])) * 60, 0.001) > ${t.coldStartsPerMinute}`,
    'Models of {{ $labels.gen_ai_provider_name }} keep being loaded (cold starts)',
    `{{ $labels.gen_ai_provider_name }} loads ${v.number} models per minute over the last 5m (threshold ${t.coldStartsPerMinute}): models are evicted and reloaded instead of staying resident.`,
  );
}
