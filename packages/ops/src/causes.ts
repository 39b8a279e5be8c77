import { sameObjectLabels } from './object-labels.js';
import { formatDuration, parseDuration } from './options.js';
import { alertRules } from './rule-helpers.js';
import type { AlertRule, ResolvedOpsOptions, RuleGroup, Severity } from './types.js';

/**
 * One cause and the alerts it explains. The cause pages; its windowed symptoms stay quiet while it
 * fires and for their window after (`withAftermath`), the others are inhibited by Alertmanager. `'*'` stands for every alert that is not a cause
 * listed before this one (a missing target or a dead instance explains everything it reports).
 */
export interface Cause {
  /** The alert that names the cause. */
  cause: string;
  /** The alerts it explains. */
  symptoms: readonly string[] | '*';
  /** Only on the same instance (the cause is about one process), else job-wide. */
  sameInstance?: boolean;
  /** Why these are symptoms (docs/alerts.md prints it). */
  why: string;
  /**
   * false: the cause is a summary of the symptom's own signal over longer windows (a budget burn),
   * not something that starts with it: it silences the symptom while it fires, but the symptom
   * does not wait for it (a 15m ticket would hold a 5m warning for 10 minutes). @default true
   */
  holdsBack?: boolean;
}

const HTTP = ['HighErrorRate', 'HighLatency', 'AvailabilityBudgetBurn', 'LatencyBudgetBurn'];
const WORK = ['QueueBacklog', 'BotDispatchSlow', 'MessageProcessingSlow'];
const MODEL = [
  'ModelErrorRate',
  'ModelTimeToFirstChunkHigh',
  'ModelTimeToFirstChunkBudgetBurn',
  'ModelGenerationSlow',
  'ModelColdStartStorm',
];

/**
 * The causal model of the alert pack, most fundamental cause first: a cause never appears among the
 * symptoms of a cause after it, so inhibition cannot silence both sides of an incident (a test
 * checks the order). Symptoms are the alerts a failure of the cause produces downstream.
 */
export const CAUSES: readonly Cause[] = [
  {
    cause: 'TargetMissing',
    symptoms: '*',
    why: 'no target of the job is scraped: every other alert of the job reads nothing or old data',
  },
  {
    cause: 'ServiceDown',
    symptoms: '*',
    sameInstance: true,
    why: 'the instance does not answer scrapes: whatever else it reports is stale or a consequence',
  },
  {
    cause: 'DatabaseDown',
    symptoms: [
      ...HTTP,
      ...WORK,
      'SlowDatabaseQueries',
      'DatabasePoolSaturation',
      'BotStartErrors',
      'BotCrashLoop',
      'CacheHitRatioLow',
      'DependencyErrorRate',
      'DependencyLatencyHigh',
    ],
    why: 'requests, queued tasks and bot starts need the database: they fail, wait or back up until it returns',
  },
  {
    cause: 'CacheDown',
    symptoms: [
      'HighLatency',
      'LatencyBudgetBurn',
      'CacheHitRatioLow',
      'DependencyErrorRate',
      'DependencyLatencyHigh',
    ],
    why: 'without the cache, reads fall back to the database (slower) and calls to the cache fail',
  },
  {
    cause: 'OllamaDown',
    symptoms: [...HTTP, ...WORK, ...MODEL],
    why: 'with the LLM backend unreachable every model call fails or waits: the model alerts, and the requests and messages that need a model, report the same outage',
  },
  {
    cause: 'ModelErrorRate',
    symptoms: ['HighErrorRate', 'AvailabilityBudgetBurn', ...WORK],
    why: 'failing model calls turn the requests and messages that need them into errors and retries',
  },
  {
    cause: 'DependencyErrorRate',
    symptoms: ['HighErrorRate', 'AvailabilityBudgetBurn', ...WORK],
    why: 'a failing dependency turns the requests and messages that need it into errors and retries',
  },
  {
    cause: 'ModelColdStartStorm',
    symptoms: ['ModelTimeToFirstChunkHigh', 'ModelTimeToFirstChunkBudgetBurn', 'ModelGenerationSlow'],
    why: 'a model that is loaded again and again answers its first chunk only after the load, and loads compete with generation for the GPU',
  },
  {
    cause: 'ModelTimeToFirstChunkBudgetBurn',
    symptoms: ['ModelTimeToFirstChunkHigh'],
    why: 'the burn page already says the model answers too slowly',
    holdsBack: false,
  },
  {
    cause: 'ModelTimeToFirstChunkHigh',
    symptoms: ['HighLatency', 'LatencyBudgetBurn', ...WORK],
    why: 'a model slow to answer slows every request and message that waits for it',
  },
  {
    cause: 'DependencyLatencyHigh',
    symptoms: ['HighLatency', 'LatencyBudgetBurn', ...WORK],
    why: 'a slow dependency slows every request and message that waits for it',
  },
  {
    cause: 'AvailabilityBudgetBurn',
    symptoms: ['HighErrorRate'],
    why: 'the burn page already says the job fails too many requests',
    holdsBack: false,
  },
  {
    cause: 'LatencyBudgetBurn',
    symptoms: ['HighLatency'],
    why: 'the burn page already says the job answers too slowly',
    holdsBack: false,
  },
];

/**
 * How long a symptom's expression still reads a cause's effects after the cause resolved: the
 * window it is computed over (a 5m error ratio holds the outage's errors for 5 minutes; the
 * budget-burn page's slowest short window is 30m; a queue drains its backlog; restarts count for
 * 10m). In that time, and while the cause fires, the symptom rule stays quiet (`withAftermath`),
 * so neither the incident nor its end is a second page. Symptoms absent here read a gauge (pool
 * utilisation) or are info-only (cache hit ratio): they clear with their cause.
 */
export const SETTLE: Readonly<Record<string, { critical?: string; warning?: string }>> = {
  HighErrorRate: { critical: '5m', warning: '5m' },
  HighLatency: { critical: '5m', warning: '5m' },
  AvailabilityBudgetBurn: { critical: '30m' },
  LatencyBudgetBurn: { critical: '30m' },
  QueueBacklog: { critical: '5m', warning: '5m' },
  BotDispatchSlow: { warning: '5m' },
  MessageProcessingSlow: { warning: '5m' },
  SlowDatabaseQueries: { warning: '5m' },
  ModelErrorRate: { critical: '5m', warning: '5m' },
  ModelTimeToFirstChunkHigh: { warning: '5m' },
  ModelTimeToFirstChunkBudgetBurn: { critical: '30m' },
  ModelGenerationSlow: { warning: '15m' },
  ModelColdStartStorm: { warning: '5m' },
  DependencyErrorRate: { critical: '5m', warning: '5m' },
  DependencyLatencyHigh: { critical: '5m', warning: '5m' },
  BotStartErrors: { warning: '5m' },
  BotCrashLoop: { critical: '10m', warning: '10m' },
};

const RANK: Record<Severity, number> = { critical: 2, warning: 1, info: 0 };

/** One resolved cause: the symptom names present in the rules and the labels inhibition compares. */
export interface ResolvedCause {
  cause: string;
  symptoms: string[];
  equal: string[];
  /** Severities the cause fires at. */
  severities: Severity[];
  /**
   * Whether the cause is an absence of data (a missing target, a dead instance): its symptoms do
   * not start with it, so they neither wait for it nor settle after it.
   */
  absence: boolean;
  /** Whether its symptoms' first notification waits for it (`Cause.holdsBack`). */
  holdsBack: boolean;
}

/**
 * The labels that say which deployment an alert is about: `aggregateBy` (cluster, namespace...) and
 * `job`. Inhibition and the aftermath clause compare them, so one deployment's cause never silences
 * another's symptoms.
 */
export const fleetLabels = (o: ResolvedOpsOptions): string[] => [...o.aggregateBy, 'job'];

/** The causes that exist in `groups`, each with the symptoms that exist there too. */
export function resolveCauses(o: ResolvedOpsOptions, groups: readonly RuleGroup[]): ResolvedCause[] {
  const rules = alertRules(groups);
  const names = new Set(rules.map((r) => r.alert));
  const earlier = new Set<string>();
  const out: ResolvedCause[] = [];
  for (const c of CAUSES) {
    earlier.add(c.cause);
    if (!names.has(c.cause)) continue;
    const symptoms =
      c.symptoms === '*' ? [...names].filter((n) => !earlier.has(n)) : c.symptoms.filter((s) => names.has(s));
    if (symptoms.length === 0) continue;
    const severities = [
      ...new Set(rules.filter((r) => r.alert === c.cause).map((r) => r.labels.severity)),
    ].sort((a, b) => RANK[b] - RANK[a]);
    out.push({
      cause: c.cause,
      symptoms,
      equal: [...fleetLabels(o), ...(c.sameInstance ? ['instance'] : [])],
      severities,
      absence: c.symptoms === '*',
      holdsBack: c.holdsBack ?? true,
    });
  }
  return out;
}

const alternation = (names: readonly string[]) => names.join('|');

/**
 * Alertmanager inhibit rules of the causal model: a cause inhibits its symptoms of the same
 * deployment (and instance, for per-instance causes), and only those of its own severity or below:
 * a warning about the cache does not silence a critical page.
 */
export function causeInhibitRules(causes: readonly ResolvedCause[]): Array<Record<string, unknown>> {
  return causes.flatMap((c) =>
    c.severities.map((sev) => ({
      source_matchers: [`alertname="${c.cause}"`, `severity="${sev}"`],
      target_matchers: [
        `alertname=~"${alternation(c.symptoms)}"`,
        ...(sev === 'critical' ? [] : [`severity=~"${sev === 'warning' ? 'warning|info' : 'info'}"`]),
      ],
      equal: c.equal,
    })),
  );
}

const forSeconds = (r: AlertRule) => (r.for ? parseDuration(r.for) : 0);

/**
 * The `group_wait` of each symptom alert (by name and severity): long enough that a cause whose
 * condition starts at the same moment fires first: the cause's `for:` minus the symptom's, plus
 * `margin` (evaluation intervals and onsets that differ), never below the severity's `groupWait`.
 * Alertmanager checks inhibition when it flushes a group, so a symptom waiting for its cause is
 * never sent. Symptoms whose causes always fire first get no own route.
 */
export function symptomWaits(
  o: ResolvedOpsOptions,
  groups: readonly RuleGroup[],
  causes: readonly ResolvedCause[],
  margin: number,
): Array<{ alert: string; severity: Severity; groupWait: string }> {
  const rules = alertRules(groups);
  const out: Array<{ alert: string; severity: Severity; groupWait: string }> = [];
  for (const r of rules) {
    const sev = r.labels.severity;
    if (out.some((w) => w.alert === r.alert && w.severity === sev)) continue;
    const leads = causes
      .filter((c) => !c.absence && c.holdsBack && c.symptoms.includes(r.alert))
      .flatMap((c) => rules.filter((cr) => cr.alert === c.cause && RANK[cr.labels.severity] >= RANK[sev]))
      .map((cr) => forSeconds(cr) - forSeconds(r));
    if (leads.length === 0) continue;
    const base = parseDuration(o.alertmanager.groupWait[sev]);
    const wait = Math.max(base, Math.max(0, ...leads) + margin);
    if (wait > base) out.push({ alert: r.alert, severity: sev, groupWait: formatDuration(wait) });
  }
  return out;
}

/**
 * `expr` quiet (`unless on (on)`) for `settle` after the `alerts` fired: also while they fire, or
 * only once they no longer fire (the warning under its same-name critical stays inhibited then).
 */
function quietAfter(
  expr: string,
  on: string,
  alerts: string,
  settle: string,
  when: 'and while it fires' | 'once it no longer fires',
): string {
  const recent = `max by (${on}) (max_over_time(${alerts}[${settle}]))`;
  return when === 'and while it fires'
    ? `(\n${expr}\n)\nunless on (${on})\n  ${recent}`
    : `(\n${expr}\n)\nunless on (${on})\n(\n  ${recent}\n  unless\n  max by (${on}) (${alerts})\n)`;
}

/**
 * The causes that explain `symptom`, directly or through a chain (a cold-start storm slows the
 * first chunk, which slows requests): the causes listing it, and the causes listing those.
 * Absences (TargetMissing, ServiceDown) are left out: a returning process starts its windows anew.
 * So are the budget burns (`holdsBack: false`): they summarise the symptom's own signal, which has
 * usually paged before them; they only inhibit it in Alertmanager while they fire.
 */
export function explainingCauses(causes: readonly ResolvedCause[], symptom: string): ResolvedCause[] {
  const found = new Map<string, ResolvedCause>();
  const visit = (name: string) => {
    for (const c of causes) {
      if (c.absence || !c.holdsBack || found.has(c.cause) || !c.symptoms.includes(name)) continue;
      found.set(c.cause, c);
      visit(c.cause);
    }
  };
  visit(symptom);
  return [...found.values()];
}

/**
 * Adds the causal clause to the symptom rules listed in `SETTLE`: quiet while one of the causes
 * that explain it (of the same or a higher severity, directly or through a chain) fires or fired
 * within the settle window. The symptom then never fires for an incident its cause pages, nor on
 * the cause's leftover errors in its window after it resolved.
 *
 * Why not let it fire and leave it to Alertmanager's inhibition: Prometheus evaluates rule groups
 * independently, so when the cause resolves, Alertmanager can hold the symptom as firing for up to
 * one evaluation interval after the cause has gone; a group flush in that gap sends the symptom
 * (a second page at the end of every such incident, one time in four with the defaults). The
 * inhibit rules stay for the onset: a symptom that fires before its cause is held by its route's
 * `group_wait` and inhibited when the cause arrives, then goes quiet here.
 */
export function withAftermath(
  o: ResolvedOpsOptions,
  groups: RuleGroup[],
  causes: readonly ResolvedCause[],
): RuleGroup[] {
  const on = fleetLabels(o).join(', ');
  return groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => {
      if (!('alert' in r)) return r;
      const sev = r.labels.severity;
      const settle = SETTLE[r.alert]?.[sev as 'critical' | 'warning'];
      if (!settle) return r;
      const names = explainingCauses(causes, r.alert)
        .filter((c) => c.severities.some((s) => RANK[s] >= RANK[sev]))
        .map((c) => c.cause);
      if (names.length === 0) return r;
      const severities = sev === 'critical' ? ',severity="critical"' : '';
      const alerts = `ALERTS{alertname=~"${alternation(names)}",alertstate="firing"${severities}}`;
      return {
        ...r,
        expr: quietAfter(r.expr, on, alerts, settle, 'and while it fires'),
      };
    }),
  }));
}

/** `rules` with each critical alert rule moved before the first warning rule of the same name. */
function criticalFirst(rules: RuleGroup['rules']): RuleGroup['rules'] {
  const critical = (name: string) =>
    rules.filter((r) => 'alert' in r && r.alert === name && r.labels.severity === 'critical');
  const placed = new Set<RuleGroup['rules'][number]>();
  const out: RuleGroup['rules'] = [];
  const place = (r: RuleGroup['rules'][number]) => {
    if (placed.has(r)) return;
    placed.add(r);
    out.push(r);
  };
  for (const r of rules) {
    if ('alert' in r && r.labels.severity === 'warning') for (const c of critical(r.alert)) place(c);
    place(r);
  }
  return out;
}

/**
 * The same handover between the two severities of one alert: a critical rule inhibits its
 * same-name warning on the same object while it fires. Each group evaluates the critical first, and
 * the windowed warnings (`SETTLE`) carry a clause: quiet for their window after that critical
 * resolved. At the evaluation where the critical resolves, its warning (next in the group, same
 * timestamp) sees it gone and goes quiet with it, so Alertmanager receives both together instead
 * of sending the warning in the gap on the errors still in its window. A warning whose condition
 * outlasts the window is a real, lower-severity problem and notifies.
 */
export function withCriticalAftermath(o: ResolvedOpsOptions, groups: RuleGroup[]): RuleGroup[] {
  const on = sameObjectLabels(o).join(', ');
  return groups.map((g) => {
    const rules = criticalFirst(g.rules);
    return {
      ...g,
      rules: rules.map((r) => {
        if (!('alert' in r) || r.labels.severity !== 'warning') return r;
        const settle = SETTLE[r.alert]?.warning;
        const paired = rules.some(
          (c) => 'alert' in c && c.alert === r.alert && c.labels.severity === 'critical',
        );
        if (!settle || !paired) return r;
        const alerts = `ALERTS{alertname="${r.alert}",alertstate="firing",severity="critical"}`;
        return {
          ...r,
          expr: quietAfter(r.expr, on, alerts, settle, 'once it no longer fires'),
        };
      }),
    };
  });
}
