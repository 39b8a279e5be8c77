import type { DashboardSpec, PanelContext } from './builder.js';

export function databaseDashboard(c: PanelContext): DashboardSpec {
  const { o, t, m, q, poolUtil, uid } = c;
  const { pool } = c.thresholds;
  return {
    file: 'database.json',
    uid: uid('database'),
    title: 'DEIA / Database',
    rows: [
      {
        id: 1,
        title: 'PostgreSQL',
        panels: [
          {
            id: 2,
            title: 'Database health check',
            kind: 'stat',
            unit: 'short',
            queries: [{ expr: `min(${m('health_check_up', `check=~"${o.checks.database}"`)})` }],
            thresholds: { warning: 1, lowerIsWorse: true },
          },
          {
            id: 3,
            title: 'Pool utilisation',
            kind: 'gauge',
            unit: 'percentunit',
            queries: [{ expr: `max(${poolUtil})` }],
            thresholds: pool,
            min: 0,
            max: 1,
          },
          {
            id: 4,
            title: 'Pool connections',
            kind: 'timeseries',
            unit: 'short',
            queries: ['active', 'idle', 'waiting', 'max'].map((k) => ({
              expr: `sum by (pool) (${m(`db_connection_pool_${k}`)})`,
              legend: `${k} {{pool}}`,
            })),
          },
          {
            id: 5,
            title: 'Pool utilisation over time',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [{ expr: poolUtil, legend: '{{instance}} {{pool}}' }],
            thresholds: pool,
          },
          {
            id: 6,
            title: 'Query duration p95 by operation',
            kind: 'timeseries',
            unit: 's',
            queries: [{ expr: q(0.95, 'db_query_duration_seconds', 'operation, '), legend: '{{operation}}' }],
            thresholds: { warning: t.dbQueryP95 },
          },
          {
            id: 7,
            title: 'Query rate and errors',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: `sum(rate(${m('db_query_duration_seconds_count')}[$__rate_interval]))`,
                legend: 'queries',
              },
              { expr: `sum(rate(${m('db_query_errors_total')}[$__rate_interval]))`, legend: 'errors' },
            ],
          },
          {
            id: 8,
            title: 'Query duration p50 / p99',
            kind: 'timeseries',
            unit: 's',
            queries: [
              { expr: q(0.5, 'db_query_duration_seconds', ''), legend: 'p50' },
              { expr: q(0.99, 'db_query_duration_seconds', ''), legend: 'p99' },
            ],
            thresholds: { warning: t.dbQueryP95 },
            description:
              'Every operation together; the p95 by operation (what SlowDatabaseQueries reads) is beside it.',
          },
        ],
      },
    ],
  };
}
