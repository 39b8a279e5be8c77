import { formatThreshold, type RuleContext } from './rule-context.js';
import { leMatcher, requireBucketBound } from './rule-helpers.js';
import type { AlertRule, RecordingRule } from './types.js';

/** Bot and queue alerts (`bots`, `tasks` groups) and the queue trend recording rule. */
export function botRules(x: RuleContext): { resources: RecordingRule[]; bots: AlertRule[] } {
  const { o, t, c, v } = x;
  const bots: AlertRule[] = [];
  const resources: RecordingRule[] = [];
  const startErrors = 'bot_start_errors_total';
  if (c.has(startErrors))
    bots.push(
      x.alert(
        'BotStartErrors',
        'warning',
        o.for.botStartErrors,
        `${x.events(c.m(startErrors), c.by(startErrors, 'bot_id'), '5m')} > ${t.botStartErrors}`,
        'Bot {{ $labels.bot_id }} fails to start',
        `Bot {{ $labels.bot_id }} failed to start ${v.number} times in the last 5m.`,
      ),
    );
  const restarts = 'bot_restarts_total';
  if (c.has(restarts))
    bots.push(
      ...x.pair(
        'BotCrashLoop',
        'crashLoop',
        'number',
        (th) => `${x.events(c.m(restarts), c.by(restarts, 'bot_id'), '10m')} >= ${th}`,
        'Bot {{ $labels.bot_id }} is crash-looping',
        (th) => `Bot {{ $labels.bot_id }} restarted ${v.number} times in the last 10m (threshold ${th}).`,
      ),
    );
  const depth = 'task_queue_depth';
  if (c.has(depth)) {
    resources.push({
      record: `job_queue:${o.prefix}task_queue_depth:deriv15m`,
      // max over replicas, like QueueBacklog: a shared queue (every replica reports the same list)
      // must not count N times; for per-process queues it follows the fastest-growing replica
      expr: `max by (${c.by(depth, 'queue')}) (deriv(${c.m(depth)}[15m]))`,
    });
    bots.push(
      ...x.pair(
        'QueueBacklog',
        'queueBacklog',
        'number',
        (th) => `max by (${c.by(depth, 'queue')}) (${c.m(depth)}) > ${th}`,
        'Task queue {{ $labels.queue }} is backing up',
        (th) => `${v.number} tasks are waiting in queue {{ $labels.queue }} (threshold ${th}).`,
      ),
    );
  }
  const dispatch = 'bot_dispatch_latency_seconds';
  if (c.has(dispatch)) {
    requireBucketBound(
      dispatch,
      t.dispatchLatencyP50,
      'thresholds.dispatchLatencyP50',
      false,
      c.buckets(dispatch),
    );
    const th = formatThreshold(t.dispatchLatencyP50, 'duration');
    bots.push(
      x.alert(
        'BotDispatchSlow',
        'warning',
        o.for.dispatchLatencyP50,
        // A bucket ratio, not a quantile: the median is above the bound exactly when fewer than half
        // of the dispatches fall in its bucket, also when the bound is the last finite one.
        `sum by (${c.by(dispatch)}) (rate(${c.m(`${dispatch}_bucket`, leMatcher(t.dispatchLatencyP50))}[5m]))\n/\nsum by (${c.by(dispatch)}) (rate(${c.m(`${dispatch}_count`)}[5m]))\n< 0.5${x.enough(c.by(dispatch), c.m(`${dispatch}_count`))}`,
        'Dispatching messages to bots is slow on {{ $labels.job }}',
        `Only ${v.percent} of dispatches took ${th} or less over the last 5m: the median dispatch latency is above ${th}.`,
      ),
    );
  }
  const processing = 'bot_message_processing_duration_seconds';
  if (c.has(processing)) {
    requireBucketBound(
      processing,
      t.messageProcessingP95,
      'thresholds.messageProcessingP95',
      true,
      c.buckets(processing),
    );
    bots.push(
      x.alert(
        'MessageProcessingSlow',
        'warning',
        o.for.messageProcessingP95,
        `${x.quantile(0.95, processing, c.by(processing))} > ${t.messageProcessingP95}${x.enough(c.by(processing), c.m(`${processing}_count`))}`,
        'Bots process messages slowly on {{ $labels.job }}',
        `p95 message processing time is ${v.duration} (threshold ${formatThreshold(t.messageProcessingP95, 'duration')}).`,
      ),
    );
  }
  return { resources, bots };
}

/** Dependency and cache alerts (`dependencies`, `cache` groups) and the cache hit ratio; models: rules-genai.ts. */
export function dependencyRules(x: RuleContext): { resources: RecordingRule[]; deps: AlertRule[] } {
  const { o, t, c, v } = x;
  const deps: AlertRule[] = [];
  const resources: RecordingRule[] = [];
  for (const key of ['dependencyLatencyWarning', 'dependencyLatencyCritical'] as const) {
    const h = 'dependency_request_duration_seconds';
    if (c.has(h)) requireBucketBound(h, t[key], `thresholds.${key}`, true, c.buckets(h));
  }
  const dep = 'dependency_request_duration_seconds';
  if (c.has(dep)) {
    /** The LLM backends have their own alerts on gen_ai_* (rules-genai.ts): one failure, one alert. */
    const notLlm = `dependency!~"${o.llmDependencies}"`;
    const by = c.by(dep, 'dependency');
    const calls = c.m(`${dep}_count`, notLlm);
    deps.push(
      ...x.pair(
        'DependencyLatencyHigh',
        'dependencyLatency',
        'duration',
        (th) => `${x.quantile(0.95, dep, by, '5m', notLlm)} > ${th}${x.enough(by, calls)}`,
        'Dependency {{ $labels.dependency }} is slow',
        (th) => `p95 latency of calls to {{ $labels.dependency }} is ${v.duration} (threshold ${th}).`,
      ),
      ...x.pair(
        'DependencyErrorRate',
        'dependencyErrorRatio',
        'percent',
        (th) =>
          `${x.ratio(by, c.m(`${dep}_count`, `outcome="error",${notLlm}`), calls, '5m')}\n> ${th}${x.enough(by, calls)}`,
        'Calls to dependency {{ $labels.dependency }} are failing',
        (th) =>
          `${v.percent} of calls to {{ $labels.dependency }} failed over the last 5m (threshold ${th}).`,
      ),
    );
  }
  if (c.has('cache_hits_total') && c.has('cache_misses_total')) {
    const rec = `job_cache:${o.prefix}cache_hit:ratio_rate5m`;
    const by = c.by('cache_hits_total', 'cache');
    const hits = `sum by (${by}) (rate(${c.m('cache_hits_total')}[5m]))`;
    const misses = `sum by (${c.by('cache_misses_total', 'cache')}) (rate(${c.m('cache_misses_total')}[5m]))`;
    resources.push({ record: rec, expr: `${hits}\n/\n(${hits} + ${misses})` });
    deps.push(
      x.alert(
        'CacheHitRatioLow',
        'info',
        o.for.cacheHitRatio,
        `${x.rec(rec)} < ${t.cacheHitRatio}\nand on (${by})\n(${hits} + ${misses}) > ${t.minRequestRate}`,
        'Cache {{ $labels.cache }} hit ratio is low',
        `Cache {{ $labels.cache }} hits ${v.percent} of lookups (threshold ${formatThreshold(t.cacheHitRatio, 'percent')}).`,
      ),
    );
  }
  return { resources, deps };
}
