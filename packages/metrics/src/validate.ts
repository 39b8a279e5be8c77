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
