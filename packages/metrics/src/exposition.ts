import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { HttpRequestInfo, HttpResponse, MetricsSource } from './http-options.js';

/**
 * What `/metrics` answers: the format the scraper asks for (`Accept`, q-values included) and gzip
 * when it accepts it. Both formats are rendered from the registry's `getMetricsAsJSON()` (the
 * same series either way); prom-client's own `metrics()` renders one format per registry and
 * renames counters in place when it renders OpenMetrics, so it is not used for this.
 */

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'text' | 'openmetrics';

/**
 * Bodies smaller than this are sent uncompressed: below it gzip saves too few bytes for its CPU
 * (see docs/benchmarks.md, "Compression").
 */
export const GZIP_MIN_BYTES = 4096;

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

const gzipAsync = promisify(gzipCb);
/** Gzips on libuv's thread pool, so the event loop is not blocked while it compresses. */
export const gzip = (body: string): Promise<Buffer> => gzipAsync(body, { level: 6 });

// --- rendering ------------------------------------------------------------------------------

interface Exemplar {
  labelSet: Record<string, string | number>;
  value: number;
  timestamp?: number;
}
interface Value {
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

const escapeHelp = (s: string, om: boolean) => {
  const t = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? t.replace(/"/g, '\\"') : t;
};
const NEEDS_ESCAPE = /[\\\n"]/;
const escapeLabel = (s: string) =>
  NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : s;

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

// Label objects are mostly stable across scrapes (prom-client's series entries, the HTTP store's
// sample labels), so their rendered text is cached by identity, as prom-client caches shared labels.
const labelCache = new WeakMap<object, string>();

function labelString(labels: Record<string, string | number | undefined> | undefined): string {
  if (!labels) return '';
  const cached = labelCache.get(labels);
  if (cached !== undefined) return cached;
  const text = renderLabels(labels);
  labelCache.set(labels, text);
  return text;
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
      const e = v.exemplar;
      if (om && e && e.timestamp !== undefined && e.labelSet) {
        out += ` # ${labelString(e.labelSet) || '{}'} ${num(e.value)} ${e.timestamp}`;
      }
      out += '\n';
    }
    parts.push(out);
  }
  return om ? `${parts.join('')}# EOF\n` : parts.join('\n');
}

/**
 * The 200 answer to a scrape of `source`: rendered in the format `Accept` prefers when the source
 * has `getMetricsAsJSON()` (else its own `metrics()` and `contentType`), gzipped when
 * `Accept-Encoding` accepts it and the body is at least `GZIP_MIN_BYTES`. Rejects when the source does.
 */
export async function scrapeResponse(
  source: MetricsSource,
  headers: HttpRequestInfo['headers'],
): Promise<HttpResponse> {
  let text: string;
  let contentType: string;
  if (typeof source.getMetricsAsJSON === 'function') {
    const format = negotiateFormat(headers.accept);
    text = renderExposition((await source.getMetricsAsJSON()) as MetricJson[], format);
    contentType = format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
  } else {
    text = await source.metrics();
    contentType = source.contentType;
  }
  const out: Record<string, string> = {
    'content-type': contentType,
    'cache-control': 'no-store',
    vary: 'Accept, Accept-Encoding',
  };
  if (text.length >= GZIP_MIN_BYTES && acceptsGzip(headers['accept-encoding'])) {
    out['content-encoding'] = 'gzip';
    return { statusCode: 200, headers: out, body: await gzip(text) };
  }
  return { statusCode: 200, headers: out, body: text };
}
