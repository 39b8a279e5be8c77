// The series an exposition stands for, as the text format writes them (canonical name + sorted
// labels -> value, `le`/`quantile` compared as numbers), from a text body or from decoded protobuf
// families: what the protobuf tests compare.
import type { Decoded } from './metrics-schema.js';

export const canonical = (name: string, labels: Record<string, string>) => {
  const pairs = Object.entries(labels)
    .map(([k, v]) => [k, k === 'le' || k === 'quantile' ? String(Number(v === '+Inf' ? Infinity : v)) : v])
    .sort(([a], [b]) => (a as string).localeCompare(b as string));
  return `${name}${JSON.stringify(pairs)}`;
};

const LABEL = /("(?:[^"\\]|\\.)*"|[a-zA-Z_:][a-zA-Z0-9_:]*)(?:="((?:[^"\\]|\\.)*)")?/g;
const unquote = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** The series of a text exposition: canonical name+labels -> value. */
export function textSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = line.split(' # ')[0] as string;
    const brace = sample.indexOf('{');
    const close = sample.lastIndexOf('}');
    let name = brace < 0 ? (sample.split(' ')[0] as string) : sample.slice(0, brace);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of sample.slice(brace + 1, close).matchAll(LABEL)) {
        const key = m[1]?.startsWith('"') ? unquote(m[1].slice(1, -1)) : (m[1] as string);
        if (m[2] === undefined)
          name = key; // a quoted metric name inside the braces
        else labels[key] = unquote(m[2]);
      }
    }
    const value = sample.slice((brace < 0 ? name.length : close + 1) + 1).trim();
    out.set(canonical(name, labels), Number(value === '+Inf' ? Infinity : value));
  }
  return out;
}

export const labelsOf = (m: Decoded['metric'][number]) =>
  Object.fromEntries((m.label ?? []).map((l) => [l.name, l.value])) as Record<string, string>;

export type Hist = {
  sampleCount?: number;
  sampleSum?: number;
  bucket?: Array<{ cumulativeCount?: number; upperBound: number; exemplar?: unknown }>;
};

/** The series the protobuf families stand for, as the text format writes them. */
export function protoSeries(families: Decoded[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families) {
    for (const m of f.metric) {
      const labels = labelsOf(m);
      const value = (x: unknown) => (x as { value?: number } | undefined)?.value ?? 0;
      if (f.type === 'COUNTER') out.set(canonical(f.name, labels), value(m.counter));
      else if (f.type === 'GAUGE') out.set(canonical(f.name, labels), value(m.gauge));
      else if (f.type === 'UNTYPED') out.set(canonical(f.name, labels), value(m.untyped));
      else if (f.type === 'SUMMARY') {
        const s = m.summary as {
          sampleCount?: number;
          sampleSum?: number;
          quantile?: Array<{ quantile: number; value: number }>;
        };
        for (const q of s.quantile ?? [])
          out.set(canonical(f.name, { ...labels, quantile: String(q.quantile) }), q.value);
        out.set(canonical(`${f.name}_sum`, labels), s.sampleSum ?? 0);
        out.set(canonical(`${f.name}_count`, labels), s.sampleCount ?? 0);
      } else if (f.type === 'HISTOGRAM') {
        const h = m.histogram as Hist;
        for (const b of h.bucket ?? []) {
          out.set(
            canonical(`${f.name}_bucket`, { ...labels, le: String(b.upperBound) }),
            b.cumulativeCount ?? 0,
          );
        }
        out.set(canonical(`${f.name}_bucket`, { ...labels, le: '+Inf' }), h.sampleCount ?? 0);
        out.set(canonical(`${f.name}_sum`, labels), h.sampleSum ?? 0);
        out.set(canonical(`${f.name}_count`, labels), h.sampleCount ?? 0);
      }
    }
  }
  return out;
}
