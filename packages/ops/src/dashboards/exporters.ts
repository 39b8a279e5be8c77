import type { ResolvedExporterOptions } from '../types.js';
import type { DashboardSpec, PanelContext } from './builder.js';

type Row = DashboardSpec['rows'][number];
/** An exporter's series selector, with extra matchers. */
type Selector = (extra?: string) => string;
/** `sum by (by) (rate(name{selector}[$__rate_interval]))`. */
type SumRate = (name: string, by: string) => string;

/**
 * An exporter is its own job with its own instances: only `$cluster` applies to its series (as
 * for node_exporter); `$job` and `$instance` stay on the dashboard for the incident marks.
 */
function exporterSelector(c: PanelContext, e: ResolvedExporterOptions): Selector {
  const cluster = c.o.grafana.clusterVariable ? 'cluster=~"$cluster",' : '';
  return (extra) => `{${cluster}job="${e.job}"${extra ? `,${extra}` : ''}}`;
}

/**
 * "PostgreSQL (postgres_exporter)", with `postgresExporter.enabled`. Every series below is one
 * prometheus-community/postgres_exporter documents, with the labels it gives them:
 * - `pg_replication_lag_seconds` (no label; 0 on a primary): collector/pg_replication.go,
 *   collector "replication", on by default.
 * - `pg_database_size_bytes{datname}`: collector/pg_database.go, collector "database", on by default.
 * - `pg_stat_database_numbackends{datid,datname}`: collector/pg_stat_database.go, on by default.
 * - `pg_stat_user_tables_{idx_scan,seq_scan,index_size_bytes}{datname,schemaname,relname}`:
 *   collector/pg_stat_user_tables.go, on by default (tables of the database the exporter connects to).
 * - `pg_stat_statements_{seconds_total,calls_total}{user,datname,queryid}`:
 *   collector/pg_stat_statements.go, OFF by default: run the exporter with
 *   `--collector.stat_statements` and load the pg_stat_statements extension
 *   (`shared_preload_libraries`, `CREATE EXTENSION pg_stat_statements`). The exporter exports the
 *   100 statements with the most total time only.
 */
export function postgresExporterDashboard(c: PanelContext): DashboardSpec | undefined {
  const e = c.o.postgresExporter;
  if (!e.enabled) return undefined;
  const s = exporterSelector(c, e);
  const r = (name: string, by: string) => `sum by (${by}) (rate(${name}${s()}[$__rate_interval]))`;
  return {
    file: 'postgres-exporter.json',
    uid: c.uid('postgres-exporter'),
    title: 'DEIA / PostgreSQL (postgres_exporter)',
    rows: [postgresServerRow(s), postgresIndexRow(s, r), postgresSlowQueriesRow(r)],
  };
}

/** Replication lag, database sizes and connections. */
function postgresServerRow(s: Selector): Row {
  return {
    id: 1,
    title: 'PostgreSQL server',
    panels: [
      {
        id: 2,
        title: 'Replication lag',
        kind: 'timeseries',
        unit: 's',
        description:
          'Seconds since the last replayed transaction on a replica (0 on a primary); grows when the primary is idle too.',
        queries: [{ expr: `max by (instance) (pg_replication_lag_seconds${s()})`, legend: '{{instance}}' }],
      },
      {
        id: 3,
        title: 'Database size',
        kind: 'timeseries',
        unit: 'bytes',
        queries: [
          {
            expr: `max by (instance, datname) (pg_database_size_bytes${s()})`,
            legend: '{{instance}} {{datname}}',
          },
        ],
      },
      {
        id: 4,
        title: 'Connections by database',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: `sum by (instance, datname) (pg_stat_database_numbackends${s()})`,
            legend: '{{instance}} {{datname}}',
          },
        ],
      },
    ],
  };
}

/** Index scan ratio, sequential scans and index size of the busiest tables. */
function postgresIndexRow(s: Selector, r: SumRate): Row {
  const table = 'datname, schemaname, relname';
  return {
    id: 5,
    title: 'Index statistics',
    panels: [
      {
        id: 6,
        title: 'Index scan ratio (10 lowest tables)',
        kind: 'timeseries',
        unit: 'percentunit',
        description:
          'Index scans / all scans per table; a busy table near 0 is read by sequential scans (a missing index).',
        min: 0,
        max: 1,
        queries: [
          {
            // `>= 0` drops the tables without any scan in the window (0 / 0).
            expr: `bottomk(10, ${r('pg_stat_user_tables_idx_scan', table)} / (${r('pg_stat_user_tables_idx_scan', table)} + ${r('pg_stat_user_tables_seq_scan', table)}) >= 0)`,
            legend: '{{datname}} {{schemaname}}.{{relname}}',
          },
        ],
      },
      {
        id: 7,
        title: 'Sequential scans per second (top 10 tables)',
        kind: 'timeseries',
        unit: 'ops',
        queries: [
          {
            expr: `topk(10, ${r('pg_stat_user_tables_seq_scan', table)})`,
            legend: '{{datname}} {{schemaname}}.{{relname}}',
          },
        ],
      },
      {
        id: 8,
        title: 'Index size (top 10 tables)',
        kind: 'timeseries',
        unit: 'bytes',
        queries: [
          {
            expr: `topk(10, max by (${table}) (pg_stat_user_tables_index_size_bytes${s()}))`,
            legend: '{{datname}} {{schemaname}}.{{relname}}',
          },
        ],
      },
    ],
  };
}

/** The statements with the most time per call and in total (pg_stat_statements). */
function postgresSlowQueriesRow(r: SumRate): Row {
  const stmt = 'datname, queryid';
  return {
    id: 9,
    title: 'Slow queries (pg_stat_statements: postgres_exporter --collector.stat_statements)',
    panels: [
      {
        id: 10,
        title: 'Slowest statements: mean time per call (top 10)',
        kind: 'timeseries',
        unit: 's',
        description:
          'Needs postgres_exporter --collector.stat_statements and the pg_stat_statements extension; queryid names the statement in pg_stat_statements.',
        queries: [
          {
            expr: `topk(10, ${r('pg_stat_statements_seconds_total', stmt)} / ${r('pg_stat_statements_calls_total', stmt)})`,
            legend: '{{datname}} {{queryid}}',
          },
        ],
      },
      {
        id: 11,
        title: 'Statement time per second (top 10)',
        kind: 'timeseries',
        unit: 's',
        description: 'Seconds spent in each statement per second of wall time: where the database time goes.',
        queries: [
          {
            expr: `topk(10, ${r('pg_stat_statements_seconds_total', stmt)})`,
            legend: '{{datname}} {{queryid}}',
          },
        ],
      },
    ],
  };
}
/**
 * "Redis (redis_exporter)", with `redisExporter.enabled`. Every series below is one
 * oliver006/redis_exporter documents (exporter/exporter.go: the INFO field maps `metricMapGauges`,
 * `metricMapCounters` and the `db_keys` description), default namespace `redis`:
 * - `redis_db_keys{db}` (INFO keyspace), `redis_connected_clients` (connected_clients),
 *   `redis_memory_used_bytes` (used_memory), `redis_memory_max_bytes` (maxmemory, 0 = no limit),
 * - counters `redis_net_input_bytes_total`, `redis_net_output_bytes_total` (total_net_*_bytes),
 *   `redis_evicted_keys_total` (evicted_keys).
 */
export function redisExporterDashboard(c: PanelContext): DashboardSpec | undefined {
  const e = c.o.redisExporter;
  if (!e.enabled) return undefined;
  const s = exporterSelector(c, e);
  const r = (name: string) => `sum by (instance) (rate(${name}${s()}[$__rate_interval]))`;
  return {
    file: 'redis-exporter.json',
    uid: c.uid('redis-exporter'),
    title: 'DEIA / Redis (redis_exporter)',
    rows: [
      {
        id: 1,
        title: 'Redis server',
        panels: [
          {
            id: 2,
            title: 'Keys by database',
            kind: 'timeseries',
            unit: 'short',
            queries: [{ expr: `sum by (instance, db) (redis_db_keys${s()})`, legend: '{{instance}} {{db}}' }],
          },
          {
            id: 3,
            title: 'Connected clients',
            kind: 'timeseries',
            unit: 'short',
            queries: [{ expr: `max by (instance) (redis_connected_clients${s()})`, legend: '{{instance}}' }],
          },
          {
            id: 4,
            title: 'Memory used',
            kind: 'timeseries',
            unit: 'bytes',
            description: 'used_memory, and maxmemory when a limit is set (evictions start there).',
            queries: [
              { expr: `max by (instance) (redis_memory_used_bytes${s()})`, legend: '{{instance}} used' },
              {
                expr: `max by (instance) (redis_memory_max_bytes${s()}) > 0`,
                legend: '{{instance}} maxmemory',
              },
            ],
          },
          {
            id: 5,
            title: 'Network I/O',
            kind: 'timeseries',
            unit: 'Bps',
            queries: [
              { expr: r('redis_net_input_bytes_total'), legend: '{{instance}} in' },
              { expr: r('redis_net_output_bytes_total'), legend: '{{instance}} out' },
            ],
          },
          {
            id: 6,
            title: 'Evicted keys per second',
            kind: 'timeseries',
            unit: 'ops',
            description: 'Keys dropped to stay under maxmemory: cache entries the service will miss.',
            queries: [{ expr: r('redis_evicted_keys_total'), legend: '{{instance}}' }],
          },
        ],
      },
    ],
  };
}
