import { DeiaMetricsError } from './errors.js';
import type { MetricDefinition } from './types.js';

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram']);

/** Throws a coded error naming the metric and the fix when a definition is invalid. */
export function validateDefinition(def: MetricDefinition, prefix = ''): void {
  const where = `metric "${def?.name}"`;
  if (!def || typeof def.name !== 'string' || !NAME_RE.test(prefix + def.name)) {
    throw new DeiaMetricsError(
      'DEIA_METRIC_NAME',
      `${where}: name must match ${NAME_RE} (letters, digits, '_' and ':'; not starting with a digit).`,
    );
  }
  if (!TYPES.has(def.type)) {
    throw new DeiaMetricsError('DEIA_METRIC_TYPE', `${where}: type must be counter, gauge or histogram.`);
  }
  if (typeof def.help !== 'string' || def.help.trim() === '') {
    throw new DeiaMetricsError('DEIA_METRIC_HELP', `${where}: give it a non-empty help text.`);
  }
  if (def.type === 'counter' && !def.name.endsWith('_total')) {
    throw new DeiaMetricsError('DEIA_METRIC_NAME', `${where}: counter names end in _total; rename it.`);
  }
  if (!Array.isArray(def.labelNames)) {
    throw new DeiaMetricsError('DEIA_METRIC_LABELS', `${where}: labelNames must be an array of strings.`);
  }
  const seen = new Set<string>();
  for (const label of def.labelNames) {
    if (typeof label !== 'string' || !LABEL_RE.test(label) || label.startsWith('__')) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_LABELS',
        `${where}: label "${label}" must match ${LABEL_RE} and not start with "__".`,
      );
    }
    if (def.type === 'histogram' && label === 'le') {
      throw new DeiaMetricsError('DEIA_METRIC_LABELS', `${where}: "le" is reserved for histogram buckets.`);
    }
    if (seen.has(label)) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_LABELS',
        `${where}: label "${label}" is listed twice; remove one.`,
      );
    }
    seen.add(label);
  }
  for (const label of Object.keys(def.labelValues ?? {})) {
    if (!seen.has(label)) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_LABELS',
        `${where}: labelValues names "${label}", which is not in labelNames.`,
      );
    }
  }
  if (def.maxLabelValues !== undefined && !(Number.isInteger(def.maxLabelValues) && def.maxLabelValues > 0)) {
    throw new DeiaMetricsError('DEIA_METRIC_LABELS', `${where}: maxLabelValues must be a positive integer.`);
  }
  if (def.type === 'histogram') validateBuckets(def.name, def.buckets);
  else if (def.buckets !== undefined) {
    throw new DeiaMetricsError('DEIA_METRIC_BUCKETS', `${where}: only histograms take buckets.`);
  }
  if (def.deprecated !== undefined && (typeof def.deprecated !== 'string' || def.deprecated.trim() === '')) {
    throw new DeiaMetricsError(
      'DEIA_METRIC_HELP',
      `${where}: deprecated names the replacement (a non-empty string).`,
    );
  }
  if (def.alerts !== undefined) validateAlerts(def, where, seen);
}

const ALERT_NAME_RE = /^[A-Z][a-zA-Z0-9]*$/;
const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const OVER_BY_TYPE = { counter: ['increase', 'rate'], gauge: ['value'], histogram: ['quantile'] } as const;

function validateAlerts(def: MetricDefinition, where: string, labels: Set<string>): void {
  const fail = (message: string): never => {
    throw new DeiaMetricsError('DEIA_METRIC_ALERT', `${where}: ${message}`);
  };
  if (!Array.isArray(def.alerts)) fail('alerts must be an array.');
  const seen = new Set<string>();
  for (const a of def.alerts ?? []) {
    if (!a || typeof a.name !== 'string' || !ALERT_NAME_RE.test(a.name))
      fail(`alert name "${a?.name}" must be PascalCase letters and digits (e.g. PaymentFailures).`);
    const at = `alert ${a.name}`;
    const over: readonly string[] = OVER_BY_TYPE[def.type];
    if (!over.includes(a.over)) fail(`${at}: a ${def.type} alert compares ${over.join(' or ')}.`);
    if (typeof a.threshold !== 'number' || !Number.isFinite(a.threshold))
      fail(`${at}: threshold must be a finite number.`);
    if (a.below !== undefined && (typeof a.below !== 'boolean' || (a.below && def.type !== 'gauge')))
      fail(`${at}: below is a boolean, and only gauges alert below a threshold.`);
    const severity = a.severity ?? 'warning';
    if (!['critical', 'warning', 'info'].includes(severity))
      fail(`${at}: severity must be critical, warning or info.`);
    if (seen.has(`${a.name}/${severity}`)) fail(`${at} has two ${severity} rules.`);
    seen.add(`${a.name}/${severity}`);
    if (a.quantile !== undefined && !(typeof a.quantile === 'number' && a.quantile > 0 && a.quantile < 1))
      fail(`${at}: quantile must be between 0 and 1.`);
    for (const key of ['window', 'for'] as const) {
      const d = a[key];
      if (d !== undefined && (typeof d !== 'string' || !DURATION_RE.test(d)))
        fail(`${at}: ${key} "${String(d)}" is not a Prometheus duration (e.g. "5m").`);
    }
    for (const l of a.by ?? []) {
      if (!labels.has(l)) fail(`${at}: by names "${l}", which is not a label of the metric.`);
    }
    if (a.summary !== undefined && (typeof a.summary !== 'string' || a.summary.trim() === ''))
      fail(`${at}: summary must be a non-empty string.`);
  }
}

/** Buckets must be a non-empty list of finite numbers, strictly increasing. */
export function validateBuckets(name: string, buckets: readonly number[] | undefined): void {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new DeiaMetricsError(
      'DEIA_METRIC_BUCKETS',
      `metric "${name}": a histogram needs a non-empty buckets list.`,
    );
  }
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_BUCKETS',
        `metric "${name}": bucket ${i} (${String(b)}) is not a finite number; +Inf is added automatically.`,
      );
    }
    const prev = buckets[i - 1];
    if (i > 0 && prev !== undefined && b <= prev) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_BUCKETS',
        `metric "${name}": buckets must be strictly increasing, but ${b} follows ${prev}.`,
      );
    }
  }
}
