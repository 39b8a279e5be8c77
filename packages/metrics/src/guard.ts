import { OTHER_LABEL_VALUE, OVERFLOW_LABEL_VALUE } from './catalog.js';
import type { Labels, MetricDefinition } from './types.js';

type Check = (value: string) => string;

/**
 * Bounds the label values of one metric: declared values pass, others become `other`; labels
 * without declared values accept at most `cap` distinct values, later ones become `__overflow__`.
 * Returns the caller's object unchanged when nothing needs rewriting (no allocation on the hot path).
 */
export function createLabelGuard<L extends string>(
  def: MetricDefinition,
  defaultCap: number,
  onOverflow: (metric: string, label: string) => void,
): (labels: Labels<L> | undefined) => Labels<L> | undefined {
  const checks: Array<[L, Check]> = [];
  for (const label of def.labelNames as readonly L[]) {
    const declared = def.labelValues?.[label];
    if (declared) {
      const allowed = new Set(declared);
      checks.push([label, (v) => (allowed.has(v) ? v : OTHER_LABEL_VALUE)]);
    } else {
      const cap = def.maxLabelValues ?? defaultCap;
      const seen = new Set<string>();
      let warned = false;
      checks.push([
        label,
        (v) => {
          if (seen.has(v)) return v;
          if (seen.size < cap) {
            seen.add(v);
            return v;
          }
          if (!warned) {
            warned = true;
            onOverflow(def.name, label);
          }
          return OVERFLOW_LABEL_VALUE;
        },
      ]);
    }
  }
  if (checks.length === 0) return (labels) => labels;
  return (labels) => {
    if (labels === undefined) return labels;
    let out = labels;
    for (const [label, check] of checks) {
      const raw = labels[label];
      if (raw === undefined) continue;
      const value = typeof raw === 'string' ? raw : String(raw);
      const guarded = check(value);
      if (guarded !== value) {
        if (out === labels) out = { ...labels };
        out[label] = guarded;
      }
    }
    return out;
  };
}
