import { CATALOG, DEFAULT_METRICS_OPTIONS, type MetricGroup } from '@deia/metrics';
import { promqlReferences } from '../references.js';
import { buildRuleGroups } from '../rules.js';
import type { ResolvedOpsOptions } from '../types.js';
import { aiModelsDashboard } from './ai-models.js';
import { botsDashboard } from './bots.js';
import { type DashboardSpec, type PanelSpec, panelContext } from './builder.js';
import { cacheDashboard } from './cache.js';
import { databaseDashboard } from './database.js';
import { dependenciesDashboard } from './dependencies.js';
import { postgresExporterDashboard, redisExporterDashboard } from './exporters.js';
import { extraMetricsDashboard } from './extra.js';
import { overviewDashboard } from './overview.js';
import { requestsDashboard } from './requests.js';

export { buildDashboard, type DashboardSpec, type PanelSpec } from './builder.js';

/** The catalog groups a dashboard belongs to: left out when all of them are switched off. */
const DASHBOARD_GROUPS: Record<string, readonly MetricGroup[]> = {
  'request-metrics.json': ['http'],
  'bot-performance.json': ['bots', 'tasks'],
  'database.json': ['database'],
  'cache.json': ['cache'],
  'ai-models.json': ['llm'],
};

/**
 * The catalog group of every series a panel can read: catalog metrics (histogram suffixes included),
 * prom-client's default metrics (`process` group), and the recording rules by what they read.
 */
function seriesGroups(o: ResolvedOpsOptions): (name: string) => Set<string> {
  const direct = new Map<string, string>();
  for (const d of CATALOG) {
    const names = d.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => d.name + s) : [d.name];
    for (const n of names) direct.set(o.prefix + n, d.group);
  }
  // Every recording rule, whatever the groups: a panel on a rule that is not generated is dropped too.
  const all = buildRuleGroups({ ...o, groups: [...DEFAULT_METRICS_OPTIONS.groups] });
  const recorded = new Map(
    all.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [[r.record, r.expr]] : []))),
  );
  const groupsOf = (name: string, depth = 0): Set<string> => {
    const g = direct.get(name);
    if (g) return new Set([g]);
    const expr = recorded.get(name);
    if (expr !== undefined && depth < 5)
      return new Set([...promqlReferences(expr).metrics].flatMap((n) => [...groupsOf(n, depth + 1)]));
    if (name.startsWith(`${o.prefix}process_`) || name.startsWith(`${o.prefix}nodejs_`))
      return new Set(['process']);
    return new Set(); // up, the exporters' series, extra metrics: no catalog group
  };
  return groupsOf;
}

/** Leaves out the panels reading a switched-off group's series, then empty rows and dashboards. */
function withGroups(o: ResolvedOpsOptions, specs: DashboardSpec[]): DashboardSpec[] {
  const on = new Set<string>(o.groups);
  const groupsOf = seriesGroups(o);
  const keep = (p: PanelSpec) =>
    p.queries.every((q) =>
      [...promqlReferences(q.expr).metrics].every((n) => [...groupsOf(n)].every((g) => on.has(g))),
    );
  return specs
    .filter((d) => DASHBOARD_GROUPS[d.file]?.some((g) => on.has(g)) ?? true)
    .map((d) => ({
      ...d,
      rows: d.rows.map((r) => ({ ...r, panels: r.panels.filter(keep) })).filter((r) => r.panels.length > 0),
    }))
    .filter((d) => d.rows.length > 0);
}

/** The dashboards as data (what the static cross-check reads). */
export function dashboardSpecs(o: ResolvedOpsOptions): DashboardSpec[] {
  const c = panelContext(o);
  const extra = extraMetricsDashboard(c);
  return withGroups(o, [
    overviewDashboard(c),
    requestsDashboard(c),
    botsDashboard(c),
    databaseDashboard(c),
    cacheDashboard(c),
    dependenciesDashboard(c),
    aiModelsDashboard(c),
    ...[extra, postgresExporterDashboard(c), redisExporterDashboard(c)].filter(
      (d): d is DashboardSpec => d !== undefined,
    ),
  ]);
}
