import { CATALOG } from '@deia/metrics';
import { DeiaOpsError } from './errors.js';
import { formatDuration, parseDuration } from './options.js';
import type { AlertRule, RuleGroup } from './types.js';

/**
 * Throws unless `threshold` is a bucket bound of the histogram `metric` (`buckets`, by default the
 * catalog's): between two bounds `histogram_quantile` interpolates, so a 2.4 s median reads as
 * 1.75 s against a 2 s threshold in the (1, 2.5] bucket and the alert could never fire. With
 * `quantile` (the rule compares a `histogram_quantile`), the last finite bound is refused too.
 */
export function requireBucketBound(
  metric: string,
  threshold: number,
  option: string,
  quantile = true,
  buckets: readonly number[] | undefined = CATALOG.find((d) => d.name === metric)?.buckets,
): void {
  if (!buckets) throw new DeiaOpsError('DEIA_OPS_OPTIONS', `${metric} is not a catalog histogram.`);
  // histogram_quantile never returns more than the last finite bound: `> last` could never fire.
  const usable = quantile ? buckets.slice(0, -1) : buckets;
  if (!usable.includes(threshold)) {
    throw new DeiaOpsError(
      'DEIA_OPS_OPTIONS',
      `${option} (${threshold}) is not a bucket bound of ${metric} (usable: ${usable.join(', ')}): a quantile between two bounds is interpolated, and one above the last finite bound is never returned, so the alert would fire late or never.`,
    );
  }
}

/**
 * A selector for the bucket `le` = `bound` that matches both the classic form (`le="1"`) and the
 * float form Prometheus 3 normalises classic histograms to (`le="1.0"`).
 */
export function leMatcher(bound: number): string {
  const v = String(bound);
  return Number.isInteger(bound) ? `le=~"${v}|${v}[.]0"` : `le="${v}"`;
}

const DURATION = '\\d+(?:ms|s|m|h|d|w|y)(?:\\d+(?:ms|s|m|h|d|w|y))*';

/**
 * Multiplies every range selector (`[5m]`, subquery `[1h:1m]`) and `offset` of a PromQL expression
 * by `factor`, rounded to whole seconds and never below `floorSeconds` (nor above the original). Ranges and offsets scale
 * together, so `increase(x[10m]) and x offset 10m` keeps its meaning.
 */
export function scaleWindows(expr: string, factor: number, floorSeconds: number): string {
  const scaled = (d: string) => {
    const seconds = parseDuration(d);
    return formatDuration(Math.max(Math.min(floorSeconds, seconds), Math.round(seconds * factor)));
  };
  return expr
    .replace(
      new RegExp(`\\[(${DURATION})(?::(${DURATION}))?\\]`, 'g'),
      (_all, range: string, step: string | undefined) =>
        step === undefined ? `[${scaled(range)}]` : `[${scaled(range)}:${scaled(step)}]`,
    )
    .replace(new RegExp(`\\boffset\\s+(${DURATION})\\b`, 'g'), (_all, d: string) => `offset ${scaled(d)}`);
}

/** Names of the recording rules (allowed series in the static cross-check). */
export function recordingRuleNames(groups: readonly RuleGroup[]): string[] {
  return groups.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : [])));
}

/** The alert rules of the groups. */
export function alertRules(groups: readonly RuleGroup[]): AlertRule[] {
  return groups.flatMap((g) => g.rules.filter((r): r is AlertRule => 'alert' in r));
}

/** The dashboard (uid suffix) that shows the series each alert reads. */
export const ALERT_DASHBOARDS: Readonly<Record<string, string>> = {
  TargetMissing: 'system-overview',
  ServiceDown: 'system-overview',
  HighErrorRate: 'system-overview',
  HighLatency: 'system-overview',
  HighMemoryUsage: 'system-overview',
  MemoryLeakSuspected: 'system-overview',
  HighCPUUsage: 'system-overview',
  HttpRoutesOverflowed: 'system-overview',
  AvailabilityBudgetBurn: 'request-metrics',
  LatencyBudgetBurn: 'request-metrics',
  SlowDatabaseQueries: 'database',
  DatabasePoolSaturation: 'database',
  DatabaseDown: 'database',
  CacheDown: 'cache',
  CacheHitRatioLow: 'cache',
  BotStartErrors: 'bot-performance',
  BotCrashLoop: 'bot-performance',
  QueueBacklog: 'bot-performance',
  BotDispatchSlow: 'bot-performance',
  MessageProcessingSlow: 'bot-performance',
  AuthFailureSpike: 'dependencies',
  WebSocketDisconnectSpike: 'dependencies',
  FileDescriptorsExhaustion: 'dependencies',
  EventLoopLag: 'dependencies',
  DependencyLatencyHigh: 'dependencies',
  DependencyErrorRate: 'dependencies',
  OllamaDown: 'ai-models',
  ModelErrorRate: 'ai-models',
  ModelTimeToFirstChunkHigh: 'ai-models',
  ModelTimeToFirstChunkBudgetBurn: 'ai-models',
  ModelGenerationSlow: 'ai-models',
  ModelColdStartStorm: 'ai-models',
  HostDiskSpaceLow: 'dependencies',
};

/**
 * The `dashboard_url` annotation of an alert: its dashboard with `$job`/`$instance` set from the
 * alert's labels (Prometheus annotation templates). node_exporter alerts carry the exporter's job,
 * not the service's, so they link the dashboard unfiltered. Alerts of `extraMetrics` link the
 * "Extra metrics" dashboard (`slug` 'extra-metrics'), where their metric has its panel. With
 * `cluster` (the dashboards have `$cluster` and the alerts keep `cluster`), `$cluster` is set too.
 */
export function dashboardUrl(
  grafanaUrl: string,
  uidPrefix: string,
  alert: string,
  slug: string | undefined = ALERT_DASHBOARDS[alert],
  cluster = false,
): string {
  if (!slug) throw new DeiaOpsError('DEIA_OPS_DASHBOARD', `alert ${alert} has no dashboard to link.`);
  const base = `${grafanaUrl}/d/${uidPrefix}-${slug}`;
  if (alert === 'HostDiskSpaceLow') return base;
  return `${base}?var-job={{ $labels.job }}{{ with $labels.instance }}&var-instance={{ . }}{{ end }}${cluster ? '{{ with $labels.cluster }}&var-cluster={{ . }}{{ end }}' : ''}`;
}
