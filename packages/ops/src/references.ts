import type { OpsOutput } from './types.js';

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * Metric names and grouping/matcher label names a PromQL expression references. A light scanner
 * for the expressions this generator writes (not a PromQL parser): strings, matchers, ranges and
 * grouping clauses are blanked, and every remaining identifier not followed by `(` is a metric.
 */
export function promqlReferences(expr: string): { metrics: Set<string>; labels: Set<string> } {
  const labels = new Set<string>();
  let e = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of e.matchAll(/\{([^}]*)\}/g)) {
    for (const l of (m[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g))
      labels.add(l[1] as string);
  }
  e = e.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  for (const m of e.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const l of (m[1] ?? '').split(',')) if (l.trim()) labels.add(l.trim());
  }
  e = e
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ');
  const metrics = new Set<string>();
  for (const m of e.matchAll(/(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:])(?!\s*\()/g)) {
    const name = m[1] as string;
    if (!KEYWORDS.has(name)) metrics.add(name);
  }
  return { metrics, labels };
}

/** Every `expr` string in a dashboard JSON value. */
export function dashboardExprs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) dashboardExprs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'expr' && typeof v === 'string') out.push(v);
      else dashboardExprs(v, out);
    }
  }
  return out;
}

/**
 * The scraped series (not recording rules, not Prometheus' own `ALERTS`) that the generated rules and dashboards read, sorted:
 * what a scrape of the service must provide for every alert and panel to have data.
 */
export function referencedSeries(output: OpsOutput): string[] {
  const recorded = new Set(
    output.groups.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : []))),
  );
  const exprs = [
    ...output.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ...Object.entries(output.files)
      .filter(([f]) => f.startsWith('grafana/dashboards/'))
      .flatMap(([, text]) => dashboardExprs(JSON.parse(text))),
  ];
  const names = new Set<string>();
  // ALERTS is written by Prometheus itself (the aftermath clause of symptoms reads it).
  for (const e of exprs)
    for (const m of promqlReferences(e).metrics) if (!recorded.has(m) && m !== 'ALERTS') names.add(m);
  return [...names].sort();
}
