// Hand-computed promtool scenarios of the model alerts (src/rules-genai.ts). Every input is a counter
// written out with its per-minute increase; the comment of each case gives the arithmetic of the
// value the alert reads. ops-rules.test.ts checks the firing ones with their rendered annotations,
// ops-alert-edges.test.ts runs them all through the ALERTS series (its meta-test wants fire, quiet,
// threshold-edge, low-traffic and scrape-gap cases for every alert); `restart` cases reset every
// counter to 0 mid-run, as a process restart does.

export const JOB = 'deia-bot-controller';
const base = { job: JOB, instance: 'app:8000' };

type Labels = Record<string, string>;
export type GenAiKind = 'fire' | 'quiet' | 'edge-quiet' | 'edge-fire' | 'low-traffic' | 'gap' | 'restart';
export interface GenAiSeries {
  name: string;
  labels: Labels;
  values: string;
}
export interface GenAiCase {
  alert: string;
  kind: GenAiKind;
  what: string;
  /** Evaluation times (minutes); `fires` is expected at each. */
  at: number[];
  series: GenAiSeries[];
  fires: Array<{ severity: 'critical' | 'warning'; labels: Labels; value: string }>;
}

const MODEL = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'llama3.2:1b' };
const CHAT = { gen_ai_operation_name: 'chat', ...MODEL };
const alertLabels = { job: JOB, ...MODEL };
const s = (name: string, values: string, labels: Labels = {}): GenAiSeries => ({
  name,
  labels: { ...base, ...labels },
  values,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// --- time to first chunk ---------------------------------------------------------------------
const TTFC = 'gen_ai_client_operation_time_to_first_chunk_seconds';
/** First chunks a minute, by bucket: cumulative counts of le 1.28, 2.56, 5.12 and the total. */
const ttfc = (
  le128: number,
  le256: number,
  le512: number,
  n: number,
  values = (x: number) => `0+${x}x40`,
) => [
  s(`${TTFC}_bucket`, values(le128), { ...CHAT, le: '1.28' }),
  s(`${TTFC}_bucket`, values(le256), { ...CHAT, le: '2.56' }),
  s(`${TTFC}_bucket`, values(le512), { ...CHAT, le: '5.12' }),
  s(`${TTFC}_bucket`, values(n), { ...CHAT, le: '+Inf' }),
  s(`${TTFC}_count`, values(n), CHAT),
];
const high = 'ModelTimeToFirstChunkHigh';
const TTFC_HIGH: GenAiCase[] = [
  {
    alert: high,
    kind: 'fire',
    // 60 a minute, 48 within 2.56 s: rank 57 lies 9/12 into (2.56, 5.12] -> 2.56 + 0.75 * 2.56 = 4.48 s.
    what: 'p95 4.48s (20% of first chunks slower than 2.56s)',
    at: [12],
    series: ttfc(30, 48, 60, 60),
    fires: [{ severity: 'warning', labels: alertLabels, value: '4.48s' }],
  },
  {
    alert: high,
    kind: 'edge-quiet',
    // 57 of 60 within 2.56 s: rank 57 is the top of (1.28, 2.56]: p95 = 2.56 s, not above it.
    what: 'exactly 5% slower than 2.56s: p95 is the bound',
    at: [12],
    series: ttfc(30, 57, 60, 60),
    fires: [],
  },
  {
    alert: high,
    kind: 'edge-fire',
    // 56.4 of 60 within 2.56 s: rank 57 lies 0.6/3.6 into (2.56, 5.12] -> 2.56 + 2.56/6 = 2.9867 s.
    what: '6% slower than 2.56s: p95 2.987s',
    at: [12],
    series: ttfc(30, 56.4, 60, 60),
    fires: [{ severity: 'warning', labels: alertLabels, value: '2.987s' }],
  },
  {
    alert: high,
    kind: 'quiet',
    what: 'every first chunk within 1.28s',
    at: [12],
    series: ttfc(60, 60, 60, 60),
    fires: [],
  },
  {
    alert: high,
    kind: 'low-traffic',
    // 3 a minute = 0.05/s, below minRequestRate 0.1/s, although every one took over 2.56 s.
    what: '3 streamed calls a minute, all slower than 2.56s',
    at: [12],
    series: ttfc(0, 0, 3, 3),
    fires: [],
  },
  {
    alert: high,
    kind: 'gap',
    what: 'slow calls, a 12m scrape gap, then the old totals: no new observations',
    at: range(17, 30),
    series: ttfc(0, 0, 60, 60, (x) => `0+${x}x4 _x12 ${4 * x}x20`),
    fires: [],
  },
  {
    alert: high,
    kind: 'restart',
    // Counters restart from 0 at minute 11 and grow as before: rate() counts the reset as new calls.
    what: 'fast calls, every counter reset at 11m',
    at: range(8, 25),
    series: ttfc(60, 60, 60, 60, (x) => `0+${x}x10 0+${x}x20`),
    fires: [],
  },
];

// --- time-to-first-chunk SLO (95% within 1.28 s: budget 5%) ---------------------------------------
const burn = 'ModelTimeToFirstChunkBudgetBurn';
/** `slow` of 60 first chunks a minute above 1.28 s; every window holds the same ratio. */
const slo = (slow: number, n = 60, values = (x: number) => `0+${x}x60`) => [
  s(`${TTFC}_bucket`, values(n - slow), { ...CHAT, le: '1.28' }),
  s(`${TTFC}_bucket`, values(n), { ...CHAT, le: '+Inf' }),
  s(`${TTFC}_count`, values(n), CHAT),
];
const page = (value: string) => ({ severity: 'critical' as const, labels: alertLabels, value });
const ticket = (value: string) => ({ severity: 'warning' as const, labels: alertLabels, value });
const TTFC_BURN: GenAiCase[] = [
  {
    alert: burn,
    kind: 'fire',
    // 30/60 slow = 50%: above 6 x 5% = 30% (6h and 30m: page) and 1 x 5% (3d and 6h: ticket).
    what: '50% of first chunks slower than 1.28s: page and ticket',
    at: [40],
    series: slo(30),
    fires: [page('50%'), ticket('50%')],
  },
  {
    alert: burn,
    kind: 'edge-fire',
    what: '31% slower (just above the 6x page rate, 30%)',
    at: [40],
    series: slo(18.6),
    fires: [page('31%'), ticket('31%')],
  },
  {
    alert: burn,
    kind: 'edge-quiet',
    what: '29% slower: below the 6x page rate, a ticket only',
    at: [40],
    series: slo(17.4),
    fires: [ticket('29%')],
  },
  {
    alert: burn,
    kind: 'edge-fire',
    what: '6% slower: above the 1x ticket rate (5%)',
    at: [40],
    series: slo(3.6),
    fires: [ticket('6%')],
  },
  { alert: burn, kind: 'quiet', what: '4% slower: within budget', at: [40], series: slo(2.4), fires: [] },
  {
    alert: burn,
    kind: 'low-traffic',
    what: '3 streamed calls a minute, all slower than 1.28s',
    at: [40],
    series: slo(3, 3),
    fires: [],
  },
  {
    alert: burn,
    kind: 'gap',
    what: 'all slow, a 20m scrape gap, then the old totals',
    at: range(25, 45),
    series: slo(60, 60, (x) => `0+${x}x4 _x20 ${4 * x}x30`),
    fires: [],
  },
  {
    alert: burn,
    kind: 'restart',
    what: 'all fast, every counter reset at 21m',
    at: range(15, 45),
    series: slo(0, 60, (x) => `0+${x}x20 0+${x}x40`),
    fires: [],
  },
];

// --- errors by error_type ----------------------------------------------------------------------
const errors = 'ModelErrorRate';
const CALLS = 'gen_ai_client_operation_duration_seconds_count';
const errLabels = { ...alertLabels, error_type: 'timeout' };
/** `failed` of `n` calls a minute fail with error_type="timeout"; the rest succeed (error_type empty). */
const calls = (failed: number, n = 60, values = (x: number) => `0+${x}x30`) => [
  s(CALLS, values(failed), { ...CHAT, error_type: 'timeout' }),
  s(CALLS, values(n - failed), CHAT),
];
const ERRORS: GenAiCase[] = [
  {
    alert: errors,
    kind: 'fire',
    what: '30 of 60 calls time out (50%)',
    at: [12],
    series: calls(30),
    fires: [
      { severity: 'warning', labels: errLabels, value: '50%' },
      { severity: 'critical', labels: errLabels, value: '50%' },
    ],
  },
  {
    alert: errors,
    kind: 'fire',
    what: '6 of 60 time out (10%): warning only',
    at: [12],
    series: calls(6),
    fires: [{ severity: 'warning', labels: errLabels, value: '10%' }],
  },
  { alert: errors, kind: 'edge-quiet', what: 'exactly 5% time out', at: [12], series: calls(3), fires: [] },
  {
    alert: errors,
    kind: 'edge-fire',
    what: '6% time out',
    at: [12],
    series: calls(3.6),
    fires: [{ severity: 'warning', labels: errLabels, value: '6%' }],
  },
  {
    alert: errors,
    kind: 'edge-quiet',
    what: 'exactly 25% time out: warning, not critical',
    at: [12],
    series: calls(15),
    fires: [{ severity: 'warning', labels: errLabels, value: '25%' }],
  },
  { alert: errors, kind: 'quiet', what: '1% time out', at: [12], series: calls(0.6), fires: [] },
  {
    alert: errors,
    kind: 'quiet',
    what: '30 of 60 calls cancelled by their clients (error_type="cancelled"), none failing',
    at: [12],
    series: [s(CALLS, '0+30x30', { ...CHAT, error_type: 'cancelled' }), s(CALLS, '0+30x30', CHAT)],
    fires: [],
  },
  {
    alert: errors,
    kind: 'low-traffic',
    what: '3 calls a minute, all failing',
    at: [12],
    series: calls(3, 3),
    fires: [],
  },
  {
    alert: errors,
    kind: 'gap',
    what: 'all failing, a 12m scrape gap, then the old totals',
    at: range(17, 30),
    series: calls(60, 60, (x) => `0+${x}x4 _x12 ${4 * x}x20`),
    fires: [],
  },
  {
    alert: errors,
    kind: 'restart',
    what: '1% failing, every counter reset at 11m',
    at: range(8, 25),
    series: calls(0.6, 60, (x) => `0+${x}x10 0+${x}x20`),
    fires: [],
  },
];

// --- generation rate ---------------------------------------------------------------------------
const slow = 'ModelGenerationSlow';
const TOKENS = 'llm_eval_tokens_total';
const EVAL = 'llm_eval_duration_seconds_total';
/**
 * 40 tokens/s for an hour (1200 tokens in 30 s of generation a minute), then `after` tokens a minute
 * in the same 30 s; 60 calls a minute (`callsPerMinute`). The baseline (6h before the last 30m) of an
 * evaluation at 90m holds only the first hour: 40 tokens/s.
 */
const generation = (after: number, callsPerMinute = 60) => [
  s(TOKENS, `0+1200x60 ${72000 + after}+${after}x40`, { ...MODEL, phase: 'generation' }),
  s(EVAL, '0+30x100', { ...MODEL, phase: 'generation' }),
  s(CALLS, `0+${callsPerMinute}x100`, CHAT),
];
const GENERATION: GenAiCase[] = [
  {
    alert: slow,
    kind: 'fire',
    // 300 tokens in 30 s = 10 tokens/s from 60m on; below 50% of 40 from about 67m, for 10m.
    what: 'from 40 to 10 tokens/s',
    at: [90],
    series: generation(300),
    fires: [{ severity: 'warning', labels: alertLabels, value: '10' }],
  },
  {
    alert: slow,
    kind: 'edge-fire',
    what: 'from 40 to 18 tokens/s (45% of the baseline)',
    at: [90],
    series: generation(540),
    fires: [{ severity: 'warning', labels: alertLabels, value: '18' }],
  },
  {
    alert: slow,
    kind: 'edge-quiet',
    what: 'from 40 to 22 tokens/s (55% of the baseline)',
    at: [90],
    series: generation(660),
    fires: [],
  },
  {
    alert: slow,
    kind: 'quiet',
    what: '40 tokens/s all along',
    at: [90],
    series: generation(1200),
    fires: [],
  },
  {
    alert: slow,
    kind: 'low-traffic',
    what: 'from 40 to 10 tokens/s at 3 calls a minute',
    at: [90],
    series: generation(300, 3),
    fires: [],
  },
  {
    alert: slow,
    kind: 'gap',
    // Back with the old totals: no new tokens and no generation time, 0/0 is no rate at all.
    what: '40 tokens/s for an hour, a 20m scrape gap, then the old totals',
    at: range(81, 100),
    series: [
      s(TOKENS, '0+1200x60 _x20 72000x20', { ...MODEL, phase: 'generation' }),
      s(EVAL, '0+30x60 _x20 1800x20', { ...MODEL, phase: 'generation' }),
      s(CALLS, '0+60x60 _x20 3600x20', CHAT),
    ],
    fires: [],
  },
  {
    alert: slow,
    kind: 'restart',
    what: '40 tokens/s, every counter reset at 61m',
    at: range(61, 100),
    series: [
      s(TOKENS, '0+1200x60 1200+1200x39', { ...MODEL, phase: 'generation' }),
      s(EVAL, '0+30x60 30+30x39', { ...MODEL, phase: 'generation' }),
      s(CALLS, '0+60x60 60+60x39', CHAT),
    ],
    fires: [],
  },
];

// --- cold starts -------------------------------------------------------------------------------
const storm = 'ModelColdStartStorm';
const COLD = 'llm_model_cold_starts_total';
const provider = { job: JOB, gen_ai_provider_name: 'ollama' };
const cold = (values: string) => [s(COLD, values, MODEL)];
const COLD_STARTS: GenAiCase[] = [
  {
    alert: storm,
    kind: 'fire',
    what: '3 loads a minute',
    at: [12],
    series: cold('0+3x20'),
    fires: [{ severity: 'warning', labels: provider, value: '3' }],
  },
  {
    alert: storm,
    kind: 'edge-quiet',
    what: 'exactly 2 loads a minute',
    at: [12],
    series: cold('0+2x20'),
    fires: [],
  },
  {
    alert: storm,
    kind: 'edge-fire',
    what: '2.2 loads a minute',
    at: [12],
    series: cold('0+2.2x20'),
    fires: [{ severity: 'warning', labels: provider, value: '2.2' }],
  },
  { alert: storm, kind: 'quiet', what: '1 load a minute', at: [12], series: cold('0+1x20'), fires: [] },
  {
    alert: storm,
    kind: 'gap',
    what: '5 loads a minute, a 12m scrape gap, then the old total',
    at: range(17, 30),
    series: cold('0+5x4 _x12 20x20'),
    fires: [],
  },
  {
    alert: storm,
    kind: 'restart',
    // 6 loads by 30m, the process restarts and loads its 3 models once: at most 4 loads in 5m (0.8/min).
    what: 'a restart at 31m reloads 3 models',
    at: range(28, 45),
    series: cold('0+0.2x30 3+0.2x20'),
    fires: [],
  },
];

/** Every hand-computed scenario of the model alerts. */
export const GENAI_CASES: GenAiCase[] = [
  ...TTFC_HIGH,
  ...TTFC_BURN,
  ...ERRORS,
  ...GENERATION,
  ...COLD_STARTS,
];

/** Model alerts without a min-traffic clause, and why (alert-scenarios.ts NO_TRAFFIC). */
export const GENAI_NO_TRAFFIC: Readonly<Record<string, string>> = {
  [storm]: 'a count of model loads a minute, not a ratio of calls',
};

const text = (x: GenAiSeries) =>
  `${x.name}{${Object.entries(x.labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** The cases as promtool input series. */
export const inputSeries = (c: GenAiCase) => c.series.map((x) => ({ series: text(x), values: x.values }));
