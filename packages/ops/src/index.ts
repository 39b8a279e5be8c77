export { main as runCli } from './cli-main.js';
export { buildAlertmanagerConfig, buildGrafanaProvisioning, buildPrometheusConfig } from './configs.js';
export { buildDashboard, type DashboardSpec, dashboardSpecs, type PanelSpec } from './dashboards/index.js';
export { DEFAULT_OPS_OPTIONS } from './defaults.js';
export { DeiaOpsError, type DeiaOpsErrorCode } from './errors.js';
export { generateOps, writeOps } from './generate.js';
export { generateKubernetes, type KubernetesOutput, type KubernetesResource } from './kubernetes.js';
export {
  DEFAULT_KUBERNETES_OPTIONS,
  type KubernetesOptions,
  type ResolvedKubernetesOptions,
  type SecretKeyRef,
} from './kubernetes-options.js';
export { OBJECT_LABELS } from './object-labels.js';
export { formatDuration, parseDuration } from './options.js';
export { NATIVE_THRESHOLD_DEFAULTS } from './options-native.js';
export { referencedSeries } from './references.js';
export {
  alertRules,
  BURN_RATES,
  buildRuleGroups,
  SLO_WINDOWS,
} from './rules.js';
export type {
  AlertRule,
  OpsForKey,
  OpsOptions,
  OpsOutput,
  OpsTarget,
  OpsThresholds,
  RecordingRule,
  RuleGroup,
  Severity,
} from './types.js';
