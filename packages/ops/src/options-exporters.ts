import { labels, portName } from './kubernetes-options.js';
import { checkKeys, fail, str, strList } from './options.js';
import type { ResolvedExporterOptions } from './types.js';

/** Defaults of the opt-in exporters: their usual ports, a job each, a Service labelled after them. */
export const DEFAULT_EXPORTERS = {
  postgresExporter: {
    enabled: false,
    job: 'postgres',
    targets: ['127.0.0.1:9187'],
    kubernetes: { matchLabels: { 'app.kubernetes.io/name': 'postgres-exporter' }, port: 'metrics' },
  },
  redisExporter: {
    enabled: false,
    job: 'redis',
    targets: ['127.0.0.1:9121'],
    kubernetes: { matchLabels: { 'app.kubernetes.io/name': 'redis-exporter' }, port: 'metrics' },
  },
} as const satisfies Record<string, ResolvedExporterOptions>;

/**
 * Applies the defaults to `postgresExporter` or `redisExporter` and validates them: a boolean
 * `enabled`, a job without quotes (it goes into selectors), host:port targets, Kubernetes labels
 * and a port name. Throws DeiaOpsError (DEIA_OPS_OPTIONS) naming the option.
 */
export function resolveExporter(
  key: keyof typeof DEFAULT_EXPORTERS,
  value: unknown,
): ResolvedExporterOptions {
  const D = DEFAULT_EXPORTERS[key];
  const e = checkKeys(key, value, ['enabled', 'job', 'targets', 'kubernetes']);
  if (e.enabled !== undefined && typeof e.enabled !== 'boolean') fail(`${key}.enabled must be a boolean.`);
  const job = str(`${key}.job`, e.job, D.job);
  if (!/^[^"\\\n]+$/.test(job))
    fail(`${key}.job must be non-empty, without quotes, backslashes or newlines.`);
  const targets = strList(`${key}.targets`, e.targets, D.targets);
  for (const t of targets)
    if (!/^[^\s/:]+:\d+$/.test(t)) fail(`${key}.targets: "${t}" must be host:port (no scheme, no path).`);
  const k = checkKeys(`${key}.kubernetes`, e.kubernetes, ['matchLabels', 'port']);
  const matchLabels = labels(`${key}.kubernetes.matchLabels`, k.matchLabels, D.kubernetes.matchLabels);
  if (Object.keys(matchLabels).length === 0)
    fail(`${key}.kubernetes.matchLabels must not be empty: an empty selector would scrape every Service.`);
  return {
    enabled: (e.enabled as boolean | undefined) ?? D.enabled,
    job,
    targets,
    kubernetes: { matchLabels, port: portName(`${key}.kubernetes.port`, k.port, D.kubernetes.port) },
  };
}
