import type { DashboardSpec, PanelContext } from './builder.js';

export function cacheDashboard(c: PanelContext): DashboardSpec {
  const { o, m, q, rate, cacheRatio, uid } = c;
  const { cacheHit } = c.thresholds;
  return {
    file: 'cache.json',
    uid: uid('cache'),
    title: 'DEIA / Cache',
    rows: [
      {
        id: 1,
        title: 'Cache',
        panels: [
          {
            id: 2,
            title: 'Cache health check',
            kind: 'stat',
            unit: 'short',
            queries: [{ expr: `min(${m('health_check_up', `check=~"${o.checks.cache}"`)})` }],
            thresholds: { warning: 1, lowerIsWorse: true },
          },
          {
            id: 3,
            title: 'Hit ratio',
            kind: 'stat',
            unit: 'percentunit',
            queries: [{ expr: `avg(${cacheRatio})` }],
            thresholds: cacheHit,
          },
          {
            id: 4,
            title: 'Hit ratio over time',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [{ expr: cacheRatio, legend: '{{cache}}' }],
            thresholds: cacheHit,
          },
          {
            id: 5,
            title: 'Hits and misses',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: rate('cache_hits_total', 'cache'), legend: 'hits {{cache}}' },
              { expr: rate('cache_misses_total', 'cache'), legend: 'misses {{cache}}' },
            ],
          },
          {
            id: 6,
            title: 'Command latency p95',
            kind: 'timeseries',
            unit: 's',
            queries: [
              { expr: q(0.95, 'cache_command_duration_seconds', 'command, '), legend: '{{command}}' },
            ],
          },
          // Read from the server by the cache health check (redisCheck: INFO). Every instance of the
          // service reads the same server, so the instances are combined with max, not summed.
          {
            id: 7,
            title: 'Cache server memory',
            kind: 'timeseries',
            unit: 'bytes',
            queries: [
              { expr: `max by (cache) (${m('cache_memory_used_bytes')})`, legend: 'used {{cache}}' },
              { expr: `max by (cache) (${m('cache_memory_max_bytes')} > 0)`, legend: 'limit {{cache}}' },
            ],
            description:
              'used_memory and maxmemory from Redis INFO, as the cache health check last read them (no limit line when maxmemory is 0).',
          },
          {
            id: 8,
            title: 'Cache evictions per second',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: `max by (cache) (rate(${m('cache_evictions_total')}[$__rate_interval]))`,
                legend: '{{cache}}',
              },
            ],
            description:
              'Keys Redis evicted for its memory limit (INFO evicted_keys), read by the cache health check.',
          },
        ],
      },
    ],
  };
}
