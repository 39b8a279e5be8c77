import type { MetricAlert, MetricDefinition } from '@deia/metrics';
import { DeiaOpsError } from './errors.js';
import { formatDuration, parseDuration } from './options.js';
import { formatThreshold, type RuleContext, type Unit } from './rule-context.js';
import { requireBucketBound, scaleWindows } from './rule-helpers.js';
import type { AlertRule, ResolvedOpsOptions } from './types.js';

const unitOf = (def: MetricDefinition, over: MetricAlert['over']): Unit => {
  if (over === 'increase' || over === 'rate') return 'number';
  if (def.unit === 'seconds') return 'duration';
  if (def.unit === 'bytes') return 'bytes';
  if (def.unit === 'ratio') return 'percent';
  return 'number';
};

/** The alert specs of the extra metrics, each with its definition. */
export function extraAlertSpecs(o: ResolvedOpsOptions): Array<{ def: MetricDefinition; a: MetricAlert }> {
  return o.extraMetrics.flatMap((def) =>
    (def.alerts ?? []).map((a) => ({
      def: o.buckets[def.name] ? { ...def, buckets: o.buckets[def.name] } : def,
      a,
    })),
  );
}

/** What an extra alert compares, before the threshold (`sum by (...) (increase(x[5m]))`). */
function valueExpr(
  x: RuleContext,
  def: MetricDefinition,
  a: MetricAlert,
): { value: string; by: string; guard: string } {
  const { c } = x;
  const by = c.by(def.name, ...(a.by ?? []));
  const w = a.window ?? '5m';
  if (a.over === 'increase')
    return { value: `sum by (${by}) (increase(${c.m(def.name)}[${w}]))`, by, guard: '' };
  if (a.over === 'rate') return { value: `sum by (${by}) (rate(${c.m(def.name)}[${w}]))`, by, guard: '' };
  if (a.over === 'value')
    return { value: `${a.below ? 'min' : 'max'} by (${by}) (${c.m(def.name)})`, by, guard: '' };
  return {
    value: x.quantile(a.quantile ?? 0.95, def.name, by, w),
    by,
    guard: x.enough(by, c.m(`${def.name}_count`), w),
  };
}

/** Alert rules of the `alerts` specs of `extraMetrics` (group `deia.alerts.extra`). */
export function extraRules(x: RuleContext): AlertRule[] {
  const { o, v } = x;
  return extraAlertSpecs(o).map(({ def, a }) => {
    if (!x.c.has(def.name))
      throw new DeiaOpsError('DEIA_OPS_OPTIONS', `extraMetrics: ${def.name} is not registered.`);
    if (a.over === 'quantile' && !x.c.native(def.name))
      requireBucketBound(
        def.name,
        a.threshold,
        `extraMetrics ${def.name} alert ${a.name} threshold`,
        true,
        def.buckets,
      );
    const { value, guard } = valueExpr(x, def, a);
    const unit = unitOf(def, a.over);
    const th = formatThreshold(a.threshold, unit);
    const what = {
      increase: `increase of ${o.prefix}${def.name} over ${a.window ?? '5m'}`,
      rate: `rate of ${o.prefix}${def.name} per second over ${a.window ?? '5m'}`,
      value: `${o.prefix}${def.name}`,
      quantile: `p${Math.round((a.quantile ?? 0.95) * 1000) / 10} of ${o.prefix}${def.name} over ${a.window ?? '5m'}`,
    }[a.over];
    const objects = (a.by ?? []).map((l) => `${l} {{ $labels.${l} }}`).join(', ');
    const f = formatDuration(parseDuration(a.for ?? '5m') * o.forScale);
    return x.alert(
      a.name,
      a.severity ?? 'warning',
      f,
      `${value} ${a.below ? '<' : '>'} ${a.threshold}${guard}`,
      a.summary ??
        `${def.help.replace(/\.$/, '')}: ${a.below ? 'below' : 'above'} ${th} on {{ $labels.job }}${objects ? ` (${objects})` : ''}`,
      `The ${what} is ${v[unit]} (threshold: ${a.below ? 'below' : 'above'} ${th}).`,
    );
  });
}

interface TestCase {
  name: string;
  interval: string;
  input_series: Array<{ series: string; values: string }>;
  promql_expr_test: Array<{
    expr: string;
    eval_time: string;
    exp_samples: Array<{ labels: string; value: number }>;
  }>;
}

type Mode = 'steady' | 'gap' | 'lowTraffic';
type Spec = ReturnType<typeof extraAlertSpecs>[number];

/** A series in promtool's input notation: `name{label="value",...}`, labels sorted. */
const text = (series: string, l: Record<string, string>) =>
  `${series}{${Object.entries(l)
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** The specs of one alert that fire at `level` (for a quantile: built around `bound`). */
function firing(group: Spec[], level: number, bound: number): Spec[] {
  const a0 = (group[0] as Spec).a;
  const q = a0.quantile ?? 0.95;
  return group.filter((g) => {
    if (a0.over !== 'quantile') return g.a.below ? level < g.a.threshold : level > g.a.threshold;
    const share = g.a.threshold < bound ? 1 : g.a.threshold === bound ? level : 0;
    return share > 1 - q;
  });
}

/** One promtool test of an alert: the input at `level` (in `mode`; for a quantile around `bound`). */
interface TestCaseSpec {
  what: string;
  level: number;
  mode: Mode;
  bound: number;
}

/**
 * The tests of one alert's specs (its severities), `w` its scaled window in seconds: per severity,
 * fires well past the threshold, quiet exactly at it, fires just past it; then quiet below every
 * threshold (or under minRequestRate) and after a scrape gap.
 */
function testCases(group: Spec[], w: number): TestCaseSpec[] {
  const a0 = (group[0] as Spec).a;
  const q = a0.quantile ?? 0.95;
  const ths = group.map((g) => g.a.threshold);
  const cases: TestCaseSpec[] = [];
  for (const { a } of group) {
    const th = a.threshold;
    const sev = a.severity ?? 'warning';
    if (a.over === 'quantile') {
      const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
      cases.push({
        what: `${sev}: fires when ${pct(2 * (1 - q))} are slower than ${th}`,
        level: Math.min(1, 2 * (1 - q)),
        mode: 'steady',
        bound: th,
      });
      cases.push({
        what: `${sev}: quiet when exactly ${pct(1 - q)} are slower (the quantile is the bound)`,
        level: 1 - q,
        mode: 'steady',
        bound: th,
      });
      cases.push({
        what: `${sev}: fires when ${pct(1 - q + 0.01)} are slower`,
        level: 1 - q + 0.01,
        mode: 'steady',
        bound: th,
      });
      cases.push({
        what: `${sev}: quiet when every observation is within the bound`,
        level: 0,
        mode: 'steady',
        bound: th,
      });
    } else {
      const far = a.below ? th - Math.max(Math.abs(th), 1) : th + Math.max(Math.abs(th), 1);
      const near = a.over === 'increase' ? 1 : a.over === 'rate' ? 1 / w : Math.max(Math.abs(th), 1) * 1e-3;
      cases.push({ what: `${sev}: fires at ${far}`, level: far, mode: 'steady', bound: th });
      cases.push({
        what: `${sev}: quiet exactly at the threshold ${th}`,
        level: th,
        mode: 'steady',
        bound: th,
      });
      cases.push({
        what: `${sev}: fires just ${a.below ? 'below' : 'above'} ${th}`,
        level: a.below ? th - near : th + near,
        mode: 'steady',
        bound: th,
      });
    }
  }
  if (a0.over === 'quantile') {
    cases.push({
      what: 'quiet under minRequestRate although every observation is slow',
      level: 1,
      mode: 'lowTraffic',
      bound: a0.threshold,
    });
    cases.push({
      what: 'quiet after a scrape gap longer than the window',
      level: 1,
      mode: 'gap',
      bound: a0.threshold,
    });
  } else {
    const quiet = a0.below ? Math.max(...ths) + 1 : Math.min(...ths) / 2;
    const high = a0.below ? Math.min(...ths) - 1 : Math.max(...ths) * 2 + 1;
    cases.push({ what: `quiet at ${quiet}`, level: quiet, mode: 'steady', bound: 0 });
    cases.push({
      what: 'quiet after a scrape gap longer than the window and a return',
      level: high,
      mode: 'gap',
      bound: 0,
    });
  }
  return cases;
}

/**
 * promtool unit tests of the extra alerts, from their specs: for each alert and severity it fires
 * well past the threshold, stays quiet exactly at it and fires just past it; each alert stays quiet
 * below every threshold, after a scrape gap longer than the window (old totals are not new events,
 * an old gauge value is not the current one) and, for quantiles, under `thresholds.minRequestRate`.
 * Checked through the `ALERTS` series, so a warning/critical pair is checked together. Alerts on
 * a native histogram (`nativeHistograms`) get none: promtool cannot write native input series.
 * Undefined when there is no such alert, or the selector is not made of equality matchers (`job="x"`): no
 * input series can be made up for a regular expression.
 */
export function extraAlertTests(
  o: ResolvedOpsOptions,
): { rule_files: string[]; evaluation_interval: string; tests: TestCase[] } | undefined {
  // promtool (2.42) cannot write native-histogram input series: no tests for native histograms.
  const specs = extraAlertSpecs(o).filter((s) => !o.nativeHistograms.includes(s.def.name));
  if (specs.length === 0) return undefined;
  const target: Record<string, string> = {};
  for (const part of o.selector.split(',')) {
    const m = /^\s*([a-zA-Z_]\w*)="([^"\\]*)"\s*$/.exec(part);
    if (!m) return undefined;
    target[m[1] as string] = m[2] as string;
  }
  const scaled = (d: string) =>
    parseDuration(scaleWindows(`[${d}]`, o.windowScale, parseDuration(o.windowFloor)).slice(1, -1));
  const byName = new Map<string, Spec[]>();
  for (const s of specs) byName.set(s.a.name, [...(byName.get(s.a.name) ?? []), s]);
  const step = specs.every((s) => scaled(s.a.window ?? '5m') >= 300) ? 60 : 15;
  const tests: TestCase[] = [];
  for (const [name, group] of byName) {
    const { def, a: a0 } = group[0] as Spec;
    const w = scaled(a0.window ?? '5m');
    const maxFor = Math.max(...group.map((g) => parseDuration(g.a.for ?? '5m') * o.forScale));
    const span = Math.ceil((w + maxFor) / step) + 4; // samples that cover the window and every for:
    const labels: Record<string, string> = { instance: 'test:9464', ...target };
    for (const l of def.labelNames) labels[l] = def.labelValues?.[l]?.[0] ?? 'a';
    const alertLabels = (g: Spec) => {
      const l: Record<string, string> = {
        alertname: name,
        alertstate: 'firing',
        severity: g.a.severity ?? 'warning',
      };
      if (target.job) l.job = target.job;
      // aggregateBy labels the selector fixes (cluster="eu-1") are on the inputs, so kept by the alert.
      for (const k of o.aggregateBy) if (target[k] !== undefined) l[k] = target[k] as string;
      for (const b of a0.by ?? []) l[b] = labels[b] as string;
      return text('ALERTS', l);
    };
    const ths = group.map((g) => g.a.threshold);
    const bounds = [...(def.buckets ?? []), Number.POSITIVE_INFINITY];
    /** A counter's values: `perStep` more every step; with a gap, a total then nothing for longer than the window. */
    const counter = (perStep: number, mode: Mode) =>
      mode === 'gap' ? `0+${perStep}x4 _x${span} ${perStep * 4}x${span}` : `0+${perStep}x${span}`;
    /**
     * Input series at `level`: the increase per window, the rate per second or the gauge value; for
     * a quantile the share of observations in the bucket just above the bound `bound` (the rest in
     * the bound's own bucket).
     */
    const input = (level: number, mode: Mode, bound: number) => {
      const series = (n: string, extra: Record<string, string> = {}) =>
        text(`${o.prefix}${n}`, { ...labels, ...extra });
      if (a0.over === 'increase' || a0.over === 'rate') {
        const perStep =
          mode === 'gap' ? Math.max(level, 1000) : a0.over === 'increase' ? (level * step) / w : level * step;
        return [{ series: series(def.name), values: counter(perStep, mode) }];
      }
      if (a0.over === 'value') {
        const quiet = a0.below ? Math.max(...ths) + 1 : Math.min(...ths) - 1;
        const values = mode === 'gap' ? `${level}x4 _x${span} ${quiet}x${span}` : `${level}x${span}`;
        return [{ series: series(def.name), values }];
      }
      const perStep = mode === 'lowTraffic' ? (o.thresholds.minRequestRate * step) / 2 : 100;
      const gapScale = mode === 'gap' ? 100 : 1;
      let cumulative = 0;
      const out = bounds.map((b) => {
        if (b === bound) cumulative = perStep * (1 - level);
        else if (b > bound) cumulative = perStep;
        const le = b === Number.POSITIVE_INFINITY ? '+Inf' : String(b);
        return { series: series(`${def.name}_bucket`, { le }), values: counter(cumulative * gapScale, mode) };
      });
      out.push({ series: series(`${def.name}_count`), values: counter(perStep * gapScale, mode) });
      return out;
    };
    const cases = testCases(group, w);
    for (const c of cases) {
      const expected = c.mode === 'steady' ? firing(group, c.level, c.bound) : [];
      // After a gap: quiet at every evaluation from the return on (an old total read as new
      // events would fire within the window); otherwise checked once every for: has passed.
      const at = c.mode === 'gap' ? Array.from({ length: span + 1 }, (_, i) => 4 + span + 1 + i) : [span];
      tests.push({
        name: `${name}: ${c.what}`,
        interval: `${step}s`,
        input_series: input(c.level, c.mode, c.bound),
        promql_expr_test: at.map((i) => ({
          expr: `ALERTS{alertname="${name}",alertstate="firing"}`,
          eval_time: `${i * step}s`,
          exp_samples: expected.map((g) => ({ labels: alertLabels(g), value: 1 })),
        })),
      });
    }
  }
  return { rule_files: ['rules.yml'], evaluation_interval: `${step}s`, tests };
}
