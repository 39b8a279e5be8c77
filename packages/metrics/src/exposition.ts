/**
 * The exposition formats: which one a scraper asks for (`Accept`, q-values included), whether it
 * accepts gzip, and how samples and labels are written. prom-client's own `metrics()` renders one
 * format per registry and renames counters in place when it renders OpenMetrics, so the SDK
 * renders both formats itself (the same series either way).
 */

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

export type ExpositionFormat = 'text' | 'openmetrics' | 'protobuf';

/**
 * How names that are not legacy names (`[a-zA-Z_:][a-zA-Z0-9_:]*`) are written, as the `escaping`
 * parameter of `Accept` asks (Prometheus 3): `allow-utf-8` writes them as they are (quoted in the
 * text formats), the others rewrite them to legacy names. Legacy names are never changed.
 */
export type NameEscaping = 'allow-utf-8' | 'underscores' | 'dots' | 'values';
const ESCAPINGS: ReadonlySet<string> = new Set(['allow-utf-8', 'underscores', 'dots', 'values']);
/** client_golang's default (`model.NameEscapingScheme`) when `Accept` names none. */
export const DEFAULT_ESCAPING: NameEscaping = 'underscores';

/** What a scrape is answered with. */
export interface Negotiated {
  readonly format: ExpositionFormat;
  /** `text/plain` version: 1.0.0 is 0.0.4 with quoted UTF-8 names. */
  readonly textVersion: '0.0.4' | '1.0.0';
  /** OpenMetrics version asked for (the body is the same; the Content-Type names it). */
  readonly omVersion: '1.0.0' | '0.0.1';
  readonly escaping: NameEscaping;
}

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

const TEXT_DEFAULT: Negotiated = {
  format: 'text',
  textVersion: '0.0.4',
  omVersion: '1.0.0',
  escaping: DEFAULT_ESCAPING,
};

/**
 * The answer to an `Accept` header, as client_golang's `expfmt.NegotiateIncludingOpenMetrics`
 * picks it: the most preferred acceptable range (q > 0) that is the delimited protobuf format
 * (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited`),
 * OpenMetrics (version 1.0.0, 0.0.1 or none) or `text/plain` (version 0.0.4, 1.0.0 or none), with
 * the `escaping` that range names (an unknown one is ignored; `underscores` when none). Prometheus
 * text 0.0.4 when nothing matches (`*`/`*` included: a person with curl gets text). `protobuf:
 * false` leaves protobuf out (a source that cannot render it).
 */
export function negotiate(accept: string | string[] | undefined, protobuf = true): Negotiated {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header) return TEXT_DEFAULT;
  for (const r of parseAccept(header)) {
    if (r.q <= 0) continue;
    const { version, escaping: asked } = r.params;
    const escaping = asked !== undefined && ESCAPINGS.has(asked) ? (asked as NameEscaping) : DEFAULT_ESCAPING;
    if (
      protobuf &&
      r.type === 'application/vnd.google.protobuf' &&
      r.params.proto === 'io.prometheus.client.MetricFamily' &&
      r.params.encoding === 'delimited'
    ) {
      return { ...TEXT_DEFAULT, format: 'protobuf', escaping };
    }
    if (
      r.type === 'application/openmetrics-text' &&
      (version === undefined || version === '1.0.0' || version === '0.0.1')
    ) {
      return {
        ...TEXT_DEFAULT,
        format: 'openmetrics',
        omVersion: version === '1.0.0' ? '1.0.0' : '0.0.1',
        escaping,
      };
    }
    if (r.type === 'text/plain' && (version === undefined || version === '0.0.4' || version === '1.0.0')) {
      return { ...TEXT_DEFAULT, textVersion: version === '1.0.0' ? '1.0.0' : '0.0.4', escaping };
    }
  }
  return TEXT_DEFAULT;
}

/** The exposition format for an `Accept` header (see `negotiate`). */
export function negotiateFormat(accept: string | string[] | undefined): ExpositionFormat {
  return negotiate(accept).format;
}

/** The Content-Type of an answer, the escaping it used included (as client_golang sends it). */
export function contentTypeOf(n: Negotiated): string {
  const esc = `; escaping=${n.escaping}`;
  if (n.format === 'protobuf') return `${PROTOBUF_CONTENT_TYPE}${esc}`;
  if (n.format === 'openmetrics') {
    return `application/openmetrics-text; version=${n.omVersion}; charset=utf-8${esc}`;
  }
  return `text/plain; version=${n.textVersion}; charset=utf-8${esc}`;
}

// --- names ----------------------------------------------------------------------------------

const LEGACY_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** True for a name every format and scraper accepts as it is. */
export const isLegacyName = (s: string): boolean => LEGACY_NAME.test(s);

const legacyRune = (c: string, i: number) =>
  (c >= 'a' && c <= 'z') ||
  (c >= 'A' && c <= 'Z') ||
  c === '_' ||
  c === ':' ||
  (i > 0 && c >= '0' && c <= '9');

/**
 * A name that is not a legacy name, rewritten as the escaping asks (common/model's `EscapeName`):
 * `underscores` each other character to `_`; `dots` `.` to `_dot_`, `_` to `__` and others to
 * `__`; `values` `U__` then `_` as `__` and others as `_<hex code point>_`. `allow-utf-8` and
 * legacy names are returned as they are.
 */
export function escapeName(name: string, escaping: NameEscaping): string {
  if (escaping === 'allow-utf-8' || name === '' || LEGACY_NAME.test(name)) return name;
  let out = escaping === 'values' ? 'U__' : '';
  let i = 0;
  for (const c of name) {
    if (escaping === 'underscores') out += legacyRune(c, i) ? c : '_';
    else if (c === '_') out += '__';
    else if (escaping === 'dots' && c === '.') out += '_dot_';
    else if (legacyRune(c, i)) out += c;
    else if (escaping === 'dots') out += '__';
    else out += `_${(c.codePointAt(0) as number).toString(16)}_`;
    i++;
  }
  return out;
}

/**
 * How one scrape writes names: legacy names as they are; others escaped, or (with `allow-utf-8`)
 * quoted in the text formats (`{"my.metric",a="b"}`, `"my.label"="v"`). Results are kept for the
 * scrape (names repeat on every sample).
 */
export class NameWriter {
  private readonly labels = new Map<string, string>();
  constructor(readonly escaping: NameEscaping) {}

  /** A metric or label name for protobuf (never quoted). */
  plain(name: string): string {
    return escapeName(name, this.escaping);
  }

  /** A label name in the text formats. */
  label(name: string): string {
    let out = this.labels.get(name);
    if (out === undefined) {
      out = LEGACY_NAME.test(name)
        ? name
        : this.escaping === 'allow-utf-8'
          ? `"${escapeLabel(name)}"`
          : escapeName(name, this.escaping);
      this.labels.set(name, out);
    }
    return out;
  }

  /** True when this metric name has to be written inside the braces, quoted. */
  quoted(name: string): boolean {
    return this.escaping === 'allow-utf-8' && !LEGACY_NAME.test(name);
  }
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

const FLOAT_LABELS: ReadonlySet<string> = new Set(['le', 'quantile']);

/**
 * A bucket bound or quantile as a label value, in the float form Prometheus 3 normalises `le` and
 * `quantile` to (and OpenMetrics writes): `1` -> `1.0`, `0.25` and `1e+21` as they are.
 */
export function floatLabel(v: number | string): string {
  if (typeof v === 'string') {
    if (v === '+Inf' || v === '-Inf' || v === 'NaN') return v;
    const n = Number(v);
    if (v.trim() === '' || Number.isNaN(n)) return escapeLabel(v);
    v = n;
  }
  const s = num(v);
  return /[.eIN]/.test(s) ? s : `${s}.0`;
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
    const text = FLOAT_LABELS.has(k) ? floatLabel(v) : typeof v === 'string' ? escapeLabel(v) : num(v);
    s += `${s ? ',' : ''}${k}="${text}"`;
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
  names?: NameWriter,
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
      const name = names === undefined ? k : names.label(k);
      if (k === 'le' || k === 'quantile') parts.push(`${name}="${floatLabel(v)}"`);
      else parts.push(`${name}="${typeof v === 'string' ? escapeLabel(v) : num(v)}"`);
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
