import { formatThreshold, type RuleContext } from './rule-context.js';
import type { AlertRule, RecordingRule } from './types.js';

/** Target alerts (always), then the database, health-check and connection alerts of the groups that are on. */
export function serviceRules(x: RuleContext): { resources: RecordingRule[]; service: AlertRule[] } {
  const { o } = x;
  const resources: RecordingRule[] = [];
  const service: AlertRule[] = [
    x.alert(
      'TargetMissing',
      'critical',
      o.for.targetMissing,
      `absent(up${x.sel()})`,
      'No target of job {{ $labels.job }} is being scraped',
      `Prometheus has no \`up\` series for {{ $labels.job }} for ${o.for.targetMissing}: the target vanished from service discovery or the scrape config, so every other alert of this job is blind.`,
    ),
    x.alert(
      'ServiceDown',
      'critical',
      o.for.serviceDown,
      `up${x.sel()} == 0`,
      'Service {{ $labels.job }} on {{ $labels.instance }} is down',
      `Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for more than ${o.for.serviceDown}.`,
    ),
  ];
  return {
    resources,
    service: [...service, ...databaseRules(x, resources), ...healthRules(x), ...connectionRules(x)],
  };
}

/** Slow queries (and the pool utilisation record with its saturation alerts). */
function databaseRules(x: RuleContext, recording: RecordingRule[]): AlertRule[] {
  const { o, t, c, v } = x;
  const out: AlertRule[] = [];
  const db = 'db_query_duration_seconds';
  if (c.has(db)) {
    x.bound(db, t.dbQueryP95, 'thresholds.dbQueryP95', true);
    out.push(
      x.alert(
        'SlowDatabaseQueries',
        'warning',
        o.for.dbQueryP95,
        `${x.quantile(0.95, db, c.by(db, 'operation'))} > ${t.dbQueryP95}${x.enough(c.by(db, 'operation'), c.m(`${db}_count`))}`,
        'Slow database queries ({{ $labels.operation }}) on {{ $labels.job }}',
        `p95 duration of {{ $labels.operation }} queries is ${v.duration} (threshold ${formatThreshold(t.dbQueryP95, 'duration')}).`,
      ),
    );
  }
  if (c.has('db_connection_pool_active') && c.has('db_connection_pool_max')) {
    const rec = `instance_pool:${o.prefix}db_connection_pool_utilisation:ratio`;
    const by = c.by('db_connection_pool_active', 'instance', 'pool');
    recording.push({
      record: rec,
      expr: `max by (${by}) (${c.m('db_connection_pool_active')})\n/\n(max by (${by}) (${c.m('db_connection_pool_max')}) > 0)`,
    });
    out.push(
      ...x.pair(
        'DatabasePoolSaturation',
        'dbPool',
        'percent',
        (th) => `${x.rec(rec)} > ${th}`,
        'Database pool {{ $labels.pool }} on {{ $labels.instance }} is nearly exhausted',
        (th) =>
          `${v.percent} of the connections of pool {{ $labels.pool }} on {{ $labels.instance }} are in use (threshold ${th}).`,
      ),
    );
  }
  return out;
}

/** The database, cache and LLM backend health checks. */
function healthRules(x: RuleContext): AlertRule[] {
  const { o, c } = x;
  if (!c.has('health_check_up')) return [];
  return [
    x.alert(
      'DatabaseDown',
      'critical',
      o.for.databaseDown,
      `${c.m('health_check_up', `check=~"${o.checks.database}"`)} == 0`,
      'Database unreachable from {{ $labels.instance }}',
      'Health check {{ $labels.check }} on {{ $labels.instance }} (job {{ $labels.job }}) is failing.',
    ),
    x.alert(
      'CacheDown',
      'warning',
      o.for.cacheDown,
      `${c.m('health_check_up', `check=~"${o.checks.cache}"`)} == 0`,
      'Cache unreachable from {{ $labels.instance }} (non-critical)',
      'Health check {{ $labels.check }} on {{ $labels.instance }} (job {{ $labels.job }}) is failing; requests fall back to the database.',
    ),
    x.alert(
      'OllamaDown',
      'critical',
      o.for.llmDown,
      `${c.m('health_check_up', `check=~"${o.checks.llm}"`)} == 0`,
      'LLM backend unreachable from {{ $labels.instance }}',
      'Health check {{ $labels.check }} on {{ $labels.instance }} (job {{ $labels.job }}) is failing: model calls fail or wait until the backend returns (the model alerts stay quiet meanwhile: this one explains them).',
    ),
  ];
}

/** The opt-in authentication and WebSocket alerts. */
function connectionRules(x: RuleContext): AlertRule[] {
  const { o, t, c, v } = x;
  const out: AlertRule[] = [];
  const auth = 'auth_failures_total';
  if (o.optional.auth && c.has(auth))
    out.push(
      x.alert(
        'AuthFailureSpike',
        'warning',
        o.for.authFailures,
        `${x.events(c.m(auth), c.by(auth), '5m')} > ${t.authFailures}`,
        'Authentication failures spiking on {{ $labels.job }}',
        `${v.number} failed authentication attempts on {{ $labels.job }} in the last 5m (threshold ${t.authFailures}).`,
      ),
    );
  // Per minute, rounded to 0.001 so exactly the threshold (20.0000000000000036 after *60) is not above it.
  const ws = 'websocket_disconnect_total';
  if (o.optional.websocket && c.has(ws))
    out.push(
      x.alert(
        'WebSocketDisconnectSpike',
        'warning',
        o.for.websocketDisconnects,
        `round(sum by (${c.by(ws)}) (rate(${c.m(ws)}[5m])) * 60, 0.001) > ${t.websocketDisconnectsPerMinute}`,
        'WebSocket disconnects spiking on {{ $labels.job }}',
        `{{ $labels.job }} loses ${v.number} WebSocket connections per minute (threshold ${t.websocketDisconnectsPerMinute}).`,
      ),
    );
  return out;
}

/** Process alerts on prom-client's default metrics (`process` group with `defaultMetrics`). */
export function processRules(x: RuleContext): AlertRule[] {
  const { o, t, c, v } = x;
  if (!c.has('process_resident_memory_bytes')) return [];
  const rss = c.m('process_resident_memory_bytes');
  return [
    ...x.pair(
      'HighMemoryUsage',
      'memory',
      'bytes',
      (th) => `${rss} > ${th}`,
      'High memory usage on {{ $labels.instance }}',
      (th) => `Resident memory of {{ $labels.instance }} is ${v.bytes} (threshold ${th}).`,
    ),
    x.alert(
      'MemoryLeakSuspected',
      'warning',
      o.for.memoryGrowth,
      `delta(${rss}[15m]) > ${t.memoryGrowth}`,
      'Memory of {{ $labels.instance }} keeps growing',
      `Resident memory of {{ $labels.instance }} grew by ${v.bytes} in 15m (threshold ${formatThreshold(t.memoryGrowth, 'bytes')}).`,
    ),
    x.alert(
      'HighCPUUsage',
      'warning',
      o.for.cpu,
      `rate(${c.m('process_cpu_seconds_total')}[5m]) > ${t.cpu}`,
      'High CPU usage on {{ $labels.instance }}',
      `{{ $labels.instance }} uses ${v.percent} of one CPU core (threshold ${formatThreshold(t.cpu, 'percent')}).`,
    ),
    x.alert(
      'FileDescriptorsExhaustion',
      'warning',
      o.for.fileDescriptors,
      `${c.m('process_open_fds')} / ${c.m('process_max_fds')} > ${t.fileDescriptors}`,
      'File descriptors nearly exhausted on {{ $labels.instance }}',
      `{{ $labels.instance }} has ${v.percent} of its file descriptor limit open (threshold ${formatThreshold(t.fileDescriptors, 'percent')}).`,
    ),
    x.alert(
      'EventLoopLag',
      'warning',
      o.for.eventLoopLag,
      `${c.m('nodejs_eventloop_lag_p99_seconds')} > ${t.eventLoopLag}`,
      'Event loop lagging on {{ $labels.instance }}',
      `p99 event-loop lag of {{ $labels.instance }} is ${v.duration} (threshold ${formatThreshold(t.eventLoopLag, 'duration')}).`,
    ),
  ];
}

/** Disk alerts on node_exporter's series (opt-in: `nodeExporter.enabled`). */
export function hostRules(x: RuleContext): AlertRule[] {
  const { o, t, v } = x;
  if (!o.nodeExporter.enabled) return [];
  const fs = `job="${o.nodeExporter.job}",fstype!~"tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|fuse.lxcfs"`;
  return (['warning', 'critical'] as const).map((severity) => {
    const k = severity === 'warning' ? 'diskFreeWarning' : 'diskFreeCritical';
    return x.alert(
      'HostDiskSpaceLow',
      severity,
      o.for[k],
      `node_filesystem_avail_bytes{${fs}} / node_filesystem_size_bytes{${fs}} < ${t[k]}`,
      'Disk {{ $labels.mountpoint }} on {{ $labels.instance }} is filling up',
      `Only ${v.percent} of {{ $labels.mountpoint }} on {{ $labels.instance }} is free (threshold ${formatThreshold(t[k], 'percent')}; from node_exporter).`,
    );
  });
}
