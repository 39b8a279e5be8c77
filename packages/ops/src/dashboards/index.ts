import type { ResolvedOpsOptions } from '../types.js';
import { botsDashboard } from './bots.js';
import { type DashboardSpec, panelContext } from './builder.js';
import { cacheDashboard } from './cache.js';
import { databaseDashboard } from './database.js';
import { dependenciesDashboard } from './dependencies.js';
import { overviewDashboard } from './overview.js';
import { requestsDashboard } from './requests.js';

export { buildDashboard, type DashboardSpec, type PanelSpec } from './builder.js';

/** The dashboards as data (what the static cross-check reads). */
export function dashboardSpecs(o: ResolvedOpsOptions): DashboardSpec[] {
  const c = panelContext(o);
  return [
    overviewDashboard(c),
    requestsDashboard(c),
    botsDashboard(c),
    databaseDashboard(c),
    cacheDashboard(c),
    dependenciesDashboard(c),
  ];
}
