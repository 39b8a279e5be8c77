import type { DashboardSpec, PanelContext } from './builder.js';

type Row = DashboardSpec['rows'][number];

export function overviewDashboard(c: PanelContext): DashboardSpec {
  return {
    file: 'system-overview.json',
    uid: c.uid('system-overview'),
    title: 'DEIA / System Overview',
    rows: [serviceLevelRow(c), trafficRow(c), resourcesRow(c)],
  };
}

/** Availability, p95 response time and error ratio against their alert thresholds, routes over maxRoutes. */
function serviceLevelRow(c: PanelContext): Row {
  const { o, sel, m, errRatio, lat } = c;
  const { latency, errors } = c.thresholds;
  return {
    id: 1,
    title: 'Service level',
    panels: [
      { id: 2, title: 'Targets up', kind: 'stat', unit: 'short', queries: [{ expr: `sum(up${sel()})` }] },
      {
        id: 3,
        title: 'Availability (1h)',
        kind: 'stat',
        unit: 'percentunit',
        queries: [{ expr: `1 - ${errRatio('1h')}` }],
        thresholds: { warning: o.sloTarget, lowerIsWorse: true },
        description: `SLO target ${o.sloTarget * 100}% of requests without a 5xx.`,
      },
      {
        id: 4,
        title: 'Response time p95',
        kind: 'stat',
        unit: 's',
        queries: [{ expr: lat('p95') }],
        thresholds: latency,
      },
      {
        id: 5,
        title: 'Error ratio (5xx)',
        kind: 'stat',
        unit: 'percentunit',
        queries: [{ expr: errRatio('5m') }],
        thresholds: errors,
      },
      {
        id: 18,
        title: 'Routes over maxRoutes',
        kind: 'stat',
        unit: 'short',
        queries: [{ expr: `max(${m('http_routes_overflowed')})` }],
        thresholds: { warning: 1 },
        description:
          'Route templates recorded as route="__overflow__" because maxRoutes templates were already recorded (alert HttpRoutesOverflowed). Above 0: raise maxRoutes, or find the route that puts ids in its template.',
      },
    ],
  };
}

/** Request rate and duration, error ratio, requests in flight. */
function trafficRow(c: PanelContext): Row {
  const { p, m, rec, errRatio, lat } = c;
  const { latency, errors } = c.thresholds;
  return {
    id: 6,
    title: 'Traffic',
    panels: [
      {
        id: 7,
        title: 'Request rate',
        kind: 'timeseries',
        unit: 'reqps',
        queries: [{ expr: rec(`job:${p}http_requests:rate5m`), legend: '{{job}}' }],
      },
      {
        id: 8,
        title: 'Request duration',
        kind: 'timeseries',
        unit: 's',
        queries: [
          { expr: lat('p50'), legend: 'p50' },
          { expr: lat('p95'), legend: 'p95' },
          { expr: lat('p99'), legend: 'p99' },
        ],
        thresholds: latency,
      },
      {
        id: 9,
        title: 'Error ratio',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [{ expr: errRatio('5m'), legend: '5xx' }],
        thresholds: errors,
      },
      {
        id: 10,
        title: 'Requests in flight',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: `sum(${m('http_requests_in_flight')})`, legend: 'in flight' }],
      },
    ],
  };
}

/** Bot instances, memory, CPU, DB pool utilisation, cache hit ratio, queue depth. */
function resourcesRow(c: PanelContext): Row {
  const { t, m, poolUtil, cacheRatio } = c;
  const { memory, pool, cacheHit } = c.thresholds;
  return {
    id: 11,
    title: 'Resources',
    panels: [
      {
        id: 12,
        title: 'Bot instances running / max',
        kind: 'stat',
        unit: 'short',
        queries: [
          { expr: `sum(${m('bot_instances', 'status="running"')})`, legend: 'running' },
          { expr: `max(${m('bot_instances_max')})`, legend: 'max' },
        ],
      },
      {
        id: 13,
        title: 'Memory (RSS)',
        kind: 'timeseries',
        unit: 'bytes',
        queries: [{ expr: m('process_resident_memory_bytes'), legend: '{{instance}}' }],
        thresholds: memory,
      },
      {
        id: 14,
        title: 'CPU (cores)',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          { expr: `rate(${m('process_cpu_seconds_total')}[$__rate_interval])`, legend: '{{instance}}' },
        ],
        thresholds: { warning: t.cpu },
      },
      {
        id: 15,
        title: 'DB pool utilisation',
        kind: 'gauge',
        unit: 'percentunit',
        queries: [{ expr: `max(${poolUtil})` }],
        thresholds: pool,
        min: 0,
        max: 1,
      },
      {
        id: 16,
        title: 'Cache hit ratio',
        kind: 'stat',
        unit: 'percentunit',
        queries: [{ expr: `avg(${cacheRatio})` }],
        thresholds: cacheHit,
      },
      {
        id: 17,
        title: 'Queue depth',
        kind: 'stat',
        unit: 'short',
        queries: [{ expr: `max by (queue) (${m('task_queue_depth')})`, legend: '{{queue}}' }],
        thresholds: { warning: t.queueBacklogWarning, critical: t.queueBacklogCritical },
      },
    ],
  };
}
