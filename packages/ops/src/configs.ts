import { causeInhibitRules, resolveCauses, symptomWaits } from './causes.js';
import { sameObjectLabels } from './object-labels.js';
import { parseDuration } from './options.js';
import { buildRuleGroups } from './rules.js';
import type { ResolvedOpsOptions, Severity } from './types.js';

const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/**
 * prometheus.yml as an object: scrape of the service (and of node_exporter, postgres_exporter,
 * redis_exporter when enabled, a job each), rules, Alertmanager.
 */
export function buildPrometheusConfig(o: ResolvedOpsOptions): Record<string, unknown> {
  const service: Record<string, unknown> = {
    job_name: o.job,
    metrics_path: o.prometheus.metricsPath,
    static_configs: [{ targets: o.prometheus.scrapeTargets }],
  };
  if (o.prometheus.bearerTokenFile) {
    service.authorization = { type: 'Bearer', credentials_file: o.prometheus.bearerTokenFile };
  }
  const scrape: Record<string, unknown>[] = [service];
  if (o.nodeExporter.enabled) {
    scrape.push({ job_name: o.nodeExporter.job, static_configs: [{ targets: o.nodeExporter.targets }] });
  }
  for (const e of [o.postgresExporter, o.redisExporter])
    if (e.enabled) scrape.push({ job_name: e.job, static_configs: [{ targets: e.targets }] });
  return {
    global: {
      scrape_interval: o.prometheus.scrapeInterval,
      evaluation_interval: o.prometheus.evaluationInterval,
    },
    rule_files: ['rules.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: o.prometheus.alertmanagers }] }] },
    scrape_configs: scrape,
  };
}

/**
 * alertmanager.yml as an object. Receivers are named after the severities. Secrets are only
 * referenced through *_file fields; with `webhookUrl` every receiver posts to that webhook.
 */
export function buildAlertmanagerConfig(o: ResolvedOpsOptions): Record<string, unknown> {
  const a = o.alertmanager;
  const title = (sev: Severity) => `${sev.toUpperCase()}: {{ .GroupLabels.alertname }}`;
  const text =
    '{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ with .Annotations.dashboard_url }}Dashboard: {{ . }}\n{{ end }}{{ end }}';
  const slack = (sev: Severity) => ({
    channel: a.slackChannels[sev],
    send_resolved: true,
    title: title(sev),
    text,
    color: sev === 'critical' ? 'danger' : sev === 'warning' ? 'warning' : 'good',
  });
  const receivers = SEVERITIES.map((sev) => {
    if (a.webhookUrl) return { name: sev, webhook_configs: [{ url: a.webhookUrl, send_resolved: true }] };
    if (sev === 'critical') {
      return {
        name: sev,
        pagerduty_configs: [
          {
            routing_key_file: a.pagerdutyRoutingKeyFile,
            description: '{{ .CommonAnnotations.summary }}',
            send_resolved: true,
          },
        ],
        slack_configs: [slack(sev)],
      };
    }
    if (sev === 'warning') {
      return {
        name: sev,
        slack_configs: [slack(sev)],
        email_configs: [{ to: a.email.to, send_resolved: true }],
      };
    }
    return { name: sev, slack_configs: [slack(sev)] };
  });
  const global: Record<string, unknown> = { resolve_timeout: '5m' };
  if (!a.webhookUrl) {
    Object.assign(global, {
      slack_api_url_file: a.slackApiUrlFile,
      smtp_from: a.email.from,
      smtp_smarthost: a.email.smarthost,
      smtp_auth_username: a.email.authUsername,
      smtp_auth_password_file: a.email.authPasswordFile,
      smtp_require_tls: true,
    });
  }
  const groups = buildRuleGroups(o);
  const causes = resolveCauses(o, groups);
  const waits = symptomWaits(o, groups, causes, parseDuration(a.symptomWait));
  /** Child routes that hold back the symptoms of known causes until the cause had time to fire. */
  const symptomRoutes = (sev: Severity) => {
    const byWait = new Map<string, string[]>();
    for (const w of waits)
      if (w.severity === sev) byWait.set(w.groupWait, [...(byWait.get(w.groupWait) ?? []), w.alert]);
    return [...byWait].map(([wait, names]) => ({
      receiver: sev,
      matchers: [`alertname=~"${names.join('|')}"`],
      group_wait: wait,
    }));
  };
  const severityRoute = (sev: Severity) => {
    const children = symptomRoutes(sev);
    return {
      receiver: sev,
      matchers: [`severity="${sev}"`],
      group_wait: a.groupWait[sev],
      group_interval: a.groupInterval[sev],
      repeat_interval: a.repeatInterval[sev],
      ...(children.length > 0 ? { routes: children } : {}),
    };
  };
  // One notification per deployment: the aggregateBy labels (cluster, namespace) split the groups.
  const groupBy = a.groupBy.includes('...') ? a.groupBy : [...new Set([...a.groupBy, ...o.aggregateBy])];
  return {
    global,
    route: {
      receiver: 'warning',
      group_by: groupBy,
      group_wait: a.groupWait.warning,
      group_interval: a.groupInterval.warning,
      repeat_interval: a.repeatInterval.warning,
      routes: SEVERITIES.map(severityRoute),
    },
    inhibit_rules: [
      // The critical rule of an alert silences its own warning rule (same name, same object).
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        // Plus the `by` labels of extra-metric alerts: a critical for one provider must not
        // silence another's warning.
        equal: ['alertname', ...sameObjectLabels(o)],
      },
      // One incident, one page: each cause silences the symptoms it explains (packages/ops
      // src/causes.ts, the table; docs/alerts.md, the reasons), within one deployment.
      ...causeInhibitRules(causes),
    ],
    receivers,
  };
}

/** Grafana provisioning: the Prometheus datasource and the dashboard file provider. */
export function buildGrafanaProvisioning(o: ResolvedOpsOptions): { datasources: object; dashboards: object } {
  return {
    datasources: {
      apiVersion: 1,
      datasources: [
        {
          name: 'Prometheus',
          uid: `${o.grafana.uidPrefix}-prometheus`,
          type: 'prometheus',
          access: 'proxy',
          url: o.grafana.prometheusUrl,
          isDefault: true,
        },
      ],
    },
    dashboards: {
      apiVersion: 1,
      providers: [
        {
          name: 'deia',
          folder: 'DEIA',
          type: 'file',
          disableDeletion: false,
          allowUiUpdates: false,
          options: { path: o.grafana.dashboardsPath },
        },
      ],
    },
  };
}
