import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG } from '@deia/metrics';
import * as promClient from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertRules,
  DEFAULT_OPS_OPTIONS,
  generateOps,
  OBJECT_LABELS,
  type OpsOptions,
  runCli,
} from '../src/index.js';
import { dashboardExprs, promqlReferences } from '../src/references.js';
import { resolveOpsOptions } from '../src/resolve-options.js';
import { recordingRuleNames } from '../src/rules.js';
import { expectOpsError } from './ops-error.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'deia-ops-static-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Static cross-check: every series a rule or a panel reads exists in the catalog (with prefix), is
// a prom-client default metric, `up`, node_exporter's, postgres_exporter's or redis_exporter's
// documented series (when enabled) or a recording rule of the same file.

const references = promqlReferences;
const exprsIn = (value: unknown) => dashboardExprs(value);

/**
 * postgres_exporter's series the PostgreSQL dashboard reads, as prometheus-community/postgres_exporter
 * defines them (collector/pg_replication.go, pg_database.go, pg_stat_database.go,
 * pg_stat_user_tables.go, pg_stat_statements.go), with their labels.
 */
const POSTGRES_EXPORTER_SERIES: Record<string, string[]> = {
  pg_replication_lag_seconds: [],
  pg_database_size_bytes: ['datname', 'server'],
  pg_stat_database_numbackends: ['datid', 'datname'],
  pg_stat_user_tables_idx_scan: ['datname', 'schemaname', 'relname'],
  pg_stat_user_tables_seq_scan: ['datname', 'schemaname', 'relname'],
  pg_stat_user_tables_index_size_bytes: ['datname', 'schemaname', 'relname'],
  pg_stat_statements_seconds_total: ['user', 'datname', 'queryid'],
  pg_stat_statements_calls_total: ['user', 'datname', 'queryid'],
};
/** redis_exporter's series the Redis dashboard reads (oliver006/redis_exporter exporter/exporter.go). */
const REDIS_EXPORTER_SERIES: Record<string, string[]> = {
  redis_db_keys: ['db'],
  redis_connected_clients: [],
  redis_memory_used_bytes: [],
  redis_memory_max_bytes: [],
  redis_net_input_bytes_total: [],
  redis_net_output_bytes_total: [],
  redis_evicted_keys_total: [],
};

async function allowedSeries(
  prefix: string,
  nodeExporter: boolean,
  recorded: string[],
  exporters: { postgres?: boolean; redis?: boolean } = {},
  native: readonly string[] = [],
) {
  const allowed = new Set<string>(['up', 'ALERTS', ...recorded]);
  // A native histogram is one series under the family's name.
  for (const n of native) allowed.add(prefix + n);
  const suffixes = (name: string, type: string) =>
    type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
  for (const d of CATALOG) for (const n of suffixes(prefix + d.name, d.type)) allowed.add(n);
  const reg = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: reg, prefix });
  for (const m of await reg.getMetricsAsJSON())
    for (const n of suffixes(m.name, m.type as unknown as string)) allowed.add(n);
  if (nodeExporter)
    // node_exporter's documented series the rules and the host panels read.
    for (const n of [
      'node_filesystem_avail_bytes',
      'node_filesystem_size_bytes',
      'node_cpu_seconds_total',
      'node_memory_MemAvailable_bytes',
      'node_memory_MemTotal_bytes',
      'node_network_receive_bytes_total',
      'node_network_transmit_bytes_total',
    ])
      allowed.add(n);
  if (exporters.postgres) for (const n of Object.keys(POSTGRES_EXPORTER_SERIES)) allowed.add(n);
  if (exporters.redis) for (const n of Object.keys(REDIS_EXPORTER_SERIES)) allowed.add(n);
  return allowed;
}

const allowedLabels = new Set([
  'job',
  'instance',
  'le',
  'mountpoint',
  'fstype',
  'mode',
  'device',
  // ALERTS (the aftermath clause of symptom alerts)
  'alertname',
  'alertstate',
  'severity',
  ...CATALOG.flatMap((d) => d.labelNames),
  ...Object.values(POSTGRES_EXPORTER_SERIES).flat(),
  ...Object.values(REDIS_EXPORTER_SERIES).flat(),
]);

describe('static cross-check of generated rules and dashboards against the catalog', () => {
  it.each([
    ['defaults', {}],
    [
      'prefix deia_ with node_exporter, postgres_exporter, redis_exporter and the opt-in series',
      {
        prefix: 'deia_',
        nodeExporter: { enabled: true },
        postgresExporter: { enabled: true },
        redisExporter: { enabled: true },
        optional: { auth: true, websocket: true, botResources: true, uploads: true },
      },
    ],
    ['native histograms, prefix deia_', { prefix: 'deia_', nativeHistograms: true }],
  ] as Array<[string, OpsOptions]>)('every referenced series exists (%s)', async (_, options) => {
    const { files, groups } = generateOps(options);
    const recorded = recordingRuleNames(groups);
    const allowed = await allowedSeries(
      options.prefix ?? '',
      options.nodeExporter?.enabled === true,
      recorded,
      { postgres: options.postgresExporter?.enabled, redis: options.redisExporter?.enabled },
      resolveOpsOptions(options).nativeHistograms,
    );
    const ruleExprs = groups.flatMap((g) => g.rules.map((r) => r.expr));
    const panelExprs = Object.entries(files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .flatMap(([, text]) => exprsIn(JSON.parse(text)));
    expect(panelExprs.length).toBeGreaterThan(50);
    const unknown: string[] = [];
    const badLabels: string[] = [];
    for (const expr of [...ruleExprs, ...panelExprs]) {
      const { metrics, labels } = references(expr);
      expect(metrics.size, `no series found in ${expr}`).toBeGreaterThan(0);
      for (const m of metrics) if (!allowed.has(m)) unknown.push(`${m} in ${expr}`);
      for (const l of labels) if (!allowedLabels.has(l)) badLabels.push(`${l} in ${expr}`);
    }
    expect(unknown).toEqual([]);
    expect(badLabels).toEqual([]);
  });

  it('every label an alert keeps is job, instance or an inhibition object label', () => {
    const { groups } = generateOps({ nodeExporter: { enabled: true } });
    const kept = new Set<string>();
    for (const rule of alertRules(groups)) {
      const by = [...rule.expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(','));
      if (by.length) for (const l of by) kept.add(l.trim());
      else
        for (const m of references(rule.expr).metrics)
          for (const l of CATALOG.find((d) => d.name === m)?.labelNames ?? []) kept.add(l);
    }
    kept.delete('le');
    kept.delete('');
    const objectLabels = new Set<string>(['job', 'instance', ...OBJECT_LABELS]);
    expect([...kept].filter((l) => !objectLabels.has(l))).toEqual([]);
    expect(kept).toContain('bot_id');
  });

  it('finds series the way it should (the checker itself)', () => {
    expect([
      ...references('sum by (job, le) (rate(x_bucket{job="a",le="0.2"}[5m])) / y offset 5m > 0.5').metrics,
    ]).toEqual(['x_bucket', 'y']);
    expect([...references('(increase(a_total{job="x"}[5m]) and a_total offset 5m) or b').metrics]).toEqual([
      'a_total',
      'b',
    ]);
    expect([
      ...references('histogram_quantile(0.95, sum by (le) (rate(h_bucket[$__rate_interval]))) > 1e8').metrics,
    ]).toEqual(['h_bucket']);
  });

  it('selects the latency-SLO bucket at a real bound of http_request_duration_seconds', () => {
    const def = CATALOG.find((d) => d.name === 'http_request_duration_seconds');
    expect(def?.buckets).toContain(DEFAULT_OPS_OPTIONS.latencySlo.thresholdSeconds);
  });
});

/** Every rule the generator can emit: node_exporter and the opt-in series enabled. */
const EVERYTHING: OpsOptions = {
  nodeExporter: { enabled: true },
  optional: { auth: true, websocket: true, botResources: true, uploads: true },
};

describe('runbooks', () => {
  it('exist for every alert, and every runbook belongs to an alert', () => {
    const names = new Set(alertRules(generateOps(EVERYTHING).groups).map((r) => r.alert));
    const dir = join(root, 'docs/runbooks');
    const files = new Set(readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md'));
    for (const n of names) expect(files.has(`${n}.md`), `docs/runbooks/${n}.md`).toBe(true);
    for (const f of files)
      expect(names.has(f.replace(/\.md$/, '')), `docs/runbooks/${f} has no alert`).toBe(true);
  });

  it('are listed in docs/alerts.md', () => {
    const doc = readFileSync(join(root, 'docs/alerts.md'), 'utf8');
    for (const r of alertRules(generateOps(EVERYTHING).groups)) expect(doc).toContain(`\`${r.alert}\``);
  });
});

describe('dashboards', () => {
  const dashboards = (options: OpsOptions = {}) =>
    Object.fromEntries(
      Object.entries(generateOps(options).files)
        .filter(([f]) => f.startsWith('grafana/dashboards/'))
        .map(([f, text]) => [f.replace('grafana/dashboards/', ''), JSON.parse(text)]),
    );
  const panels = (d: { panels: Array<{ type: string; title: string; panels?: unknown[] }> }) =>
    d.panels.filter((p) => p.type !== 'row');

  it('are the seven the guides list, each with a datasource variable and deployment annotations', () => {
    const all = dashboards();
    expect(Object.keys(all).sort()).toEqual([
      'ai-models.json',
      'bot-performance.json',
      'cache.json',
      'database.json',
      'dependencies.json',
      'request-metrics.json',
      'system-overview.json',
    ]);
    for (const d of Object.values(all)) {
      expect(
        d.templating.list.some(
          (v: { type: string; query: string }) => v.type === 'datasource' && v.query === 'prometheus',
        ),
      ).toBe(true);
      expect(
        d.annotations.list.some(
          (a: { name: string; expr: string }) =>
            a.name === 'Deployments' && a.expr.includes('app_build_info'),
        ),
      ).toBe(true);
      for (const p of panels(d))
        expect((p as unknown as { datasource: { uid: string } }).datasource.uid).toBe(`$${'{datasource}'}`);
      expect(new Set(panels(d).map((p) => p.title)).size).toBe(panels(d).length);
    }
  });

  it.each([
    ['defaults', {}],
    [
      'cluster variable, node_exporter, postgres_exporter, redis_exporter',
      {
        grafana: { clusterVariable: true },
        nodeExporter: { enabled: true },
        postgresExporter: { enabled: true },
        redisExporter: { enabled: true },
      },
    ],
    [
      'cluster variable, extra metrics, token price',
      {
        grafana: { clusterVariable: true },
        llmPricePer1kTokens: 0.002,
        extraMetrics: [
          { name: 'a_total', type: 'counter', help: 'A.', unit: '1', labelNames: ['k'], group: 'custom' },
          {
            name: 'b_seconds',
            type: 'histogram',
            help: 'B.',
            unit: 'seconds',
            labelNames: [],
            buckets: [1],
            group: 'custom',
          },
          { name: 'c', type: 'gauge', help: 'C.', unit: 'bytes', labelNames: [], group: 'custom' },
        ],
      },
    ],
  ] as Array<[string, OpsOptions]>)(
    'have $job and $instance variables (and $cluster when asked) filtering every query, and stable ids (%s)',
    (_, options) => {
      const cluster = options.grafana?.clusterVariable === true;
      const first = dashboards(options);
      for (const [file, d] of Object.entries(first)) {
        const vars = d.templating.list as Array<{
          name: string;
          type: string;
          query: string;
          allValue?: string;
        }>;
        expect(vars.map((v) => v.name)).toEqual([
          'datasource',
          ...(cluster ? ['cluster'] : []),
          'job',
          'instance',
        ]);
        for (const v of vars.filter((x) => x.type === 'query')) {
          expect(v.query).toMatch(new RegExp(`^label_values\\(up\\{[^}]*\\}, ${v.name}\\)$`));
          expect(v.allValue).toBe('.*');
        }
        const exprs = dashboardExprs(d);
        for (const expr of exprs) {
          // Each exporter is its own job (only $cluster applies).
          const exporter = /\b(node|pg|redis)_/.test(expr);
          // Every selector of the expression carries the variables (job-level aggregates: no instance).
          for (const [, name, matchers] of expr.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)) {
            const where = `${name}{${matchers}} in ${file}: ${expr}`;
            if (cluster) expect(matchers, where).toContain('cluster=~"$cluster"');
            if (exporter) continue;
            expect(matchers, where).toContain('job=~"$job"');
            // Job-level aggregates and the incident marks (job-wide alerts have no instance): no $instance.
            if (!/^job(_\w+)?:/.test(name ?? '') && name !== 'ALERTS')
              expect(matchers, where).toContain('instance=~"$instance"');
          }
        }
        const ids = (d.panels as Array<{ id: number }>).map((p) => p.id);
        expect(new Set(ids).size, file).toBe(ids.length);
      }
      // Deterministic: the same options give the same ids and JSON.
      expect(dashboards(options)).toEqual(first);
    },
  );

  it('alerts link their dashboard (dashboard_url) next to the runbook only when grafana.url is set', () => {
    const all = { nodeExporter: { enabled: true }, optional: { auth: true, websocket: true } };
    for (const r of alertRules(generateOps(all).groups)) expect(r.annotations.dashboard_url).toBeUndefined();
    const options: OpsOptions = { ...all, grafana: { url: 'https://grafana.example.com/' } };
    const uids = new Set(Object.values(dashboards(options)).map((d) => d.uid as string));
    const rules = alertRules(generateOps(options).groups);
    expect(rules.length).toBeGreaterThan(20);
    for (const r of rules) {
      expect(r.annotations.runbook_url).toMatch(/\.md$/);
      const m = /^https:\/\/grafana\.example\.com\/d\/([\w-]+)(\?var-job=\{\{ \$labels\.job \}\}.*)?$/.exec(
        r.annotations.dashboard_url ?? '',
      );
      expect(m, `${r.alert}: ${r.annotations.dashboard_url}`).not.toBeNull();
      expect(uids.has(m?.[1] ?? ''), r.alert).toBe(true);
    }
    expect(rules.find((r) => r.alert === 'DatabasePoolSaturation')?.annotations.dashboard_url).toBe(
      'https://grafana.example.com/d/deia-database?var-job={{ $labels.job }}{{ with $labels.instance }}&var-instance={{ . }}{{ end }}',
    );
  });

  it('draw the alert thresholds from the same options as the rules', () => {
    const options: OpsOptions = {
      thresholds: {
        errorRatioWarning: 0.02,
        errorRatioCritical: 0.08,
        latencyP95Warning: 0.3,
        dbPoolWarning: 0.7,
      },
    };
    const d = dashboards(options)['system-overview.json'];
    const steps = (title: string) =>
      (
        panels(d).find((p) => p.title === title) as unknown as {
          fieldConfig: { defaults: { thresholds: { steps: Array<{ value: number | null }> } } };
        }
      ).fieldConfig.defaults.thresholds.steps.map((s) => s.value);
    expect(steps('Error ratio')).toEqual([null, 0.02, 0.08]);
    expect(steps('Response time p95')).toEqual([null, 0.3, 1]);
    expect(steps('DB pool utilisation')).toEqual([null, 0.7, 0.95]);
    const rules = alertRules(generateOps(options).groups);
    expect(rules.find((r) => r.alert === 'HighErrorRate' && r.labels.severity === 'warning')?.expr).toMatch(
      /> 0\.02\n/,
    );
    expect(
      rules.find((r) => r.alert === 'DatabasePoolSaturation' && r.labels.severity === 'warning')?.expr,
    ).toMatch(/> 0\.7$/);
  });
});

describe('options', () => {
  it.each([
    [{ thresholds: { nope: 1 } }, /thresholds: unknown option "nope"/],
    [
      { thresholds: { errorRatioWarning: 0.1 } },
      /errorRatioWarning \(0\.1\) must be below thresholds\.errorRatioCritical/,
    ],
    [{ for: { serviceDown: 'soon' } }, /for\.serviceDown "soon" is not a Prometheus duration/],
    [{ forScale: -1 }, /forScale must be a number >= 0/],
    [{ windowScale: 0 }, /windowScale must be a number > 0/],
    [{ windowFloor: 'soon' }, /windowFloor "soon" is not a Prometheus duration/],
    [
      { alertmanager: { groupWait: 'later' } },
      /alertmanager\.groupWait "later" is not a Prometheus duration/,
    ],
    [{ alertmanager: { groupInterval: { info: '0s' } } }, /groupInterval\.info must be longer than 0s/],
    [{ alertmanager: { groupWait: { urgent: '1s' } } }, /alertmanager\.groupWait: unknown option "urgent"/],
    [{ sloTarget: 1.5 }, /sloTarget must be a number between 0 and 1/],
    [{ sloTarget: 0.9 }, /error budget too large/],
    [{ selector: '{job="x"}' }, /without braces/],
    [{ prefix: 'bad-prefix' }, /not a valid metric name prefix/],
    [{ runbookBaseUrl: 'docs/runbooks' }, /runbookBaseUrl must be an http\(s\) URL/],
    [{ prometheus: { scrapeTargets: ['http://x:8000/metrics'] } }, /must be host:port/],
    [{ alertmanager: { webhookUrl: 'ftp://x' } }, /webhookUrl must be an http\(s\) URL/],
    [{ nodeExporter: { enabled: 'yes' } }, /nodeExporter\.enabled must be a boolean/],
    [{ grafana: { url: 'grafana.local' } }, /grafana\.url must be an http\(s\) URL/],
    [{ grafana: { clusterVariable: 'yes' } }, /grafana\.clusterVariable must be a boolean/],
    [{ extra: true }, /options: unknown option "extra"/],
  ] as Array<[OpsOptions, RegExp]>)('rejects %j with a coded error', (options, message) => {
    expectOpsError(() => resolveOpsOptions(options), 'DEIA_OPS_OPTIONS', message);
  });

  it('keeps secrets out of generated files whatever the options', () => {
    const { files } = generateOps({
      alertmanager: { slackApiUrlFile: '/run/secrets/slack', pagerdutyRoutingKeyFile: '/run/secrets/pd' },
    });
    const am = parse(files['alertmanager/alertmanager.yml'] as string);
    expect(am.global.slack_api_url_file).toBe('/run/secrets/slack');
    expect(am.receivers[0].pagerduty_configs[0].routing_key_file).toBe('/run/secrets/pd');
  });
});

describe('CLI deia-observability', () => {
  const cli = join(root, 'packages/ops/src/cli.ts');
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('generate --out writes every file (as a process, through the #! entry)', () => {
    const out = join(tmp, 'cli');
    const r = run(['generate', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const written = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(out, join(e.parentPath, e.name)))
      .sort();
    expect(written).toEqual(Object.keys(generateOps().files).sort());
    expect(
      readFileSync(join(root, 'packages/ops/src/cli.ts'), 'utf8').startsWith('#!/usr/bin/env node\n'),
    ).toBe(true);
  }, 60_000);

  it.each([
    [[], 2, /expected the command "generate"/],
    [['build', '--out', 'x'], 2, /expected the command "generate", got "build"/],
    [['generate'], 2, /--out <dir> is required/],
    [['generate', '--out', 'x', '--verbose'], 2, /Unknown option '--verbose'/],
    [['generate', '--out', 'x', '--config', 'missing.json'], 2, /cannot read --config missing\.json: ENOENT/],
  ] as Array<[string[], number, RegExp]>)('%j exits %i with a clear error', (args, code, message) => {
    const err: string[] = [];
    expect(
      runCli(
        args,
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(code);
    expect(err.join('\n')).toMatch(message);
  });

  it('reports bad JSON and bad options in --config', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{ job: nope');
    const err: string[] = [];
    expect(
      runCli(
        ['generate', '--out', join(tmp, 'x'), '--config', bad],
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(err.join()).toMatch(/is not valid JSON/);
    writeFileSync(bad, JSON.stringify({ thresholds: { cpu: -1 } }));
    expect(
      runCli(
        ['generate', '--out', join(tmp, 'x'), '--config', bad],
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(1);
    expect(err.join()).toMatch(/\[DEIA_OPS_OPTIONS\] thresholds\.cpu must be a non-negative number/);
  });

  it('--help prints the usage', () => {
    const out: string[] = [];
    expect(runCli(['--help'], (s) => out.push(s))).toBe(0);
    expect(out.join()).toContain('deia-observability generate --out <dir>');
  });
});

// ---------------------------------------------------------------------------------------------
// Committed example output: regenerated here; the test fails when a committed file is stale.
// Refresh with DEIA_UPDATE_OPS=1 pnpm exec vitest run packages/ops/test/ops-static.test.ts

const COMMITTED = ['ops', 'examples/express-controller/ops', 'examples/fastify-controller/ops'];

describe('committed ops output', () => {
  it.each(COMMITTED)('%s is up to date with its ops.config.json', (dir) => {
    const abs = join(root, dir);
    const config = JSON.parse(readFileSync(join(abs, 'ops.config.json'), 'utf8')) as OpsOptions;
    const { files } = generateOps(config);
    if (process.env.DEIA_UPDATE_OPS === '1') {
      for (const [rel, content] of Object.entries(files)) {
        mkdirSync(dirname(join(abs, rel)), { recursive: true });
        writeFileSync(join(abs, rel), content);
      }
    }
    const stale: string[] = [];
    for (const [rel, content] of Object.entries(files)) {
      const path = join(abs, rel);
      if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(rel);
    }
    const extra = readdirSync(abs, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(abs, join(e.parentPath, e.name)))
      .filter((rel) => !(rel in files) && rel !== 'ops.config.json' && rel !== 'README.md');
    expect(
      { stale, extra },
      `regenerate: npx deia-observability generate --out ${dir} --config ${dir}/ops.config.json`,
    ).toEqual({ stale: [], extra: [] });
  });
});
