import { resolveCauses, withAftermath, withCriticalAftermath } from './causes.js';
import { parseDuration } from './options.js';
import { ruleContext } from './rule-context.js';
import { nativeSeries, scaleWindows } from './rule-helpers.js';
import { extraRules } from './rules-extra.js';
import { genAiRules } from './rules-genai.js';
import { httpRules } from './rules-http.js';
import { hostRules, processRules, serviceRules } from './rules-service.js';
import { botRules, dependencyRules } from './rules-work.js';
import type { ResolvedOpsOptions, RuleGroup } from './types.js';

export { formatThreshold } from './rule-context.js';
export {
  alertRules,
  leMatcher,
  recordingRuleNames,
  requireBucketBound,
  scaleWindows,
} from './rule-helpers.js';
export { extraAlertTests } from './rules-extra.js';
export { GENERATION_BASELINE, GENERATION_WINDOW } from './rules-genai.js';
export { BURN_RATES, SLO_WINDOWS } from './rules-http.js';

/**
 * Builds the rule groups of rules.yml from resolved options. Every series name, label and bucket
 * bound comes from the catalog definitions registered with these options (`groups`, `buckets`,
 * `extraMetrics`, `prefix`): a switched-off group has no rules, an empty group is left out.
 */
export function buildRuleGroups(o: ResolvedOpsOptions): RuleGroup[] {
  const x = ruleContext(o);
  const http = httpRules(x);
  const service = serviceRules(x);
  const bots = botRules(x);
  const deps = dependencyRules(x);
  const genAi = genAiRules(x);
  const built: RuleGroup[] = [
    { name: 'deia.recording.http', rules: http.http },
    { name: 'deia.recording.slo', rules: http.slo },
    { name: 'deia.recording.resources', rules: [...deps.resources, ...service.resources, ...bots.resources] },
    {
      name: 'deia.alerts.service',
      rules: [...service.service.slice(0, 2), ...http.service, ...service.service.slice(2)],
    },
    { name: 'deia.alerts.process', rules: processRules(x) },
    { name: 'deia.alerts.bots', rules: bots.bots },
    { name: 'deia.recording.models', rules: genAi.recording },
    { name: 'deia.alerts.dependencies', rules: deps.deps },
    { name: 'deia.alerts.models', rules: genAi.alerts },
    { name: 'deia.alerts.slo', rules: http.sloAlerts },
    { name: 'deia.alerts.host', rules: hostRules(x) },
    { name: 'deia.alerts.extra', rules: extraRules(x) },
  ].filter((g) => g.rules.length > 0);
  // Native histograms: their _count/_sum rates become histogram_count/histogram_sum (rule-helpers.ts).
  const read = built.map((g) => ({
    ...g,
    rules: g.rules.map((r) => ({ ...r, expr: nativeSeries(r.expr, o.nativeHistograms, o.prefix) })),
  }));
  // Symptoms of a known cause stay quiet while their window still reads a resolved cause (causes.ts).
  // A warning hands over to its critical and back without a notification in between (causes.ts).
  const settled = withCriticalAftermath(o, withAftermath(o, read, resolveCauses(o, read)));
  if (o.windowScale === 1) return settled;
  const scale = (expr: string) => scaleWindows(expr, o.windowScale, parseDuration(o.windowFloor));
  return settled.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: scale(r.expr) })) }));
}
