import { checkKeys, duration, fail, str } from './options.js';

/** A key of a Kubernetes Secret: where a credential lives, never the credential itself. */
export interface SecretKeyRef {
  /** Name of the Secret, in the namespace of the generated resources. */
  name: string;
  /** Key inside the Secret. */
  key: string;
}

/**
 * Options of the `kubernetes` target (`deia-observability generate --target kubernetes`): the
 * Prometheus Operator resources (PrometheusRule, ServiceMonitor or PodMonitor, AlertmanagerConfig)
 * and the Grafana dashboards as ConfigMaps for the kube-prometheus-stack sidecar.
 */
export interface KubernetesOptions {
  /** Name of every generated resource (dashboards: `<name>-dashboard-<file>`). A DNS-1123 label. @default the `job` option */
  name?: string;
  /** Namespace of every resource; the ServiceMonitor/PodMonitor only looks for targets here. @default 'default' */
  namespace?: string;
  /**
   * Value of the `release` label on every resource: kube-prometheus-stack's default
   * `ruleSelector`, `serviceMonitorSelector` and `podMonitorSelector` match `release: <helm release>`.
   * `false` leaves the label out (when your selectors match something else; see `labels`).
   * @default 'kube-prometheus-stack'
   */
  release?: string | false;
  /** Extra labels on every resource (e.g. the labels your Prometheus selectors match). @default {} */
  labels?: Record<string, string>;
  /**
   * `'serviceMonitor'` scrapes the endpoints of a Service (the usual Deployment behind a Service);
   * `'podMonitor'` scrapes pods directly (no Service, or a metrics port the Service does not
   * expose, e.g. the Node cluster primary's own port). @default 'serviceMonitor'
   */
  monitor?: 'serviceMonitor' | 'podMonitor';
  /** Labels of the Service (serviceMonitor) or of the pods (podMonitor) to scrape. @default { 'app.kubernetes.io/name': <name> } */
  matchLabels?: Record<string, string>;
  /** Name of the Service port (serviceMonitor) or container port (podMonitor) that serves /metrics. @default 'metrics' */
  port?: string;
  /** @default the `prometheus.metricsPath` option ('/metrics') */
  metricsPath?: string;
  /** @default the `prometheus.scrapeInterval` option ('15s') */
  scrapeInterval?: string;
  /**
   * Rules select `job="<job>",namespace="<namespace>"` instead of `job="<job>"`, so the same job
   * name in another namespace (staging next to prod) is not summed into this one's ratios. Ignored
   * when the `selector` option is set. @default true
   */
  scopeRulesToNamespace?: boolean;
  /** Secrets the AlertmanagerConfig and the monitor reference (Secret name and key, never the value). */
  secrets?: {
    /** Slack incoming-webhook URL. @default { name: 'deia-alertmanager', key: 'slack-webhook-url' } */
    slackApiUrl?: SecretKeyRef;
    /** PagerDuty Events API v2 routing key. @default { name: 'deia-alertmanager', key: 'pagerduty-routing-key' } */
    pagerdutyRoutingKey?: SecretKeyRef;
    /** SMTP password of the warning e-mails. @default { name: 'deia-alertmanager', key: 'smtp-password' } */
    smtpPassword?: SecretKeyRef;
    /** Bearer token of a protected /metrics (sent by Prometheus on every scrape). @default unset (no auth) */
    metricsToken?: SecretKeyRef;
  };
  /** Label the Grafana sidecar looks for on dashboard ConfigMaps. @default { name: 'grafana_dashboard', value: '1' } */
  dashboardLabel?: { name?: string; value?: string };
}

/** `KubernetesOptions` with every default applied. */
export interface ResolvedKubernetesOptions {
  /** `kubernetes.name`, else the `job` option. */
  name: string;
  /** `kubernetes.namespace`, else `'default'`. */
  namespace: string;
  /** `kubernetes.release` (`false`: no `release` label), else `'kube-prometheus-stack'`. */
  release: string | false;
  /** `kubernetes.labels`, else `{}`. */
  labels: Record<string, string>;
  /** `kubernetes.monitor`, else `'serviceMonitor'`. */
  monitor: 'serviceMonitor' | 'podMonitor';
  /** `kubernetes.matchLabels` (never empty), else `{ 'app.kubernetes.io/name': <name> }`. */
  matchLabels: Record<string, string>;
  /** `kubernetes.port`, else `'metrics'`. */
  port: string;
  /** `kubernetes.metricsPath`, else the `prometheus.metricsPath` option. */
  metricsPath: string;
  /** `kubernetes.scrapeInterval`, else the `prometheus.scrapeInterval` option. */
  scrapeInterval: string;
  /** `kubernetes.scopeRulesToNamespace`, else `true`. */
  scopeRulesToNamespace: boolean;
  /** `kubernetes.secrets`, each else its `DEFAULT_KUBERNETES_OPTIONS.secrets` entry (`metricsToken`: none). */
  secrets: {
    slackApiUrl: SecretKeyRef;
    pagerdutyRoutingKey: SecretKeyRef;
    smtpPassword: SecretKeyRef;
    metricsToken: SecretKeyRef | undefined;
  };
  /** `kubernetes.dashboardLabel`, else `{ name: 'grafana_dashboard', value: '1' }`. */
  dashboardLabel: { name: string; value: string };
}

/** Defaults of the `kubernetes` options (those that do not derive from other options). */
export const DEFAULT_KUBERNETES_OPTIONS = {
  namespace: 'default',
  release: 'kube-prometheus-stack',
  monitor: 'serviceMonitor',
  port: 'metrics',
  scopeRulesToNamespace: true,
  secrets: {
    slackApiUrl: { name: 'deia-alertmanager', key: 'slack-webhook-url' },
    pagerdutyRoutingKey: { name: 'deia-alertmanager', key: 'pagerduty-routing-key' },
    smtpPassword: { name: 'deia-alertmanager', key: 'smtp-password' },
  },
  dashboardLabel: { name: 'grafana_dashboard', value: '1' },
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function dnsLabel(where: string, value: string): string {
  if (value.length > 63 || !DNS_LABEL.test(value))
    fail(`${where} "${value}" must be a DNS-1123 label: at most 63 lowercase letters, digits and "-".`);
  return value;
}

/** A Kubernetes label key (`[prefix/]name`) and value, as the API server checks them. */
function label(where: string, key: string, value: unknown): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (
    name.length > 63 ||
    !LABEL_NAME.test(name) ||
    (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
  )
    fail(`${where}: "${key}" is not a valid Kubernetes label key.`);
  if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value))
    fail(
      `${where}.${key}: "${String(value)}" is not a valid Kubernetes label value (at most 63 letters, digits, "-", "_", ".").`,
    );
}

/** Validated Kubernetes labels (`where` names the option in errors); `fallback` when unset. */
export function labels(
  where: string,
  value: unknown,
  fallback: Record<string, string>,
): Record<string, string> {
  if (value === undefined) return { ...fallback };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return fail(`${where} must be an object of label names to values.`);
  for (const [k, v] of Object.entries(value)) label(where, k, v);
  return { ...(value as Record<string, string>) };
}

/** A validated port name (IANA_SVC_NAME, as in a Service or container spec); `fallback` when unset. */
export function portName(where: string, value: unknown, fallback: string): string {
  const port = str(where, value, fallback);
  if (port.length > 15 || !PORT_NAME.test(port) || !/[a-z]/.test(port))
    fail(
      `${where} "${port}" must be the name of the port (at most 15 lowercase letters, digits and "-"), as in the Service or container spec.`,
    );
  return port;
}

function secretRef(where: string, value: unknown, fallback: SecretKeyRef): SecretKeyRef;
function secretRef(where: string, value: unknown, fallback: undefined): SecretKeyRef | undefined;
function secretRef(where: string, value: unknown, fallback: SecretKeyRef | undefined) {
  if (value === undefined) return fallback && { ...fallback };
  const v = checkKeys(where, value, ['name', 'key']);
  if (v.name === undefined || v.key === undefined) fail(`${where} needs both name and key.`);
  const name = str(`${where}.name`, v.name, '');
  const key = str(`${where}.key`, v.key, '');
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    fail(`${where}.name "${name}" is not a valid Secret name (lowercase DNS subdomain).`);
  if (key.length > 253 || !SECRET_KEY.test(key))
    fail(`${where}.key "${key}" is not a valid Secret key (letters, digits, "-", "_", ".").`);
  return { name, key };
}

/** Throws unless `name` (the job by default) can name Kubernetes resources. */
export function requireKubernetesName(name: string): void {
  if (name.length > 63 || !DNS_LABEL.test(name))
    fail(
      `"${name}" is not a valid Kubernetes resource name (it defaults to the job); set kubernetes.name (a DNS-1123 label, e.g. "bot-controller").`,
    );
}

/**
 * Applies the defaults to the `kubernetes` options and validates them; called by
 * `resolveOpsOptions` with the already resolved `job` and `prometheus` settings they default to.
 */
export function resolveKubernetesOptions(
  value: unknown,
  job: string,
  prometheus: { metricsPath: string; scrapeInterval: string },
): ResolvedKubernetesOptions {
  const D = DEFAULT_KUBERNETES_OPTIONS;
  const k = checkKeys('kubernetes', value, [
    'name',
    'namespace',
    'release',
    'labels',
    'monitor',
    'matchLabels',
    'port',
    'metricsPath',
    'scrapeInterval',
    'scopeRulesToNamespace',
    'secrets',
    'dashboardLabel',
  ]);
  // Defaults to the job, checked only by the kubernetes target (the file target accepts any job).
  const name = k.name === undefined ? job : dnsLabel('kubernetes.name', str('kubernetes.name', k.name, ''));
  const namespace = dnsLabel('kubernetes.namespace', str('kubernetes.namespace', k.namespace, D.namespace));
  let release: string | false = D.release;
  if (k.release === false) release = false;
  else if (k.release !== undefined) {
    release = str('kubernetes.release', k.release, '');
    label('kubernetes.release', 'release', release);
  }
  const monitor = k.monitor ?? D.monitor;
  if (monitor !== 'serviceMonitor' && monitor !== 'podMonitor')
    return fail(`kubernetes.monitor must be "serviceMonitor" or "podMonitor", got "${String(monitor)}".`);
  const port = portName('kubernetes.port', k.port, D.port);
  const metricsPath = str('kubernetes.metricsPath', k.metricsPath, prometheus.metricsPath);
  if (!metricsPath.startsWith('/')) fail('kubernetes.metricsPath must start with "/".');
  const matchLabels = labels('kubernetes.matchLabels', k.matchLabels, { 'app.kubernetes.io/name': name });
  if (Object.keys(matchLabels).length === 0)
    fail('kubernetes.matchLabels must not be empty: an empty selector would scrape every Service/pod.');
  if (k.scopeRulesToNamespace !== undefined && typeof k.scopeRulesToNamespace !== 'boolean')
    fail('kubernetes.scopeRulesToNamespace must be a boolean.');
  const s = checkKeys('kubernetes.secrets', k.secrets, [
    'slackApiUrl',
    'pagerdutyRoutingKey',
    'smtpPassword',
    'metricsToken',
  ]);
  const dl = checkKeys('kubernetes.dashboardLabel', k.dashboardLabel, ['name', 'value']);
  const dashboardLabel = {
    name: str('kubernetes.dashboardLabel.name', dl.name, D.dashboardLabel.name),
    value: dl.value === '' ? '' : str('kubernetes.dashboardLabel.value', dl.value, D.dashboardLabel.value),
  };
  label('kubernetes.dashboardLabel', dashboardLabel.name, dashboardLabel.value);
  return {
    name,
    namespace,
    release,
    labels: labels('kubernetes.labels', k.labels, {}),
    monitor,
    matchLabels,
    port,
    metricsPath,
    scrapeInterval: duration('kubernetes.scrapeInterval', k.scrapeInterval, prometheus.scrapeInterval),
    scopeRulesToNamespace: (k.scopeRulesToNamespace as boolean | undefined) ?? D.scopeRulesToNamespace,
    secrets: {
      slackApiUrl: secretRef('kubernetes.secrets.slackApiUrl', s.slackApiUrl, D.secrets.slackApiUrl),
      pagerdutyRoutingKey: secretRef(
        'kubernetes.secrets.pagerdutyRoutingKey',
        s.pagerdutyRoutingKey,
        D.secrets.pagerdutyRoutingKey,
      ),
      smtpPassword: secretRef('kubernetes.secrets.smtpPassword', s.smtpPassword, D.secrets.smtpPassword),
      metricsToken: secretRef('kubernetes.secrets.metricsToken', s.metricsToken, undefined),
    },
    dashboardLabel,
  };
}
