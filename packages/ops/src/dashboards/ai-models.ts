import { genAiRecordNames } from '../rules-genai.js';
import type { DashboardSpec, PanelContext } from './builder.js';

type Row = DashboardSpec['rows'][number];

const TTFC = 'gen_ai_client_operation_time_to_first_chunk_seconds';
const CHUNK = 'gen_ai_client_operation_time_per_output_chunk_seconds';
const CALLS = 'gen_ai_client_operation_duration_seconds';
const USAGE = 'gen_ai_client_token_usage';
const MODEL = 'gen_ai_request_model';
const BY_MODEL = `gen_ai_provider_name, ${MODEL}`;

/**
 * The AI model dashboard of the operations guide ("AI Model Performance": response times by
 * provider, token usage and costs, availability and errors), on issue 22's `gen_ai_*` and `llm_*`
 * series: time to first chunk and per-chunk latency by model, generation rate, tokens and cost, errors
 * by type, cold starts and resident models. Its thresholds are the model alerts' own.
 */
export function aiModelsDashboard(c: PanelContext): DashboardSpec {
  return {
    file: 'ai-models.json',
    uid: c.uid('ai-models'),
    title: 'DEIA / AI Models',
    rows: [availabilityRow(c), responseTimesRow(c), throughputRow(c), residentModelsRow(c)],
  };
}

/** The model backend's health check, calls per second, error ratio by type and availability. */
function availabilityRow(c: PanelContext): Row {
  const { o, t, m, rate } = c;
  return {
    id: 1,
    title: 'Availability and errors',
    panels: [
      {
        id: 2,
        title: 'Model backend health check',
        kind: 'timeseries',
        unit: 'short',
        min: 0,
        max: 1,
        queries: [
          {
            expr: `min by (check) (${m('health_check_up', `check=~"${o.checks.llm}"`)})`,
            legend: '{{check}}',
          },
        ],
        description: 'OllamaDown pages when it is 0 for its for:, and inhibits every model alert meanwhile.',
      },
      {
        id: 3,
        title: 'Model calls per second',
        kind: 'timeseries',
        unit: 'reqps',
        queries: [
          {
            expr: rate(`${CALLS}_count`, `${BY_MODEL}, gen_ai_operation_name`),
            legend: '{{gen_ai_request_model}} {{gen_ai_operation_name}}',
          },
        ],
      },
      {
        id: 4,
        title: 'Error ratio by type',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: `sum by (${BY_MODEL}, error_type) (rate(${m(`${CALLS}_count`, 'error_type!=""')}[$__rate_interval]))\n/ on (${BY_MODEL}) group_left\nsum by (${BY_MODEL}) (rate(${m(`${CALLS}_count`)}[$__rate_interval]))`,
            legend: '{{gen_ai_request_model}} {{error_type}}',
          },
        ],
        thresholds: { warning: t.modelErrorRatioWarning, critical: t.modelErrorRatioCritical },
        description: 'ModelErrorRate alerts per model and error_type.',
      },
      {
        id: 5,
        title: 'Availability (successful calls)',
        kind: 'stat',
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - (sum(rate(${m(`${CALLS}_count`, 'error_type!="",error_type!="cancelled"')}[$__range])) or vector(0)) / sum(rate(${m(`${CALLS}_count`)}[$__range]))`,
          },
        ],
        description: 'Share of model calls that did not fail over the time range shown.',
      },
    ],
  };
}

/** Time to first chunk (and its SLO), time per output chunk, call duration by operation. */
function responseTimesRow(c: PanelContext): Row {
  const { o, t, q, rec } = c;
  const rn = genAiRecordNames(o.prefix);
  const perModel = (name: string) =>
    [0.5, 0.95, 0.99].map((quant) => ({
      expr: q(quant, name, `${MODEL}, `),
      legend: `p${Math.round(quant * 100)} {{${MODEL}}}`,
    }));
  return {
    id: 6,
    title: 'Response times',
    panels: [
      {
        id: 7,
        title: 'Time to first chunk',
        kind: 'timeseries',
        unit: 's',
        queries: perModel(TTFC),
        thresholds: { warning: t.ttfcP95 },
        description: 'ModelTimeToFirstChunkHigh alerts on the p95 by model.',
      },
      {
        id: 8,
        title: 'First chunks slower than the SLO',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          { expr: rec(rn.slowRatio('5m')), legend: '5m {{gen_ai_request_model}}' },
          { expr: rec(rn.slowRatio('1h')), legend: '1h {{gen_ai_request_model}}' },
        ],
        thresholds: { warning: Number((1 - o.ttfcSlo.target).toPrecision(6)) },
        description: `Share of streamed calls whose first chunk took more than ${o.ttfcSlo.thresholdSeconds}s (ttfcSlo); the budget is ${Math.round((1 - o.ttfcSlo.target) * 1000) / 10}%. ModelTimeToFirstChunkBudgetBurn alerts on its burn rate.`,
      },
      {
        id: 9,
        title: 'Time per output chunk',
        kind: 'timeseries',
        unit: 's',
        queries: perModel(CHUNK),
      },
      {
        id: 10,
        title: 'Call duration p95 by operation',
        kind: 'timeseries',
        unit: 's',
        queries: [
          {
            expr: q(0.95, CALLS, `${MODEL}, gen_ai_operation_name, `),
            legend: '{{gen_ai_request_model}} {{gen_ai_operation_name}}',
          },
        ],
      },
    ],
  };
}

/** Generation rate, tokens by type and per call, estimated cost. */
function throughputRow(c: PanelContext): Row {
  const { t, m, q, rate } = c;
  const gen = 'phase="generation"';
  const tokensPerSecond = (phase: string) =>
    `sum by (${BY_MODEL}) (rate(${m('llm_eval_tokens_total', phase)}[$__rate_interval]))\n/\nsum by (${BY_MODEL}) (rate(${m('llm_eval_duration_seconds_total', phase)}[$__rate_interval]))`;
  return {
    id: 11,
    title: 'Throughput, tokens and cost',
    panels: [
      {
        id: 12,
        title: 'Generation rate (tokens/s)',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          { expr: tokensPerSecond(gen), legend: 'generation {{gen_ai_request_model}}' },
          { expr: tokensPerSecond('phase="prompt"'), legend: 'prompt {{gen_ai_request_model}}' },
        ],
        ...(t.generationRateFloor > 0
          ? { thresholds: { warning: t.generationRateFloor, lowerIsWorse: true } }
          : {}),
        description:
          'Tokens per second of evaluation time (Ollama eval_count / eval_duration). ModelGenerationSlow alerts when generation falls below its own baseline.',
      },
      {
        id: 13,
        title: 'Tokens per second by type',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: rate(`${USAGE}_sum`, `${MODEL}, gen_ai_token_type`),
            legend: '{{gen_ai_request_model}} {{gen_ai_token_type}}',
          },
        ],
      },
      {
        id: 14,
        title: 'Tokens per call p95',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: q(0.95, USAGE, `${MODEL}, gen_ai_token_type, `),
            legend: '{{gen_ai_request_model}} {{gen_ai_token_type}}',
          },
        ],
      },
      {
        id: 15,
        title: 'Estimated cost per hour',
        kind: 'timeseries',
        unit: 'currencyUSD',
        queries: [
          {
            expr: `${rate('llm_request_cost_usd_total', MODEL)} * 3600`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
        description:
          'llm_request_cost_usd_total: the price per token configured in the application, when it was recorded.',
      },
    ],
  };
}

/** Cold starts, model load time, resident models, their memory and time until unload. */
function residentModelsRow(c: PanelContext): Row {
  const { t, m, q, rate } = c;
  return {
    id: 16,
    title: 'Cold starts and resident models',
    panels: [
      {
        id: 17,
        title: 'Cold starts per minute',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: `${rate('llm_model_cold_starts_total', BY_MODEL)} * 60`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
        thresholds: { warning: t.coldStartsPerMinute },
        description: 'ModelColdStartStorm alerts on the sum per provider.',
      },
      {
        id: 18,
        title: 'Model load time p95',
        kind: 'timeseries',
        unit: 's',
        queries: [
          {
            expr: q(0.95, 'llm_model_load_duration_seconds', `${MODEL}, `),
            legend: '{{gen_ai_request_model}}',
          },
        ],
      },
      {
        id: 19,
        title: 'Resident models',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: `max by (${BY_MODEL}) (${m('llm_model_resident')})`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
        description: 'From Ollama /api/ps, as every instance of the job reads it (max over instances).',
      },
      {
        id: 20,
        title: 'Resident model memory',
        kind: 'timeseries',
        unit: 'bytes',
        queries: [
          {
            expr: `max by (${BY_MODEL}, memory) (${m('llm_model_memory_bytes')})`,
            legend: '{{gen_ai_request_model}} {{memory}}',
          },
        ],
        description: 'vram below total: the model is partly run on the CPU (slower generation).',
      },
      {
        id: 21,
        title: 'Seconds until unload',
        kind: 'timeseries',
        unit: 's',
        queries: [
          {
            expr: `min by (${BY_MODEL}) (${m('llm_model_expires_in_seconds')})`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
      },
    ],
  };
}
