import type { ResolvedOpsOptions } from './types.js';

/**
 * Labels that name the object an alert is about (a bot, a queue, a pool, a disk...). Inhibition
 * only applies between alerts on the same object: a critical for bot demo-1 must not silence
 * demo-2's warning. Alertmanager treats a label missing on both sides as equal, so alerts that do
 * not carry one of these still inhibit each other. A test checks that every label an alert rule
 * keeps is either here or `job`/`instance`.
 */
export const OBJECT_LABELS = [
  'bot_id',
  'queue',
  'pool',
  'operation',
  'cache',
  'check',
  'dependency',
  'model',
  'gen_ai_provider_name',
  'gen_ai_request_model',
  'error_type',
  'mountpoint',
  'device',
] as const;

/**
 * The labels two alerts must share to be about the same object of the same deployment: the
 * `aggregateBy` labels, `job`, `instance`, `OBJECT_LABELS` and the `by` labels of extra-metric
 * alerts (a critical for one provider must not silence another's warning).
 */
export const sameObjectLabels = (o: ResolvedOpsOptions): string[] => [
  ...o.aggregateBy,
  'job',
  'instance',
  ...new Set([
    ...OBJECT_LABELS,
    ...o.extraMetrics.flatMap((d) => (d.alerts ?? []).flatMap((a) => a.by ?? [])),
  ]),
];
