import { CATALOG, type MetricDefinition } from '@deia/metrics';
import { DEFAULT_OPS_OPTIONS } from './defaults.js';
import { fail, LABEL_NAME_RE } from './options.js';

/**
 * `aggregateBy`: label names the rules keep next to `job`. Refused: `job` and `instance` (the
 * rules aggregate by `job` already, and per replica would no longer be job-wide), `le`, `__`
 * labels (reserved) and any label of the catalog or the extra metrics (the SDK emits it on its
 * series; the rules already keep it where it matters, and it would appear twice in a `by`).
 */
export function resolveAggregateBy(value: unknown, extraMetrics: readonly MetricDefinition[]): string[] {
  if (value === undefined) return [...DEFAULT_OPS_OPTIONS.aggregateBy];
  if (!Array.isArray(value))
    return fail('aggregateBy must be an array of label names, e.g. ["cluster"] or ["cluster", "namespace"].');
  const seen = new Set<string>();
  for (const l of value as unknown[]) {
    if (typeof l !== 'string' || !LABEL_NAME_RE.test(l))
      fail(`aggregateBy: ${JSON.stringify(l)} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*).`);
    const label = l as string;
    if (seen.has(label)) fail(`aggregateBy lists "${label}" twice.`);
    seen.add(label);
    if (label.startsWith('__')) fail(`aggregateBy: "${label}" is reserved (labels starting with __).`);
    const why = {
      job: 'is what every rule aggregates by already',
      instance:
        'is one replica: the job-wide rules would become per replica (the per-replica alerts keep it already)',
      le: 'is the bucket label of histograms',
    }[label];
    if (why)
      fail(
        `aggregateBy: "${label}" ${why}; list only labels added by the scrape or the ruler, such as "cluster" or "namespace".`,
      );
    const emitter = [...CATALOG, ...extraMetrics].find((d) => d.labelNames.includes(label));
    if (emitter)
      fail(
        `aggregateBy: "${label}" is a label of ${emitter.name}, emitted by the SDK; the rules already keep it where it matters. List only labels added by the scrape or the ruler, such as "cluster" or "namespace".`,
      );
  }
  return [...(value as string[])];
}
