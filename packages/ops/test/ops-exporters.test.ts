import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateKubernetes, generateOps, type OpsOptions } from '../src/index.js';
import { dashboardExprs, promqlReferences } from '../src/references.js';
import { resolveOpsOptions } from '../src/resolve-options.js';
import { expectOpsError } from './ops-error.js';

// The opt-in exporter dashboards (postgres_exporter, redis_exporter): present only when enabled,
// with their scrape job (prometheus.yml) or ServiceMonitor (Kubernetes), reading only series the
// exporters document (the names and labels are checked against the lists in ops-static.test.ts;
// here: which series each panel reads, so a renamed metric fails), every expression parsing.

const BOTH: OpsOptions = { postgresExporter: { enabled: true }, redisExporter: { enabled: true } };

type Dashboard = { title: string; panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
const dashboardsOf = (options: OpsOptions) =>
  Object.fromEntries(
    Object.entries(generateOps(options).files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .map(([f, text]) => [f.replace('grafana/dashboards/', ''), JSON.parse(text) as Dashboard]),
  );
const scrapeJobs = (options: OpsOptions) =>
  (
    parse(generateOps(options).files['prometheus/prometheus.yml'] as string) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    }
  ).scrape_configs.map((s) => [s.job_name, s.static_configs[0]?.targets]);

function parseErrors(expr: string): string[] {
  const promql = expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$(\w+)/g, 'x');
  const errors: string[] = [];
  parser.parse(promql).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`${n.from}: ${promql}`);
    },
  });
  return errors;
}

/** panel title -> the series names its queries read. */
function reads(d: Dashboard | undefined): Record<string, string[]> {
  return Object.fromEntries(
    (d?.panels ?? [])
      .filter((p) => p.targets)
      .map((p) => [
        p.title,
        [...new Set((p.targets ?? []).flatMap((t) => [...promqlReferences(t.expr).metrics]))].sort(),
      ]),
  );
}

describe('exporter dashboards and scrape jobs', () => {
  it('are absent by default (opt-in), in files and on Kubernetes', () => {
    const files = Object.keys(generateOps({}).files);
    expect(files.filter((f) => /postgres|redis/.test(f))).toEqual([]);
    expect(scrapeJobs({}).map(([job]) => job)).toEqual(['deia-bot-controller']);
    const k = generateKubernetes({});
    expect(k.resources.filter((r) => r.kind === 'ServiceMonitor')).toHaveLength(1);
    expect(Object.keys(k.files).filter((f) => /postgres|redis/.test(f))).toEqual([]);
    // One on, the other stays off.
    expect(
      Object.keys(dashboardsOf({ redisExporter: { enabled: true } })).filter((f) => /exporter/.test(f)),
    ).toEqual(['redis-exporter.json']);
  });

  it('add a scrape job per exporter, with its targets', () => {
    expect(scrapeJobs(BOTH)).toEqual([
      ['deia-bot-controller', ['127.0.0.1:8000']],
      ['postgres', ['127.0.0.1:9187']],
      ['redis', ['127.0.0.1:9121']],
    ]);
    expect(
      scrapeJobs({
        nodeExporter: { enabled: true },
        postgresExporter: { enabled: true, job: 'pg', targets: ['db-1:9187', 'db-2:9187'] },
      }),
    ).toEqual([
      ['deia-bot-controller', ['127.0.0.1:8000']],
      ['node', ['127.0.0.1:9100']],
      ['pg', ['db-1:9187', 'db-2:9187']],
    ]);
  });

  it('PostgreSQL: replication lag, size, connections, index statistics, slow queries', () => {
    const d = dashboardsOf(BOTH)['postgres-exporter.json'];
    expect(d?.title).toBe('DEIA / PostgreSQL (postgres_exporter)');
    expect(reads(d)).toEqual({
      'Replication lag': ['pg_replication_lag_seconds'],
      'Database size': ['pg_database_size_bytes'],
      'Connections by database': ['pg_stat_database_numbackends'],
      'Index scan ratio (10 lowest tables)': ['pg_stat_user_tables_idx_scan', 'pg_stat_user_tables_seq_scan'],
      'Sequential scans per second (top 10 tables)': ['pg_stat_user_tables_seq_scan'],
      'Index size (top 10 tables)': ['pg_stat_user_tables_index_size_bytes'],
      'Slowest statements: mean time per call (top 10)': [
        'pg_stat_statements_calls_total',
        'pg_stat_statements_seconds_total',
      ],
      'Statement time per second (top 10)': ['pg_stat_statements_seconds_total'],
    });
    // The slow-query row names what it needs from the exporter.
    expect(JSON.stringify(d)).toContain('--collector.stat_statements');
  });

  it('Redis: keys, clients, memory, network I/O, evictions', () => {
    expect(reads(dashboardsOf(BOTH)['redis-exporter.json'])).toEqual({
      'Keys by database': ['redis_db_keys'],
      'Connected clients': ['redis_connected_clients'],
      'Memory used': ['redis_memory_max_bytes', 'redis_memory_used_bytes'],
      'Network I/O': ['redis_net_input_bytes_total', 'redis_net_output_bytes_total'],
      'Evicted keys per second': ['redis_evicted_keys_total'],
    });
  });

  it.each([
    ['defaults', BOTH],
    [
      'custom jobs, $cluster',
      {
        postgresExporter: { enabled: true, job: 'pg-prod' },
        redisExporter: { enabled: true, job: 'cache' },
        grafana: { clusterVariable: true },
      },
    ],
  ] as Array<[string, OpsOptions]>)(
    'every expression parses and selects the exporter job (and $cluster) (%s)',
    (_, options) => {
      const o = resolveOpsOptions(options);
      const all = dashboardsOf(options);
      for (const [file, job] of [
        ['postgres-exporter.json', o.postgresExporter.job],
        ['redis-exporter.json', o.redisExporter.job],
      ] as const) {
        const exprs = dashboardExprs(all[file]).filter(
          (e) => !e.includes('ALERTS') && !e.includes('build_info'),
        );
        expect(exprs.length, file).toBeGreaterThan(4);
        for (const expr of exprs) {
          expect(parseErrors(expr)).toEqual([]);
          for (const [, matchers] of expr.matchAll(/[a-z_]+\{([^}]*)\}/g)) {
            expect(matchers, expr).toContain(`job="${job}"`);
            if (o.grafana.clusterVariable) expect(matchers, expr).toContain('cluster=~"$cluster"');
          }
        }
      }
    },
  );

  it('the parse check can fail', () => {
    expect(parseErrors('topk(10, sum by (a) (rate(x{job="p"}[5m]))')).not.toEqual([]);
  });

  it('Kubernetes: a ServiceMonitor per exporter on its Service, job relabelled to the dashboard job', () => {
    const k = generateKubernetes({
      postgresExporter: { enabled: true, kubernetes: { matchLabels: { app: 'pg-exporter' }, port: 'http' } },
      redisExporter: { enabled: true, job: 'cache' },
      kubernetes: { namespace: 'bots' },
    });
    const monitors = k.resources.filter((r) => r.kind === 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name)).toEqual([
      'deia-bot-controller',
      'deia-bot-controller-postgres-exporter',
      'deia-bot-controller-redis-exporter',
    ]);
    expect(monitors[1]?.spec).toEqual({
      selector: { matchLabels: { app: 'pg-exporter' } },
      namespaceSelector: { matchNames: ['bots'] },
      endpoints: [
        {
          port: 'http',
          interval: '15s',
          relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'postgres' }],
        },
      ],
    });
    expect(monitors[2]?.spec?.selector).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'redis-exporter' },
    });
    expect(JSON.stringify(monitors[2]?.spec?.endpoints)).toContain('"replacement":"cache"');
    expect(Object.keys(k.files)).toEqual(
      expect.arrayContaining([
        'postgres-exporter-service-monitor.yaml',
        'redis-exporter-service-monitor.yaml',
        'grafana-dashboard-postgres-exporter.yaml',
        'grafana-dashboard-redis-exporter.yaml',
      ]),
    );
  });

  it.each([
    [{ postgresExporter: { enabled: 'yes' } }, /postgresExporter\.enabled must be a boolean/],
    [
      { redisExporter: { targets: ['redis://r:9121'] } },
      /redisExporter\.targets: "redis:\/\/r:9121" must be host:port/,
    ],
    [{ redisExporter: { job: 'a"b' } }, /redisExporter\.job must be non-empty, without quotes/],
    [{ postgresExporter: { kubernetes: { port: 'Not A Port' } } }, /postgresExporter\.kubernetes\.port/],
    [{ postgresExporter: { kubernetes: { matchLabels: {} } } }, /matchLabels must not be empty/],
    [{ postgresExporter: { unknown: 1 } }, /postgresExporter/],
    [
      { postgresExporter: { enabled: true, job: 'deia-bot-controller' } },
      /postgresExporter\.job "deia-bot-controller" is the job of job too/,
    ],
    [
      { postgresExporter: { enabled: true }, redisExporter: { enabled: true, job: 'postgres' } },
      /redisExporter\.job "postgres" is the job of postgresExporter\.job/,
    ],
  ] as Array<[unknown, RegExp]>)('refuses bad options (%j)', (options, message) => {
    expectOpsError(() => resolveOpsOptions(options as OpsOptions), 'DEIA_OPS_OPTIONS', message);
  });
});
