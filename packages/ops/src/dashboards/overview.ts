import type { DashboardSpec, PanelContext } from './builder.js';

export function overviewDashboard(c: PanelContext): DashboardSpec {
  const { o, p, t, sel, m, rec, errRatio, lat, poolUtil, cacheRatio, uid } = c;
  const { latency, errors, memory, pool, cacheHit } = c.thresholds;
  return {
    file: 'system-overview.json',
    uid: uid('system-overview'),
    title: 'DEIA / System Overview',
    rows: [
      {
        title: 'Service level',
        panels: [
          { title: 'Targets up', kind: 'stat', unit: 'short', queries: [{ expr: `sum(up${sel()})` }] },
          {
            title: 'Availability (1h)',
            kind: 'stat',
            unit: 'percentunit',
            queries: [{ expr: `1 - ${errRatio('1h')}` }],
            thresholds: { warning: o.sloTarget, lowerIsWorse: true },
            description: `SLO target ${o.sloTarget * 100}% of requests without a 5xx.`,
          },
          {
            title: 'Response time p95',
            kind: 'stat',
            unit: 's',
            queries: [{ expr: lat('p95') }],
            thresholds: latency,
          },
          {
            title: 'Error ratio (5xx)',
            kind: 'stat',
            unit: 'percentunit',
            queries: [{ expr: errRatio('5m') }],
            thresholds: errors,
          },
        ],
      },
      {
        title: 'Traffic',
        panels: [
          {
            title: 'Request rate',
            kind: 'timeseries',
            unit: 'reqps',
            queries: [{ expr: rec(`job:${p}http_requests:rate5m`), legend: '{{job}}' }],
          },
          {
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
            title: 'Error ratio',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [{ expr: errRatio('5m'), legend: '5xx' }],
            thresholds: errors,
          },
          {
            title: 'Requests in flight',
            kind: 'timeseries',
            unit: 'short',
            queries: [{ expr: `sum(${m('http_requests_in_flight')})`, legend: 'in flight' }],
          },
        ],
      },
      {
        title: 'Resources',
        panels: [
          {
            title: 'Bot instances running / max',
            kind: 'stat',
            unit: 'short',
            queries: [
              { expr: `sum(${m('bot_instances', 'status="running"')})`, legend: 'running' },
              { expr: `max(${m('bot_instances_max')})`, legend: 'max' },
            ],
          },
          {
            title: 'Memory (RSS)',
            kind: 'timeseries',
            unit: 'bytes',
            queries: [{ expr: m('process_resident_memory_bytes'), legend: '{{instance}}' }],
            thresholds: memory,
          },
          {
            title: 'CPU (cores)',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [
              { expr: `rate(${m('process_cpu_seconds_total')}[$__rate_interval])`, legend: '{{instance}}' },
            ],
            thresholds: { warning: t.cpu },
          },
          {
            title: 'DB pool utilisation',
            kind: 'gauge',
            unit: 'percentunit',
            queries: [{ expr: `max(${poolUtil})` }],
            thresholds: pool,
            min: 0,
            max: 1,
          },
          {
            title: 'Cache hit ratio',
            kind: 'stat',
            unit: 'percentunit',
            queries: [{ expr: `avg(${cacheRatio})` }],
            thresholds: cacheHit,
          },
        ],
      },
    ],
  };
}
