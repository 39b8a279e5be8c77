/** Which server variants the runner knows; the child process (server.ts) builds them by id. */
export type Framework = 'express' | 'fastify';

/**
 * - `bare`: the framework with the routes and nothing else.
 * - `floor`: the least a Prometheus middleware can do (one hook, one histogram observe).
 * - `deia`: our adapter. `peer`: another library. `tracing`: our adapter plus @deia/tracing.
 */
export type Kind = 'bare' | 'floor' | 'deia' | 'peer' | 'tracing';

export interface VariantInfo {
  readonly id: string;
  readonly framework: Framework;
  readonly kind: Kind;
  /** What the variant installs, for the report. */
  readonly title: string;
}

export const VARIANTS: readonly VariantInfo[] = [
  { id: 'express', framework: 'express', kind: 'bare', title: 'express 5, no metrics' },
  {
    id: 'express+floor',
    framework: 'express',
    kind: 'floor',
    title: "hand-written: res 'finish' hook, one histogram observe",
  },
  { id: 'express+deia', framework: 'express', kind: 'deia', title: '@deia/express' },
  { id: 'express+prom-bundle', framework: 'express', kind: 'peer', title: 'express-prom-bundle' },
  { id: 'express+promster', framework: 'express', kind: 'peer', title: '@promster/express' },
  {
    id: 'express+deia+tracing',
    framework: 'express',
    kind: 'tracing',
    title: '@deia/express after startTracing (sampleRatio 1, batch processor, spans counted not sent)',
  },
  {
    id: 'express+deia+tracing+exemplars',
    framework: 'express',
    kind: 'tracing',
    title: 'the same, plus createMetrics({ exemplars: traceExemplar }) (OpenMetrics registry)',
  },
  { id: 'fastify', framework: 'fastify', kind: 'bare', title: 'fastify 5, no metrics' },
  {
    id: 'fastify+floor',
    framework: 'fastify',
    kind: 'floor',
    title: 'hand-written: onResponse hook, one histogram observe',
  },
  { id: 'fastify+deia', framework: 'fastify', kind: 'deia', title: '@deia/fastify' },
  { id: 'fastify+fastify-metrics', framework: 'fastify', kind: 'peer', title: 'fastify-metrics (defaults)' },
  { id: 'fastify+promster', framework: 'fastify', kind: 'peer', title: '@promster/fastify' },
];

export function variantById(id: string): VariantInfo {
  const v = VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`unknown variant "${id}"; known: ${VARIANTS.map((x) => x.id).join(', ')}`);
  return v;
}
