/**
 * The exposition formats: which one a scraper asks for (`Accept`, q-values included), whether it
 * accepts gzip, and how samples and labels are written. prom-client's own `metrics()` renders one
 * format per registry and renames counters in place when it renders OpenMetrics, so the SDK
 * renders both formats itself (the same series either way).
 */

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'text' | 'openmetrics';

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
  order: number;
}

function parseAccept(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  header.split(',').forEach((part, order) => {
    const [type, ...rest] = part.split(';');
    const t = type?.trim().toLowerCase();
    if (!t) return;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (k === 'q') {
        const n = Number(v);
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
      } else params[k] = v;
    }
    out.push({ type: t, params, q, order });
  });
  // highest q first, then the order the client gave (like client_golang's goautoneg)
  return out.sort((a, b) => b.q - a.q || a.order - b.order);
}

/**
 * The exposition format for an `Accept` header, as client_golang's `expfmt.Negotiate` picks it:
 * the most preferred acceptable range that is OpenMetrics (version 1.0.0, 0.0.1 or none) or
 * `text/plain` (version 0.0.4 or none); Prometheus text 0.0.4 when nothing matches.
 */
export function negotiateFormat(accept: string | string[] | undefined): ExpositionFormat {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header) return 'text';
  for (const r of parseAccept(header)) {
    if (r.q <= 0) continue;
    const version = r.params.version;
    if (
      r.type === 'application/openmetrics-text' &&
      (version === undefined || version === '1.0.0' || version === '0.0.1')
    ) {
      return 'openmetrics';
    }
    if (r.type === 'text/plain' && (version === undefined || version === '0.0.4')) return 'text';
  }
  return 'text';
}

/** True when `Accept-Encoding` accepts gzip (q > 0, directly or through `*`). */
export function acceptsGzip(acceptEncoding: string | string[] | undefined): boolean {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  if (!header) return false;
  let star: number | undefined;
  for (const r of parseAccept(header)) {
    if (r.type === 'gzip' || r.type === 'x-gzip') return r.q > 0;
    if (r.type === '*') star = r.q;
  }
  return star !== undefined && star > 0;
}

// --- rendering ------------------------------------------------------------------------------

export interface Exemplar {
  labelSet: Record<string, string | number>;
  value: number;
  timestamp?: number;
}
export interface Value {
  labels?: Record<string, string | number | undefined>;
  value: number;
  metricName?: string;
  exemplar?: Exemplar | null;
}
/** One metric as `registry.getMetricsAsJSON()` returns it. */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  values: Value[];
}

/** `# HELP` text: backslash and newline escaped (and `"` in OpenMetrics). */
export const escapeHelp = (s: string, om: boolean) => {
  const t = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? t.replace(/"/g, '\\"') : t;
};
const NEEDS_ESCAPE = /[\\\n"]/;
/** A label value, escaped for both formats. */
export const escapeLabel = (s: string) =>
  NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : s;

/** A sample value: `NaN`, `+Inf`, `-Inf` or the number. */
export function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** `{a="x",b="y"}`, or '' when there are no labels. */
function labelString(labels: Record<string, string | number | undefined> | undefined): string {
  return labels ? renderLabels(labels) : '';
}

function renderLabels(labels: Record<string, string | number | undefined>): string {
  let s = '';
  for (const k in labels) {
    const v = labels[k];
    if (v === undefined) continue;
    s += `${s ? ',' : ''}${k}="${typeof v === 'string' ? escapeLabel(v) : num(v)}"`;
  }
  return s ? `{${s}}` : '';
}

/**
 * Renders metrics (`registry.getMetricsAsJSON()`) as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
 * OpenMetrics names counter families without `_total` and their samples with it, carries
 * exemplars and ends with `# EOF`; text 0.0.4 has no exemplars.
 */
export function renderExposition(metrics: readonly MetricJson[], format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const parts: string[] = [];
  for (const m of metrics) {
    const counter = m.type === 'counter';
    const base = om && counter ? m.name.replace(/_total$/, '') : m.name;
    let out = `# HELP ${base} ${escapeHelp(m.help, om)}\n# TYPE ${base} ${m.type}\n`;
    for (const v of m.values) {
      let name = v.metricName ?? m.name;
      if (om && counter && !name.endsWith('_total')) name += '_total';
      out += `${name}${labelString(v.labels)} ${num(v.value)}`;
      if (om) out += exemplarText(v.exemplar);
      out += '\n';
    }
    parts.push(out);
  }
  return om ? `${parts.join('')}# EOF\n` : parts.join('\n');
}

// --- default labels -------------------------------------------------------------------------

/** A registry's default labels, rendered once per scrape. */
export interface DefaultLabels {
  /** All of them rendered (`service="api",env="prod"`): equal keys mean equal default labels. */
  readonly key: string;
  /** Name -> its rendered pair (`service="api"`), in the registry's order. */
  readonly pairs: ReadonlyMap<string, string>;
  /** Name -> value, unescaped (what `getMetricsAsJSON()` would put in the label objects). */
  readonly values: Readonly<Record<string, string>>;
}

export const NO_DEFAULT_LABELS: DefaultLabels = { key: '', pairs: new Map(), values: {} };

/** Default labels from their values (a cluster worker sends them once per registry). */
export function defaultLabelsFrom(values: Readonly<Record<string, string>>): DefaultLabels {
  const pairs = new Map<string, string>();
  for (const [k, v] of Object.entries(values)) pairs.set(k, `${k}="${escapeLabel(v)}"`);
  return pairs.size === 0 ? NO_DEFAULT_LABELS : { key: [...pairs.values()].join(','), pairs, values };
}

/**
 * The labels of a sample with the default labels applied, without braces (`a="x",service="api"`),
 * as prom-client's `getMetricsAsJSON()` applies them: a sample's own label wins unless its value is
 * missing or empty; default labels it lacks follow its own, in the registry's order.
 */
export function labelBody(
  labels: Readonly<Record<string, string | number | undefined>> | undefined,
  d: DefaultLabels,
): string {
  // pairs joined once: one flat string (a `+=` chain would be a tree of string pieces)
  const parts: string[] = [];
  const defaults = d.pairs.size > 0;
  if (labels !== undefined) {
    for (const k in labels) {
      const v = labels[k];
      if (defaults && (v === undefined || v === '' || v === 0)) {
        const pair = d.pairs.get(k);
        if (pair !== undefined) {
          parts.push(pair);
          continue;
        }
      }
      if (v === undefined) continue;
      parts.push(`${k}="${typeof v === 'string' ? escapeLabel(v) : num(v)}"`);
    }
  }
  if (defaults) {
    for (const [k, pair] of d.pairs) {
      if (labels === undefined || !Object.hasOwn(labels, k)) parts.push(pair);
    }
  }
  return parts.join(',');
}

/** ` # {trace_id="..."} 0.12 1712345678.9` for OpenMetrics, or '' when there is no exemplar. */
export function exemplarText(e: Exemplar | null | undefined): string {
  if (!e || e.timestamp === undefined || !e.labelSet) return '';
  return ` # ${labelString(e.labelSet) || '{}'} ${num(e.value)} ${e.timestamp}`;
}
